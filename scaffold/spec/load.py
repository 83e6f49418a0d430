"""Read a spec file: bytes -> checked text -> YAML with line/column marks -> validated `Spec`.

This is the one input path. Every problem becomes a `SpecProblem` with a position, so the CLI prints one line per
problem and never a traceback. The work is bounded before anything is built: file size, nesting depth and alias
expansion are checked on the YAML event stream, so alias bombs and deep nesting are refused cheaply.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from pathlib import Path
from typing import Any

import pydantic
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    CollectionEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceStartEvent,
)

from scaffold.errors import Location, SpecError, SpecProblem, UsageError
from scaffold.spec.model import Spec, cross_field_problems

Path_ = tuple[str | int, ...]

# A real spec is a few KB, a dozen levels deep at most, and needs no aliases; these bounds keep the worst case fast.
MAX_SPEC_BYTES = 256 * 1024
MAX_DEPTH = 20
MAX_ALIAS_NODES = 10_000  # values reachable through aliases, counted with repetition
MAX_INT_DIGITS = 4000  # below Python's int(str) limit, which would otherwise raise without a position

# Characters YAML 1.2 allows in a stream (section 5.1); everything else is refused before parsing.
_NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_PLAIN_INT = re.compile(r"[-+]?[0-9]+")
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"
_BOMS = {
    codecs.BOM_UTF32_LE: "UTF-32",
    codecs.BOM_UTF32_BE: "UTF-32",
    codecs.BOM_UTF16_LE: "UTF-16",
    codecs.BOM_UTF16_BE: "UTF-16",
}


def _one_line(message: str) -> str:
    return " ".join(str(message).split())


def _problem(path: str, line: int, col: int, message: str, key: str = "") -> SpecError:
    return SpecError([SpecProblem(Location(path, line, col), key, _one_line(message))])


def _position(text: str, index: int) -> tuple[int, int]:
    """1-based (line, col) of `text[index]`, counting line breaks the way YAML does."""
    line, start = 1, 0
    for match in _LINE_BREAK.finditer(text, 0, index):
        line, start = line + 1, match.end()
    return line, index - start + 1


def read_spec_text(path: Path) -> str:
    """The spec's text: at most MAX_SPEC_BYTES, strict UTF-8 (a UTF-8 BOM is dropped), printable characters only."""
    try:
        with path.open("rb") as f:
            data = f.read(MAX_SPEC_BYTES + 1)  # a bounded read: /dev/zero or a huge file cannot stall us
    except OSError as exc:
        raise UsageError(f"{path}: cannot read spec: {exc.strerror or exc}") from None
    name = str(path)
    if len(data) > MAX_SPEC_BYTES:
        try:
            size = f"{path.stat().st_size} bytes"
        except OSError:
            size = "larger"
        line = data[:MAX_SPEC_BYTES].count(b"\n") + 1
        col = MAX_SPEC_BYTES - (data.rfind(b"\n", 0, MAX_SPEC_BYTES) + 1) + 1
        raise _problem(name, line, col, f"spec is {size}; the limit is {MAX_SPEC_BYTES} bytes")
    for bom, encoding in _BOMS.items():
        if data.startswith(bom):
            raise _problem(name, 1, 1, f"spec is {encoding}-encoded (byte-order mark); save it as UTF-8")
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        good = data[: exc.start].decode("utf-8")
        line, col = _position(good, len(good))
        message = f"byte 0x{data[exc.start]:02x} is not valid UTF-8; save the spec as UTF-8"
        key = _key_at(_NON_PRINTABLE.sub(" ", data.decode("utf-8", errors="replace")), len(good))
        raise _problem(name, line, col, message, key) from None
    if bad := _NON_PRINTABLE.search(text):
        line, col = _position(text, bad.start())
        message = f"character U+{ord(bad.group()):04X} is not allowed in YAML; remove it"
        raise _problem(name, line, col, message, _key_at(_NON_PRINTABLE.sub(" ", text), bad.start()))
    return text


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
            if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
                line, col = node.lc.key(part)
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
                line, col = node.lc.item(part)
            else:
                break
            best = Location(self.path, line + 1, col + 1)
            node = node[part]
        return best


def _mark(event: Any) -> tuple[int, int]:
    return event.start_mark.line + 1, event.start_mark.column + 1


class _Frame:
    __slots__ = ("anchor", "height", "is_map", "items", "key", "nodes")

    def __init__(self, anchor: str | None, is_map: bool):
        self.anchor, self.is_map = anchor, is_map
        self.items = 0  # events seen directly inside (keys and values alternate in a mapping)
        self.key: str | int = ""  # the mapping key being read, or the list index
        self.nodes = 1  # values in this subtree, aliases expanded
        self.height = 1


class _EventWalk:
    """One pass over the YAML events, before anything is built: bounds depth and alias expansion, refuses merge
    keys, and always knows the key path it is at (so even a YAML syntax error can name its key)."""

    def __init__(self, path: str):
        self.path = path
        self.stack: list[_Frame] = []

    def dotted(self) -> str:
        return _dotted(tuple(f.key for f in self.stack if f.key != ""))

    def fail(self, event: Any, message: str) -> SpecError:
        return _problem(self.path, *_mark(event), message, self.dotted())

    def walk(self, text: str, stop_at: int | None = None) -> None:
        """Check every event; with `stop_at`, only those that start before that character index."""
        anchored: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height) of its value, aliases expanded
        stack = self.stack
        through_aliases = 0
        for event in YAML(typ="rt").parse(io.StringIO(text)):
            if stop_at is not None and event.start_mark.index >= stop_at:
                return
            if not isinstance(event, (ScalarEvent, AliasEvent, MappingStartEvent, SequenceStartEvent)):
                if isinstance(event, CollectionEndEvent):
                    done = stack.pop()
                    if done.anchor:
                        anchored[done.anchor] = (done.nodes, done.height)
                    if stack:
                        stack[-1].nodes += done.nodes
                        stack[-1].height = max(stack[-1].height, done.height + 1)
                continue
            parent = stack[-1] if stack else None
            is_key = parent is not None and parent.is_map and parent.items % 2 == 0
            if parent is not None:
                if not parent.is_map:
                    parent.key = parent.items
                elif is_key:
                    parent.key = event.value if isinstance(event, ScalarEvent) else "?"
                parent.items += 1
            if isinstance(event, (MappingStartEvent, SequenceStartEvent)):
                if len(stack) + 1 > MAX_DEPTH:
                    raise self.fail(event, f"values are nested more than {MAX_DEPTH} levels deep")
                stack.append(_Frame(event.anchor, isinstance(event, MappingStartEvent)))
                continue
            if isinstance(event, AliasEvent):
                nodes, height = anchored.get(event.anchor, (1, 1))  # an undefined alias fails in the parser itself
                through_aliases += nodes
                if through_aliases > MAX_ALIAS_NODES:
                    raise self.fail(event, f"aliases expand to more than {MAX_ALIAS_NODES} values; write them out")
                if len(stack) + height > MAX_DEPTH:
                    raise self.fail(event, f"values are nested more than {MAX_DEPTH} levels deep")
            else:  # ScalarEvent
                nodes, height = 1, 1
                tag = None if event.tag is None else str(event.tag)
                if is_key and event.value == "<<" and (tag == _MERGE_TAG or (tag is None and event.style is None)):
                    raise self.fail(event, "merge keys (<<) are not supported; write the keys out")
                plain = event.style is None and tag is None
                if plain and len(event.value) > MAX_INT_DIGITS and _PLAIN_INT.fullmatch(event.value):
                    raise self.fail(event, f"number has more than {MAX_INT_DIGITS} digits")
                if event.anchor:
                    anchored[event.anchor] = (1, 1)
            if parent is not None:
                parent.nodes += nodes
                parent.height = max(parent.height, height + 1)


def _key_at(text: str, index: int) -> str:
    """Best-effort dotted key at a character index, for problems found before parsing (bad bytes, characters)."""
    walk = _EventWalk("")
    try:
        walk.walk(text, stop_at=index)
    except Exception:  # noqa: BLE001 - the text is known to be bad; a partial path is still useful
        pass
    return walk.dotted()


def _key_text(key: Any) -> str:
    if isinstance(key, str):
        return key
    return json.dumps(key) if key is None or isinstance(key, (bool, int, float)) else repr(key)


def _dotted(key_path: Path_) -> str:
    """`image_processor.custom_kwargs[0].name`; keys that are not plain words are quoted so they stay one token."""
    out = ""
    for part in key_path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
            out += f".{text}" if out else text
    return out


class _Builder:
    """ruamel's round-trip containers -> plain dict/list/scalars, with a positioned problem for what cannot be one."""

    def __init__(self, doc: PositionedDocument):
        self.doc = doc
        self.problems: list[SpecProblem] = []

    def problem(self, key_path: Path_, message: str, key: str | None = None) -> None:
        loc = self.doc.locate(key_path)
        self.problems.append(SpecProblem(loc, key if key is not None else _dotted(key_path), message))

    def build(self, node: Any, key_path: Path_ = ()) -> Any:
        if isinstance(node, CommentedMap):
            out = {}
            for key, value in node.items():
                if not isinstance(key, str):
                    line, col = node.lc.key(key)
                    where = _dotted((*key_path, _key_text(key)))
                    self.problems.append(
                        SpecProblem(Location(self.doc.path, line + 1, col + 1), where, "keys must be strings")
                    )
                    continue
                out[key] = self.build(value, (*key_path, key))
            return out
        if isinstance(node, CommentedSeq):
            return [self.build(v, (*key_path, i)) for i, v in enumerate(node)]
        if isinstance(node, TaggedScalar) and str(node.tag) == _STR_TAG:
            return str(node.value)
        if not isinstance(node, (type(None), bool, int, float, str)):  # dates, bytes, sets, custom tags
            self.problems.append(
                SpecProblem(self.doc.locate(key_path), _dotted(key_path), "unsupported YAML type; use a plain value")
            )
            return None
        # ScalarFloat, ScalarBoolean, ...: fall back to the builtin they stand for.
        for builtin in (bool, int, float, str):
            if isinstance(node, builtin):
                return builtin(node)
        return node


def parse_yaml(text: str, path: str) -> PositionedDocument:
    walk = _EventWalk(path)
    try:
        walk.walk(text)
        root = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise _problem(path, line, col, f"invalid YAML: {exc.problem or exc.context}", walk.dotted()) from None
    if not isinstance(root, CommentedMap):
        raise _problem(path, 1, 1, "the spec must be a YAML mapping")
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
        msg = msg.removeprefix(prefix)
    return _one_line(msg)


def _data_path(data: Any, loc: tuple) -> Path_:
    """The part of a pydantic error location that names real keys and items of `data`.

    pydantic inserts union-branch and validator markers ('list[float]', 'function-after[...]'); they are not keys
    of the data at that point, so walking the data drops them and keeps real keys whatever their spelling.
    """
    out: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and isinstance(part, str) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            continue
        out.append(part)
    return tuple(out)


def validate(doc: PositionedDocument) -> Spec:
    builder = _Builder(doc)
    data = builder.build(doc.root)
    problems: dict[str, SpecProblem] = {p.key: p for p in builder.problems}
    try:
        spec = Spec.model_validate(data)
    except pydantic.ValidationError as exc:
        for err in exc.errors():
            loc = err["loc"]
            # A missing key is not in the data: keep its name after the path of its parent.
            key_path = _data_path(data, loc[:-1]) + loc[-1:] if err["type"] == "missing" else _data_path(data, loc)
            problem = SpecProblem(doc.locate(key_path), _dotted(key_path), _pydantic_message(err))
            # Unions report one error per branch; keep the first message per key.
            problems.setdefault(problem.key, problem)
        raise SpecError(list(problems.values())) from None
    if problems:
        raise SpecError(list(problems.values()))
    cross = [SpecProblem(doc.locate(kp), _dotted(kp), _one_line(msg)) for kp, msg in cross_field_problems(spec)]
    if cross:
        raise SpecError(cross)
    return spec


def load_spec(path: str | Path) -> Spec:
    path = Path(path)
    return validate(parse_yaml(read_spec_text(path), str(path)))
