"""The parity rules. Each takes the facts of a pair and yields findings (see findings.RULES for the codes)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from scaffold.parity.discover import Pair
from scaffold.parity.findings import Finding, make
from scaffold.parity.model import NO_DEFAULT, ClassFacts, FileFacts, MethodFacts, show
from scaffold.parity.resolve import BUILTIN_PATH, BUILTINS, ClassRef, Effective, Resolver
from scaffold.transformers_api import IMAGES_KWARGS_KEYS

SHARING_MODES = ("any", "import", "copy")

# Parameters only one backend can honour (torchvision runs on devices and groups images by shape).
BACKEND_ONLY_PARAMS = frozenset({"device", "disable_grouping"})
IMAGES_KWARGS = frozenset(IMAGES_KWARGS_KEYS)
# What the backends' own _preprocess reads (used when a class does not override it, or calls super()._preprocess).
BASE_PREPROCESS_READS = frozenset(
    {
        "do_resize",
        "size",
        "resample",
        "do_center_crop",
        "crop_size",
        "do_rescale",
        "rescale_factor",
        "do_normalize",
        "image_mean",
        "image_std",
        "do_pad",
        "pad_size",
        "return_tensors",
    }
)
# BaseImageProcessor.preprocess / _standardize_kwargs / process_image read these for every processor.
ALWAYS_READ = frozenset({"do_convert_rgb", "input_data_format", "data_format", "default_to_square", "return_tensors"})
# Attributes compared by their own rule, or that are not preprocessing defaults.
_OWN_RULE_ATTRS = frozenset({"valid_kwargs", "model_input_names"})
# Backend array types: signatures that differ only in these are the same signature.
_ARRAY_TYPES = re.compile(
    r"\b(?:torch\.(?:Tensor|FloatTensor|LongTensor|BoolTensor)|np\.ndarray|numpy\.ndarray|np\.array|torch\.device)\b"
)
_PIL_SUFFIX = re.compile(r"\b(\w*ImageProcessor)Pil\b")


@dataclass
class Options:
    kwargs_sharing: str = "any"
    report_lone: bool = False


def unpil(text: str) -> str:
    return _PIL_SUFFIX.sub(r"\1", text)


def unpil_value(value):
    if isinstance(value, tuple) and value and value[0] in ("name", "expr") and isinstance(value[1], str):
        return (value[0], unpil(value[1]))
    if isinstance(value, tuple) and value and value[0] == "seq":
        return ("seq", tuple(unpil_value(v) for v in value[1]))
    return value


def is_kwargs_class(cls: ClassFacts) -> bool:
    return cls.name.endswith("Kwargs") and any(
        b.rsplit(".", 1)[-1] in ("ImagesKwargs", "TypedDict", "VideosKwargs") or b.endswith("Kwargs")
        for b in cls.bases
    )


def _short(name: str) -> str:
    return name.rsplit(".", 1)[-1]


def pil_counterpart(base: str) -> str:
    b = _short(base)
    if b == "TorchvisionBackend":
        return "PilBackend"
    if b.endswith("ImageProcessor") or b.endswith("ImageProcessorFast"):
        return b + "Pil"
    return b


class PairChecker:
    def __init__(self, pair: Pair, loader, resolver: Resolver, options: Options):
        self.pair = pair
        self.loader = loader
        self.resolver = resolver
        self.options = options
        self.out: list[Finding] = []

    def add(self, path, pos, code, message, related=None):
        if related is not None and related[0] == BUILTIN_PATH:
            related = None
        self.out.append(make(path, pos, code, message, related))

    # -- processors ----------------------------------------------------------------------------------------------
    def processors(self, facts: FileFacts) -> list[ClassRef]:
        out = []
        for cls in facts.classes.values():
            if is_kwargs_class(cls):
                continue
            ref = ClassRef(facts.path, cls)
            eff = self.resolver.effective(ref)
            derives = any(r.builtin and r.cls.name != "ImageProcessingMixin" for r in eff.mro)
            if derives or cls.name.endswith(("ImageProcessor", "ImageProcessorPil")):
                out.append(ref)
        return out

    def run(self) -> list[Finding]:
        pair = self.pair
        tf = self.loader.get(pair.torch_path)
        pf = self.loader.get(pair.pil_path)
        broken = False
        for facts in (tf, pf):
            if facts is not None and facts.parse_error is not None:
                line, col, msg = facts.parse_error
                self.add(facts.path, (line, col), "PAR000", f"file does not parse: {msg}")
                broken = True
        if broken or tf is None or pf is None:
            return self.out
        self.tf, self.pf = tf, pf
        tprocs, pprocs = self.processors(tf), self.processors(pf)
        matched = self.match(tprocs, pprocs)
        for t, p in matched:
            self.check_class_pair(t, p)
        self.check_kwargs_classes(tf, pf, matched)
        self.check_exports(tf, tprocs)
        self.check_exports(pf, pprocs)
        self.check_pil_imports(pf)
        return self.out

    def match(self, tprocs: list[ClassRef], pprocs: list[ClassRef]) -> list[tuple[ClassRef, ClassRef]]:
        tpath, ppath = self.tf.path, self.pf.path
        by_name = {p.cls.name: p for p in pprocs}
        matched, used = [], set()
        for t in tprocs:
            p = by_name.get(t.cls.name + "Pil")
            if p is not None:
                matched.append((t, p))
                used.add(p.cls.name)
        t_left = [t for t in tprocs if all(t is not m[0] for m in matched)]
        p_left = [p for p in pprocs if p.cls.name not in used]
        for t in tprocs:
            if t.cls.name.endswith("Pil"):
                self.add(tpath, t.cls.pos, "PAR002", f"torchvision processor `{t.cls.name}` should not end with `Pil`")
        for p in p_left[:]:
            if not p.cls.name.endswith("Pil"):
                self.add(
                    ppath,
                    p.cls.pos,
                    "PAR002",
                    f"PIL processor `{p.cls.name}` should be named `<M>ImageProcessorPil`",
                )
        # a single leftover on each side is a misnamed pair: compare them anyway
        if len(t_left) == 1 and len(p_left) == 1:
            t, p = t_left[0], p_left[0]
            if p.cls.name.endswith("Pil"):
                self.add(
                    ppath,
                    p.cls.pos,
                    "PAR002",
                    f"PIL processor `{p.cls.name}` does not match torchvision `{t.cls.name}`; "
                    f"expected `{t.cls.name}Pil`",
                    (tpath, t.cls.pos),
                )
            matched.append((t, p))
            return matched
        for t in t_left:
            self.add(
                tpath,
                t.cls.pos,
                "PAR001",
                f"`{t.cls.name}` has no PIL counterpart `{t.cls.name}Pil` in {ppath}",
            )
        for p in p_left:
            expected = p.cls.name[:-3] if p.cls.name.endswith("Pil") else p.cls.name
            self.add(
                ppath,
                p.cls.pos,
                "PAR001",
                f"`{p.cls.name}` has no torchvision counterpart `{expected}` in {tpath}",
            )
        return matched

    # -- one matched class pair ----------------------------------------------------------------------------------
    def check_class_pair(self, t: ClassRef, p: ClassRef) -> None:
        te, pe = self.resolver.effective(t), self.resolver.effective(p)
        self.check_bases(t, p)
        self.check_init(t, p, te, pe)
        self.check_defaults(t, p, te, pe)
        self.check_valid_kwargs(t, p, te, pe)
        self.check_methods(t, p, te, pe)
        self.check_reads(t, p, te, pe)

    def check_bases(self, t: ClassRef, p: ClassRef) -> None:
        expected = tuple(pil_counterpart(b) for b in t.cls.bases)
        actual = tuple(_short(b) for b in p.cls.bases)
        if expected != actual:
            self.add(
                p.path,
                p.cls.pos,
                "PAR003",
                f"`{p.cls.name}` derives from ({', '.join(actual) or 'object'}) but `{t.cls.name}` derives from "
                f"({', '.join(_short(b) for b in t.cls.bases) or 'object'}); expected ({', '.join(expected)})",
                (t.path, t.cls.pos),
            )

    def _where(self, ref: ClassRef, method: MethodFacts | None, owner: ClassRef | None):
        """Location of a method if it is defined in the class itself or a parent on disk, else of the class."""
        if method is not None and owner is not None and not owner.builtin:
            return owner.path, method.pos
        return ref.path, ref.cls.pos

    def check_init(self, t, p, te: Effective, pe: Effective) -> None:
        tm = te.methods.get("__init__")
        pm = pe.methods.get("__init__")
        if tm is None or pm is None:
            return
        tsig, psig = signature(tm[0], backend_neutral=False), signature(pm[0], backend_neutral=False)
        if tsig != psig:
            diff = describe_signature_difference(tsig, psig)
            self.add(
                *self._where(p, pm[0], pm[1]),
                "PAR010",
                f"`{p.cls.name}.__init__` differs from `{t.cls.name}.__init__`: {diff}",
                self._where(t, tm[0], tm[1]),
            )

    def check_defaults(self, t, p, te: Effective, pe: Effective) -> None:
        keys = [
            k for k in dict.fromkeys([*te.attrs, *pe.attrs]) if k not in _OWN_RULE_ATTRS and not k.startswith("__")
        ]
        universes = {id(te): self.kwarg_universe(te), id(pe): self.kwarg_universe(pe)}
        for key in keys:
            tv, pv = te.attrs.get(key), pe.attrs.get(key)
            if tv is not None and tv[1].builtin and pv is not None and pv[1].builtin:
                continue
            if tv is None or pv is None:
                have, have_eff, missing_eff, missing_ref = (tv, te, pe, p) if pv is None else (pv, pe, te, t)
                if not missing_eff.complete:
                    continue  # the other side may inherit it from a class we cannot see
                value, owner, attr = have
                if value is None and key in universes[id(missing_eff)]:
                    continue  # _set_attributes gives every valid kwarg without a class default the value None
                have_ref = t if pv is None else p
                side = "torchvision" if pv is None else "PIL"
                loc_have = (owner.path, attr.pos) if not owner.builtin else (have_ref.path, have_ref.cls.pos)
                loc_missing = (missing_ref.path, missing_ref.cls.pos)
                primary, related = (loc_missing, loc_have) if pv is None else (loc_have, loc_missing)
                self.add(
                    *primary,
                    "PAR021",
                    f"class attribute `{key}` = {show(value)} is set on the {side} side only "
                    f"(`{have_ref.cls.name}`), `{missing_ref.cls.name}` has no such attribute",
                    related,
                )
                continue
            if unpil_value(tv[0]) == unpil_value(pv[0]):
                continue
            self.add(
                *self._attr_loc(p, pv),
                "PAR020",
                f"default `{key}` differs: PIL `{p.cls.name}` has {show(pv[0])}{self._via(pv, p)}, torchvision "
                f"`{t.cls.name}` has {show(tv[0])}{self._via(tv, t)}",
                self._attr_loc(t, tv),
            )
        tm, pm = te.value("model_input_names"), pe.value("model_input_names")
        if tm is not NO_DEFAULT and pm is not NO_DEFAULT and tm != pm:
            self.add(
                *self._attr_loc(p, pe.attrs["model_input_names"]),
                "PAR022",
                f"model_input_names differ: PIL `{p.cls.name}` has {show(pm)}, torchvision `{t.cls.name}` has {show(tm)}",
                self._attr_loc(t, te.attrs["model_input_names"]),
            )

    @staticmethod
    def _attr_loc(ref: ClassRef, entry):
        value, owner, attr = entry
        if owner.builtin:
            return ref.path, ref.cls.pos
        return owner.path, attr.pos

    @staticmethod
    def _via(entry, ref: ClassRef) -> str:
        owner = entry[1]
        if owner.cls is ref.cls:
            return ""
        return f" (inherited from `{owner.cls.name}`)"

    def check_valid_kwargs(self, t, p, te: Effective, pe: Effective) -> None:
        tv, pv = te.attrs.get("valid_kwargs"), pe.attrs.get("valid_kwargs")
        if tv is not None and pv is not None and show(tv[0]).rsplit(".", 1)[-1] != show(pv[0]).rsplit(".", 1)[-1]:
            self.add(
                *self._attr_loc(p, pv),
                "PAR030",
                f"`{p.cls.name}.valid_kwargs` is `{show(pv[0])}` but `{t.cls.name}.valid_kwargs` is `{show(tv[0])}`",
                self._attr_loc(t, tv),
            )
        for name in dict.fromkeys([*t.cls.methods, *p.cls.methods]):
            tm, pm = te.methods.get(name), pe.methods.get(name)
            if tm is None or pm is None or tm[1].builtin or pm[1].builtin:
                continue
            tu, pu = tuple(tm[0].unpack), tuple(pm[0].unpack)
            if tu and pu and tu != pu:
                self.add(
                    *self._where(p, pm[0], pm[1]),
                    "PAR035",
                    f"`{p.cls.name}.{name}` unpacks {', '.join(pu)} but `{t.cls.name}.{name}` unpacks {', '.join(tu)}",
                    self._where(t, tm[0], tm[1]),
                )

    def check_methods(self, t, p, te: Effective, pe: Effective) -> None:
        for name in dict.fromkeys([*te.methods, *pe.methods]):
            if name.startswith("_"):
                continue
            tm, pm = te.methods.get(name), pe.methods.get(name)
            if (tm is None or tm[1].builtin) and (pm is None or pm[1].builtin):
                continue
            if (tm is not None and is_backend_helper(tm[0])) or (pm is not None and is_backend_helper(pm[0])):
                continue  # operates on backend-native arrays: each backend has its own helpers
            if tm is None or pm is None:
                have, have_ref, miss_ref, miss_eff = (tm, t, p, pe) if pm is None else (pm, p, t, te)
                if not miss_eff.complete:
                    continue
                side = "torchvision" if pm is None else "PIL"
                primary = self._where(have_ref, have[0], have[1])
                related = (miss_ref.path, miss_ref.cls.pos)
                if pm is None:
                    primary, related = related, primary
                self.add(
                    *primary,
                    "PAR040",
                    f"public method `{name}` exists on the {side} side only (`{have_ref.cls.name}`), "
                    f"not on `{miss_ref.cls.name}`",
                    related,
                )
                continue
            if tm[1].builtin or pm[1].builtin:
                continue  # one side overrides a backend operation, the other uses the backend's own
            tsig, psig = signature(tm[0], backend_neutral=True), signature(pm[0], backend_neutral=True)
            tsig, psig = drop_one_sided_annotations(tsig, psig)
            if tsig != psig:
                self.add(
                    *self._where(p, pm[0], pm[1]),
                    "PAR041",
                    f"`{p.cls.name}.{name}` differs from `{t.cls.name}.{name}`: "
                    f"{describe_signature_difference(tsig, psig)}",
                    self._where(t, tm[0], tm[1]),
                )

    def kwarg_universe(self, eff: Effective) -> set[str]:
        names = set(IMAGES_KWARGS)
        vk = eff.attrs.get("valid_kwargs")
        if vk is not None and isinstance(vk[0], tuple) and vk[0][0] == "name":
            ref = self.resolver.lookup(vk[1].path, vk[0][1]) if not vk[1].builtin else None
            if ref is not None:
                for r in self.resolver.effective(ref).mro:
                    names.update(r.cls.fields)
        return names

    def reads(self, eff: Effective, universe: set[str]) -> dict[str, tuple[str, tuple]]:
        out: dict[str, tuple[str, tuple]] = {}
        entry_points = {"preprocess", "_preprocess", "_preprocess_image_like_inputs", "__call__"}
        base_preprocess = False
        pre = eff.methods.get("_preprocess")
        if pre is None or pre[1].builtin:
            base_preprocess = True
        for r in eff.mro:
            if r.builtin:
                continue
            for m in r.cls.methods.values():
                if "_preprocess" in m.super_calls:
                    base_preprocess = True
                for name, pos in m.reads.items():
                    if name in universe:
                        out.setdefault(name, (r.path, pos))
                if m.name in entry_points:
                    used = set(m.used_params)
                    for prm in m.params:
                        if prm.kind in ("pos", "kwonly", "posonly") and prm.name in universe and prm.name in used:
                            out.setdefault(prm.name, (r.path, prm.pos))
        implicit = set(ALWAYS_READ) | (BASE_PREPROCESS_READS if base_preprocess else set())
        for name in implicit:
            out.setdefault(name, (BUILTIN_PATH, (0, 0)))
        return out

    def check_reads(self, t, p, te: Effective, pe: Effective) -> None:
        if not (te.complete and pe.complete):
            return
        universe = (self.kwarg_universe(te) | self.kwarg_universe(pe)) - BACKEND_ONLY_PARAMS
        tr, pr = self.reads(te, universe), self.reads(pe, universe)
        for name in sorted(set(tr) ^ set(pr)):
            reader, reader_ref, other_ref, side = (tr, t, p, "torchvision") if name in tr else (pr, p, t, "PIL")
            path, pos = reader[name]
            if path == BUILTIN_PATH:
                path, pos = reader_ref.path, reader_ref.cls.pos
            self.add(
                path,
                pos,
                "PAR050",
                f"kwarg `{name}` is read by the {side} preprocessing (`{reader_ref.cls.name}`) but never by "
                f"`{other_ref.cls.name}`",
                (other_ref.path, other_ref.cls.pos),
            )

    # -- file level ----------------------------------------------------------------------------------------------
    def check_kwargs_classes(self, tf: FileFacts, pf: FileFacts, matched) -> None:
        mode = self.options.kwargs_sharing
        tk = {c.name: c for c in tf.classes.values() if is_kwargs_class(c)}
        pk = {c.name: c for c in pf.classes.values() if is_kwargs_class(c)}
        # classes the PIL processors use as valid_kwargs
        used = set()
        for _, p in matched:
            v = self.resolver.effective(p).attrs.get("valid_kwargs")
            if v is not None and not v[1].builtin and isinstance(v[0], tuple) and v[0][0] == "name":
                used.add(v[0][1])
        for name in sorted(pk):
            pc = pk[name]
            tref = ClassRef(tf.path, tk[name]) if name in tk else self.resolver.lookup(tf.path, name)
            if mode == "import":
                self.add(
                    pf.path,
                    pc.pos,
                    "PAR034",
                    f"`{name}` is copied into the PIL file; --kwargs-sharing=import requires importing it from "
                    f"the torchvision module",
                    (tref.path, tref.cls.pos) if tref else None,
                )
            if tref is None or tref.builtin:
                continue
            if pc.marker is None:
                self.add(
                    pf.path,
                    pc.pos,
                    "PAR033",
                    f"`{name}` is a copy of the torchvision file's class but lacks a "
                    f"`# Adapted from ...{name}` comment",
                    (tref.path, tref.cls.pos),
                )
            elif pc.marker.rsplit(".", 1)[-1] != name:
                self.add(
                    pf.path,
                    pc.pos,
                    "PAR033",
                    f"`# Adapted from {pc.marker}` above `{name}` names another class",
                    (tref.path, tref.cls.pos),
                )
            for problem in compare_kwargs(tref.cls, pc):
                self.add(
                    pf.path,
                    problem[1] or pc.pos,
                    "PAR031",
                    f"Kwargs copy `{name}` differs from the torchvision one: {problem[0]}",
                    (tref.path, problem[2] or tref.cls.pos),
                )
        # Kwargs classes imported by the PIL file
        imported = pf.imported_names()
        for name in sorted(used):
            if name in pk or name not in imported:
                continue
            imp = imported[name]
            target = self.resolver.module_file(pf.path, imp.module, imp.level)
            pos = next((pos for n, a, pos in imp.names if (a or n) == name), imp.pos)
            if mode == "copy":
                self.add(
                    pf.path,
                    pos,
                    "PAR034",
                    f"`{name}` is imported; --kwargs-sharing=copy requires a copy with a `# Adapted from` marker",
                )
            if target is None:
                continue
            tfacts = self.loader.get(target)
            if tfacts is None or tfacts.parse_error is not None:
                continue
            heavy = tfacts.unguarded_backend_imports()
            if heavy:
                mod, hpos = heavy[0]
                self.add(
                    pf.path,
                    pos,
                    "PAR032",
                    f"`{name}` is imported from {'.' * imp.level}{imp.module}, which imports `{mod}` unguarded at "
                    f"module level, so the PIL backend needs torchvision",
                    (target, hpos),
                )

    def check_exports(self, facts: FileFacts, procs: list[ClassRef]) -> None:
        if not procs:
            return
        if facts.all_names is None:
            self.add(facts.path, (1, 1), "PAR061", f"no `__all__`; expected it to list {procs[0].cls.name}")
            return
        for ref in procs:
            if ref.cls.name not in facts.all_names:
                self.add(
                    facts.path,
                    ref.cls.pos,
                    "PAR060",
                    f"`{ref.cls.name}` is missing from `__all__`",
                    (facts.path, facts.all_pos) if facts.all_pos else None,
                )

    def check_pil_imports(self, pf: FileFacts) -> None:
        for mod, pos in pf.unguarded_backend_imports():
            self.add(
                pf.path,
                pos,
                "PAR070",
                f"`{mod}` is imported unguarded at module level of the PIL backend file; guard it with "
                f"`if is_torch_available():` (or import inside the function that needs it)",
            )


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
    if tuple(_short(b) for b in t.bases) != tuple(_short(b) for b in p.bases):
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


def check_pairs(pairs: list[Pair], loader, options: Options) -> list[Finding]:
    resolver = Resolver(loader)
    findings: list[Finding] = []
    for pair in pairs:
        if pair.is_lone:
            if options.report_lone:
                findings.extend(check_lone(pair, loader, resolver))
            continue
        findings.extend(PairChecker(pair, loader, resolver, options).run())
    # de-duplicate (a parse error or shared parent can be reported from two pairs)
    unique = {f: None for f in findings}
    return sorted(unique, key=Finding.sort_key)


def check_lone(pair: Pair, loader, resolver: Resolver) -> list[Finding]:
    path = pair.torch_path or pair.pil_path
    facts = loader.get(path)
    if facts is None:
        return []
    if facts.parse_error is not None:
        line, col, msg = facts.parse_error
        return [make(path, (line, col), "PAR000", f"file does not parse: {msg}")]
    checker = PairChecker(pair, loader, resolver, Options())
    procs = checker.processors(facts)
    if not procs:
        return []
    ref = procs[0]
    missing = f"image_processing_pil_{pair.model}.py" if pair.pil_path is None else f"image_processing_{pair.model}.py"
    return [
        make(
            path,
            ref.cls.pos,
            "PAR004",
            f"`{ref.cls.name}` has no counterpart file {missing} in {pair.directory or '.'}",
        )
    ]


__all__ = ["Options", "SHARING_MODES", "check_pairs", "BUILTINS"]
