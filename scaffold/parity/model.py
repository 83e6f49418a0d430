"""Plain data describing one image-processing module (picklable, and importable without libcst)."""

from __future__ import annotations

from dataclasses import dataclass, field

Pos = tuple  # (line, col), both 1-based


@dataclass
class ParamFacts:
    name: str
    kind: str  # "posonly" | "pos" | "vararg" | "kwonly" | "varkw"
    default: object  # canonical value, or NO_DEFAULT
    default_src: str | None
    annotation: str | None  # normalised
    pos: Pos = (0, 0)


NO_DEFAULT = ("<no default>",)


@dataclass
class MethodFacts:
    name: str
    pos: Pos
    params: list[ParamFacts]
    decorators: tuple[str, ...]
    reads: dict[str, Pos] = field(default_factory=dict)  # kwarg-ish names read in the body -> first position
    super_calls: tuple[str, ...] = ()  # methods called as super().<name>(...)
    unpack: tuple[str, ...] = ()  # class names used as Unpack[...] in the signature
    used_params: tuple[str, ...] = ()  # parameters the body refers to


@dataclass
class AttrFacts:
    name: str
    pos: Pos
    value: object  # canonical value
    value_src: str


@dataclass
class FieldFacts:
    name: str
    pos: Pos
    annotation: str


@dataclass
class ClassFacts:
    name: str
    pos: Pos
    bases: tuple[str, ...]
    keywords: dict[str, str]
    attrs: dict[str, AttrFacts]
    fields: dict[str, FieldFacts]  # annotated names without a value (TypedDict fields)
    methods: dict[str, MethodFacts]
    docstring: str | None
    marker: str | None  # target of a "# Adapted from <dotted>" comment right above the class


@dataclass
class ImportFacts:
    module: str  # dotted module ("" for "from . import x")
    level: int  # number of leading dots
    names: list[tuple[str, str | None, Pos]]  # (name, asname, pos); for "import a.b" -> [("a.b", asname, pos)]
    is_from: bool
    guarded: bool  # inside if/try/def/class rather than directly at module level
    pos: Pos


@dataclass
class FileFacts:
    path: str
    parse_error: tuple[int, int, str] | None = None
    read_error: str | None = None  # the file could not be read (never cached)
    not_regular: bool = False  # a FIFO, device, ... named like a pair file: skipped (never cached)
    classes: dict[str, ClassFacts] = field(default_factory=dict)
    imports: list[ImportFacts] = field(default_factory=list)
    all_names: list[str] | None = None
    all_pos: Pos | None = None
    constants: dict[str, object] = field(default_factory=dict)
    line_count: int = 0

    def imported_names(self) -> dict[str, ImportFacts]:
        out: dict[str, ImportFacts] = {}
        for imp in self.imports:
            if imp.is_from:
                for name, asname, _ in imp.names:
                    out.setdefault(asname or name, imp)
        return out

    def unguarded_backend_imports(self) -> list[tuple[str, Pos]]:
        """Module-level, unguarded imports of torch/torchvision."""
        found = []
        for imp in self.imports:
            if imp.guarded:
                continue
            if imp.is_from:
                if imp.level == 0 and imp.module.split(".")[0] in ("torch", "torchvision"):
                    found.append((imp.module, imp.pos))
            else:
                for name, _, _pos in imp.names:
                    if name.split(".")[0] in ("torch", "torchvision"):
                        found.append((name, imp.pos))
        return found


def show(value) -> str:
    """Human-readable rendering of a canonical value (for messages)."""
    if value is None:
        return "None"
    if isinstance(value, tuple) and value:
        kind = value[0]
        if kind == "bool":
            return str(value[1])
        if kind == "str":
            return repr(value[1])
        if kind in ("name", "expr"):
            return value[1]
        if kind == "seq":
            return "[" + ", ".join(show(v) for v in value[1]) + "]"
        if kind == "set":
            return "{" + ", ".join(sorted(show(v) for v in value[1])) + "}"
        if kind == "dict":
            return "{" + ", ".join(f"{show(k)}: {show(v)}" for k, v in value[1]) + "}"
        if kind == "bytes":
            return repr(value[1])
    return repr(value)
