"""``scaffold check-parity --fix``: rewrite the PIL side of a pair to match the torchvision side, with libcst.

What is fixed, per matched processor pair (the same matching as the checker):

* class-level attributes of the PIL class: a value that differs (after the checker's normalisation) from the
  torchvision effective value is replaced by the torchvision value's source text; an attribute the torchvision class
  sets and the PIL class lacks (with a different effective value) is inserted, in the torchvision order; an
  attribute only the PIL side has is removed only when the checker flagged it (PAR021).
* Kwargs copies in the PIL file of a class the torchvision file defines: bases, keywords and body (docstring and
  fields) are replaced by the torchvision ones, and a missing or wrong ``# Adapted from`` marker is written.

Names an inserted value needs are imported the way the module the value comes from imports them (appended to an
existing ``from X import ...`` of the PIL file when there is one). When that is impossible (the name is defined in
the torchvision module itself, or comes from torch/torchvision, or a relative import from another directory) the
attribute is left alone and a note says why. Everything else in the file is left byte-for-byte as it was.
"""

from __future__ import annotations

import builtins
import os
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from scaffold.errors import ConflictError
from scaffold.generate.write import FileOp, Status, write_files
from scaffold.parity.cache import FactsLoader
from scaffold.parity.compare import compare_kwargs, unpil_value
from scaffold.parity.discover import Pair, discover
from scaffold.parity.match import ClassPair, is_kwargs_class, match
from scaffold.parity.model import FileFacts, show
from scaffold.parity.resolve import Resolver
from scaffold.parity.rules import Options, check_pairs, kwarg_universe
from scaffold.transformers_api import BASE_IMAGE_PROCESSOR_SOURCES

_BUILTIN_NAMES = frozenset(dir(builtins))
_EMPTY = cst.Module(body=[])


@dataclass
class FixResult:
    changed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was not fixed, and why
    # (path, text the edit was computed from, new text): written together by `write_edits`
    edits: list[tuple[str, str, str]] = field(default_factory=list)


# -- names ----------------------------------------------------------------------------------------------------------
class _FreeNames(cst.CSTVisitor):
    """Names an expression or a TypedDict body reads (attribute names, keywords and assignment targets excluded)."""

    def __init__(self):
        self.names: list[str] = []

    def visit_Name(self, node: cst.Name) -> None:
        if node.value not in self.names:
            self.names.append(node.value)

    def visit_Attribute(self, node: cst.Attribute) -> bool:
        node.value.visit(self)
        return False

    def visit_Arg(self, node: cst.Arg) -> bool:
        node.value.visit(self)
        return False

    def visit_AnnAssign(self, node: cst.AnnAssign) -> bool:
        node.annotation.visit(self)
        if node.value is not None:
            node.value.visit(self)
        return False

    def visit_AssignTarget(self, node: cst.AssignTarget) -> bool:
        return False

    def visit_ClassDef(self, node: cst.ClassDef) -> bool:
        for part in (*node.bases, *node.keywords):
            part.visit(self)
        node.body.visit(self)
        return False


def free_names(node: cst.CSTNode) -> list[str]:
    v = _FreeNames()
    node.visit(v)
    return [n for n in v.names if n not in _BUILTIN_NAMES]


def module_bindings(module: cst.Module) -> set[str]:
    """Names bound unconditionally at module level."""
    out: set[str] = set()
    for stmt in module.body:
        if isinstance(stmt, (cst.ClassDef, cst.FunctionDef)):
            out.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.ImportFrom) and not isinstance(small.names, cst.ImportStar):
                    for alias in small.names:
                        out.add(_alias_name(alias))
                elif isinstance(small, cst.Import):
                    for alias in small.names:
                        out.add(_alias_name(alias).split(".")[0])
                elif isinstance(small, cst.Assign):
                    for t in small.targets:
                        if isinstance(t.target, cst.Name):
                            out.add(t.target.value)
                elif isinstance(small, cst.AnnAssign) and isinstance(small.target, cst.Name):
                    out.add(small.target.value)
    return out


def _alias_name(alias: cst.ImportAlias) -> str:
    if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
        return alias.asname.name.value
    return _EMPTY.code_for_node(alias.name)


def _module_text(node: cst.ImportFrom) -> str:
    return "." * len(node.relative) + (_EMPTY.code_for_node(node.module) if node.module is not None else "")


class _Imports:
    """Imports to add to the PIL file: (module text, original name, bound name)."""

    def __init__(self, pil_path: str, pil_module: cst.Module, loader):
        self.pil_path = pil_path
        self.bound = module_bindings(pil_module)
        self.loader = loader
        self.wanted: list[tuple[str, str, str]] = []

    def plan(self, names: list[str], origin_path: str | None) -> tuple[list[tuple[str, str, str]], str | None]:
        """Imports needed to bind ``names`` in the PIL file, or (.., reason) when some name cannot be imported."""
        todo = []
        known = self.bound | {w[2] for w in self.wanted}
        for name in names:
            if name in known:
                continue
            if origin_path is None:
                return [], f"`{name}` is not available in {self.pil_path}"
            facts: FileFacts | None = self.loader.get(origin_path)
            imp = facts.imported_names().get(name) if facts is not None else None
            if imp is None:
                return [], f"`{name}` is not imported by {origin_path} (defined there?), cannot import it here"
            if imp.guarded:
                return [], f"`{name}` is imported conditionally in {origin_path}"
            if imp.level == 0 and imp.module.split(".")[0] in ("torch", "torchvision"):
                return [], f"`{name}` comes from {imp.module}, which the PIL backend must not import"
            if imp.level and os.path.dirname(os.path.abspath(origin_path)) != os.path.dirname(
                os.path.abspath(self.pil_path)
            ):
                return [], f"`{name}` is imported relatively by {origin_path}, in another directory"
            original = next((n for n, a, _ in imp.names if (a or n) == name), name)
            todo.append(("." * imp.level + imp.module, original, name))
        return todo, None

    def add(self, todo) -> None:
        for item in todo:
            if item not in self.wanted:
                self.wanted.append(item)

    def apply(self, module: cst.Module) -> cst.Module:
        if not self.wanted:
            return module
        body = list(module.body)
        for mod, original, name in self.wanted:
            alias = cst.ImportAlias(
                name=cst.Name(original), asname=cst.AsName(name=cst.Name(name)) if name != original else None
            )
            for i, stmt in enumerate(body):
                if not isinstance(stmt, cst.SimpleStatementLine):
                    continue
                small = stmt.body[0]
                if (
                    isinstance(small, cst.ImportFrom)
                    and not isinstance(small.names, cst.ImportStar)
                    and _module_text(small) == mod
                ):
                    names = list(small.names)
                    last = names[-1]
                    if isinstance(last.comma, cst.Comma):  # trailing comma (parenthesised, one name a line)
                        sep = names[-2].comma if len(names) > 1 and isinstance(names[-2].comma, cst.Comma) else None
                        alias = alias.with_changes(comma=last.comma)
                        if sep is not None:
                            names[-1] = last.with_changes(comma=sep)
                    names.append(alias)
                    body[i] = stmt.with_changes(body=[small.with_changes(names=names), *stmt.body[1:]])
                    break
            else:
                new = cst.parse_statement(f"from {mod} import {_EMPTY.code_for_node(alias)}\n")
                last_import = max(
                    (
                        i
                        for i, s in enumerate(body)
                        if isinstance(s, cst.SimpleStatementLine)
                        and isinstance(s.body[0], (cst.Import, cst.ImportFrom))
                    ),
                    default=None,
                )
                body.insert(0 if last_import is None else last_import + 1, new)
        return module.with_changes(body=body)


# -- class attributes -----------------------------------------------------------------------------------------------
def _same(key: str, a, b) -> bool:
    if key == "valid_kwargs":
        return show(a).rsplit(".", 1)[-1] == show(b).rsplit(".", 1)[-1]
    return unpil_value(a) == unpil_value(b)


def _assigned_name(small) -> str | None:
    if isinstance(small, cst.Assign) and len(small.targets) == 1 and isinstance(small.targets[0].target, cst.Name):
        return small.targets[0].target.value
    if isinstance(small, cst.AnnAssign) and small.value is not None and isinstance(small.target, cst.Name):
        return small.target.value
    return None


def _top_level_attrs(body: list) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, stmt in enumerate(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                name = _assigned_name(small)
                if name is not None:
                    out.setdefault(name, []).append(i)
    return out


@dataclass
class _ClassPlan:
    replace: dict[str, str] = field(default_factory=dict)
    insert: list[tuple[str, str]] = field(default_factory=list)  # torchvision order
    remove: set[str] = field(default_factory=set)
    torch_order: list[str] = field(default_factory=list)
    torch_leading: dict[str, tuple] = field(default_factory=dict)  # key -> leading lines in the torchvision class


def _rewrite_class(node: cst.ClassDef, plan: _ClassPlan) -> cst.ClassDef:
    if not isinstance(node.body, cst.IndentedBlock):
        return node
    body = list(node.body.body)
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        smalls = []
        for small in stmt.body:
            name = _assigned_name(small)
            if name in plan.remove:
                continue
            if name in plan.replace:
                small = small.with_changes(value=cst.parse_expression(plan.replace[name]))
            smalls.append(small)
        body[i] = stmt.with_changes(body=smalls) if smalls else None
    # a removed line hands its leading blank lines/comments to the next statement
    kept: list = []
    pending: list = []
    for i, stmt in enumerate(body):
        if stmt is None:
            pending.extend(node.body.body[i].leading_lines)
            continue
        if pending:
            stmt = stmt.with_changes(leading_lines=[*pending, *stmt.leading_lines])
            pending = []
        kept.append(stmt)
    body = kept
    for key, src in plan.insert:
        new = cst.parse_statement(f"{key} = {src}\n")
        attrs = _top_level_attrs(body)
        anchor = None
        for prev in plan.torch_order[: plan.torch_order.index(key)]:
            if prev in attrs:
                anchor = attrs[prev][-1]
        if anchor is not None:
            leading = plan.torch_leading.get(key, ())
            new = new.with_changes(leading_lines=leading)
            nxt = body[anchor + 1] if anchor + 1 < len(body) else None
            if nxt is not None and leading and _lines_code(nxt.leading_lines) == _lines_code(leading):
                # the gap the torchvision class has before `key` was the PIL gap before the next statement
                nxt_key = _stmt_key(nxt)
                if nxt_key is not None and not plan.torch_leading.get(nxt_key, ()):
                    body[anchor + 1] = nxt.with_changes(leading_lines=[])
            body.insert(anchor + 1, new)
            continue
        first = min((ix[0] for ix in attrs.values()), default=None)
        if first is None:  # no attribute yet: after the docstring
            has_doc = (
                bool(body) and isinstance(body[0], cst.SimpleStatementLine) and isinstance(body[0].body[0], cst.Expr)
            )
            first = 1 if has_doc else 0
            body.insert(first, new)
        else:  # before the first attribute, which keeps its leading lines
            body[first:first] = [new.with_changes(leading_lines=body[first].leading_lines)]
            body[first + 1] = body[first + 1].with_changes(leading_lines=[])
    return node.with_changes(body=node.body.with_changes(body=body))


def _lines_code(lines) -> str:
    return "".join(_EMPTY.code_for_node(x) for x in lines)


def _stmt_key(stmt) -> str | None:
    if isinstance(stmt, cst.SimpleStatementLine):
        return next((n for n in map(_assigned_name, stmt.body) if n is not None), None)
    return None


def _class_leading(module: cst.Module, name: str) -> dict[str, tuple]:
    for s in module.body:
        if isinstance(s, cst.ClassDef) and s.name.value == name and isinstance(s.body, cst.IndentedBlock):
            return {k: stmt.leading_lines for stmt in s.body.body if (k := _stmt_key(stmt)) is not None}
    return {}


# -- Kwargs copies --------------------------------------------------------------------------------------------------
def marker_target(torch_path: str, name: str, max_level: int = 0) -> str:
    """Dotted ``<module>.<Class>`` for a ``# Adapted from`` marker.

    Inside a ``transformers`` package the full dotted path; a module written for the transformers tree (imports like
    ``from ...image_utils``) ``transformers.models.<dir>.<module>``; otherwise ``<dir>.<module>`` (as generated).
    """
    parts = os.path.normpath(os.path.abspath(torch_path))[:-3].split(os.sep)
    if "transformers" in parts:
        i = len(parts) - 1 - parts[::-1].index("transformers")
        return ".".join([*parts[i:], name])
    if max_level == 3:
        return ".".join(["transformers", "models", *parts[-2:], name])
    return ".".join([*parts[-2:], name])


def _with_marker(node: cst.ClassDef, target: str) -> cst.ClassDef:
    comment = cst.Comment(f"# Adapted from {target}")
    lines = list(node.leading_lines)
    for i, line in enumerate(lines):
        if line.comment is not None and line.comment.value.lstrip("#").strip().startswith("Adapted from"):
            lines[i] = line.with_changes(comment=comment)
            return node.with_changes(leading_lines=lines)
    lines.append(cst.EmptyLine(comment=comment))
    return node.with_changes(leading_lines=lines)


# -- driver ---------------------------------------------------------------------------------------------------------
def _read(path: str) -> str:
    with open(path, encoding="utf-8", newline="") as fh:
        return fh.read()


def fix_pair(pair: Pair, loader, resolver: Resolver, options: Options, flagged: set, result: FixResult) -> None:
    tf, pf = loader.get(pair.torch_path), loader.get(pair.pil_path)
    if any(f is None or f.parse_error or f.read_error or f.not_regular for f in (tf, pf)):
        return
    matched = match(pair, tf, pf, resolver)
    source = _read(pf.path)
    module = cst.parse_module(source)
    imports = _Imports(pf.path, module, loader)
    torch_module = cst.parse_module(_read(tf.path))
    class_plans: dict[str, _ClassPlan] = {}
    for c in matched.classes:
        t, p = c.t, c.p
        if p.path != pf.path:
            continue
        plan = _plan_class(c, imports, flagged, result, kwarg_universe(resolver, c.pe))
        if t.path == tf.path:
            plan.torch_leading = _class_leading(torch_module, t.cls.name)
        class_plans[p.cls.name] = plan
    kwargs_plans: dict[str, tuple[cst.ClassDef | None, str | None]] = {}
    for name, pc in pf.classes.items():
        tc = tf.classes.get(name)
        if not is_kwargs_class(pc) or tc is None or not is_kwargs_class(tc):
            continue
        differs = bool(compare_kwargs(tc, pc))
        bad_marker = pc.marker is None or pc.marker.rsplit(".", 1)[-1] != name
        if not (differs or bad_marker):
            continue
        new_def = None
        if differs:
            new_def = next(s for s in torch_module.body if isinstance(s, cst.ClassDef) and s.name.value == name)
            todo, reason = imports.plan(free_names(new_def), tf.path)
            if reason:
                result.notes.append(f"{pf.path}: Kwargs copy `{name}` not updated: {reason}")
                new_def = None
            else:
                imports.add(todo)
        kwargs_plans[name] = (
            new_def,
            marker_target(tf.path, name, max((i.level for i in tf.imports), default=0)) if bad_marker else None,
        )
    body = list(module.body)
    for i, stmt in enumerate(body):
        if not isinstance(stmt, cst.ClassDef):
            continue
        name = stmt.name.value
        if name in class_plans:
            stmt = _rewrite_class(stmt, class_plans[name])
        if name in kwargs_plans:
            new_def, marker = kwargs_plans[name]
            if new_def is not None:
                stmt = stmt.with_changes(
                    bases=new_def.bases,
                    keywords=new_def.keywords,
                    lpar=new_def.lpar,
                    rpar=new_def.rpar,
                    whitespace_before_colon=new_def.whitespace_before_colon,
                    body=new_def.body,
                )
            if marker is not None:
                stmt = _with_marker(stmt, marker)
        body[i] = stmt
    new_source = imports.apply(module.with_changes(body=body)).code
    if new_source != source:
        result.edits.append((pf.path, source, new_source))


def _plan_class(c: ClassPair, imports: _Imports, flagged, result, universe: frozenset[str]) -> _ClassPlan:
    t, p, te, pe = c.t, c.p, c.te, c.pe
    plan = _ClassPlan(torch_order=[k for k in t.cls.attrs if not k.startswith("__")])

    def source_of(key):
        value, owner, attr = te.attrs[key]
        if owner.builtin:
            src = BASE_IMAGE_PROCESSOR_SOURCES.get(key)
            return src, None
        return attr.value_src, owner.path

    def want(key) -> str | None:
        src, origin = source_of(key)
        if src is None:
            result.notes.append(f"{p.path}: `{p.cls.name}.{key}` not fixed: no source text for the torchvision value")
            return None
        todo, reason = imports.plan(free_names(cst.parse_expression(src)), origin)
        if reason:
            note = f"{p.path}: `{p.cls.name}.{key}` not fixed: {reason}"
            if note not in result.notes:
                result.notes.append(note)
            return None
        imports.add(todo)
        return src

    for key in plan.torch_order:
        tv, pv = te.attrs[key], pe.attrs.get(key)
        if pv is not None and _same(key, tv[0], pv[0]):
            continue
        if pv is None and tv[0] is None and key in universe:
            continue  # a valid kwarg without a class default is None anyway (the checker agrees)
        src = want(key)
        if src is None:
            continue
        if key in p.cls.attrs:
            plan.replace[key] = src
        else:
            plan.insert.append((key, src))
    for key in p.cls.attrs:
        if key.startswith("__") or key in t.cls.attrs:
            continue
        tv = te.attrs.get(key)
        if tv is None:
            if (p.path, p.cls.name, key) in flagged:
                plan.remove.add(key)
            continue
        if _same(key, tv[0], p.cls.attrs[key].value):
            continue
        src = want(key)
        if src is not None:
            plan.replace[key] = src
    return plan


def fix_paths(
    paths: list[str],
    options: Options | None = None,
    use_cache: bool = True,
    cache_dir=None,
    jobs: int | None = None,
) -> FixResult:
    """Rewrite the PIL files of the pairs under ``paths``; the caller re-runs the check afterwards."""
    options = options or Options()
    pairs = [p for p in discover(list(paths)) if not p.is_lone]
    loader = FactsLoader(cache_dir=cache_dir, use_cache=use_cache, jobs=jobs)
    loader.load([x for p in pairs for x in (p.torch_path, p.pil_path)])
    # attributes the checker reports as set on the PIL side only (PAR021): the only ones --fix removes
    flagged = {
        (f.path, f.subject.pil_class, f.subject.name)
        for f in check_pairs(pairs, loader, options)
        if f.code == "PAR021" and f.pil is not None and f.torchvision is None
    }
    resolver = Resolver(loader)
    result = FixResult()
    for pair in pairs:
        fix_pair(pair, loader, resolver, options, flagged, result)
    write_edits(result)
    return result


def write_edits(result: FixResult) -> None:
    """Apply every planned edit as one transaction (scaffold.generate.write): all files change, or none does.

    Each edit carries the text it was computed from, so a file changed since it was read is a conflict
    (`ConflictError`, nothing written); a file that cannot be written is a `WriteError`, nothing written.
    """
    if not result.edits:
        return
    absolute = [os.path.abspath(path) for path, _, _ in result.edits]
    root = Path(os.path.commonpath([os.path.dirname(path) for path in absolute]))
    ops = [
        FileOp(Path(path).relative_to(root).as_posix(), new, base=base)
        for path, (_, base, new) in zip(absolute, result.edits, strict=True)
    ]
    report = write_files(root, ops, force=False, dry_run=False)
    conflicts = [str(root / r.path) for r in report.results if r.status is Status.CONFLICT]
    if conflicts:
        raise ConflictError(
            "\n".join(f"{path}: changed after --fix read it; nothing was fixed, run it again" for path in conflicts)
        )
    edited = {r.path for r in report.results if r.status is Status.EDITED}
    result.changed.extend(path for (path, _, _), op in zip(result.edits, ops, strict=True) if op.path in edited)
