"""Spec loading: valid examples load; every invalid spec is reported at file:line:col with the dotted key."""

from __future__ import annotations

import json
import textwrap

import pytest
from helpers import EXAMPLES, run_cli

from scaffold.errors import SpecError
from scaffold.spec import load_spec

VALID = """\
model: {name: TinyVlm, model_type: tiny_vlm}
image_processor:
  resample: bicubic
  image_mean: openai_clip
  image_std: openai_clip
  size: {shortest_edge: 336}
  crop_size: {height: 336, width: 336}
  do_center_crop: true
  custom_kwargs:
    - {name: max_tiles, type: int, default: 6, doc: Maximum number of tiles per image.}
"""


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_examples_load(example):
    spec = load_spec(example)
    assert spec.model.name and spec.model.model_type


def test_examples_point_at_the_schema():
    for example in EXAMPLES:
        assert example.read_text().startswith("# yaml-language-server: $schema=../schema/spec.schema.json")


def errors_of(write_spec, text: str) -> list[str]:
    path = write_spec(textwrap.dedent(text))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]


def test_valid_spec_loads(write_spec):
    spec = load_spec(write_spec(VALID))
    assert spec.image_processor.custom_kwargs[0].default == 6
    assert spec.image_processor.resolved_size() == {"shortest_edge": 336}


@pytest.mark.parametrize(
    "edit,expected",
    [
        (("resample: bicubic", "resample: cubic"), "spec.yaml:3:3: image_processor.resample: Input should be"),
        (
            ("  do_center_crop: true", "  do_center_crop: true\n  colour: red"),
            "spec.yaml:9:3: image_processor.colour: unknown key",
        ),
        (
            ("size: {shortest_edge: 336}", "size: {shortest: 336}"),
            "spec.yaml:6:3: image_processor.size: keys ['shortest'] are not a size form",
        ),
        (
            ("size: {shortest_edge: 336}", "size: {shortest_edge: -3}"),
            "spec.yaml:6:3: image_processor.size: shortest_edge must be a positive integer",
        ),
        (
            ("size: {shortest_edge: 336}", "size: {longest_edge: 336}"),
            "spec.yaml:6:3: image_processor.size: the backends' resize cannot handle",
        ),
        (
            ("image_mean: openai_clip", "image_mean: [0.5, 0.5]"),
            "spec.yaml:4:3: image_processor.image_mean: needs 3 values",
        ),
        (
            ("  crop_size: {height: 336, width: 336}\n", ""),
            "spec.yaml:7:3: image_processor.do_center_crop: do_center_crop is true but no crop_size",
        ),
        (
            ("default: 6", "default: six"),
            "spec.yaml:10:36: image_processor.custom_kwargs[0].default: default 'six' is not of type int",
        ),
        (
            ("name: max_tiles", "name: resize"),
            "spec.yaml:10:8: image_processor.custom_kwargs[0].name: 'resize' is already a standard",
        ),
        (("name: TinyVlm", "name: tinyVlm"), "spec.yaml:1:9: model.name: must be a CamelCase identifier"),
        (
            ("model_type: tiny_vlm", "model_type: Tiny-VLM"),
            "spec.yaml:1:24: model.model_type: must be a snake_case identifier",
        ),
    ],
)
def test_errors_name_the_place(write_spec, edit, expected):
    old, new = edit
    assert old in VALID
    errors = errors_of(write_spec, VALID.replace(old, new, 1))
    assert any(e.startswith(expected) for e in errors), errors


def test_missing_section_is_reported_at_the_top(write_spec):
    errors = errors_of(write_spec, "model: {name: A, model_type: a}\n")
    assert errors == ["spec.yaml:1:1: image_processor: required key is missing"]


def test_invalid_yaml_is_reported_with_position(write_spec):
    errors = errors_of(write_spec, "model: {name: A\nimage_processor: [\n")
    assert len(errors) == 1 and errors[0].startswith("spec.yaml:") and "invalid YAML" in errors[0]


def test_several_problems_are_all_reported_in_file_order(write_spec):
    text = VALID.replace("resample: bicubic", "resample: cubic").replace("do_center_crop: true", "do_center_crop: 7")
    errors = errors_of(write_spec, text)
    assert [e.split(": ")[1] for e in errors] == ["image_processor.resample", "image_processor.do_center_crop"]


def test_cli_reports_spec_errors_without_traceback(write_spec, tmp_path):
    spec = write_spec(VALID.replace("size: {shortest_edge: 336}", "size: {shortest: 336}"))
    out = tmp_path / "out"
    result = run_cli("new-vlm", str(spec), "-o", str(out))
    assert result.returncode == 2
    assert result.stderr.startswith(f"{spec}:6:3: image_processor.size: ")
    assert "Traceback" not in result.stderr
    assert not out.exists(), "an invalid spec must leave nothing behind"


def test_schema_command_prints_the_schema():
    result = run_cli("schema")
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    assert set(schema["properties"]) >= {"model", "image_processor"}
    assert schema["additionalProperties"] is False


def test_checked_in_schema_is_current():
    """examples/*.yaml point editors at schema/spec.schema.json; it must equal `scaffold schema`."""
    from helpers import ROOT

    result = run_cli("schema")
    assert (ROOT / "schema" / "spec.schema.json").read_text() == result.stdout, (
        "run: scaffold schema > schema/spec.schema.json"
    )


def _schema_keys(schema: dict, node: dict, prefix: str) -> set[str]:
    """Dotted keys of every property in the schema (lists of objects appear as `key[]`)."""
    keys = set()
    for name, prop in node.get("properties", {}).items():
        dotted = f"{prefix}{name}"
        keys.add(dotted)
        for ref_holder in [prop, prop.get("items", {}), *prop.get("anyOf", [])]:
            ref = ref_holder.get("$ref") if isinstance(ref_holder, dict) else None
            if ref:
                target = schema["$defs"][ref.rsplit("/", 1)[1]]
                suffix = "[]." if ref_holder is prop.get("items") else "."
                keys |= _schema_keys(schema, target, dotted + suffix)
    return keys


def test_readme_spec_reference_covers_the_schema():
    """The README's spec reference stays in sync with the model: every key is documented."""
    from helpers import ROOT

    schema = json.loads(run_cli("schema").stdout)
    readme = (ROOT / "README.md").read_text()
    reference = readme.split("### Spec reference", 1)[1].split("\n## ", 1)[0]
    documented = reference.replace("`, `", "` `")
    missing = []
    for key in sorted(_schema_keys(schema, schema, "")):
        if "." not in key:
            continue  # sections are documented through their keys
        parent = key.rsplit("[].", 1)[0] + "[]" if "[]." in key else None
        forms = [f"`{key}`", f"`{key}[]`"] + ([f"`{parent}`"] if parent else [])
        if not any(form in documented for form in forms):
            missing.append(key)
    assert not missing, f"README spec reference lacks: {missing}"


def test_model_type_too_long_for_a_file_name_is_refused_with_its_position(write_spec, tmp_path):
    long_type = "a" * 250  # image_processing_pil_<m>.py alone would be 274 bytes
    spec = write_spec(VALID.replace("model_type: tiny_vlm", f"model_type: {long_type}"))
    out = tmp_path / "out"
    result = run_cli("new-vlm", str(spec), "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"{spec}:1:24: model.model_type: is 250 characters long; at most 193 fit")
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_longest_model_type_accepted_is_written(write_spec, tmp_path):
    from scaffold.spec.names import BYTECODE_SUFFIX_ROOM, NAME_MAX, max_model_type_length

    limit = max_model_type_length()
    too_long = errors_of(write_spec, VALID.replace("model_type: tiny_vlm", f"model_type: {'b' * (limit + 1)}"))
    assert len(too_long) == 1
    assert too_long[0].startswith(f"spec.yaml:1:24: model.model_type: is {limit + 1} characters long; at most {limit}")
    longest = "b" * limit
    spec = write_spec(VALID.replace("model_type: tiny_vlm", f"model_type: {longest}"))
    result = run_cli("new-vlm", str(spec), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    written = [p.name for p in (tmp_path / "out" / longest).rglob("*.py")]
    assert f"test_image_processing_{longest}.py" in written
    # every file name leaves room for its bytecode cache name (`.py` -> `.cpython-313-pytest-8.4.2.pyc`)
    assert max(len(name.removesuffix(".py").encode()) for name in written) + BYTECODE_SUFFIX_ROOM <= NAME_MAX
