"""The model sections (vision, projector, text, processor): together or not at all, and checked against each other."""

from __future__ import annotations

import pytest

from scaffold.errors import SpecError
from scaffold.spec import load_spec

VALID = """\
model: {name: TinyLlava, model_type: tiny_llava}
image_processor:
  image_mean: openai_clip
  image_std: openai_clip
  size: {height: 28, width: 28}
  pad_to_square: true
vision:
  family: clip
  image_size: 28
  patch_size: 14
  hidden_size: 32
  intermediate_size: 64
  num_hidden_layers: 2
  num_attention_heads: 2
  feature_layer: -2
  feature_select: patch
projector:
  type: mlp2x_gelu
text:
  family: llama
  vocab_size: 64
  hidden_size: 32
  intermediate_size: 64
  num_hidden_layers: 1
  num_attention_heads: 4
  num_key_value_heads: 2
processor:
  image_token: "<image>"
  image_token_id: 63
"""


def errors_of(write_spec, text: str) -> list[str]:
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]


def test_valid_model_spec_loads(write_spec):
    spec = load_spec(write_spec(VALID))
    assert spec.is_vlm
    assert spec.vision.features_per_view() == 4
    assert spec.image_processor.pad_to_square is True


@pytest.mark.parametrize(
    "edit,expected",
    [
        (
            ("  feature_select: patch", "  feature_select: all"),
            "spec.yaml:16:3: vision.feature_select: Input should be",
        ),
        (("  family: clip", "  family: siglip\n  colour: red"), "spec.yaml:9:3: vision.colour: unknown key"),
        (
            ("  family: clip", "  family: siglip"),
            None,  # siglip with patch features is valid
        ),
        (
            ("type: mlp2x_gelu", "type: mlp0x_gelu"),
            "spec.yaml:18:3: projector.type: must be linear, identity, swiglu or mlpNx",
        ),
        (("type: mlp2x_gelu", "type: conv"), "spec.yaml:18:3: projector.type: must be linear"),
        (("image_token_id: 63", "image_token_id: 64"), "spec.yaml:29:3: processor.image_token_id: must be below"),
        (
            ("feature_layer: -2", "feature_layer: [-2, 3]"),
            "spec.yaml:15:23: vision.feature_layer[1]: 3 is out of range",
        ),
        (("feature_layer: -2", "feature_layer: -4"), "spec.yaml:15:3: vision.feature_layer: -4 is out of range"),
        (
            ("num_key_value_heads: 2", "num_key_value_heads: 3"),
            "spec.yaml:26:3: text.num_key_value_heads: must divide",
        ),
        (("patch_size: 14", "patch_size: 5"), "spec.yaml:10:3: vision.patch_size: must divide image_size 28"),
        (
            ("size: {height: 28, width: 28}", "size: {height: 56, width: 56}"),
            "spec.yaml:5:3: image_processor.size: gives 56x56 images but vision.image_size is 28",
        ),
        (("  image_mean: openai_clip\n", ""), "spec.yaml:5:3: image_processor.pad_to_square: the padding colour"),
    ],
)
def test_errors_name_the_place(write_spec, edit, expected):
    old, new = edit
    assert old in VALID
    text = VALID.replace(old, new, 1)
    if expected is None:
        load_spec(write_spec(text))
        return
    errors = errors_of(write_spec, text)
    assert any(e.startswith(expected) for e in errors), errors


def test_siglip_has_no_cls_to_keep(write_spec):
    text = VALID.replace("  family: clip", "  family: siglip").replace(
        "feature_select: patch", "feature_select: cls_patch"
    )
    assert errors_of(write_spec, text) == ["spec.yaml:16:3: vision.feature_select: siglip has no CLS token; use patch"]


def test_identity_projector_needs_matching_widths(write_spec):
    text = VALID.replace("type: mlp2x_gelu", "type: identity")
    load_spec(write_spec(text))  # 32 == 32
    errors = errors_of(write_spec, text.replace("feature_layer: -2", "feature_layer: [-2, -1]"))
    assert errors == [
        "spec.yaml:18:3: projector.type: identity needs vision.hidden_size 32 x 2 feature layers = 64 "
        "to equal text.hidden_size 32"
    ]


def test_model_sections_come_together(write_spec):
    text = VALID.split("projector:")[0]
    errors = errors_of(write_spec, text)
    assert errors == [
        "spec.yaml:7:1: vision: a model spec needs all of vision, projector, text, processor; "
        "missing projector, text, processor"
    ]


def test_processor_only_spec_has_no_model(write_spec):
    spec = load_spec(write_spec(VALID.split("vision:")[0]))
    assert not spec.is_vlm
