"""Property-based: mutated example specs either fail with positioned one-line problems or give clean output.

For every input, `load_spec` + `render_spec` must end in exactly one of two ways:
- a `SpecError` whose every problem has line:col, one line of text, and a dotted key (document-level problems,
  such as a file that is not a YAML mapping or a bad byte before the first key, have no key to name);
- files that parse, are unchanged by ruff format, are clean under transformers' ruff settings, and hold exactly the
  statements a render of the same spec with harmless strings holds (no spec string became code).
Anything else (another exception, a hang) fails the test.

Budget: a fixed, small number of examples per test (derandomized in CI). For long runs:
`SCAFFOLD_HYPOTHESIS_PROFILE=dev pytest tests/test_hostile_properties.py` (or `--hypothesis-profile dev`).
"""

from __future__ import annotations

import ast
import copy
import io
import os
import sys
from collections import Counter
from pathlib import Path

import pytest
from helpers import EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML
from transformers_lint import lint_problems

from scaffold.codegen.format import format_python
from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

LONG_RUN = bool(os.environ.get("SCAFFOLD_HYPOTHESIS_PROFILE")) or any(
    arg.startswith("--hypothesis-profile") for arg in sys.argv
)


def budget(n: int) -> settings:
    """n examples per test, or the profile's count on an explicitly requested long run."""
    count = settings.default.max_examples if LONG_RUN else n
    return settings(max_examples=count, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# The vLLM example renders the most files; the others cover every template at a lower cost.
BASES = {p.stem: YAML(typ="safe").load(p.read_text()) for p in EXAMPLES if p.stem != "llava_vllm"}
INJECTIONS = [
    'x""";PWNED();"""',
    "x'''\nPWNED()\n'''",
    'x"""\\',
    "\\",
    '"',
    "a\nPWNED()\n#",
    "{{ PWNED() }}",
    "${PWNED}",
    "x\u2028PWNED()",
    "x\x85PWNED()",
    "\x00PWNED()",
    "\ufeff\u202ePWNED",
    "é" * 3,
    "# noqa",
    "a" * 300,
]
DOC_LEVEL = ("the spec must be a YAML mapping", "spec is ", "invalid YAML", "character U+", "byte 0x")

yaml_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from(INJECTIONS)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


def paths(node, prefix=()):
    """Every key path of a plain YAML tree."""
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from paths(value, (*prefix, i))


def set_at(tree, path, value):
    node = tree
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value


_DELETE = object()


@st.composite
def mutated_tree(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    tree = copy.deepcopy(BASES[name])
    for _ in range(draw(st.integers(1, 3))):
        candidates = [p for p in paths(tree) if p]
        path = draw(st.sampled_from(candidates))
        action = draw(st.sampled_from(["value", "delete", "unknown_key", "injection"]))
        if action == "delete":
            set_at(tree, path, _DELETE)
        elif action == "unknown_key":
            parent = path[:-1]
            node = tree
            for part in parent:
                node = node[part]
            if isinstance(node, dict):
                node[draw(st.sampled_from(["foo-bar", "x[0]", "<<x", "a.b", "null", "é", "1"]))] = 1
        elif action == "injection":
            set_at(tree, path, draw(st.sampled_from(INJECTIONS)))
        else:
            set_at(tree, path, draw(yaml_values))
    return tree


def dump(tree) -> str:
    stream = io.StringIO()
    yaml = YAML(typ="safe")
    yaml.allow_unicode = True
    yaml.dump(tree, stream)
    return stream.getvalue()


def statement_shapes(source: str) -> Counter:
    """Every statement's kind (an expression statement by what it evaluates), ignoring the values in it."""
    shapes = Counter()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.stmt):
            shapes[type(node).__name__ + (f":{type(node.value).__name__}" if isinstance(node, ast.Expr) else "")] += 1
    return shapes


def harmless(spec):
    """The same spec with every free-text string replaced by a plain word: what the templates alone write."""
    ip = spec.image_processor
    kwargs = [
        kw.model_copy(update={"doc": "Doc.", "default": "x" if kw.type == "str" else kw.default})
        for kw in ip.custom_kwargs
    ]
    update = {"image_processor": ip.model_copy(update={"custom_kwargs": kwargs})}
    if spec.processor is not None:
        chat = None if spec.processor.chat_template is None else "t"
        update["processor"] = spec.processor.model_copy(update={"image_token": "<image>", "chat_template": chat})
    for section in ("vision", "text"):
        cfg = getattr(spec, section)
        if cfg is not None and cfg.hidden_act is not None:
            update[section] = cfg.model_copy(update={"hidden_act": "gelu"})
    return spec.model_copy(update=update)


OUTCOMES: Counter = Counter()


def check(path: Path, tmp: Path) -> None:
    """The property itself (see the module docstring)."""
    try:
        spec = load_spec(path)
    except SpecError as exc:
        OUTCOMES["spec error"] += 1
        assert exc.problems
        for problem in exc.problems:
            text = str(problem)
            assert problem.location.line is not None and problem.location.col is not None, text
            assert "\n" not in text and "\r" not in text, text
            assert problem.key or problem.message.startswith(DOC_LEVEL) or problem.location.line == 1, text
        return
    files = render_spec(spec)
    clean = render_spec(harmless(spec))
    out = tmp / "out"
    for rel, text in files.items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text, encoding="utf-8")
        if not rel.endswith(".py"):
            continue
        tree = ast.parse(text)
        assert format_python(text, rel) == text, f"{rel}: the formatter would change it"
        assert statement_shapes(text) == statement_shapes(clean[rel]), f"{rel}: a spec string became code"
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        names |= {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        assert "PWNED" not in names, f"{rel}: injected name"
    assert lint_problems(out) == ""
    OUTCOMES["clean output"] += 1


@budget(30)
@given(tree=mutated_tree())
def test_mutated_specs_fail_cleanly_or_render_clean_code(tree, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("spec")
    path = tmp / "spec.yaml"
    path.write_text(dump(tree), encoding="utf-8")
    check(path, tmp)


@budget(40)
@given(
    name=st.sampled_from(sorted(BASES)),
    offset=st.floats(0, 1),
    junk=st.binary(min_size=1, max_size=4)
    | st.sampled_from(
        [b"\x00", b"\x0b", b"\x0c", b"\xef\xbb\xbf", b"\xff\xfe", b"\xc3", b"&a ", b"*a", b"<<: ", b"\t", b"\r"]
    ),
)
def test_byte_level_mutations_fail_cleanly_or_render_clean_code(name, offset, junk, tmp_path_factory):
    data = dump(BASES[name]).encode("utf-8")
    cut = int(offset * len(data))
    tmp = tmp_path_factory.mktemp("spec")
    path = tmp / "spec.yaml"
    path.write_bytes(data[:cut] + junk + data[cut:])
    check(path, tmp)


STRING_FIELDS = [
    ("model", "name"),
    ("model", "model_type"),
    ("image_processor", "resample"),
    ("image_processor", "custom_kwargs", 0, "doc"),
    ("image_processor", "custom_kwargs", 0, "default"),
    ("image_processor", "custom_kwargs", 0, "name"),
    ("image_processor", "model_input_names", 0),
    ("processor", "image_token"),
    ("processor", "chat_template"),
    ("vision", "hidden_act"),
    ("text", "hidden_act"),
    ("projector", "type"),
]


@budget(25)
@given(field=st.sampled_from(STRING_FIELDS), value=st.sampled_from(INJECTIONS) | st.text(min_size=1, max_size=12))
def test_injection_strings_in_every_string_field(field, value, tmp_path_factory):
    tree = copy.deepcopy(BASES["llava_clip_llama"])
    tree["image_processor"]["custom_kwargs"] = [{"name": "tag", "type": "str", "default": "t", "doc": "A tag."}]
    tree["image_processor"]["model_input_names"] = ["pixel_values"]
    set_at(tree, field, value)
    tmp = tmp_path_factory.mktemp("spec")
    path = tmp / "spec.yaml"
    path.write_text(dump(tree), encoding="utf-8")
    check(path, tmp)


@pytest.fixture(scope="module", autouse=True)
def report_outcomes():
    yield
    print(f"\nhostile-input outcomes: {dict(OUTCOMES)}")
