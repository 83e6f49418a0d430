"""The parity rules: each a small function registered under its code, reading a frozen context, returning findings.

Scopes: ``file`` rules see one file's facts (problems that stop a pair from being checked), ``lone`` rules a file
without its counterpart, ``pair`` rules a matched pair, ``class`` rules one matched processor class pair.
``check_pairs`` runs them; docs/parity-rules.md is checked against ``RULES`` by tests/parity/test_rules_doc.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from scaffold.errors import Location
from scaffold.parity.compare import (
    compare_kwargs,
    describe_signature_difference,
    drop_one_sided_annotations,
    is_backend_helper,
    pil_counterpart,
    short,
    signature,
    unpil_value,
)
from scaffold.parity.discover import Pair
from scaffold.parity.findings import ERROR, WARNING, Finding, Subject
from scaffold.parity.match import ClassPair, MatchedPair, is_kwargs_class, match, processors
from scaffold.parity.model import NO_DEFAULT, FileFacts, MethodFacts, show
from scaffold.parity.resolve import BUILTIN_PATH, ClassRef, Effective, Resolver
from scaffold.transformers_api import ALWAYS_READ, BACKEND_ONLY_PARAMS, BASE_PREPROCESS_READS, IMAGES_KWARGS_KEYS

IMAGES_KWARGS = frozenset(IMAGES_KWARGS_KEYS)
# Attributes compared by their own rule, or that are not preprocessing defaults.
_OWN_RULE_ATTRS = frozenset({"valid_kwargs", "model_input_names"})
_ENTRY_POINTS = frozenset({"preprocess", "_preprocess", "_preprocess_image_like_inputs", "__call__"})


@dataclass(frozen=True)
class Options:
    kwargs_sharing: str = "any"
    report_lone: bool = False


# -- registry -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    title: str
    scope: str  # "file" | "lone" | "pair" | "class"
    check: Callable[..., Iterable[Finding]]


RULES: dict[str, Rule] = {}


def rule(code: str, severity: str, title: str, scope: str):
    def register(fn):
        assert code not in RULES, code
        RULES[code] = Rule(code, severity, title, scope, fn)
        return fn

    return register


def emit(code, path, pos, message, related=None, subject=None, torchvision=None, pil=None) -> Finding:
    """A finding of rule ``code``; ``related`` (path, pos) is the other place, named in the message too."""
    rel = None
    if related is not None and related[0] != BUILTIN_PATH:
        rpath, rpos = related
        rel = Location(rpath, rpos[0], rpos[1])
        message = f"{message} (see {rel})"
    return Finding(
        path=path,
        line=pos[0],
        col=pos[1],
        code=code,
        severity=RULES[code].severity,
        message=message,
        related=rel,
        subject=subject,
        torchvision=torchvision,
        pil=pil,
    )


# -- contexts -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileContext:
    facts: FileFacts


@dataclass(frozen=True)
class LoneContext:
    pair: Pair
    facts: FileFacts
    resolver: Resolver


@dataclass(frozen=True)
class PairContext:
    m: MatchedPair
    resolver: Resolver
    loader: object  # FactsLoader: facts of other files (imported Kwargs modules)
    options: Options


@dataclass(frozen=True)
class ClassContext:
    pair: PairContext
    c: ClassPair

    @property
    def t(self) -> ClassRef:
        return self.c.t

    @property
    def p(self) -> ClassRef:
        return self.c.p

    @property
    def te(self) -> Effective:
        return self.c.te

    @property
    def pe(self) -> Effective:
        return self.c.pe

    def subject(self, kind: str, name: str) -> Subject:
        return Subject(kind, name, self.t.cls.name, self.p.cls.name)


# -- helpers --------------------------------------------------------------------------------------------------------
def _where(ref: ClassRef, method: MethodFacts | None, owner: ClassRef | None):
    """Location of a method if it is defined in the class itself or a parent on disk, else of the class."""
    if method is not None and owner is not None and not owner.builtin:
        return owner.path, method.pos
    return ref.path, ref.cls.pos


def _attr_loc(ref: ClassRef, entry):
    _value, owner, attr = entry
    if owner.builtin:
        return ref.path, ref.cls.pos
    return owner.path, attr.pos


def _via(entry, ref: ClassRef) -> str:
    owner = entry[1]
    return "" if owner.cls is ref.cls else f" (inherited from `{owner.cls.name}`)"


def kwarg_universe(resolver: Resolver, eff: Effective) -> frozenset[str]:
    """The kwargs a class accepts: ImagesKwargs plus the fields of its valid_kwargs class (and that class's bases)."""
    names = set(IMAGES_KWARGS)
    vk = eff.attrs.get("valid_kwargs")
    if vk is not None and isinstance(vk[0], tuple) and vk[0][0] == "name":
        ref = resolver.lookup(vk[1].path, vk[0][1]) if not vk[1].builtin else None
        if ref is not None:
            for r in resolver.effective(ref).mro:
                names.update(r.cls.fields)
    return frozenset(names)


def _file_problem(facts: FileFacts) -> bool:
    return facts.parse_error is not None or facts.read_error is not None or facts.not_regular


# -- file rules -----------------------------------------------------------------------------------------------------
@rule("PAR000", ERROR, "file does not parse", "file")
def par000(ctx: FileContext):
    if ctx.facts.parse_error is not None:
        line, col, msg = ctx.facts.parse_error
        yield emit("PAR000", ctx.facts.path, (line, col), f"file does not parse: {msg}", subject=_file(ctx))


@rule("PAR005", WARNING, "not a regular file: skipped", "file")
def par005(ctx: FileContext):
    if ctx.facts.not_regular:
        yield emit(
            "PAR005", ctx.facts.path, (1, 1), "not a regular file (FIFO, device, ...): skipped", subject=_file(ctx)
        )


@rule("PAR006", ERROR, "file cannot be read", "file")
def par006(ctx: FileContext):
    if ctx.facts.read_error is not None:
        yield emit("PAR006", ctx.facts.path, (1, 1), f"cannot read: {ctx.facts.read_error}", subject=_file(ctx))


def _file(ctx: FileContext) -> Subject:
    return Subject("file", ctx.facts.path)


# -- lone files -----------------------------------------------------------------------------------------------------
@rule("PAR004", WARNING, "image-processing file has no counterpart file", "lone")
def par004(ctx: LoneContext):
    procs = processors(ctx.facts, ctx.resolver)
    if not procs:
        return
    ref, pair = procs[0], ctx.pair
    missing = f"image_processing_pil_{pair.model}.py" if pair.pil_path is None else f"image_processing_{pair.model}.py"
    yield emit(
        "PAR004",
        ctx.facts.path,
        ref.cls.pos,
        f"`{ref.cls.name}` has no counterpart file {missing} in {pair.directory or '.'}",
        subject=Subject("class", ref.cls.name),
    )


# -- pairing --------------------------------------------------------------------------------------------------------
@rule("PAR001", ERROR, "processor class has no counterpart in the other backend file", "pair")
def par001(ctx: PairContext):
    m = ctx.m
    for t in m.t_unmatched:
        yield emit(
            "PAR001",
            m.tf.path,
            t.cls.pos,
            f"`{t.cls.name}` has no PIL counterpart `{t.cls.name}Pil` in {m.pf.path}",
            subject=Subject("class", t.cls.name, t.cls.name, None),
        )
    for p in m.p_unmatched:
        expected = p.cls.name[:-3] if p.cls.name.endswith("Pil") else p.cls.name
        yield emit(
            "PAR001",
            m.pf.path,
            p.cls.pos,
            f"`{p.cls.name}` has no torchvision counterpart `{expected}` in {m.tf.path}",
            subject=Subject("class", p.cls.name, None, p.cls.name),
        )


@rule("PAR002", WARNING, "processor class name does not follow <M>ImageProcessor / <M>ImageProcessorPil", "pair")
def par002(ctx: PairContext):
    m = ctx.m
    for t in m.tprocs:
        if t.cls.name.endswith("Pil"):
            yield emit(
                "PAR002",
                m.tf.path,
                t.cls.pos,
                f"torchvision processor `{t.cls.name}` should not end with `Pil`",
                subject=Subject("class", t.cls.name, t.cls.name, None),
            )
    misnamed = [c for c in m.classes if c.misnamed]
    for p in [p for p in m.pprocs if p in m.p_unmatched or any(p is c.p for c in misnamed)]:
        if not p.cls.name.endswith("Pil"):
            yield emit(
                "PAR002",
                m.pf.path,
                p.cls.pos,
                f"PIL processor `{p.cls.name}` should be named `<M>ImageProcessorPil`",
                subject=Subject("class", p.cls.name, None, p.cls.name),
            )
    for c in misnamed:
        if c.p.cls.name.endswith("Pil"):
            yield emit(
                "PAR002",
                m.pf.path,
                c.p.cls.pos,
                f"PIL processor `{c.p.cls.name}` does not match torchvision `{c.t.cls.name}`; "
                f"expected `{c.t.cls.name}Pil`",
                (m.tf.path, c.t.cls.pos),
                subject=Subject("class", c.p.cls.name, c.t.cls.name, c.p.cls.name),
            )


# -- one class pair -------------------------------------------------------------------------------------------------
@rule("PAR003", ERROR, "base classes do not correspond", "class")
def par003(ctx: ClassContext):
    t, p = ctx.t, ctx.p
    expected = tuple(pil_counterpart(b) for b in t.cls.bases)
    actual = tuple(short(b) for b in p.cls.bases)
    if expected != actual:
        tbases = ", ".join(short(b) for b in t.cls.bases)
        yield emit(
            "PAR003",
            p.path,
            p.cls.pos,
            f"`{p.cls.name}` derives from ({', '.join(actual) or 'object'}) but `{t.cls.name}` derives from "
            f"({tbases or 'object'}); expected ({', '.join(expected)})",
            (t.path, t.cls.pos),
            subject=ctx.subject("class", p.cls.name),
            torchvision=tbases,
            pil=", ".join(actual),
        )


@rule("PAR010", ERROR, "__init__ signatures differ", "class")
def par010(ctx: ClassContext):
    tm, pm = ctx.te.methods.get("__init__"), ctx.pe.methods.get("__init__")
    if tm is None or pm is None:
        return
    tsig, psig = signature(tm[0], backend_neutral=False), signature(pm[0], backend_neutral=False)
    if tsig != psig:
        yield emit(
            "PAR010",
            *_where(ctx.p, pm[0], pm[1]),
            f"`{ctx.p.cls.name}.__init__` differs from `{ctx.t.cls.name}.__init__`: "
            f"{describe_signature_difference(tsig, psig)}",
            _where(ctx.t, tm[0], tm[1]),
            subject=ctx.subject("method", "__init__"),
        )


def _compared_attrs(ctx: ClassContext) -> Iterator[tuple[str, tuple | None, tuple | None]]:
    """(key, torchvision entry, PIL entry) for every preprocessing default either side has, not both builtin."""
    te, pe = ctx.te, ctx.pe
    for key in dict.fromkeys([*te.attrs, *pe.attrs]):
        if key in _OWN_RULE_ATTRS or key.startswith("__"):
            continue
        tv, pv = te.attrs.get(key), pe.attrs.get(key)
        if tv is not None and tv[1].builtin and pv is not None and pv[1].builtin:
            continue
        yield key, tv, pv


@rule("PAR020", ERROR, "effective class-attribute default differs", "class")
def par020(ctx: ClassContext):
    t, p = ctx.t, ctx.p
    for key, tv, pv in _compared_attrs(ctx):
        if tv is None or pv is None or unpil_value(tv[0]) == unpil_value(pv[0]):
            continue
        yield emit(
            "PAR020",
            *_attr_loc(p, pv),
            f"default `{key}` differs: PIL `{p.cls.name}` has {show(pv[0])}{_via(pv, p)}, torchvision "
            f"`{t.cls.name}` has {show(tv[0])}{_via(tv, t)}",
            _attr_loc(t, tv),
            subject=ctx.subject("attribute", key),
            torchvision=show(tv[0]),
            pil=show(pv[0]),
        )


@rule("PAR021", ERROR, "class attribute defined on one side only", "class")
def par021(ctx: ClassContext):
    t, p, te, pe = ctx.t, ctx.p, ctx.te, ctx.pe
    for key, tv, pv in _compared_attrs(ctx):
        if (tv is None) == (pv is None):
            continue
        have, missing_eff, missing_ref, have_ref = (tv, pe, p, t) if pv is None else (pv, te, t, p)
        if not missing_eff.complete:
            continue  # the other side may inherit it from a class we cannot see
        value, owner, attr = have
        if value is None and key in kwarg_universe(ctx.pair.resolver, missing_eff):
            continue  # _set_attributes gives every valid kwarg without a class default the value None
        side = "torchvision" if pv is None else "PIL"
        loc_have = (owner.path, attr.pos) if not owner.builtin else (have_ref.path, have_ref.cls.pos)
        loc_missing = (missing_ref.path, missing_ref.cls.pos)
        primary, related = (loc_missing, loc_have) if pv is None else (loc_have, loc_missing)
        yield emit(
            "PAR021",
            *primary,
            f"class attribute `{key}` = {show(value)} is set on the {side} side only "
            f"(`{have_ref.cls.name}`), `{missing_ref.cls.name}` has no such attribute",
            related,
            subject=ctx.subject("attribute", key),
            torchvision=show(value) if pv is None else None,
            pil=show(value) if tv is None else None,
        )


@rule("PAR022", ERROR, "model_input_names differ", "class")
def par022(ctx: ClassContext):
    t, p, te, pe = ctx.t, ctx.p, ctx.te, ctx.pe
    tm, pm = te.value("model_input_names"), pe.value("model_input_names")
    if tm is not NO_DEFAULT and pm is not NO_DEFAULT and tm != pm:
        yield emit(
            "PAR022",
            *_attr_loc(p, pe.attrs["model_input_names"]),
            f"model_input_names differ: PIL `{p.cls.name}` has {show(pm)}, torchvision `{t.cls.name}` has {show(tm)}",
            _attr_loc(t, te.attrs["model_input_names"]),
            subject=ctx.subject("attribute", "model_input_names"),
            torchvision=show(tm),
            pil=show(pm),
        )


@rule("PAR030", ERROR, "backends use differently named Kwargs classes", "class")
def par030(ctx: ClassContext):
    t, p = ctx.t, ctx.p
    tv, pv = ctx.te.attrs.get("valid_kwargs"), ctx.pe.attrs.get("valid_kwargs")
    if tv is not None and pv is not None and show(tv[0]).rsplit(".", 1)[-1] != show(pv[0]).rsplit(".", 1)[-1]:
        yield emit(
            "PAR030",
            *_attr_loc(p, pv),
            f"`{p.cls.name}.valid_kwargs` is `{show(pv[0])}` but `{t.cls.name}.valid_kwargs` is `{show(tv[0])}`",
            _attr_loc(t, tv),
            subject=ctx.subject("attribute", "valid_kwargs"),
            torchvision=show(tv[0]),
            pil=show(pv[0]),
        )


@rule("PAR035", ERROR, "Unpack[...] names different Kwargs classes", "class")
def par035(ctx: ClassContext):
    t, p = ctx.t, ctx.p
    for name in dict.fromkeys([*t.cls.methods, *p.cls.methods]):
        tm, pm = ctx.te.methods.get(name), ctx.pe.methods.get(name)
        if tm is None or pm is None or tm[1].builtin or pm[1].builtin:
            continue
        tu, pu = tuple(tm[0].unpack), tuple(pm[0].unpack)
        if tu and pu and tu != pu:
            yield emit(
                "PAR035",
                *_where(p, pm[0], pm[1]),
                f"`{p.cls.name}.{name}` unpacks {', '.join(pu)} but `{t.cls.name}.{name}` unpacks {', '.join(tu)}",
                _where(t, tm[0], tm[1]),
                subject=ctx.subject("method", name),
                torchvision=", ".join(tu),
                pil=", ".join(pu),
            )


def _public_methods(ctx: ClassContext) -> Iterator[tuple[str, tuple | None, tuple | None]]:
    """(name, torchvision entry, PIL entry) of public methods that at least one side defines on disk."""
    te, pe = ctx.te, ctx.pe
    for name in dict.fromkeys([*te.methods, *pe.methods]):
        if name.startswith("_"):
            continue
        tm, pm = te.methods.get(name), pe.methods.get(name)
        if (tm is None or tm[1].builtin) and (pm is None or pm[1].builtin):
            continue
        yield name, tm, pm


def _callers(eff: Effective, name: str) -> list[tuple[ClassRef, MethodFacts]]:
    """Methods of a class's own code (itself and parents on disk) that call ``self.<name>``."""
    return [(r, m) for r in eff.mro if not r.builtin for m in r.cls.methods.values() if name in m.reads]


def _one_sided(ctx: ClassContext):
    """Public methods one side only has: (name, entry, side, have_ref, miss_ref, miss_eff, callers on the other side)."""
    for name, tm, pm in _public_methods(ctx):
        if (tm is None) == (pm is None):
            continue
        have, have_ref, miss_ref, miss_eff = (tm, ctx.t, ctx.p, ctx.pe) if pm is None else (pm, ctx.p, ctx.t, ctx.te)
        if not miss_eff.complete:
            continue  # the other side may inherit it from a class we cannot see
        side = "torchvision" if pm is None else "PIL"
        yield name, have, side, have_ref, miss_ref, miss_eff, _callers(miss_eff, name)


def _one_sided_finding(code: str, ctx: ClassContext, name, have, side, have_ref, miss_ref, callers) -> Finding:
    primary = _where(have_ref, have[0], have[1])
    related = (miss_ref.path, miss_ref.cls.pos)
    message = (
        f"public method `{name}` exists on the {side} side only (`{have_ref.cls.name}`), not on `{miss_ref.cls.name}`"
    )
    if callers:
        owner, caller = callers[0]
        primary, related = (owner.path, caller.reads[name]), primary
        message += f", whose `{caller.name}` calls it"
    elif side == "torchvision":
        primary, related = related, primary
    others = [n for n, *_ in _one_sided(ctx) if n != name and (n.startswith(name) or name.startswith(n))]
    if others:
        message += f"; renamed? the other side has `{others[0]}`"
    return emit(
        code,
        *primary,
        message,
        related,
        subject=ctx.subject("method", name),
        torchvision=have[1].cls.name if side == "torchvision" else None,
        pil=have[1].cls.name if side == "PIL" else None,
    )


@rule("PAR040", ERROR, "public method defined on one side only", "class")
def par040(ctx: ClassContext):
    for name, have, side, have_ref, miss_ref, _eff, callers in _one_sided(ctx):
        if is_backend_helper(have[0]) and not callers:
            continue  # PAR042
        yield _one_sided_finding("PAR040", ctx, name, have, side, have_ref, miss_ref, callers)


@rule("PAR042", WARNING, "backend helper defined on one side only", "class")
def par042(ctx: ClassContext):
    for name, have, side, have_ref, miss_ref, _eff, callers in _one_sided(ctx):
        if is_backend_helper(have[0]) and not callers:
            yield _one_sided_finding("PAR042", ctx, name, have, side, have_ref, miss_ref, callers)


@rule("PAR041", ERROR, "public method signatures differ", "class")
def par041(ctx: ClassContext):
    t, p = ctx.t, ctx.p
    for name, tm, pm in _public_methods(ctx):
        if tm is None or pm is None or tm[1].builtin or pm[1].builtin:
            continue  # one side overrides a backend operation, the other uses the backend's own
        if is_backend_helper(tm[0]) or is_backend_helper(pm[0]):
            continue  # operates on backend-native arrays: each backend has its own helpers
        tsig, psig = signature(tm[0], backend_neutral=True), signature(pm[0], backend_neutral=True)
        tsig, psig = drop_one_sided_annotations(tsig, psig)
        if tsig != psig:
            yield emit(
                "PAR041",
                *_where(p, pm[0], pm[1]),
                f"`{p.cls.name}.{name}` differs from `{t.cls.name}.{name}`: "
                f"{describe_signature_difference(tsig, psig)}",
                _where(t, tm[0], tm[1]),
                subject=ctx.subject("method", name),
            )


def _reads(eff: Effective, universe: frozenset[str]) -> dict[str, tuple[str, tuple]]:
    """kwarg -> first place a class's preprocessing reads it (BUILTIN_PATH for the backends' own code)."""
    out: dict[str, tuple[str, tuple]] = {}
    pre = eff.methods.get("_preprocess")
    base_preprocess = pre is None or pre[1].builtin
    for r in eff.mro:
        if r.builtin:
            continue
        for m in r.cls.methods.values():
            if "_preprocess" in m.super_calls:
                base_preprocess = True
            for name, pos in m.reads.items():
                if name in universe:
                    out.setdefault(name, (r.path, pos))
            if m.name in _ENTRY_POINTS:
                used = set(m.used_params)
                for prm in m.params:
                    if prm.kind in ("pos", "kwonly", "posonly") and prm.name in universe and prm.name in used:
                        out.setdefault(prm.name, (r.path, prm.pos))
    implicit = set(ALWAYS_READ) | (BASE_PREPROCESS_READS if base_preprocess else set())
    for name in implicit:
        out.setdefault(name, (BUILTIN_PATH, (0, 0)))
    return out


@rule("PAR050", WARNING, "kwarg read by one backend's preprocessing only", "class")
def par050(ctx: ClassContext):
    t, p, te, pe = ctx.t, ctx.p, ctx.te, ctx.pe
    if not (te.complete and pe.complete):
        return
    resolver = ctx.pair.resolver
    universe = (kwarg_universe(resolver, te) | kwarg_universe(resolver, pe)) - BACKEND_ONLY_PARAMS
    tr, pr = _reads(te, universe), _reads(pe, universe)
    for name in sorted(set(tr) ^ set(pr)):
        reader, reader_ref, other_ref, side = (tr, t, p, "torchvision") if name in tr else (pr, p, t, "PIL")
        path, pos = reader[name]
        if path == BUILTIN_PATH:
            path, pos = reader_ref.path, reader_ref.cls.pos
        yield emit(
            "PAR050",
            path,
            pos,
            f"kwarg `{name}` is read by the {side} preprocessing (`{reader_ref.cls.name}`) but never by "
            f"`{other_ref.cls.name}`",
            (other_ref.path, other_ref.cls.pos),
            subject=ctx.subject("kwarg", name),
            torchvision="read" if name in tr else None,
            pil="read" if name in pr else None,
        )


# -- Kwargs classes (file level) ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _KwargsCopy:
    name: str
    pil: object  # ClassFacts of the copy in the PIL file
    torch: ClassRef | None  # the class it copies, as the torchvision file sees that name


def _kwargs_copies(ctx: PairContext) -> list[_KwargsCopy]:
    tf, pf = ctx.m.tf, ctx.m.pf
    tk = {c.name: c for c in tf.classes.values() if is_kwargs_class(c)}
    out = []
    for name in sorted(c.name for c in pf.classes.values() if is_kwargs_class(c)):
        tref = ClassRef(tf.path, tk[name]) if name in tk else ctx.resolver.lookup(tf.path, name)
        out.append(_KwargsCopy(name, pf.classes[name], tref))
    return out


def _kwargs_imports(ctx: PairContext):
    """(name, import, position) of the Kwargs classes the PIL processors use as valid_kwargs and import."""
    pf = ctx.m.pf
    used = set()
    for c in ctx.m.classes:
        v = c.pe.attrs.get("valid_kwargs")
        if v is not None and not v[1].builtin and isinstance(v[0], tuple) and v[0][0] == "name":
            used.add(v[0][1])
    copied = {c.name for c in pf.classes.values() if is_kwargs_class(c)}
    imported = pf.imported_names()
    for name in sorted(used):
        if name in copied or name not in imported:
            continue
        imp = imported[name]
        yield name, imp, next((pos for n, a, pos in imp.names if (a or n) == name), imp.pos)


def _kwargs_subject(name: str) -> Subject:
    return Subject("kwargs_class", name)


@rule("PAR031", ERROR, "Kwargs class copies differ", "pair")
def par031(ctx: PairContext):
    for k in _kwargs_copies(ctx):
        if k.torch is None or k.torch.builtin:
            continue
        for message, ppos, tpos in compare_kwargs(k.torch.cls, k.pil):
            yield emit(
                "PAR031",
                ctx.m.pf.path,
                ppos or k.pil.pos,
                f"Kwargs copy `{k.name}` differs from the torchvision one: {message}",
                (k.torch.path, tpos or k.torch.cls.pos),
                subject=_kwargs_subject(k.name),
            )


@rule("PAR032", ERROR, "PIL file imports its Kwargs class from a module that needs torch/torchvision", "pair")
def par032(ctx: PairContext):
    pf = ctx.m.pf
    for name, imp, pos in _kwargs_imports(ctx):
        target = ctx.resolver.module_file(pf.path, imp.module, imp.level)
        if target is None:
            continue
        tfacts = ctx.loader.get(target)
        if tfacts is None or tfacts.parse_error is not None:
            continue
        heavy = tfacts.unguarded_backend_imports()
        if heavy:
            mod, hpos = heavy[0]
            yield emit(
                "PAR032",
                pf.path,
                pos,
                f"`{name}` is imported from {'.' * imp.level}{imp.module}, which imports `{mod}` unguarded at "
                f"module level, so the PIL backend needs torchvision",
                (target, hpos),
                subject=_kwargs_subject(name),
            )


@rule("PAR033", WARNING, "Kwargs copy lacks the '# Adapted from' marker", "pair")
def par033(ctx: PairContext):
    for k in _kwargs_copies(ctx):
        if k.torch is None or k.torch.builtin:
            continue
        related = (k.torch.path, k.torch.cls.pos)
        if k.pil.marker is None:
            yield emit(
                "PAR033",
                ctx.m.pf.path,
                k.pil.pos,
                f"`{k.name}` is a copy of the torchvision file's class but lacks a "
                f"`# Adapted from ...{k.name}` comment",
                related,
                subject=_kwargs_subject(k.name),
            )
        elif k.pil.marker.rsplit(".", 1)[-1] != k.name:
            yield emit(
                "PAR033",
                ctx.m.pf.path,
                k.pil.pos,
                f"`# Adapted from {k.pil.marker}` above `{k.name}` names another class",
                related,
                subject=_kwargs_subject(k.name),
                pil=k.pil.marker,
            )


@rule("PAR034", ERROR, "Kwargs sharing mode not allowed by --kwargs-sharing", "pair")
def par034(ctx: PairContext):
    mode, pf = ctx.options.kwargs_sharing, ctx.m.pf
    if mode == "import":
        for k in _kwargs_copies(ctx):
            yield emit(
                "PAR034",
                pf.path,
                k.pil.pos,
                f"`{k.name}` is copied into the PIL file; --kwargs-sharing=import requires importing it from "
                f"the torchvision module",
                (k.torch.path, k.torch.cls.pos) if k.torch else None,
                subject=_kwargs_subject(k.name),
            )
    if mode == "copy":
        for name, _imp, pos in _kwargs_imports(ctx):
            yield emit(
                "PAR034",
                pf.path,
                pos,
                f"`{name}` is imported; --kwargs-sharing=copy requires a copy with a `# Adapted from` marker",
                subject=_kwargs_subject(name),
            )


# -- exports and imports --------------------------------------------------------------------------------------------
def _exports(ctx: PairContext):
    return ((ctx.m.tf, ctx.m.tprocs), (ctx.m.pf, ctx.m.pprocs))


@rule("PAR060", ERROR, "processor class missing from __all__", "pair")
def par060(ctx: PairContext):
    for facts, procs in _exports(ctx):
        if not procs or facts.all_names is None:
            continue
        for ref in procs:
            if ref.cls.name not in facts.all_names:
                yield emit(
                    "PAR060",
                    facts.path,
                    ref.cls.pos,
                    f"`{ref.cls.name}` is missing from `__all__`",
                    (facts.path, facts.all_pos) if facts.all_pos else None,
                    subject=Subject("class", ref.cls.name),
                )


@rule("PAR061", WARNING, "file has no __all__", "pair")
def par061(ctx: PairContext):
    for facts, procs in _exports(ctx):
        if procs and facts.all_names is None:
            yield emit(
                "PAR061",
                facts.path,
                (1, 1),
                f"no `__all__`; expected it to list {procs[0].cls.name}",
                subject=Subject("file", facts.path),
            )


@rule("PAR070", ERROR, "torch/torchvision imported unguarded in the PIL file", "pair")
def par070(ctx: PairContext):
    for mod, pos in ctx.m.pf.unguarded_backend_imports():
        yield emit(
            "PAR070",
            ctx.m.pf.path,
            pos,
            f"`{mod}` is imported unguarded at module level of the PIL backend file; guard it with "
            f"`if is_torch_available():` (or import inside the function that needs it)",
            subject=Subject("import", mod),
        )


# -- running --------------------------------------------------------------------------------------------------------
def _scope(scope: str) -> list[Rule]:
    return [r for r in RULES.values() if r.scope == scope]


def file_findings(facts: FileFacts) -> list[Finding]:
    ctx = FileContext(facts)
    return [f for r in _scope("file") for f in r.check(ctx)]


def check_pair(pair: Pair, loader, resolver: Resolver, options: Options) -> list[Finding]:
    files = [loader.get(path) for path in (pair.torch_path, pair.pil_path) if path is not None]
    if any(f is None for f in files):
        return []
    problems = [f for facts in files for f in file_findings(facts)]
    if problems or any(_file_problem(facts) for facts in files):
        return problems
    if pair.is_lone:
        ctx = LoneContext(pair, files[0], resolver)
        return [f for r in _scope("lone") for f in r.check(ctx)]
    ctx = PairContext(match(pair, files[0], files[1], resolver), resolver, loader, options)
    out = [f for r in _scope("pair") for f in r.check(ctx)]
    class_rules = _scope("class")
    for c in ctx.m.classes:
        cctx = ClassContext(ctx, c)
        out.extend(f for r in class_rules for f in r.check(cctx))
    return out


def check_pairs(pairs: list[Pair], loader, options: Options) -> list[Finding]:
    resolver = Resolver(loader)
    findings: list[Finding] = []
    for pair in pairs:
        if pair.is_lone and not options.report_lone:
            continue
        findings.extend(check_pair(pair, loader, resolver, options))
    # de-duplicate (a parse error or shared parent can be reported from two pairs)
    return sorted(dict.fromkeys(findings), key=Finding.sort_key)


__all__ = ["Options", "RULES", "check_pair", "check_pairs", "emit", "rule"]
