"""Format generated Python the way transformers does: black at line length 119, then imports sorted by ruff with
transformers' isort settings (transformers first-party, two blank lines after the imports)."""

from __future__ import annotations

import multiprocessing
import os
import subprocess
from dataclasses import dataclass
from pathlib import PurePosixPath

import black
from ruff.__main__ import find_ruff_bin


@dataclass(frozen=True)
class FormatOptions:
    line_length: int = 119
    target_versions: frozenset = frozenset({black.TargetVersion.PY310})


def format_python(source: str, path: str, options: FormatOptions = FormatOptions()) -> str:
    mode = black.Mode(line_length=options.line_length, target_versions=set(options.target_versions))
    try:
        return sort_imports(black.format_str(source, mode=mode), path)
    except black.InvalidInput as exc:  # a template bug, not a user error: say which file
        raise RuntimeError(f"generated {path} is not valid Python: {exc}") from exc


def sort_imports(source: str, path: str) -> str:
    """Sort imports as transformers' ruff settings do; the generated package counts as first-party, like
    transformers itself. Only import blocks change, so black's output stays black-clean."""
    parts = PurePosixPath(path).parts
    first_party = ["transformers"] + ([parts[0]] if len(parts) > 1 else [])
    isort = [
        "lint.isort.lines-after-imports = 2",
        f"lint.isort.known-first-party = {first_party!r}".replace("'", '"'),
    ]
    command = [find_ruff_bin(), "check", "--isolated", "--no-cache", "--quiet", "--fix", "--select", "I"]
    command += ["--target-version", "py310", "--line-length", "119", "--stdin-filename", path, "--exit-zero"]
    for setting in isort:
        command += ["--config", setting]
    result = subprocess.run([*command, "-"], input=source, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"ruff could not sort the imports of generated {path}: {result.stderr.strip()}")
    return result.stdout


def _format_item(item: tuple[str, str]) -> str:
    text, path = item
    return format_python(text, path)


def format_many(items: list[tuple[str, str]]) -> list[str]:
    """Format (text, path) pairs, spread over the CPUs when there is enough work (black dominates new-vlm).

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
