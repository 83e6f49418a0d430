"""Read a spec file: YAML with line/column marks -> validated `Spec`, or a `SpecError` naming each place."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pydantic
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from scaffold.errors import Location, SpecError, SpecProblem, UsageError
from scaffold.spec.model import Spec, cross_field_problems

Path_ = tuple[str | int, ...]


class PositionedDocument:
    """The parsed YAML tree plus a way to turn a key path into the best (line, col) in the file."""

    def __init__(self, path: str, root: Any):
        self.path = path
        self.root = root

    def locate(self, key_path: Path_) -> Location:
        """Deepest existing node on `key_path`: the key's own position for mappings, the item's for lists."""
        node = self.root
        best = Location(self.path, 1, 1)
        for part in key_path:
            if isinstance(node, CommentedMap) and part in node:
                line, col = node.lc.key(part)
                best = Location(self.path, line + 1, col + 1)
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line, col = node.lc.item(part)
                best = Location(self.path, line + 1, col + 1)
                node = node[part]
            else:
                break
        return best


def _plain(node: Any) -> Any:
    """ruamel's round-trip containers -> plain dict/list, so the model sees ordinary Python values."""
    if isinstance(node, CommentedMap):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, CommentedSeq):
        return [_plain(v) for v in node]
    if type(node).__module__.startswith("ruamel"):
        # ScalarFloat, ScalarBoolean, TaggedScalar, ...: fall back to the builtin they stand for.
        for builtin in (bool, int, float, str):
            if isinstance(node, builtin):
                return builtin(node)
    return node


def parse_yaml(text: str, path: str) -> PositionedDocument:
    yaml = YAML(typ="rt")
    try:
        root = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(path, mark.line + 1, mark.column + 1) if mark else Location(path)
        raise SpecError([SpecProblem(loc, "", f"invalid YAML: {exc.problem or exc.context}")]) from None
    except Exception as exc:  # ruamel raises a few unmarked errors (e.g. duplicate keys in some modes)
        raise SpecError([SpecProblem(Location(path), "", f"invalid YAML: {exc}")]) from None
    if not isinstance(root, CommentedMap):
        raise SpecError([SpecProblem(Location(path, 1, 1), "", "the spec must be a YAML mapping")])
    return PositionedDocument(path, root)


def _pydantic_message(err: dict) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = err["msg"]
    # pydantic prefixes messages raised from validators; the key already says where.
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix) :]
    return msg


def _dotted(key_path: Path_) -> str:
    out = ""
    for part in key_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _clean_loc(loc: tuple) -> Path_:
    """Drop pydantic's union/tag markers (e.g. 'function-after[...]', 'list[float]') from an error location."""
    return tuple(p for p in loc if isinstance(p, int) or ("[" not in p and "-" not in p and p != "literal"))


def validate(doc: PositionedDocument) -> Spec:
    data = _plain(doc.root)
    try:
        spec = Spec.model_validate(data)
    except pydantic.ValidationError as exc:
        problems: dict[tuple, SpecProblem] = {}
        for err in exc.errors():
            key_path = _clean_loc(err["loc"])
            problem = SpecProblem(doc.locate(key_path), _dotted(key_path), _pydantic_message(err))
            # Unions report one error per branch; keep the first message per key.
            problems.setdefault((problem.key,), problem)
        raise SpecError(list(problems.values())) from None
    cross = [SpecProblem(doc.locate(kp), _dotted(kp), msg) for kp, msg in cross_field_problems(spec)]
    if cross:
        raise SpecError(cross)
    return spec


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"{path}: cannot read spec: {exc.strerror or exc}") from None
    return validate(parse_yaml(text, str(path)))
