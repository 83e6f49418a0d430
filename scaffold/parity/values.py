"""Canonical forms of default values and annotations (over ``ast`` nodes), so that equivalent spellings compare equal.

``3`` and ``PILImageResampling.BICUBIC`` are the same resample value, ``(0.5, 0.5)`` and ``[0.5, 0.5]`` the same
mean, ``1 / 255`` and ``0.00392156862745098`` the same rescale factor, ``Optional[int]`` and ``int | None`` the same
annotation. Anything that cannot be evaluated statically becomes ``("expr", <code without whitespace>)``.
"""

from __future__ import annotations

import ast
import functools
import math
import operator
import re
from collections.abc import Callable

from scaffold.transformers_api import (
    CHANNEL_DIMENSION,
    INTERPOLATION_MODE_VALUES,
    KNOWN_CONSTANTS,
    RESAMPLE_VALUES,
    RESAMPLING_OWNERS,
)

Source = Callable[[ast.AST], str]  # source text of a node (see facts.Source)

_BINOPS = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_WS = re.compile(r"\s+")


def squeeze(text: str) -> str:
    return _WS.sub("", text)


def _num(x):
    if isinstance(x, float) and math.isfinite(x):
        return float(f"{x:.12g}")
    return x


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


class _NotStatic(Exception):
    pass


def canon_value(node: ast.expr, src: Source, consts: dict[str, object] | None = None):
    try:
        return _canon(node, consts or {})
    except (_NotStatic, ArithmeticError, ValueError, TypeError, RecursionError):
        return ("expr", squeeze(src(node)))


def dotted(node) -> str | None:
    if type(node) is ast.Name:
        return node.id
    if type(node) is ast.Attribute:
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr}"
    return None


def resolve_name(name: str, consts: dict[str, object]):
    """Value of a bare or dotted name, or ``("name", name)`` when it is not a known constant."""
    if name in consts:
        return consts[name]
    if name in KNOWN_CONSTANTS:
        return KNOWN_CONSTANTS[name]
    parts = name.split(".")
    if len(parts) >= 2:
        owner, last = parts[-2], parts[-1]
        if owner in RESAMPLING_OWNERS and last in RESAMPLE_VALUES:
            return RESAMPLE_VALUES[last]
        if owner == "InterpolationMode" and last in INTERPOLATION_MODE_VALUES:
            return INTERPOLATION_MODE_VALUES[last]
        if owner == "ChannelDimension" and last in CHANNEL_DIMENSION:
            return ("str", CHANNEL_DIMENSION[last])
        if last in KNOWN_CONSTANTS and owner in ("constants", "image_utils"):
            return KNOWN_CONSTANTS[last]
    return ("name", name)


def _constant(value):
    if value is None:
        return None
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return _num(value)
    if isinstance(value, str):
        return ("str", value)
    if isinstance(value, bytes):
        return ("bytes", value)
    raise _NotStatic  # complex, Ellipsis


def _items(elts, consts) -> list:
    if any(type(el) is ast.Starred for el in elts):
        raise _NotStatic
    return [_canon(el, consts) for el in elts]


def _canon(node, consts):
    t = type(node)
    if t is ast.Constant:
        return _constant(node.value)
    if t is ast.Name or t is ast.Attribute:
        name = dotted(node)
        if name is None:
            raise _NotStatic
        return resolve_name(name, consts)
    if t is ast.UnaryOp:
        v = _canon(node.operand, consts)
        if _is_number(v):
            if type(node.op) is ast.USub:
                return _num(-v)
            if type(node.op) is ast.UAdd:
                return v
        raise _NotStatic
    if t is ast.BinOp:
        op = _BINOPS.get(type(node.op))
        left, right = _canon(node.left, consts), _canon(node.right, consts)
        if op is not None and _is_number(left) and _is_number(right):
            if op is operator.pow and abs(right) > 64:
                raise _NotStatic
            return _num(op(left, right))
        if (
            op is operator.add
            and isinstance(left, tuple)
            and isinstance(right, tuple)
            and left[:1] == right[:1] == ("seq",)
        ):
            return ("seq", left[1] + right[1])
        raise _NotStatic
    if t is ast.List or t is ast.Tuple:
        return ("seq", tuple(_items(node.elts, consts)))
    if t is ast.Set:
        return ("set", frozenset(_items(node.elts, consts)))
    if t is ast.Dict:
        if any(k is None for k in node.keys):
            raise _NotStatic
        pairs = [(_canon(k, consts), _canon(v, consts)) for k, v in zip(node.keys, node.values, strict=True)]
        return ("dict", tuple(sorted(pairs, key=repr)))
    if t is ast.Call:
        fname = dotted(node.func)
        args, keywords = node.args, node.keywords
        if fname == "dict" and not args and all(k.arg is not None for k in keywords):
            pairs = [(("str", k.arg), _canon(k.value, consts)) for k in keywords]
            return ("dict", tuple(sorted(pairs, key=repr)))
        if len(args) == 1 and not keywords and type(args[0]) is not ast.Starred:
            if fname in ("list", "tuple"):
                inner = _canon(args[0], consts)
                if isinstance(inner, tuple) and inner[:1] == ("seq",):
                    return inner
            if fname == "float":
                inner = _canon(args[0], consts)
                if isinstance(inner, tuple) and inner[0] == "str":
                    return float(inner[1])
                if _is_number(inner):
                    return float(inner)
        raise _NotStatic
    raise _NotStatic


# -- annotations ------------------------------------------------------------------------------------------------
_GENERIC_ALIASES = {
    "List": "list",
    "Dict": "dict",
    "Tuple": "tuple",
    "Set": "set",
    "Type": "type",
    "FrozenSet": "frozenset",
}


def normalize_annotation(node: ast.expr, src: Source) -> str:
    try:
        return _Annotations(src).ann(node)
    except Exception:  # noqa: BLE001 - an annotation we cannot normalise is compared by its code
        return squeeze(src(node))


def _join_union(parts: list[str]) -> str:
    flat: list[str] = []
    for p in parts:
        flat.extend(p.split(" | ") if "[" not in p else [p])
    return " | ".join(sorted(set(flat), key=lambda x: (x == "None", x)))


@functools.lru_cache(maxsize=1024)
def _string_annotation(text: str) -> str:
    """A string annotation, normalised like the expression it spells (the same few strings recur: cached)."""
    try:
        inner = ast.parse(text, mode="eval").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return squeeze(text)
    try:
        return _Annotations(lambda n: ast.get_source_segment(text, n) or "").ann(inner)
    except RecursionError:
        return squeeze(text)


class _Annotations:
    def __init__(self, src: Source):
        self.src = src

    def code(self, node) -> str:
        return squeeze(self.src(node))

    def union_parts(self, node, out: list[str]) -> None:
        if type(node) is ast.BinOp and type(node.op) is ast.BitOr:
            self.union_parts(node.left, out)
            self.union_parts(node.right, out)
        else:
            out.append(self.ann(node))

    def ann(self, node) -> str:
        t = type(node)
        if t is ast.Name or t is ast.Attribute:
            name = dotted(node) or self.code(node)
            for prefix in ("typing.", "typing_extensions.", "t."):
                if name.startswith(prefix):
                    name = name[len(prefix) :]
            return _GENERIC_ALIASES.get(name, name)
        if t is ast.Constant:
            if isinstance(node.value, str):  # a string annotation: normalise what it spells
                return _string_annotation(node.value.strip())
            if node.value is Ellipsis:
                return "..."
            return self.code(node)
        if t is ast.BinOp and type(node.op) is ast.BitOr:
            parts: list[str] = []
            self.union_parts(node, parts)
            return _join_union(parts)
        if t is ast.Subscript:
            head = self.ann(node.value)
            elts = node.slice.elts if type(node.slice) is ast.Tuple else [node.slice]
            args = [self.code(s) if type(s) is ast.Slice else self.ann(s) for s in elts]
            if head == "Optional" and len(args) == 1:
                return _join_union([args[0], "None"])
            if head == "Union":
                return _join_union(args)
            return f"{head}[{', '.join(args)}]"
        if t is ast.List:
            return "[" + ", ".join(self.ann(e) for e in node.elts) + "]"
        if t is ast.Tuple:
            return "(" + ", ".join(self.ann(e) for e in node.elts) + ")"
        return self.code(node)
