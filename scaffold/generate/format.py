"""Format generated Python the way transformers does: black at line length 119."""

from __future__ import annotations

import multiprocessing
import os
from dataclasses import dataclass

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
