"""Values reach generated code only through `py_literal` (Python literals built with repr, never pasted text); text
shown inside a docstring or comment goes through `py_doc`."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PyExpr:
    """A fixed Python expression chosen by scaffold itself (a named constant, an enum member, `1 / 255`)."""

    code: str


def py_literal(value: Any) -> str:
    """Render a value as Python source; refuse anything that is not a plain literal."""
    if isinstance(value, PyExpr):
        return value.code
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"cannot render non-finite float {value!r}")
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"refusing to render {type(value).__name__} as a Python literal")


def py_doc(text: str) -> str:
    """Text made safe to place inside a triple-quoted docstring (raw or not) or a comment.

    The result is one printable line with no quote character and no backslash left unescaped, so it cannot close
    the docstring, end a raw string, start a new line of code, or be changed by ruff format's docstring handling.
    """
    out = []
    for ch in str(text):
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch.isprintable():
            out.append(ch)
        else:
            out.append(ascii(ch)[1:-1])  # \n, \x0b, \u2028, ...
    return "".join(out)
