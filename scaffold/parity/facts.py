"""Extract the facts the parity rules need from one image-processing module, with libcst.

Everything produced here is plain picklable data (so it can be cached and sent across processes). Positions
are computed without libcst's MetadataWrapper/PositionProvider (which deep-copies the tree and records a position
for every node): a single code-generation pass with a small ``CodegenState`` subclass records the token index at
which the few nodes we may report start, and those indices are turned into ``line:col`` afterwards. The same pass
collects which kwargs each method reads, so method bodies are walked exactly once.
"""

from __future__ import annotations

import ast
import inspect
from bisect import bisect_right
from itertools import accumulate

import libcst as cst
from libcst._nodes.internal import CodegenState

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
from scaffold.parity.values import canon_value, normalize_annotation

_EMPTY_MODULE = cst.Module(body=[])


def code_of(node: cst.CSTNode) -> str:
    return _EMPTY_MODULE.code_for_node(node)


def dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        inner = dotted(node.value)
        return None if inner is None else f"{inner}.{node.attr.value}"
    return None


_KW_METHODS = frozenset({"get", "pop", "setdefault"})


class _TrackingState(CodegenState):
    """Code generation that remembers the token index at which selected nodes start, and collects reads."""

    def __init__(self, default_indent: str, default_newline: str, targets: set[int]):
        super().__init__(default_indent=default_indent, default_newline=default_newline)
        self.targets = targets
        self.marks: dict[int, int] = {}
        self.func_stack: list[int] = []
        self.reads: dict[int, dict[str, int]] = {}  # id(FunctionDef) -> name -> token index
        self.supers: dict[int, list[str]] = {}
        self.param_names: set[str] = set()
        self.uses: dict[int, dict[str, int]] = {}  # id(FunctionDef) -> parameter name -> occurrences

    def before_codegen(self, node: cst.CSTNode) -> None:
        t = type(node)
        if id(node) in self.targets:
            self.marks[id(node)] = len(self.tokens)
        if t is cst.FunctionDef:
            if not self.func_stack:
                p = node.params
                self.param_names = {prm.name.value for prm in (*p.posonly_params, *p.params, *p.kwonly_params)}
                self.uses.setdefault(id(node), {})
            self.func_stack.append(id(node))
            return
        if not self.func_stack:
            return
        if t is cst.Name:
            if node.value in self.param_names:
                uses = self.uses[self.func_stack[0]]
                uses[node.value] = uses.get(node.value, 0) + 1
        elif t is cst.Attribute:
            value = node.value
            if type(value) is cst.Name and value.value == "self":
                self._read(node.attr.value)
        elif t is cst.Subscript:
            value = node.value
            if type(value) is cst.Name and value.value.endswith("kwargs") and len(node.slice) == 1:
                idx = node.slice[0].slice
                if isinstance(idx, cst.Index) and type(idx.value) is cst.SimpleString:
                    self._read_str(idx.value)
        elif t is cst.Call:
            func = node.func
            if type(func) is cst.Attribute:
                recv = func.value
                if type(recv) is cst.Name and recv.value.endswith("kwargs") and func.attr.value in _KW_METHODS:
                    if node.args and type(node.args[0].value) is cst.SimpleString:
                        self._read_str(node.args[0].value)
                elif type(recv) is cst.Call and type(recv.func) is cst.Name and recv.func.value == "super":
                    self.supers.setdefault(self.func_stack[0], []).append(func.attr.value)

    def after_codegen(self, node: cst.CSTNode) -> None:
        if type(node) is cst.FunctionDef:
            self.func_stack.pop()

    def _read(self, name: str) -> None:
        reads = self.reads.setdefault(self.func_stack[0], {})
        if name not in reads:
            reads[name] = len(self.tokens)

    def _read_str(self, s: cst.SimpleString) -> None:
        try:
            value = s.evaluated_value
        except Exception:  # noqa: BLE001 - odd literal, ignore
            return
        if isinstance(value, str) and value.isidentifier():
            self._read(value)


def _adapted_marker(lines) -> str | None:
    for line in lines:
        comment = line.comment
        if comment is not None:
            text = comment.value.lstrip("#").strip()
            if text.startswith("Adapted from"):
                rest = text[len("Adapted from") :].strip()
                return rest.split()[0] if rest else ""
    return None


def _docstring(body: cst.BaseSuite) -> str | None:
    if not isinstance(body, cst.IndentedBlock) or not body.body:
        return None
    first = body.body[0]
    if isinstance(first, cst.SimpleStatementLine) and len(first.body) == 1 and isinstance(first.body[0], cst.Expr):
        value = first.body[0].value
        if isinstance(value, (cst.SimpleString, cst.ConcatenatedString)):
            try:
                text = value.evaluated_value
            except Exception:  # noqa: BLE001
                return None
            if isinstance(text, bytes):
                return None
            return inspect.cleandoc(text)
    return None


class _Extractor:
    def __init__(self, path: str, module: cst.Module, body_info: dict | None = None):
        self.body_info = body_info
        self.path = path
        self.module = module
        self.facts = FileFacts(path=path)
        self.targets: dict[int, tuple] = {}  # id(node) -> setter(pos)
        self.pending_funcs: list[tuple[cst.FunctionDef, MethodFacts]] = []
        self.nodes_keepalive: list[cst.CSTNode] = []

    def want(self, node: cst.CSTNode, setter) -> None:
        self.targets.setdefault(id(node), []).append(setter)
        self.nodes_keepalive.append(node)

    # -- module level -------------------------------------------------------------------------------------------
    def run(self) -> FileFacts:
        body = self.module.body
        # constants first: class attributes may refer to them
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign) and len(small.targets) == 1:
                        target = small.targets[0].target
                        if isinstance(target, cst.Name):
                            value = canon_value(small.value, self.facts.constants)
                            if not (isinstance(value, tuple) and value and value[0] == "expr"):
                                self.facts.constants[target.value] = value
        self._statements(body, guarded=False)
        self._positions()
        return self.facts

    def _statements(self, body, guarded: bool) -> None:
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._import(small, guarded)
                    elif not guarded and isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                        self._module_assign(small)
            elif isinstance(stmt, cst.ClassDef):
                if stmt.name.value not in self.facts.classes:
                    self._class(stmt)
                self._nested_imports(stmt.body)
            elif isinstance(stmt, cst.FunctionDef):
                self._nested_imports(stmt.body)
            elif isinstance(stmt, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
                for block in _blocks_of(stmt):
                    self._statements(block, guarded=True)

    def _nested_imports(self, suite) -> None:
        # imports inside functions/classes are guarded (they only run when called); record them for completeness
        if not isinstance(suite, cst.IndentedBlock):
            return
        for stmt in suite.body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._import(small, guarded=True)

    def _import(self, node, guarded: bool) -> None:
        if isinstance(node, cst.Import):
            names = []
            facts = ImportFacts(module="", level=0, names=names, is_from=False, guarded=guarded, pos=(0, 0))
            for alias in node.names:
                name = code_of(alias.name)
                asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
                entry = [name, asname, (0, 0)]
                names.append(entry)
                self.want(alias.name, lambda p, e=entry: e.__setitem__(2, p))
            self.want(node, lambda p, f=facts: setattr(f, "pos", p))
        else:
            level = len(node.relative)
            module = code_of(node.module) if node.module is not None else ""
            names = []
            facts = ImportFacts(module=module, level=level, names=names, is_from=True, guarded=guarded, pos=(0, 0))
            if not isinstance(node.names, cst.ImportStar):
                for alias in node.names:
                    name = code_of(alias.name)
                    asname = (
                        alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
                    )
                    entry = [name, asname, (0, 0)]
                    names.append(entry)
                    self.want(alias.name, lambda p, e=entry: e.__setitem__(2, p))
            self.want(node, lambda p, f=facts: setattr(f, "pos", p))
        self.facts.imports.append(facts)

    def _module_assign(self, node) -> None:
        if isinstance(node, cst.Assign):
            targets = [t.target for t in node.targets]
            value = node.value
            augment = False
        elif isinstance(node, cst.AnnAssign):
            targets = [node.target]
            value = node.value
            augment = False
        else:
            targets = [node.target]
            value = node.value
            augment = isinstance(node.operator, cst.AddAssign)
            if not augment:
                return
        if value is None:
            return
        for target in targets:
            if isinstance(target, cst.Name) and target.value == "__all__":
                names = []
                if isinstance(value, (cst.List, cst.Tuple)):
                    for el in value.elements:
                        if isinstance(el.value, cst.SimpleString):
                            v = el.value.evaluated_value
                            if isinstance(v, str):
                                names.append(v)
                if augment and self.facts.all_names is not None:
                    self.facts.all_names.extend(names)
                else:
                    self.facts.all_names = names
                    self.want(target, lambda p: setattr(self.facts, "all_pos", p))

    # -- classes ------------------------------------------------------------------------------------------------
    def _class(self, node: cst.ClassDef) -> None:
        bases = []
        for arg in node.bases:
            bases.append(dotted(arg.value) or code_of(arg.value))
        keywords = {}
        for kw in node.keywords:
            if kw.keyword is not None:
                keywords[kw.keyword.value] = code_of(kw.value)
        marker = _adapted_marker(node.leading_lines)
        if marker is None:
            for dec in node.decorators:
                marker = _adapted_marker(dec.leading_lines)
                if marker is not None:
                    break
        cls = ClassFacts(
            name=node.name.value,
            pos=(0, 0),
            bases=tuple(bases),
            keywords=keywords,
            attrs={},
            fields={},
            methods={},
            docstring=_docstring(node.body),
            marker=marker,
        )
        self.want(node.name, lambda p, c=cls: setattr(c, "pos", p))
        self.facts.classes[cls.name] = cls
        if not isinstance(node.body, cst.IndentedBlock):
            return
        self._class_body(cls, node.body.body)

    def _class_body(self, cls: ClassFacts, body) -> None:
        consts = self.facts.constants
        for stmt in body:
            if isinstance(stmt, cst.SimpleStatementLine):
                for small in stmt.body:
                    if isinstance(small, cst.Assign):
                        for t in small.targets:
                            if isinstance(t.target, cst.Name):
                                self._attr(cls, t.target, small.value, consts)
                    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        if small.value is None:
                            fld = FieldFacts(
                                name=small.target.value,
                                pos=(0, 0),
                                annotation=normalize_annotation(small.annotation.annotation),
                            )
                            cls.fields[fld.name] = fld
                            self.want(small.target, lambda p, f=fld: setattr(f, "pos", p))
                        else:
                            self._attr(cls, small.target, small.value, consts)
            elif isinstance(stmt, cst.FunctionDef):
                self._method(cls, stmt)
            elif isinstance(stmt, cst.If):
                # e.g. attributes defined conditionally; take both branches, first definition wins
                for block in _blocks_of(stmt):
                    self._class_body(cls, block)

    def _attr(self, cls: ClassFacts, target: cst.Name, value: cst.BaseExpression, consts) -> None:
        attr = AttrFacts(name=target.value, pos=(0, 0), value=canon_value(value, consts), value_src=code_of(value))
        cls.attrs[attr.name] = attr  # last assignment wins, like Python
        self.want(target, lambda p, a=attr: setattr(a, "pos", p))

    def _method(self, cls: ClassFacts, node: cst.FunctionDef) -> None:
        decorators = tuple(dotted(d.decorator) or code_of(d.decorator) for d in node.decorators)
        params: list[ParamFacts] = []
        unpack: list[str] = []
        p = node.params
        groups = [
            ("posonly", p.posonly_params),
            ("pos", p.params),
        ]
        for kind, items in groups:
            for param in items:
                params.append(self._param(param, kind, unpack))
        if isinstance(p.star_arg, cst.Param):
            params.append(self._param(p.star_arg, "vararg", unpack))
        for param in p.kwonly_params:
            params.append(self._param(param, "kwonly", unpack))
        if p.star_kwarg is not None:
            params.append(self._param(p.star_kwarg, "varkw", unpack))
        method = MethodFacts(
            name=node.name.value, pos=(0, 0), params=params, decorators=decorators, unpack=tuple(unpack)
        )
        if method.name not in cls.methods or "setter" not in "".join(decorators):
            cls.methods.setdefault(method.name, method)
        self.want(node.name, lambda pos, m=method: setattr(m, "pos", pos))
        self.pending_funcs.append((node, method, cls.name))

    def _param(self, param: cst.Param, kind: str, unpack: list[str]) -> ParamFacts:
        annotation = None
        if param.annotation is not None:
            ann = param.annotation.annotation
            annotation = normalize_annotation(ann)
            if isinstance(ann, cst.Subscript) and dotted(ann.value) in (
                "Unpack",
                "typing.Unpack",
                "typing_extensions.Unpack",
            ):
                inner = ann.slice[0].slice
                if isinstance(inner, cst.Index):
                    name = dotted(inner.value)
                    if name:
                        unpack.append(name.rsplit(".", 1)[-1])
        if param.default is not None:
            default = canon_value(param.default, self.facts.constants)
            default_src = code_of(param.default)
        else:
            default, default_src = NO_DEFAULT, None
        facts = ParamFacts(
            name=param.name.value, kind=kind, default=default, default_src=default_src, annotation=annotation
        )
        self.want(param.name, lambda pos, f=facts: setattr(f, "pos", pos))
        return facts

    # -- positions ----------------------------------------------------------------------------------------------
    def _positions(self) -> None:
        module = self.module
        state = _TrackingState(module.default_indent, module.default_newline, set(self.targets))
        module._codegen(state)
        tokens = state.tokens
        offsets = [0]
        offsets.extend(accumulate(map(len, tokens)))
        code = "".join(tokens)
        line_starts = [0]
        find = code.find
        i = find("\n")
        while i != -1:
            line_starts.append(i + 1)
            i = find("\n", i + 1)
        self.facts.line_count = len(line_starts)

        def to_pos(token_index: int) -> Pos:
            off = offsets[token_index]
            # skip whitespace/comments emitted before the node's first real token (e.g. leading lines)
            line = bisect_right(line_starts, off) - 1
            return (line + 1, off - line_starts[line] + 1)

        for node_id, setters in self.targets.items():
            idx = state.marks.get(node_id)
            if idx is None:
                continue
            pos = to_pos(idx)
            for setter in setters:
                setter(pos)
        for node, method, cls_name in self.pending_funcs:
            if self.body_info is not None:
                info = self.body_info.get((cls_name, method.name, method.pos[0]))
                if info is not None:
                    method.reads, method.super_calls, method.used_params = info
                continue
            reads = state.reads.get(id(node), {})
            method.reads = {name: to_pos(idx) for name, idx in reads.items()}
            method.super_calls = tuple(dict.fromkeys(state.supers.get(id(node), ())))
            uses = state.uses.get(id(node), {})
            # a parameter occurs once in its own declaration; more occurrences mean the body uses it
            method.used_params = tuple(name for name, n in uses.items() if n > 1)


def _blocks_of(stmt) -> list:
    blocks = []
    if isinstance(stmt, cst.If):
        blocks.append(stmt.body.body if isinstance(stmt.body, cst.IndentedBlock) else [])
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            blocks.extend(_blocks_of(orelse))
        elif isinstance(orelse, cst.Else) and isinstance(orelse.body, cst.IndentedBlock):
            blocks.append(orelse.body.body)
    elif isinstance(stmt, cst.Try):
        for suite in [stmt.body, *(h.body for h in stmt.handlers), getattr(stmt.orelse, "body", None)]:
            if isinstance(suite, cst.IndentedBlock):
                blocks.append(suite.body)
    else:
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.IndentedBlock):
            blocks.append(body.body)
    return blocks


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace")) + 1


def _analyse_body(fn: ast.FunctionDef, lines: list[str]):
    """What a method body reads (self.<x>, kwargs["x"], kwargs.get("x")), its super() calls, and used params."""
    a = fn.args
    params = {x.arg for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
    reads: dict[str, Pos] = {}
    supers: list[str] = []
    used: set[str] = set()

    def read(name: str, node) -> None:
        pos = (node.lineno, node.col_offset)
        if name not in reads or pos < reads[name]:
            reads[name] = pos  # earliest occurrence (ast.walk is breadth-first); column converted below

    for stmt in fn.body:
        for node in ast.walk(stmt):
            t = type(node)
            if t is ast.Name:
                if node.id in params:
                    used.add(node.id)
            elif t is ast.Attribute:
                value = node.value
                if type(value) is ast.Name and value.id == "self":
                    read(node.attr, node)
            elif t is ast.Subscript:
                value, key = node.value, node.slice
                if (
                    type(value) is ast.Name
                    and value.id.endswith("kwargs")
                    and type(key) is ast.Constant
                    and isinstance(key.value, str)
                    and key.value.isidentifier()
                ):
                    read(key.value, node)
            elif t is ast.Call:
                func = node.func
                if type(func) is ast.Attribute:
                    recv = func.value
                    if type(recv) is ast.Name and recv.id.endswith("kwargs") and func.attr in _KW_METHODS:
                        if node.args and type(node.args[0]) is ast.Constant and isinstance(node.args[0].value, str):
                            if node.args[0].value.isidentifier():
                                read(node.args[0].value, node)
                    elif type(recv) is ast.Call and type(recv.func) is ast.Name and recv.func.id == "super":
                        supers.append(func.attr)
    reads = {name: (line, _char_col(lines[line - 1], col)) for name, (line, col) in reads.items()}
    return reads, tuple(dict.fromkeys(supers)), tuple(sorted(used))


def _skeleton(source: str):
    """The source with function bodies blanked out (same line numbering), plus what the method bodies read.

    libcst is thorough but slow to build a tree; most of an image-processing module is method bodies, of which the
    rules only need a few facts. Those come from ``ast`` (C parser); libcst parses the remaining skeleton.
    Returns None when the blanking cannot be done safely, so the caller parses the original.
    """
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    info: dict[tuple[str, str, int], tuple] = {}
    blank: list[tuple[int, int]] = []

    def blank_body(fn) -> None:
        first = fn.body[0]
        line = lines[first.lineno - 1]
        if first.lineno <= fn.lineno or line[: first.col_offset].strip():
            return  # body shares a line with the header: leave it
        blank.append((first.lineno, fn.end_lineno))

    def visit_class(cls: ast.ClassDef, body) -> None:
        for st in body:
            if isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                info[(cls.name, st.name, st.lineno)] = _analyse_body(st, lines)
                blank_body(st)
            elif isinstance(st, ast.If):
                visit_class(cls, st.body)
                visit_class(cls, st.orelse)

    def visit_module(body) -> None:
        for st in body:
            if isinstance(st, ast.ClassDef):
                visit_class(st, st.body)
            elif isinstance(st, (ast.FunctionDef, ast.AsyncFunctionDef)):
                blank_body(st)
            elif isinstance(st, ast.If):
                visit_module(st.body)
                visit_module(st.orelse)
            elif isinstance(st, ast.Try):
                visit_module(st.body)
                for h in st.handlers:
                    visit_module(h.body)
                visit_module(st.orelse)
                visit_module(st.finalbody)

    visit_module(tree.body)
    for start, end in blank:
        first = lines[start - 1]
        indent = first[: len(first) - len(first.lstrip())]
        ending = "\r\n" if first.endswith("\r\n") else "\n"
        lines[start - 1] = f"{indent}pass{ending}"
        for i in range(start, end):
            lines[i] = "\r\n" if lines[i].endswith("\r\n") else "\n"
    return "".join(lines), info


def extract(path: str, source: str, fast: bool = True) -> FileFacts:
    """Facts for one file; a file that does not parse yields facts with ``parse_error`` set.

    ``fast`` parses a skeleton with libcst (bodies analysed by ``ast``); ``fast=False`` (also the fallback when
    ``ast`` cannot parse the file) parses the whole file with libcst and analyses bodies during code generation.
    The structural facts are identical; body facts differ slightly (the fallback counts a parameter as used when
    its name appears as an attribute or keyword name too).
    """
    body_info = None
    text = source
    if fast:
        try:
            text, body_info = _skeleton(source)
        except (SyntaxError, ValueError, RecursionError):
            text, body_info = source, None  # let libcst report the error (or parse what ast cannot)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        facts = FileFacts(path=path, parse_error=(exc.raw_line, exc.raw_column + 1, exc.message))
        return facts
    except Exception as exc:  # noqa: BLE001 - libcst can raise other errors on odd input; a finding, not a crash
        return FileFacts(path=path, parse_error=(1, 1, f"{type(exc).__name__}: {exc}"))
    facts = _Extractor(path, module, body_info).run()
    return facts
