"""Extract the facts the parity rules need from one image-processing module: one ``ast`` parse, one walk.

Everything produced here is plain picklable data (so it can be cached and sent across processes). Positions are
``ast``'s, with columns converted from UTF-8 bytes to characters (1-based, like the findings). A file that cannot be
parsed (syntax error, NUL bytes, nesting too deep for the parser) yields facts with ``parse_error`` set; so does one
whose nesting is too deep for the analysis, never a crash.
"""

from __future__ import annotations

import ast
import gc
import re

from scaffold.parity.model import (
    NO_DEFAULT,
    AttrFacts,
    ClassFacts,
    FieldFacts,
    FileFacts,
    ImportFacts,
    MethodFacts,
    ParamFacts,
    Pos,
)
from scaffold.parity.values import canon_value, dotted, normalize_annotation

_KW_METHODS = frozenset({"get", "pop", "setdefault"})
_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what the tokenizer counts as a line break
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)
_BLOCKS = (ast.If, ast.Try, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
_UNPACK = frozenset({"Unpack", "typing.Unpack", "typing_extensions.Unpack"})


class Source:
    """The text of one file, addressed the way ``ast`` addresses it (1-based lines, UTF-8 byte columns)."""

    def __init__(self, text: str):
        self.text = text
        self.lines = text.split("\n") if "\r" not in text else _LINE_BREAK.split(text)

    def col(self, lineno: int, byte_col: int) -> int:
        """1-based character column of a byte offset."""
        line = self.lines[lineno - 1]
        if line.isascii():
            return byte_col + 1
        return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace")) + 1

    def pos(self, node) -> Pos:
        return (node.lineno, self.col(node.lineno, node.col_offset))

    def indent(self, lineno: int) -> str:
        line = self.lines[lineno - 1]
        return line[: len(line) - len(line.lstrip(" \t"))]

    def block_text(self, node, lineno: int) -> str:
        """Source text of an expression in the statement at ``lineno``, its continuation lines relative to it."""
        text = self(node)
        indent = self.indent(lineno)
        if "\n" not in text or not indent:
            return text
        first, *rest = text.split("\n")
        return "\n".join([first, *(line[len(indent) :] if line.startswith(indent) else line for line in rest)])

    def __call__(self, node) -> str:
        """Source text of an expression (without the parentheses around it)."""
        first, last = node.lineno - 1, node.end_lineno - 1
        start, end = node.col_offset, node.end_col_offset
        if first == last:
            line = self.lines[first]
            if line.isascii():
                return line[start:end]
            return line.encode("utf-8")[start:end].decode("utf-8", errors="replace")
        head = self.lines[first].encode("utf-8")[start:].decode("utf-8", errors="replace")
        tail = self.lines[last].encode("utf-8")[:end].decode("utf-8", errors="replace")
        return "\n".join([head, *self.lines[first + 1 : last], tail])

    def name_after_keyword(self, node, keyword: str, name: str) -> Pos:
        """Position of the name of a ``class``/``def`` (ast gives the statement's start only)."""
        lineno, line = node.lineno, self.lines[node.lineno - 1]
        i = self.col(lineno, node.col_offset) - 1
        i = line.find(keyword, i)
        if i != -1:
            j = line.find(name, i + len(keyword))
            if j != -1:
                return (lineno, j + 1)
        for k in range(lineno, min(lineno + 5, len(self.lines))):  # name on a continuation line
            j = re.search(rf"\b{re.escape(name)}\b", self.lines[k])
            if j:
                return (k + 1, j.start() + 1)
        return self.pos(node)


def _adapted_marker(lines: list[str]) -> str | None:
    for line in lines:
        text = line.strip()
        if text.startswith("#"):
            text = text.lstrip("#").strip()
            if text.startswith("Adapted from"):
                rest = text[len("Adapted from") :].strip()
                return rest.split()[0] if rest else ""
    return None


class _Extractor:
    def __init__(self, path: str, src: Source):
        self.path = path
        self.src = src
        self.facts = FileFacts(path=path)

    def run(self, tree: ast.Module) -> FileFacts:
        consts = self.facts.constants
        # constants first: class attributes may refer to them
        for stmt in tree.body:
            if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
                value = canon_value(stmt.value, self.src, consts)
                if not (isinstance(value, tuple) and value and value[0] == "expr"):
                    consts[stmt.targets[0].id] = value
        self._statements(tree.body, guarded=False, prev_end=0)
        return self.facts

    def _statements(self, body, guarded: bool, prev_end: int) -> None:
        for stmt in body:
            t = type(stmt)
            if t is ast.Import or t is ast.ImportFrom:
                self._import(stmt, guarded)
            elif t is ast.ClassDef:
                if stmt.name not in self.facts.classes:
                    self._class(stmt, prev_end)
                self._nested_imports(stmt.body)
            elif t in _FUNCS:
                self._nested_imports(stmt.body)
            elif t in _BLOCKS:
                for block in _blocks_of(stmt):
                    self._statements(block, True, stmt.lineno)
            elif not guarded and t in (ast.Assign, ast.AnnAssign, ast.AugAssign):
                self._module_assign(stmt)
            prev_end = stmt.end_lineno

    def _nested_imports(self, body) -> None:
        # imports directly inside functions/classes are guarded (they only run when called)
        for stmt in body:
            if type(stmt) is ast.Import or type(stmt) is ast.ImportFrom:
                self._import(stmt, True)

    def _import(self, node, guarded: bool) -> None:
        is_from = type(node) is ast.ImportFrom
        names = []
        for alias in node.names:
            if alias.name == "*":
                continue
            names.append([alias.name, alias.asname, self.src.pos(alias)])
        self.facts.imports.append(
            ImportFacts(
                module=(node.module or "") if is_from else "",
                level=node.level if is_from else 0,
                names=names,
                is_from=is_from,
                guarded=guarded,
                pos=self.src.pos(node),
            )
        )

    def _module_assign(self, node) -> None:
        if type(node) is ast.AugAssign and type(node.op) is not ast.Add:
            return
        if node.value is None:
            return
        targets = node.targets if type(node) is ast.Assign else [node.target]
        for target in targets:
            if type(target) is ast.Name and target.id == "__all__":
                names = []
                if type(node.value) in (ast.List, ast.Tuple):
                    for el in node.value.elts:
                        if type(el) is ast.Constant and isinstance(el.value, str):
                            names.append(el.value)
                if type(node) is ast.AugAssign and self.facts.all_names is not None:
                    self.facts.all_names.extend(names)
                else:
                    self.facts.all_names = names
                    self.facts.all_pos = self.src.pos(target)

    # -- classes ------------------------------------------------------------------------------------------------
    def _class(self, node: ast.ClassDef, prev_end: int) -> None:
        src = self.src
        bases = tuple(dotted(b) or src(b) for b in node.bases)
        keywords = {k.arg: src(k.value) for k in node.keywords if k.arg is not None}
        # a docstring counts only in an indented body (not `class A: "doc"`)
        docstring = ast.get_docstring(node, clean=True) if node.body[0].lineno > node.lineno else None
        cls = ClassFacts(
            name=node.name,
            pos=src.name_after_keyword(node, "class", node.name),
            bases=bases,
            keywords=keywords,
            attrs={},
            fields={},
            methods={},
            docstring=docstring,
            marker=_adapted_marker(src.lines[prev_end : node.lineno - 1]),
        )
        self.facts.classes[cls.name] = cls
        self._class_body(cls, node.body)

    def _class_body(self, cls: ClassFacts, body) -> None:
        for stmt in body:
            t = type(stmt)
            if t is ast.Assign:
                for target in stmt.targets:
                    if type(target) is ast.Name:
                        self._attr(cls, target, stmt.value)
            elif t is ast.AnnAssign and type(stmt.target) is ast.Name:
                if stmt.value is None:
                    name = stmt.target.id
                    ann = normalize_annotation(stmt.annotation, self.src)
                    cls.fields[name] = FieldFacts(name=name, pos=self.src.pos(stmt.target), annotation=ann)
                else:
                    self._attr(cls, stmt.target, stmt.value)
            elif t in _FUNCS:
                if stmt.name not in cls.methods:
                    cls.methods[stmt.name] = self._method(stmt)
            elif t is ast.If:
                # e.g. attributes defined conditionally; take both branches, first definition wins
                for block in _blocks_of(stmt):
                    self._class_body(cls, block)

    def _attr(self, cls: ClassFacts, target: ast.Name, value: ast.expr) -> None:
        consts = self.facts.constants
        cls.attrs[target.id] = AttrFacts(  # last assignment wins, like Python
            name=target.id,
            pos=self.src.pos(target),
            value=canon_value(value, self.src, consts),
            value_src=self.src.block_text(value, target.lineno),
        )

    def _method(self, node) -> MethodFacts:
        src = self.src
        decorators = tuple(dotted(d) or src(d) for d in node.decorator_list)
        a = node.args
        unpack: list[str] = []
        params: list[ParamFacts] = []
        positional = [*a.posonlyargs, *a.args]
        defaults = [None] * (len(positional) - len(a.defaults)) + list(a.defaults)
        for i, arg in enumerate(positional):
            kind = "posonly" if i < len(a.posonlyargs) else "pos"
            params.append(self._param(arg, kind, defaults[i], unpack, node.lineno))
        if a.vararg is not None:
            params.append(self._param(a.vararg, "vararg", None, unpack, node.lineno))
        for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True):
            params.append(self._param(arg, "kwonly", default, unpack, node.lineno))
        if a.kwarg is not None:
            params.append(self._param(a.kwarg, "varkw", None, unpack, node.lineno))
        reads, supers, used = _analyse_body(node, src)
        return MethodFacts(
            name=node.name,
            pos=src.name_after_keyword(node, "def", node.name),
            params=params,
            decorators=decorators,
            reads=reads,
            super_calls=supers,
            unpack=tuple(unpack),
            used_params=used,
        )

    def _param(self, arg: ast.arg, kind: str, default, unpack: list[str], def_line: int) -> ParamFacts:
        src = self.src
        annotation = None
        if arg.annotation is not None:
            ann = arg.annotation
            annotation = normalize_annotation(ann, src)
            if type(ann) is ast.Subscript and dotted(ann.value) in _UNPACK:
                name = dotted(ann.slice)
                if name:
                    unpack.append(name.rsplit(".", 1)[-1])
        if default is not None:
            value, value_src = canon_value(default, src, self.facts.constants), src.block_text(default, def_line)
        else:
            value, value_src = NO_DEFAULT, None
        return ParamFacts(
            name=arg.arg, kind=kind, default=value, default_src=value_src, annotation=annotation, pos=src.pos(arg)
        )


def _blocks_of(stmt) -> list[list]:
    """The blocks of a compound statement that the extractor looks into (``finally`` is not one of them)."""
    if type(stmt) is ast.If:
        return [stmt.body, stmt.orelse]
    if type(stmt) is ast.Try:
        return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse]
    return [stmt.body]


# fields that never hold nodes we look at (names, flags, expression contexts, operators)
_LEAF_FIELDS = frozenset({"ctx", "op", "id", "attr", "arg", "name", "kind", "type_comment", "level", "conversion"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


def _analyse_body(fn, src: Source):
    """What a method body reads (self.<x>, kwargs["x"], kwargs.get("x")), its super() calls, and used params."""
    a = fn.args
    params = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    reads: dict[str, tuple[int, int]] = {}
    supers: list[str] = []
    used: set[str] = set()

    def read(name: str, node) -> None:
        pos = (node.lineno, node.col_offset)
        if name not in reads or pos < reads[name]:
            reads[name] = pos  # earliest occurrence; column converted below

    AST, Name, Attribute, Subscript, Call, Constant = (
        ast.AST,
        ast.Name,
        ast.Attribute,
        ast.Subscript,
        ast.Call,
        ast.Constant,
    )
    for stmt in fn.body:
        # breadth-first, children in field order (super() calls keep the order ast.walk gives), iteratively so that
        # deep nesting cannot exhaust the stack
        todo = [stmt]
        i = 0
        while i < len(todo):
            node = todo[i]
            i += 1
            t = type(node)
            if t is Name:
                if node.id in params:
                    used.add(node.id)
                continue  # children: ctx only
            if t is Constant:
                continue  # no children
            if t is Attribute:
                value = node.value
                if type(value) is Name and value.id == "self":
                    read(node.attr, node)
            elif t is Subscript:
                value, key = node.value, node.slice
                if (
                    type(value) is Name
                    and value.id.endswith("kwargs")
                    and type(key) is Constant
                    and isinstance(key.value, str)
                    and key.value.isidentifier()
                ):
                    read(key.value, node)
            elif t is Call:
                func = node.func
                if type(func) is Attribute:
                    recv = func.value
                    if type(recv) is Name and recv.id.endswith("kwargs") and func.attr in _KW_METHODS:
                        if node.args and type(node.args[0]) is Constant and isinstance(node.args[0].value, str):
                            if node.args[0].value.isidentifier():
                                read(node.args[0].value, node)
                    elif type(recv) is Call and type(recv.func) is Name and recv.func.id == "super":
                        supers.append(func.attr)
            fields = _CHILD_FIELDS.get(t)
            if fields is None:
                fields = _CHILD_FIELDS[t] = tuple(f for f in t._fields if f not in _LEAF_FIELDS)
            for f in fields:
                v = getattr(node, f, None)
                if type(v) is list:
                    for x in v:
                        if isinstance(x, AST):
                            todo.append(x)
                elif isinstance(v, AST):
                    todo.append(v)
    reads = {name: (line, src.col(line, col)) for name, (line, col) in reads.items()}
    return reads, tuple(dict.fromkeys(supers)), tuple(sorted(used))


def extract(path: str, source: str) -> FileFacts:
    """Facts for one file; a file that does not parse yields facts with ``parse_error`` set.

    The cyclic garbage collector is paused meanwhile: parsing allocates many (acyclic) nodes, and the collections
    this would trigger, each scanning every live node, cost a good part of the parse itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        if source.startswith("\ufeff"):
            source = source[1:]  # a UTF-8 BOM (ast.parse refuses it in a str)
        try:
            tree = ast.parse(source)
        except SyntaxError as exc:
            line = exc.lineno or 1
            return FileFacts(path=path, parse_error=(line, max(exc.offset or 1, 1), exc.msg))
        except (ValueError, RecursionError, MemoryError) as exc:  # NUL bytes; nesting too deep for the parser
            return FileFacts(path=path, parse_error=(1, 1, _describe(exc)))
        src = Source(source)
        try:
            facts = _Extractor(path, src).run(tree)
        except RecursionError as exc:
            return FileFacts(path=path, parse_error=(1, 1, _describe(exc)))
        facts.line_count = len(src.lines)
        return facts
    finally:
        if enabled:
            gc.enable()


def _describe(exc: BaseException) -> str:
    if isinstance(exc, (RecursionError, MemoryError)):
        return f"{type(exc).__name__}: nesting too deep to analyse"
    return f"{type(exc).__name__}: {exc}"
