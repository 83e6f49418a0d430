"""Extract the facts the parity rules need from one image-processing module, with libcst.

Everything produced here is plain picklable data (so it can be cached and sent across processes).

The file is parsed once by ``ast`` (C parser, fast): method bodies are analysed on that tree, and libcst parses a
*skeleton* of the file in which function bodies are blanked out (same line numbering), because libcst builds a
Python object for every token and most of a module is method bodies. libcst provides the values, normalised
annotations and source snippets; the ``line:col`` of the nodes we may report is taken from the matching ``ast``
node (the two trees are walked in step, statement by statement; every position is checked against the source
text). Should the trees ever disagree, or ``ast`` be unavailable, positions come from a libcst code-generation pass
instead: a small ``CodegenState`` subclass records the token index at which the reportable nodes start (this pass
also collects the body facts when there is no ``ast`` tree).
"""

from __future__ import annotations

import ast
import gc
import inspect
import re
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
from scaffold.parity.values import canon_value, dotted, normalize_annotation

_EMPTY_MODULE = cst.Module(body=[])


_LEAF_TOKENS = (cst.Name, cst.SimpleString, cst.Integer, cst.Float)


def code_of(node: cst.CSTNode) -> str:
    if type(node) in _LEAF_TOKENS and not node.lpar and not node.rpar:
        return node.value  # what code generation would emit, without running it
    return _EMPTY_MODULE.code_for_node(node)


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


class _NoAst(Exception):
    """The ast tree does not line up with the libcst one (or a position fails its check): use code generation."""


# libcst statement type -> the ast statement type(s) it corresponds to (checked while walking the trees in step)
_AST_OF: dict[type, type | tuple[type, ...]] = {
    cst.Import: ast.Import,
    cst.ImportFrom: ast.ImportFrom,
    cst.Assign: ast.Assign,
    cst.AnnAssign: ast.AnnAssign,
    cst.AugAssign: ast.AugAssign,
    cst.Expr: ast.Expr,
    cst.Pass: ast.Pass,
    cst.ClassDef: ast.ClassDef,
    cst.FunctionDef: (ast.FunctionDef, ast.AsyncFunctionDef),
    cst.If: ast.If,
    cst.Try: ast.Try,
    cst.With: (ast.With, ast.AsyncWith),
    cst.For: (ast.For, ast.AsyncFor),
    cst.While: ast.While,
}
_BLANKS = " \t\f"


class _Extractor:
    """Walks the libcst tree; with ``tree`` (the ``ast`` tree of the same source) positions come from ``ast``."""

    def __init__(
        self,
        path: str,
        module: cst.Module,
        body_info: dict | None = None,
        tree: ast.Module | None = None,
        text_lines: list[str] | None = None,
    ):
        self.body_info = body_info
        self.path = path
        self.module = module
        self.tree = tree
        self.text_lines = text_lines  # the source split on "\n": what line:col count in
        self.facts = FileFacts(path=path)
        self.targets: dict[int, tuple] = {}  # id(node) -> setter(pos), code-generation positions only
        self.pending_funcs: list[tuple[cst.FunctionDef, MethodFacts, str]] = []
        self.nodes_keepalive: list[cst.CSTNode] = []

    def want(self, node: cst.CSTNode, setter) -> None:
        self.targets.setdefault(id(node), []).append(setter)
        self.nodes_keepalive.append(node)

    def place(self, node: cst.CSTNode, setter, locate) -> None:
        """Give ``node``'s position to ``setter``: ``locate()`` (from ast) now, or after code generation."""
        if self.tree is None:
            self.want(node, setter)
        else:
            setter(locate())

    # -- positions from ast -------------------------------------------------------------------------------------
    def _at(self, lineno: int, byte_col: int, expect: str) -> Pos:
        """1-based (line, character column) of an ast position, checked to be where the text ``expect`` starts."""
        try:
            line = self.text_lines[lineno - 1]
        except (IndexError, TypeError):
            raise _NoAst from None
        col = byte_col if line.isascii() else _char_col(line, byte_col) - 1
        if not expect or not line.startswith(expect, col):
            raise _NoAst
        return (lineno, col + 1)

    def _after_keywords(self, anode, keywords: tuple[str, ...], name: str) -> Pos:
        """Position of the name of a class/def: ast gives the keyword's; the name follows on the same line."""
        lineno, col = self._at(anode.lineno, anode.col_offset, keywords[0])
        line = self.text_lines[lineno - 1]
        i = col - 1
        for kw in keywords:
            if not line.startswith(kw, i):
                raise _NoAst
            i += len(kw)
            j = i
            while j < len(line) and line[j] in _BLANKS:
                j += 1
            if j == i:
                raise _NoAst  # e.g. a line continuation between keyword and name
            i = j
        if not line.startswith(name, i):
            raise _NoAst
        return (lineno, i + 1)

    def _name_at(self, node: cst.Name, anode) -> Pos:
        # code generation places a parenthesised name at its "(": leave those to it
        if node.lpar or type(anode) is not ast.Name or anode.id != node.value:
            raise _NoAst
        return self._at(anode.lineno, anode.col_offset, node.value)

    def _zip(self, body, abody, strict: bool = True):
        """(statement, ast partner) for a block: a list of ast statements for a simple line, else one statement.

        Without a tree the partners are None. ``strict=False`` is for function bodies, which the skeleton blanks
        (libcst sees a placeholder, ast the real statements): partners are then only used for imports, whose type
        is checked.
        """
        if abody is None:
            for stmt in body:
                yield stmt, None
            return
        i, n = 0, len(abody)
        for stmt in body:
            if type(stmt) is cst.SimpleStatementLine:
                k = len(stmt.body)
                part = abody[i : i + k]
                if len(part) != k:
                    raise _NoAst
                for small, asmall in zip(stmt.body, part, strict=True):
                    expected = _AST_OF.get(type(small))
                    if expected is not None and not isinstance(asmall, expected):
                        if strict or isinstance(small, (cst.Import, cst.ImportFrom)):
                            raise _NoAst
                i += k
            else:
                if i >= n:
                    raise _NoAst
                part = abody[i]
                expected = _AST_OF.get(type(stmt))
                if strict and expected is not None and not isinstance(part, expected):
                    raise _NoAst
                i += 1
            yield stmt, part
        if strict and i != n:
            raise _NoAst

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
        self._statements(body, guarded=False, abody=self.tree.body if self.tree is not None else None)
        if self.tree is None:
            self._positions()
        else:
            self._body_facts()
        return self.facts

    def _statements(self, body, guarded: bool, abody) -> None:
        for stmt, astmt in self._zip(body, abody):
            if isinstance(stmt, cst.SimpleStatementLine):
                for j, small in enumerate(stmt.body):
                    asmall = astmt[j] if astmt is not None else None
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._import(small, guarded, asmall)
                    elif not guarded and isinstance(small, (cst.Assign, cst.AugAssign, cst.AnnAssign)):
                        self._module_assign(small, asmall)
            elif isinstance(stmt, cst.ClassDef):
                if stmt.name.value not in self.facts.classes:
                    self._class(stmt, astmt)
                self._nested_imports(stmt.body, astmt.body if astmt is not None else None, strict=True)
            elif isinstance(stmt, cst.FunctionDef):
                self._nested_imports(stmt.body, astmt.body if astmt is not None else None, strict=False)
            elif isinstance(stmt, (cst.If, cst.Try, cst.With, cst.For, cst.While)):
                for block, ablock in _blocks_of(stmt, astmt):
                    self._statements(block, True, ablock)

    def _nested_imports(self, suite, abody, strict: bool) -> None:
        # imports inside functions/classes are guarded (they only run when called); record them for completeness
        if not isinstance(suite, cst.IndentedBlock):
            return
        for stmt, astmt in self._zip(suite.body, abody, strict):
            if isinstance(stmt, cst.SimpleStatementLine):
                for j, small in enumerate(stmt.body):
                    if isinstance(small, (cst.Import, cst.ImportFrom)):
                        self._import(small, True, astmt[j] if astmt is not None else None)

    def _import(self, node, guarded: bool, anode) -> None:
        if isinstance(node, cst.Import):
            names = []
            facts = ImportFacts(module="", level=0, names=names, is_from=False, guarded=guarded, pos=(0, 0))
            aliases = node.names
            keyword = "import"
        else:
            level = len(node.relative)
            module = code_of(node.module) if node.module is not None else ""
            names = []
            facts = ImportFacts(module=module, level=level, names=names, is_from=True, guarded=guarded, pos=(0, 0))
            aliases = () if isinstance(node.names, cst.ImportStar) else node.names
            keyword = "from"
        anames = None
        if anode is not None:
            anames = anode.names
            if len(anames) != len(aliases) and aliases:
                raise _NoAst
        for k, alias in enumerate(aliases):
            name = code_of(alias.name)
            asname = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else None
            entry = [name, asname, (0, 0)]
            names.append(entry)
            self.place(
                alias.name,
                lambda p, e=entry: e.__setitem__(2, p),
                lambda a=(anames[k] if anames is not None else None), n=name: self._alias_at(a, n),
            )
        self.place(
            node,
            lambda p, f=facts: setattr(f, "pos", p),
            lambda: self._at(anode.lineno, anode.col_offset, keyword),
        )
        self.facts.imports.append(facts)

    def _alias_at(self, anode: ast.alias, name: str) -> Pos:
        if anode.name != name:
            raise _NoAst
        return self._at(anode.lineno, anode.col_offset, name.split(".", 1)[0])

    def _module_assign(self, node, anode) -> None:
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
        atargets = None
        if anode is not None:
            atargets = anode.targets if isinstance(anode, ast.Assign) else [anode.target]
            if len(atargets) != len(targets):
                raise _NoAst
        for k, target in enumerate(targets):
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
                    self.place(
                        target,
                        lambda p: setattr(self.facts, "all_pos", p),
                        lambda t=target, k=k: self._name_at(t, atargets[k]),
                    )

    # -- classes ------------------------------------------------------------------------------------------------
    def _class(self, node: cst.ClassDef, anode) -> None:
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
        self.place(
            node.name,
            lambda p, c=cls: setattr(c, "pos", p),
            lambda: self._after_keywords(anode, ("class",), cls.name),
        )
        self.facts.classes[cls.name] = cls
        if not isinstance(node.body, cst.IndentedBlock):
            return
        self._class_body(cls, node.body.body, anode.body if anode is not None else None)

    def _class_body(self, cls: ClassFacts, body, abody) -> None:
        consts = self.facts.constants
        for stmt, astmt in self._zip(body, abody):
            if isinstance(stmt, cst.SimpleStatementLine):
                for j, small in enumerate(stmt.body):
                    asmall = astmt[j] if astmt is not None else None
                    if isinstance(small, cst.Assign):
                        if asmall is not None and len(asmall.targets) != len(small.targets):
                            raise _NoAst
                        for k, t in enumerate(small.targets):
                            if isinstance(t.target, cst.Name):
                                atarget = asmall.targets[k] if asmall is not None else None
                                self._attr(cls, t.target, small.value, consts, atarget)
                    elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                        atarget = asmall.target if asmall is not None else None
                        if small.value is None:
                            fld = FieldFacts(
                                name=small.target.value,
                                pos=(0, 0),
                                annotation=normalize_annotation(small.annotation.annotation),
                            )
                            cls.fields[fld.name] = fld
                            self.place(
                                small.target,
                                lambda p, f=fld: setattr(f, "pos", p),
                                lambda t=small.target, a=atarget: self._name_at(t, a),
                            )
                        else:
                            self._attr(cls, small.target, small.value, consts, atarget)
            elif isinstance(stmt, cst.FunctionDef):
                self._method(cls, stmt, astmt)
            elif isinstance(stmt, cst.If):
                # e.g. attributes defined conditionally; take both branches, first definition wins
                for block, ablock in _blocks_of(stmt, astmt):
                    self._class_body(cls, block, ablock)

    def _attr(self, cls: ClassFacts, target: cst.Name, value: cst.BaseExpression, consts, atarget) -> None:
        attr = AttrFacts(name=target.value, pos=(0, 0), value=canon_value(value, consts), value_src=code_of(value))
        cls.attrs[attr.name] = attr  # last assignment wins, like Python
        self.place(target, lambda p, a=attr: setattr(a, "pos", p), lambda: self._name_at(target, atarget))

    def _method(self, cls: ClassFacts, node: cst.FunctionDef, anode) -> None:
        decorators = tuple(dotted(d.decorator) or code_of(d.decorator) for d in node.decorators)
        params: list[ParamFacts] = []
        unpack: list[str] = []
        aargs = None
        if anode is not None:
            a = anode.args
            aargs = {x.arg: x for x in (*a.posonlyargs, *a.args, *a.kwonlyargs)}
            for x in (a.vararg, a.kwarg):
                if x is not None:
                    aargs[x.arg] = x
        p = node.params
        groups = [
            ("posonly", p.posonly_params),
            ("pos", p.params),
        ]
        for kind, items in groups:
            for param in items:
                params.append(self._param(param, kind, unpack, aargs))
        if isinstance(p.star_arg, cst.Param):
            params.append(self._param(p.star_arg, "vararg", unpack, aargs))
        for param in p.kwonly_params:
            params.append(self._param(param, "kwonly", unpack, aargs))
        if p.star_kwarg is not None:
            params.append(self._param(p.star_kwarg, "varkw", unpack, aargs))
        method = MethodFacts(
            name=node.name.value, pos=(0, 0), params=params, decorators=decorators, unpack=tuple(unpack)
        )
        if method.name not in cls.methods or "setter" not in "".join(decorators):
            cls.methods.setdefault(method.name, method)
        keywords = ("async", "def") if node.asynchronous is not None else ("def",)
        self.place(
            node.name,
            lambda pos, m=method: setattr(m, "pos", pos),
            lambda: self._after_keywords(anode, keywords, method.name),
        )
        self.pending_funcs.append((node, method, cls.name))

    def _param(self, param: cst.Param, kind: str, unpack: list[str], aargs) -> ParamFacts:
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
        self.place(param.name, lambda pos, f=facts: setattr(f, "pos", pos), lambda: self._param_at(param, aargs))
        return facts

    def _param_at(self, param: cst.Param, aargs: dict) -> Pos:
        name = param.name.value
        arg = aargs.get(name)
        if arg is None or param.name.lpar:
            raise _NoAst
        return self._at(arg.lineno, arg.col_offset, name)

    # -- body facts ---------------------------------------------------------------------------------------------
    def _body_facts(self) -> None:
        """Method body facts from the ast analysis, keyed like ``_skeleton`` keys them."""
        if self.body_info is None:
            return
        for _node, method, cls_name in self.pending_funcs:
            info = self.body_info.get((cls_name, method.name, method.pos[0]))
            if info is not None:
                method.reads, method.super_calls, method.used_params = info

    # -- positions by code generation ---------------------------------------------------------------------------
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
        if self.body_info is not None:
            self._body_facts()
            return
        for node, method, _cls_name in self.pending_funcs:
            reads = state.reads.get(id(node), {})
            method.reads = {name: to_pos(idx) for name, idx in reads.items()}
            method.super_calls = tuple(dict.fromkeys(state.supers.get(id(node), ())))
            uses = state.uses.get(id(node), {})
            # a parameter occurs once in its own declaration; more occurrences mean the body uses it
            method.used_params = tuple(name for name, n in uses.items() if n > 1)


def _blocks_of(stmt, astmt=None) -> list:
    """The blocks of a compound statement that the extractor looks into: (statements, ast statements or None)."""
    has_ast = astmt is not None
    blocks = []
    if isinstance(stmt, cst.If):
        if isinstance(stmt.body, cst.IndentedBlock):
            blocks.append((stmt.body.body, astmt.body if has_ast else None))
        else:
            blocks.append(([], [] if has_ast else None))
        orelse = stmt.orelse
        if isinstance(orelse, cst.If):
            anext = None
            if has_ast:
                if len(astmt.orelse) != 1 or type(astmt.orelse[0]) is not ast.If:
                    raise _NoAst
                anext = astmt.orelse[0]
            blocks.extend(_blocks_of(orelse, anext))
        elif isinstance(orelse, cst.Else) and isinstance(orelse.body, cst.IndentedBlock):
            blocks.append((orelse.body.body, astmt.orelse if has_ast else None))
    elif isinstance(stmt, cst.Try):
        if has_ast and len(astmt.handlers) != len(stmt.handlers):
            raise _NoAst
        suites = [
            (stmt.body, astmt.body if has_ast else None),
            *((h.body, astmt.handlers[k].body if has_ast else None) for k, h in enumerate(stmt.handlers)),
            (getattr(stmt.orelse, "body", None), astmt.orelse if has_ast else None),
        ]
        for suite, asuite in suites:
            if isinstance(suite, cst.IndentedBlock):
                blocks.append((suite.body, asuite))
    else:
        body = getattr(stmt, "body", None)
        if isinstance(body, cst.IndentedBlock):
            blocks.append((body.body, astmt.body if has_ast else None))
    return blocks


def _char_col(line: str, byte_col: int) -> int:
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="replace")) + 1


# fields that never hold nodes we look at (names, flags, expression contexts, operators)
_LEAF_FIELDS = frozenset({"ctx", "op", "id", "attr", "arg", "name", "kind", "type_comment", "level", "conversion"})
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {}


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

    AST, Name, Attribute, Subscript, Call, Constant = (
        ast.AST,
        ast.Name,
        ast.Attribute,
        ast.Subscript,
        ast.Call,
        ast.Constant,
    )
    for stmt in fn.body:
        # breadth-first, children in field order: the order ast.walk visits (super() calls keep that order), but
        # without its generators and without descending into leaf fields
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
    reads = {name: (line, _char_col(lines[line - 1], col)) for name, (line, col) in reads.items()}
    return reads, tuple(dict.fromkeys(supers)), tuple(sorted(used))


def _skeleton(source: str):
    """The source with function bodies blanked out (same line numbering), what the method bodies read, the tree.

    libcst is thorough but slow to build a tree; most of an image-processing module is method bodies, of which the
    rules only need a few facts. Those come from ``ast`` (C parser); libcst parses the remaining skeleton. A blanked
    body becomes one string literal holding the body's line breaks: libcst then builds one node for it rather than
    several per blank line, and line numbers stay those of the source.
    Raises what ``ast.parse`` raises, so the caller parses the original.
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
        endings = ["\r\n" if lines[i].endswith("\r\n") else "\n" for i in range(start - 1, end)]
        if start == end:
            lines[start - 1] = f"{indent}pass{endings[0]}"
            continue
        lines[start - 1] = f'{indent}"""{"".join(endings[:-1])}"""{endings[-1]}'
        for i in range(start, end):
            lines[i] = ""
    return "".join(lines), info, tree


# line breaks other than "\n" and "\r\n" that str.splitlines or the tokenizer honour: ast line numbers or the
# skeleton's lines could then differ from the "\n"-counted lines libcst positions use
_ODD_BREAKS = re.compile("[\v\f\x1c\x1d\x1e\x85\u2028\u2029]")


def extract(path: str, source: str, fast: bool = True) -> FileFacts:
    """Facts for one file; a file that does not parse yields facts with ``parse_error`` set.

    ``fast`` parses a skeleton with libcst (bodies analysed by ``ast``); ``fast=False`` (also the fallback when
    ``ast`` cannot parse the file) parses the whole file with libcst and analyses bodies during code generation.
    The structural facts are identical; body facts differ slightly (the fallback counts a parameter as used when
    its name appears as an attribute or keyword name too).

    The cyclic garbage collector is paused meanwhile: parsing allocates hundreds of thousands of (acyclic) nodes,
    and the collections this triggers, each scanning every live node, cost about as much as the parse itself.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _extract(path, source, fast)
    finally:
        if enabled:
            gc.enable()


def _extract(path: str, source: str, fast: bool) -> FileFacts:
    body_info = None
    tree = None
    text = source
    if fast:
        try:
            text, body_info, tree = _skeleton(source)
        except (SyntaxError, ValueError, RecursionError):
            text, body_info = source, None  # let libcst report the error (or parse what ast cannot)
    try:
        module = cst.parse_module(text)
    except cst.ParserSyntaxError as exc:
        facts = FileFacts(path=path, parse_error=(exc.raw_line, exc.raw_column + 1, exc.message))
        return facts
    except Exception as exc:  # noqa: BLE001 - libcst can raise other errors on odd input; a finding, not a crash
        return FileFacts(path=path, parse_error=(1, 1, f"{type(exc).__name__}: {exc}"))
    if tree is not None and source.count("\r") == source.count("\r\n") and not _ODD_BREAKS.search(source):
        try:
            facts = _Extractor(path, module, body_info, tree, source.split("\n")).run()
            facts.line_count = text.count("\n") + 1
            return facts
        except _NoAst:
            pass  # positions by code generation below
    return _Extractor(path, module, body_info).run()
