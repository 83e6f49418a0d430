"""Canonical forms of default values and annotations, so that equivalent spellings compare equal.

``3`` and ``PILImageResampling.BICUBIC`` are the same resample value, ``(0.5, 0.5)`` and ``[0.5, 0.5]`` the same
mean, ``1 / 255`` and ``0.00392156862745098`` the same rescale factor, ``Optional[int]`` and ``int | None`` the same
annotation. Anything that cannot be evaluated statically becomes ``("expr", <code without whitespace>)``.
"""

from __future__ import annotations

import math
import operator
import re

import libcst as cst

from scaffold.transformers_api import NAMED_STATS, RESAMPLE_VALUES

# transformers.utils.constants / image_utils: names image processors use for their defaults.
KNOWN_CONSTANTS: dict[str, object] = {name: ("seq", values) for name, values in NAMED_STATS.items()}

# PIL.Image.Resampling values (PILImageResampling is an alias of it); torchvision's InterpolationMode names map
# onto the same integers because transformers converts between the two with pil_torch_interpolation_mapping.
RESAMPLING = {**RESAMPLE_VALUES, "ANTIALIAS": RESAMPLE_VALUES["LANCZOS"]}  # ANTIALIAS: PIL's old LANCZOS name
_RESAMPLING_OWNERS = ("PILImageResampling", "Resampling", "Image", "InterpolationMode")
CHANNEL_DIMENSION = {"FIRST": "channels_first", "LAST": "channels_last", "NONE": "none"}

_BINOPS = {
    cst.Add: operator.add,
    cst.Subtract: operator.sub,
    cst.Multiply: operator.mul,
    cst.Divide: operator.truediv,
    cst.FloorDivide: operator.floordiv,
    cst.Modulo: operator.mod,
    cst.Power: operator.pow,
}

_WS = re.compile(r"\s+")
_EMPTY = cst.Module(body=[])


_LEAF_TOKENS = (cst.Name, cst.SimpleString, cst.Integer, cst.Float)


def _code(node: cst.CSTNode) -> str:
    if type(node) in _LEAF_TOKENS and not node.lpar and not node.rpar:
        return _WS.sub("", node.value)  # what code generation would emit, without running it
    return _WS.sub("", _EMPTY.code_for_node(node))


def _num(x):
    if isinstance(x, float):
        if math.isfinite(x):
            return float(f"{x:.12g}")
        return x
    return x


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def canon_value(node: cst.BaseExpression, consts: dict[str, object] | None = None):
    try:
        return _canon(node, consts or {})
    except _NotStatic:
        return ("expr", _code(node))
    except (ArithmeticError, ValueError, TypeError, OverflowError):
        return ("expr", _code(node))


class _NotStatic(Exception):
    pass


def dotted(node) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr.value}"
    return None


def resolve_name(name: str, consts: dict[str, object]):
    """Value of a bare or dotted name, or ``("name", name)`` when it is not a known constant."""
    if name in ("True", "False"):
        return ("bool", name == "True")
    if name == "None":
        return None
    if name in consts:
        return consts[name]
    if name in KNOWN_CONSTANTS:
        return KNOWN_CONSTANTS[name]
    parts = name.split(".")
    if len(parts) >= 2:
        owner, last = parts[-2], parts[-1]
        if owner in _RESAMPLING_OWNERS and last in RESAMPLING:
            return RESAMPLING[last]
        if owner == "ChannelDimension" and last in CHANNEL_DIMENSION:
            return ("str", CHANNEL_DIMENSION[last])
        if parts[-1] in KNOWN_CONSTANTS and len(parts) >= 2 and parts[-2] in ("constants", "image_utils"):
            return KNOWN_CONSTANTS[parts[-1]]
    return ("name", name)


def _canon(node, consts):
    t = type(node)
    if t is cst.Integer:
        return int(node.evaluated_value)
    if t is cst.Float:
        return _num(float(node.evaluated_value))
    if t in (cst.SimpleString, cst.ConcatenatedString):
        v = node.evaluated_value
        return ("bytes", v) if isinstance(v, bytes) else ("str", v)
    if t is cst.Name or t is cst.Attribute:
        name = dotted(node)
        if name is None:
            raise _NotStatic
        return resolve_name(name, consts)
    if t is cst.UnaryOperation:
        v = _canon(node.expression, consts)
        if _is_number(v):
            if isinstance(node.operator, cst.Minus):
                return _num(-v)
            if isinstance(node.operator, cst.Plus):
                return v
        raise _NotStatic
    if t is cst.BinaryOperation:
        op = _BINOPS.get(type(node.operator))
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
    if t in (cst.List, cst.Tuple):
        items = []
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                raise _NotStatic
            items.append(_canon(el.value, consts))
        return ("seq", tuple(items))
    if t is cst.Set:
        items = []
        for el in node.elements:
            if isinstance(el, cst.StarredElement):
                raise _NotStatic
            items.append(_canon(el.value, consts))
        return ("set", frozenset(items))
    if t is cst.Dict:
        pairs = []
        for el in node.elements:
            if not isinstance(el, cst.DictElement):
                raise _NotStatic
            pairs.append((_canon(el.key, consts), _canon(el.value, consts)))
        return ("dict", tuple(sorted(pairs, key=repr)))
    if t is cst.Call:
        fname = dotted(node.func)
        if fname == "dict" and all(a.keyword is not None for a in node.args):
            pairs = [(("str", a.keyword.value), _canon(a.value, consts)) for a in node.args]
            return ("dict", tuple(sorted(pairs, key=repr)))
        if fname in ("list", "tuple") and len(node.args) == 1 and node.args[0].keyword is None:
            inner = _canon(node.args[0].value, consts)
            if isinstance(inner, tuple) and inner[:1] == ("seq",):
                return inner
        if fname == "float" and len(node.args) == 1:
            inner = _canon(node.args[0].value, consts)
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


def normalize_annotation(node: cst.BaseExpression) -> str:
    try:
        return _ann(node)
    except Exception:  # noqa: BLE001 - an annotation we cannot normalise is compared by its code
        return _code(node)


def _union_parts(node, out: list[str]) -> None:
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.BitOr):
        _union_parts(node.left, out)
        _union_parts(node.right, out)
    else:
        out.append(_ann(node))


def _join_union(parts: list[str]) -> str:
    flat: list[str] = []
    for p in parts:
        flat.extend(p.split(" | ") if "[" not in p else [p])
    return " | ".join(sorted(set(flat), key=lambda x: (x == "None", x)))


def _ann(node) -> str:
    t = type(node)
    if t is cst.Name or t is cst.Attribute:
        name = dotted(node) or _code(node)
        for prefix in ("typing.", "typing_extensions.", "t."):
            if name.startswith(prefix):
                name = name[len(prefix) :]
        return _GENERIC_ALIASES.get(name, name)
    if t is cst.SimpleString:
        value = node.evaluated_value
        if isinstance(value, str):
            try:
                return _ann(cst.parse_expression(value))
            except Exception:  # noqa: BLE001
                return _WS.sub("", value)
    if t is cst.BinaryOperation and isinstance(node.operator, cst.BitOr):
        parts: list[str] = []
        _union_parts(node, parts)
        return _join_union(parts)
    if t is cst.Subscript:
        head = _ann(node.value)
        args = []
        for el in node.slice:
            s = el.slice
            args.append(_ann(s.value) if isinstance(s, cst.Index) else _code(s))
        if head == "Optional" and len(args) == 1:
            return _join_union([args[0], "None"])
        if head == "Union":
            return _join_union(args)
        return f"{head}[{', '.join(args)}]"
    if t is cst.List:
        return "[" + ", ".join(_ann(e.value) for e in node.elements) + "]"
    if t is cst.Tuple:
        return "(" + ", ".join(_ann(e.value) for e in node.elements) + ")"
    if t is cst.Ellipsis:
        return "..."
    return _code(node)
