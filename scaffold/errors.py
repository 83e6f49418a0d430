"""The one error hierarchy. Every user-facing error carries a location; the CLI maps classes to exit codes."""

from __future__ import annotations

from dataclasses import dataclass


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

    exit_code = 2


class SpecError(ScaffoldError):
    """The spec is unreadable or invalid; carries every problem found, sorted by position."""

    def __init__(self, problems: list[SpecProblem]):
        self.problems = sorted(problems, key=lambda p: (p.location.line or 0, p.location.col or 0, p.key))
        super().__init__("\n".join(str(p) for p in self.problems))


class UsageError(ScaffoldError):
    """Bad command-line use or unreadable input paths."""


class ConflictError(ScaffoldError):
    """Existing files differ from what would be written and --force was not given."""

    exit_code = 1
