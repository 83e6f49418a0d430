"""Format generated Python the way transformers does: black at line length 119."""

from __future__ import annotations

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
