"""The one error hierarchy, and ``Report``: the one place where how a command ended becomes its exit code.

Exit codes: 0 success; 1 the command worked and found a problem (check-parity error-level findings, new-vlm
conflicts); 2 the command could not do its job (bad spec, bad usage, unreadable or unwritable paths).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

EXIT_OK, EXIT_FAILED, EXIT_ERROR = 0, 1, 2


@dataclass(frozen=True)
class Location:
    path: str
    line: int | None = None  # 1-based
    col: int | None = None  # 1-based

    def __str__(self) -> str:
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class SpecProblem:
    """One problem in a spec file: where, which dotted key, what is wrong."""

    location: Location
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.key}: {self.message}" if self.key else f"{self.location}: {self.message}"


class ScaffoldError(Exception):
    """Base of every error the CLI reports without a traceback."""

    exit_code = EXIT_ERROR


class SpecError(ScaffoldError):
    """The spec is unreadable or invalid; carries every problem found, sorted by position."""

    def __init__(self, problems: list[SpecProblem]):
        self.problems = sorted(problems, key=lambda p: (p.location.line or 0, p.location.col or 0, p.key))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(ScaffoldError):
    """Bad command-line use or unreadable input paths."""


class ConflictError(ScaffoldError):
    """Existing files differ from what would be written and --force was not given."""

    exit_code = EXIT_FAILED


@dataclass(frozen=True)
class Report:
    """How a command ended (as black's ``Report``): problems it found, or the error that stopped it."""

    failures: int = 0  # problems found: error-level findings
    error: ScaffoldError | None = None

    @property
    def exit_code(self) -> int:
        if self.error is not None:
            return self.error.exit_code
        return EXIT_FAILED if self.failures else EXIT_OK

    @classmethod
    def of(cls, command: Callable[[], int | None]) -> Report:
        """Run ``command`` (returning its failure count) and record how it ended."""
        try:
            return cls(failures=command() or 0)
        except ScaffoldError as exc:
            return cls(error=exc)

    def exit(self) -> NoReturn:
        """Print the error, if any (its message as is, on stderr), and end the process with the exit code."""
        sys.stdout.flush()
        if self.error is not None:
            print(self.error, file=sys.stderr, flush=True)
        raise SystemExit(self.exit_code)
