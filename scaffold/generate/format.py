"""Format generated Python: black at line length 119 out of tree; in a transformers tree, what its `make style`
and modular converter run (ruff check --fix, then ruff format, with the tree's own pyproject.toml)."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import black


@dataclass(frozen=True)
class FormatOptions:
    line_length: int = 119
    target_versions: frozenset = frozenset({black.TargetVersion.PY310})


def format_python(source: str, path: str, options: FormatOptions = FormatOptions()) -> str:
    mode = black.Mode(line_length=options.line_length, target_versions=set(options.target_versions))
    try:
        return black.format_str(source, mode=mode)
    except black.InvalidInput as exc:  # a template bug, not a user error: say which file
        raise RuntimeError(f"generated {path} is not valid Python: {exc}") from exc


# Out of tree: ruff sorts imports and drops unused ones (what the modular split leaves to it), then formats.
PACKAGE_RUFF_ARGS = ("--isolated", "--line-length", "119", "--target-version", "py310")


def _ruff(args: list[str], source: str, path: str) -> str:
    from ruff.__main__ import find_ruff_bin

    done = subprocess.run(
        [find_ruff_bin(), *args, "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):  # 1: lint findings that remain after fixing; the text is still complete
        raise RuntimeError(f"ruff failed on generated {path}: {done.stderr.strip()}")
    return done.stdout


def ruff_fix_and_format(source: str, path: str, config: Path | None) -> str:
    """`ruff check --fix` then `ruff format` with a transformers tree's config (None: the package settings)."""
    if config is None:
        # transformers' lint and format settings; the generated package counts as first-party, like transformers.
        first_party = ["transformers", *PurePosixPath(path).parts[:1]]
        isort = ["lint.isort.lines-after-imports = 2", f"lint.isort.known-first-party = {json.dumps(first_party)}"]
        settings = [*PACKAGE_RUFF_ARGS, *(arg for setting in isort for arg in ("--config", setting))]
        fixed = _ruff(["check", "--fix", "--exit-zero", "--select", "I,F401", *settings], source, path)
        return _ruff(["format", *settings], fixed, path)
    settings = ["--config", str(config)]
    fixed = _ruff(["check", "--fix", "--exit-zero", *settings], source, path)
    return _ruff(["format", *settings], fixed, path)


def _format_item(item: tuple[str, str, Path | None, bool]) -> str:
    text, path, config, ruff = item
    return ruff_fix_and_format(text, path, config) if ruff else format_python(text, path)


def format_many(items: list[tuple[str, str, Path | None, bool]]) -> list[str]:
    """Format (text, path, ruff config, use ruff) items, spread over the CPUs when there is enough work.

    Uses fork so the workers inherit the imported black instead of importing it again; elsewhere it runs serially.
    """
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2 or len(items) < 4 or "fork" not in multiprocessing.get_all_start_methods():
        return [_format_item(item) for item in items]
    # Largest files first so that the two halves of the work end together.
    order = sorted(range(len(items)), key=lambda i: -len(items[i][0]))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_format_item, [items[i] for i in order], chunksize=1)
    out = [""] * len(items)
    for i, text in zip(order, results, strict=True):
        out[i] = text
    return out
