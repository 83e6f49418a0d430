"""One case per class of hostile input: a positioned one-line error and exit 2, or output with no injected code."""

from __future__ import annotations

import ast
import pkgutil
import re
import sys

import pytest
from helpers import EXAMPLES, ROOT, run_cli

from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import Names, load_spec
from scaffold.spec.load import MAX_SPEC_BYTES
from scaffold.spec.names import DEPENDENCY_MODULES, GENERATED_CODE_NAMES, TRANSFORMERS_MODULES

TILED = (ROOT / "examples" / "tiled_copy.yaml").read_text()
LLAVA = (ROOT / "examples" / "llava_clip_llama.yaml").read_text()


def problems(path) -> list[str]:
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]


ALIAS_BOMB = "a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]\n" + "".join(
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
)

CASES = [
    (b"model:\n  name: \xff\n", "spec.yaml:2:9: model.name: byte 0xff is not valid UTF-8"),
    ("model: {name: A}\n".encode("utf-16"), "spec.yaml:1:1: spec is UTF-16-encoded"),
    (b"model:\n  name: A\x00\n", "spec.yaml:2:10: model.name: character U+0000 is not allowed"),
    (b"model:\n  name: A\x0b\n", "spec.yaml:2:10: model.name: character U+000B is not allowed"),
    (b"model:\n  name: A\x0c\n", "spec.yaml:2:10: model.name: character U+000C is not allowed"),
    (b"b: &b {name: A}\nmodel:\n  <<: *b\n", 'spec.yaml:3:3: model."<<": merge keys (<<) are not supported'),
    (ALIAS_BOMB.encode(), "spec.yaml:5:8: e[0]: aliases expand to more than"),
    (("a: " + "[" * 500 + "]" * 500 + "\n").encode(), "spec.yaml:1:23: a[0]"),
    (b"a: " + b"1" * (MAX_SPEC_BYTES + 10) + b"\n", "spec.yaml:1:262145: spec is 262158 bytes; the limit is"),
    (
        TILED.replace("default: 0.25", "default: .nan").encode(),
        "spec.yaml:17:41: image_processor.custom_kwargs[1].default: default nan is not a finite number",
    ),
    (
        TILED.replace("kwargs_mode: copy", "kwargs_mode: copy\n  rescale_factor: .inf").encode(),
        "spec.yaml:8:3: image_processor.rescale_factor: Input should be a finite number",
    ),
    (
        LLAVA.replace("num_attention_heads: 4", "num_attention_heads: 4\n  rms_norm_eps: -.inf").encode(),
        "spec.yaml:36:3: text.rms_norm_eps: Input should be a finite number",
    ),
    (
        TILED.replace("kwargs_mode: copy", "foo-bar: 1\n  x[0]: 2\n  null: 3").encode(),
        "spec.yaml:7:3: image_processor.foo-bar: unknown key",
    ),
    (TILED.replace("kwargs_mode: copy", "x[0]: 2").encode(), 'spec.yaml:7:3: image_processor."x[0]": unknown key'),
    (TILED.replace("kwargs_mode: copy", "null: 3").encode(), "spec.yaml:7:3: image_processor.null: keys must be"),
    (TILED.replace("name: TiledVlm", "name: Auto").encode(), "spec.yaml:4:3: model.name: 'Auto' would define"),
    (LLAVA.replace("name: LlavaClipLlama", "name: Llava").encode(), "spec.yaml:6:3: model.name: 'Llava' would"),
    (TILED.replace("model_type: tiled_vlm", "model_type: torch").encode(), "spec.yaml:5:3: model.model_type: 'torch'"),
    (TILED.replace("model_type: tiled_vlm", "model_type: json").encode(), "spec.yaml:5:3: model.model_type: 'json'"),
    (TILED.replace("model_type: tiled_vlm", "model_type: utils").encode(), "spec.yaml:5:3: model.model_type: 'utils"),
]


@pytest.mark.parametrize("data,expected", CASES, ids=[c[1].split(": ", 1)[1][:40] for c in CASES])
def test_each_class_gives_a_positioned_one_line_error(tmp_path, data, expected):
    path = tmp_path / "spec.yaml"
    path.write_bytes(data)
    found = problems(path)
    assert any(p.startswith(expected) for p in found), found
    assert all(re.match(r"spec\.yaml:\d+:\d+: ", p) and "\n" not in p for p in found), found


def test_cli_exits_2_without_traceback_for_bad_bytes(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_bytes(b"model:\n  name: \xff\n")
    result = run_cli("new-vlm", str(path), "-o", str(tmp_path / "out"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().count("\n") == 0 and ":2:9: model.name: " in result.stderr


INJECT = 'x""";PWNED();"""\\'


def _render(tmp_path, text, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return render_spec(load_spec(path))


def _top_level_calls(files):
    return [
        rel
        for rel, text in files.items()
        if rel.endswith(".py")
        for node in ast.walk(ast.parse(text))
        if isinstance(node, ast.Name) and node.id == "PWNED"
    ]


def test_string_default_and_image_token_stay_literals(tmp_path):
    tiled = TILED.replace("{name: max_tiles, type: int, default: 6,", "{name: max_tiles, type: str, default: 'X',")
    files = _render(tmp_path, tiled.replace("'X'", "'" + INJECT + "'"))
    llava = _render(tmp_path, LLAVA.replace('image_token: "<image>"', "image_token: '" + INJECT + "'"))
    assert _top_level_calls(files) == [] and _top_level_calls(llava) == []
    kwargs_module = files["tiled_vlm/image_processing_tiled_vlm.py"]
    assert ast.literal_eval(re.search(r"max_tiles = (.*)", kwargs_module).group(1)) == INJECT


def test_spec_file_name_does_not_reach_code(tmp_path):
    files = _render(tmp_path, TILED, name="f.yaml\nPWNED()\n#.yaml")
    assert _top_level_calls(files) == []
    assert not any(line.startswith("PWNED") for text in files.values() for line in text.splitlines())


def _rendered_names():
    """CamelCase names imported or defined in rendered examples (besides the spec's classes), and top modules."""
    names, modules, derived = set(), set(), set()
    for example in EXAMPLES:
        spec = load_spec(example)
        own = Names.from_parts(spec.model.name, spec.model.model_type)
        derived |= set(own.class_names())
        for rel, text in render_spec(spec).items():
            if not rel.endswith(".py"):
                continue
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, ast.ImportFrom):
                    names |= {a.asname or a.name for a in node.names}
                    if node.level == 0 and node.module.split(".")[0] != own.package:
                        modules.add(node.module.split(".")[0])
                elif isinstance(node, ast.Import):
                    names |= {a.asname or a.name.split(".")[0] for a in node.names}
                    modules |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, (ast.ClassDef, ast.FunctionDef)):
                    names.add(node.name)
    camel = {n for n in names - derived if n[:1].isupper() and not n.isupper()}
    # Classes the templates derive from the prefix must all be known to Names.
    unknown = {n for n in names if any(n.startswith(p) for p in ("LlavaClipLlama", "LlavaVllm")) and n not in derived}
    return camel, modules, unknown


def test_reserved_names_cover_what_the_templates_import_and_define():
    camel, modules, unknown = _rendered_names()
    assert not unknown, f"add these classes to Names.class_names(): {sorted(unknown)}"
    assert camel <= GENERATED_CODE_NAMES, f"add to GENERATED_CODE_NAMES: {sorted(camel - GENERATED_CODE_NAMES)}"
    third_party = modules - set(sys.stdlib_module_names)
    assert third_party <= DEPENDENCY_MODULES, f"add to DEPENDENCY_MODULES: {sorted(third_party - DEPENDENCY_MODULES)}"


def test_transformers_top_level_modules_are_reserved():
    import transformers

    installed = {m.name for m in pkgutil.iter_modules(transformers.__path__) if not m.name.startswith("_")}
    assert installed <= TRANSFORMERS_MODULES, sorted(installed - TRANSFORMERS_MODULES)
