"""Pairing: which processor classes of a pair's two files correspond. Pure: facts in, ``MatchedPair`` out.

``check``, ``--fix`` and ``gen-tests`` all start from ``match``; naming problems are recorded as data here and
reported by the rules (PAR001, PAR002).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scaffold.parity.discover import Pair
from scaffold.parity.model import ClassFacts, FileFacts
from scaffold.parity.resolve import ClassRef, Effective, Resolver


def is_kwargs_class(cls: ClassFacts) -> bool:
    return cls.name.endswith("Kwargs") and any(
        b.rsplit(".", 1)[-1] in ("ImagesKwargs", "TypedDict", "VideosKwargs") or b.endswith("Kwargs")
        for b in cls.bases
    )


def processors(facts: FileFacts, resolver: Resolver) -> list[ClassRef]:
    """The image-processor classes a file defines (derived from transformers' bases, or named like one)."""
    out = []
    for cls in facts.classes.values():
        if is_kwargs_class(cls):
            continue
        ref = ClassRef(facts.path, cls)
        eff = resolver.effective(ref)
        derives = any(r.builtin and r.cls.name != "ImageProcessingMixin" for r in eff.mro)
        if derives or cls.name.endswith(("ImageProcessor", "ImageProcessorPil")):
            out.append(ref)
    return out


@dataclass(frozen=True)
class ClassPair:
    """A torchvision processor class and its PIL twin, each with its effective (inherited) view."""

    t: ClassRef
    p: ClassRef
    te: Effective
    pe: Effective
    misnamed: bool = False  # the single leftover on each side, compared although the names do not match


@dataclass(frozen=True)
class MatchedPair:
    pair: Pair
    tf: FileFacts
    pf: FileFacts
    tprocs: tuple[ClassRef, ...]
    pprocs: tuple[ClassRef, ...]
    classes: tuple[ClassPair, ...]
    t_unmatched: tuple[ClassRef, ...] = field(default_factory=tuple)  # no PIL counterpart (PAR001)
    p_unmatched: tuple[ClassRef, ...] = field(default_factory=tuple)  # no torchvision counterpart (PAR001)


def match(pair: Pair, tf: FileFacts, pf: FileFacts, resolver: Resolver) -> MatchedPair:
    """Pair ``<M>ImageProcessor`` with ``<M>ImageProcessorPil``; a single leftover on each side is paired anyway."""
    tprocs, pprocs = processors(tf, resolver), processors(pf, resolver)
    by_name = {p.cls.name: p for p in pprocs}
    pairs: list[tuple[ClassRef, ClassRef, bool]] = []
    used: set[str] = set()
    for t in tprocs:
        p = by_name.get(t.cls.name + "Pil")
        if p is not None:
            pairs.append((t, p, False))
            used.add(p.cls.name)
    t_left = [t for t in tprocs if all(t is not m[0] for m in pairs)]
    p_left = [p for p in pprocs if p.cls.name not in used]
    if len(t_left) == 1 and len(p_left) == 1:
        pairs.append((t_left[0], p_left[0], True))
        t_left, p_left = [], []
    classes = tuple(
        ClassPair(t=t, p=p, te=resolver.effective(t), pe=resolver.effective(p), misnamed=m) for t, p, m in pairs
    )
    return MatchedPair(
        pair=pair,
        tf=tf,
        pf=pf,
        tprocs=tuple(tprocs),
        pprocs=tuple(pprocs),
        classes=classes,
        t_unmatched=tuple(t_left),
        p_unmatched=tuple(p_left),
    )
