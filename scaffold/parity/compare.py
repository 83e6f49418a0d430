"""Comparisons the rules share: backend-neutral names, values and signatures, and Kwargs-copy differences."""

from __future__ import annotations

import re

from scaffold.parity.model import NO_DEFAULT, ClassFacts, MethodFacts, show
from scaffold.transformers_api import BACKEND_ONLY_PARAMS

# Backend array types: signatures that differ only in these are the same signature.
_ARRAY_TYPES = re.compile(
    r"\b(?:torch\.(?:Tensor|FloatTensor|LongTensor|BoolTensor)|np\.ndarray|numpy\.ndarray|np\.array|torch\.device)\b"
)
_PIL_SUFFIX = re.compile(r"\b(\w*ImageProcessor)Pil\b")


def unpil(text: str) -> str:
    return _PIL_SUFFIX.sub(r"\1", text)


def unpil_value(value):
    if isinstance(value, tuple) and value and value[0] in ("name", "expr") and isinstance(value[1], str):
        return (value[0], unpil(value[1]))
    if isinstance(value, tuple) and value and value[0] == "seq":
        return ("seq", tuple(unpil_value(v) for v in value[1]))
    return value


def short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def pil_counterpart(base: str) -> str:
    b = short(base)
    if b == "TorchvisionBackend":
        return "PilBackend"
    if b.endswith("ImageProcessor") or b.endswith("ImageProcessorFast"):
        return b + "Pil"
    return b


# -- signatures ---------------------------------------------------------------------------------------------------
def _norm_ann(ann: str | None, backend_neutral: bool) -> str | None:
    if ann is None:
        return None
    ann = unpil(ann)
    if backend_neutral:
        ann = _ARRAY_TYPES.sub("Array", ann)
        if "[" not in ann:
            parts = set(ann.split(" | "))
            # torchvision spells resampling modes as InterpolationMode; PILImageResampling is an IntEnum, so
            # "PILImageResampling | int | InterpolationMode" accepts the same values as "PILImageResampling"
            if "PILImageResampling" in parts:
                parts = {x for x in parts if x != "int" and not x.endswith("InterpolationMode")}
            ann = " | ".join(sorted(parts, key=lambda x: (x == "None", x)))
    return ann


_UNPACK = re.compile(r"^Unpack\[.*\]$")


def is_backend_helper(m: MethodFacts) -> bool:
    """A method whose data argument is a backend-native array (np.ndarray / torch.Tensor, or a list of them)."""
    params = [p for p in m.params if p.name not in ("self", "cls")]
    if not params or params[0].annotation is None:
        return False
    return bool(_ARRAY_TYPES.search(params[0].annotation))


def drop_one_sided_annotations(tsig: tuple, psig: tuple) -> tuple[tuple, tuple]:
    """An annotation present on one side only is not a signature difference of a public method."""
    tmap = {p[0]: p for p in tsig}
    pmap = {p[0]: p for p in psig}

    def fix(sig, other):
        out = []
        for p in sig:
            o = other.get(p[0])
            if o is not None and (p[3] is None or o[3] is None):
                p = (*p[:3], None)
            out.append(p)
        return tuple(out)

    return fix(tsig, pmap), fix(psig, tmap)


def signature(m: MethodFacts, backend_neutral: bool) -> tuple:
    out = []
    for i, prm in enumerate(m.params):
        if i == 0 and prm.name in ("self", "cls") and prm.kind in ("pos", "posonly"):
            continue
        if backend_neutral and prm.name in BACKEND_ONLY_PARAMS:
            continue
        ann = _norm_ann(prm.annotation, backend_neutral)
        if prm.kind == "varkw" and ann and _UNPACK.match(ann):
            ann = "Unpack[...]"  # which class is unpacked is rule PAR035's business
        out.append((prm.name, prm.kind, unpil_value(prm.default), ann))
    return tuple(out)


def _fmt_param(prm) -> str:
    name, kind, default, ann = prm
    prefix = {"vararg": "*", "varkw": "**"}.get(kind, "")
    s = prefix + name
    if ann:
        s += f": {ann}"
    if default is not NO_DEFAULT and default != NO_DEFAULT:
        s += f" = {show(default)}"
    if kind == "kwonly":
        s += " (keyword-only)"
    if kind == "posonly":
        s += " (positional-only)"
    return s


def describe_signature_difference(tsig: tuple, psig: tuple) -> str:
    tnames, pnames = [p[0] for p in tsig], [p[0] for p in psig]
    only_t = [n for n in tnames if n not in pnames]
    only_p = [n for n in pnames if n not in tnames]
    parts = []
    if only_t:
        parts.append("parameters only in torchvision: " + ", ".join(f"`{n}`" for n in only_t))
    if only_p:
        parts.append("parameters only in PIL: " + ", ".join(f"`{n}`" for n in only_p))
    common_t = [n for n in tnames if n in pnames]
    common_p = [n for n in pnames if n in tnames]
    if not parts and common_t != common_p:
        parts.append(f"parameter order differs: torchvision ({', '.join(common_t)}) vs PIL ({', '.join(common_p)})")
    tmap, pmap = {p[0]: p for p in tsig}, {p[0]: p for p in psig}
    for n in common_t:
        if tmap[n] != pmap[n]:
            parts.append(f"`{_fmt_param(pmap[n])}` vs torchvision `{_fmt_param(tmap[n])}`")
    return "; ".join(parts) if parts else "signatures differ"


def compare_kwargs(t: ClassFacts, p: ClassFacts) -> list[tuple[str, tuple | None, tuple | None]]:
    """Differences between two copies of a Kwargs TypedDict: (message, pil pos, torchvision pos)."""
    problems = []
    if tuple(short(b) for b in t.bases) != tuple(short(b) for b in p.bases):
        problems.append((f"bases ({', '.join(p.bases)}) vs ({', '.join(t.bases)})", p.pos, t.pos))
    if t.keywords.get("total") != p.keywords.get("total"):
        problems.append(
            (f"total={p.keywords.get('total', 'True')} vs total={t.keywords.get('total', 'True')}", p.pos, t.pos)
        )
    for name in dict.fromkeys([*t.fields, *p.fields]):
        tf, pf = t.fields.get(name), p.fields.get(name)
        if pf is None:
            problems.append((f"field `{name}` is missing", None, tf.pos))
        elif tf is None:
            problems.append((f"field `{name}` is not in the torchvision class", pf.pos, None))
        elif unpil(tf.annotation) != unpil(pf.annotation):
            problems.append((f"field `{name}` is `{pf.annotation}` vs `{tf.annotation}`", pf.pos, tf.pos))
    if list(t.fields) != list(p.fields) and set(t.fields) == set(p.fields):
        problems.append(("fields are in a different order", None, None))
    if (t.docstring or "") != (p.docstring or ""):
        problems.append(("docstring differs", None, None))
    return problems
