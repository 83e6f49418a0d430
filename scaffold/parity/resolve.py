"""Resolve classes through inheritance: parents in the same file, in other files of the same tree, and
transformers' own base classes (described by scaffold.transformers_api, never parsed)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from scaffold.parity.model import NO_DEFAULT, AttrFacts, ClassFacts, FieldFacts, MethodFacts, ParamFacts
from scaffold.transformers_api import (
    BACKEND_OF,
    BASE_CLASSES,
    BASE_IMAGE_PROCESSOR_DEFAULTS,
    BASE_IMAGE_PROCESSOR_SOURCES,
    BASE_VALID_KWARGS,
    IMAGES_KWARGS_CLASS,
    IMAGES_KWARGS_KEYS,
)

BUILTIN_PATH = "<transformers>"


def _init_method() -> MethodFacts:
    return MethodFacts(
        name="__init__",
        pos=(0, 0),
        params=[
            ParamFacts("self", "pos", NO_DEFAULT, None, None),
            ParamFacts("kwargs", "varkw", NO_DEFAULT, None, f"Unpack[{BASE_VALID_KWARGS}]"),
        ],
        decorators=(),
        unpack=(BASE_VALID_KWARGS,),
    )


def _base_attrs(name: str) -> dict[str, AttrFacts]:
    if name != "BaseImageProcessor":
        return {"_auto_class": AttrFacts("_auto_class", (0, 0), None, "")} if name == "ImageProcessingMixin" else {}
    values = {
        "valid_kwargs": ("name", BASE_VALID_KWARGS),
        "default_to_square": ("bool", BASE_IMAGE_PROCESSOR_DEFAULTS["default_to_square"]),
        "rescale_factor": float(f"{BASE_IMAGE_PROCESSOR_DEFAULTS['rescale_factor']:.12g}"),
        "model_input_names": ("seq", tuple(("str", x) for x in BASE_IMAGE_PROCESSOR_DEFAULTS["model_input_names"])),
    }
    return {k: AttrFacts(k, (0, 0), v, BASE_IMAGE_PROCESSOR_SOURCES[k]) for k, v in values.items()}


def _builtin(name: str) -> ClassFacts:
    """transformers' base class ``name`` as facts, from scaffold.transformers_api (never parsed)."""
    bases, methods = BASE_CLASSES[name]
    ms = {
        m: _init_method() if m == "__init__" else MethodFacts(name=m, pos=(0, 0), params=[], decorators=())
        for m in methods
    }
    return ClassFacts(
        name=name,
        pos=(0, 0),
        bases=bases,
        keywords={},
        attrs=_base_attrs(name),
        fields={},
        methods=ms,
        docstring=None,
        marker=None,
    )


def _images_kwargs() -> ClassFacts:
    bases, keywords = IMAGES_KWARGS_CLASS
    return ClassFacts(
        name=BASE_VALID_KWARGS,
        pos=(0, 0),
        bases=bases,
        keywords=dict(keywords),
        attrs={},
        fields={k: FieldFacts(k, (0, 0), "") for k in IMAGES_KWARGS_KEYS},
        methods={},
        docstring=None,
        marker=None,
    )


BUILTINS: dict[str, ClassFacts] = {name: _builtin(name) for name in BASE_CLASSES}
BUILTINS[BASE_VALID_KWARGS] = _images_kwargs()


@dataclass
class ClassRef:
    path: str
    cls: ClassFacts

    @property
    def builtin(self) -> bool:
        return self.path == BUILTIN_PATH


@dataclass
class Effective:
    """A class seen through its MRO (depth-first, left to right: exact for the single inheritance used here)."""

    ref: ClassRef
    mro: list[ClassRef]
    attrs: dict[str, tuple[object, ClassRef, AttrFacts]] = field(default_factory=dict)
    methods: dict[str, tuple[MethodFacts, ClassRef]] = field(default_factory=dict)
    complete: bool = True  # every base was resolved
    unresolved: list[str] = field(default_factory=list)
    backend: str | None = None

    def value(self, key: str):
        entry = self.attrs.get(key)
        return entry[0] if entry else NO_DEFAULT


def module_file(from_path: str, module: str, level: int) -> str | None:
    """File for ``from <level dots><module> import ...`` written in ``from_path``, if it is on disk."""
    if level:
        base = os.path.dirname(from_path)
        for _ in range(level - 1):
            base = os.path.dirname(base)
    else:
        parts = module.split(".")
        if parts[0] != "transformers":
            return None
        # find the enclosing transformers package of the importing file
        base = os.path.dirname(os.path.abspath(from_path))
        while base and os.path.basename(base) != "transformers":
            parent = os.path.dirname(base)
            if parent == base:
                return None
            base = parent
        module = ".".join(parts[1:])
    rel = module.replace(".", os.sep) if module else ""
    candidates = [os.path.join(base, rel) + ".py", os.path.join(base, rel, "__init__.py")] if rel else []
    for cand in candidates:
        if os.path.isfile(cand):
            return os.path.normpath(cand) if level else cand
    return None


def base_class_files(facts) -> list[str]:
    """Other files the resolver will read for the bases of ``facts``' classes (imported, not transformers' own).

    A hint for prefetching (e.g. ``processing_utils.py`` for ``ImagesKwargs``); the resolver loads what it needs
    regardless.
    """
    if facts.parse_error is not None:
        return []
    imported = None
    out: list[str] = []
    for cls in facts.classes.values():
        for base in cls.bases:
            if base in facts.classes or base.rsplit(".", 1)[-1] in BUILTINS:
                continue
            if imported is None:
                imported = facts.imported_names()
            imp = imported.get(base)
            if imp is None:
                continue
            target = module_file(facts.path, imp.module, imp.level)
            if target is not None and target != facts.path and target not in out:
                out.append(target)
    return out


class Resolver:
    def __init__(self, loader):
        self.loader = loader
        self._eff: dict[tuple[str, str], Effective] = {}

    # -- names -> classes ----------------------------------------------------------------------------------------
    def module_file(self, from_path: str, module: str, level: int) -> str | None:
        return module_file(from_path, module, level)

    def lookup(self, path: str, name: str, depth: int = 0) -> ClassRef | None:
        """The class ``name`` as seen from file ``path``."""
        short = name.rsplit(".", 1)[-1]
        if short in BUILTINS:
            # transformers' own bases: described in BUILTINS, never parsed (they are big and not model code)
            facts = self.loader.get(path)
            if facts is None or short not in facts.classes:
                return ClassRef(BUILTIN_PATH, BUILTINS[short])
        facts = self.loader.get(path)
        if facts is not None and facts.parse_error is None:
            if "." not in name and name in facts.classes:
                return ClassRef(path, facts.classes[name])
            imp = facts.imported_names().get(name if "." not in name else "")
            if imp is not None and depth < 5:
                original = next((n for n, a, _ in imp.names if (a or n) == name), name)
                target = self.module_file(path, imp.module, imp.level)
                if target is not None and target != path:
                    found = self.lookup(target, original, depth + 1)
                    if found is not None:
                        return found
        if short in BUILTINS:
            return ClassRef(BUILTIN_PATH, BUILTINS[short])
        return None

    # -- effective views -----------------------------------------------------------------------------------------
    def effective(self, ref: ClassRef) -> Effective:
        key = (ref.path, ref.cls.name)
        if key in self._eff:
            return self._eff[key]
        eff = Effective(ref=ref, mro=[])
        seen: set[tuple[str, str]] = set()

        def visit(r: ClassRef, depth: int) -> None:
            k = (r.path, r.cls.name)
            if k in seen or depth > 20:
                return
            seen.add(k)
            eff.mro.append(r)
            if r.builtin and r.cls.name in BACKEND_OF and eff.backend is None:
                eff.backend = BACKEND_OF[r.cls.name]
            for base in r.cls.bases:
                if base in ("object", "Generic") or base.startswith("Generic["):
                    continue
                parent = BUILTINS.get(base) if r.builtin else self.lookup(r.path, base)
                if parent is None:
                    if r.builtin:
                        parent = ClassRef(BUILTIN_PATH, BUILTINS[base]) if base in BUILTINS else None
                    if parent is None:
                        eff.complete = False
                        eff.unresolved.append(base)
                        continue
                if isinstance(parent, ClassFacts):
                    parent = ClassRef(BUILTIN_PATH, parent)
                visit(parent, depth + 1)

        visit(ref, 0)
        for r in eff.mro:
            for name, attr in r.cls.attrs.items():
                eff.attrs.setdefault(name, (attr.value, r, attr))
            for name, method in r.cls.methods.items():
                eff.methods.setdefault(name, (method, r))
        self._eff[key] = eff
        return eff
