"""The native layout's model against transformers' own (issue 16, items 3-6): a spec restating Qwen2-VL
(`examples/qwen2_vl_like.yaml`) and one restating Qwen2.5-VL (written here: window attention, full-attention blocks)
give models equal to `Qwen2VLForConditionalGeneration` / `Qwen2_5_VLForConditionalGeneration` given the same weights
(the tower's `model.visual.*` renamed to `model.vision_tower.*`):
- logits max abs diff 0 on a left-padded batch of two prompts holding three images of mixed sizes, the inputs made
  by the generated processor;
- greedy `generate` (with a cache) equal token for token;
- a text-only batch equal too.
The composition example (`examples/native_qwen3.yaml`: the Qwen2-VL tower and its merger before a plain 1-D qwen3
decoder) runs forward and generate, and the spec checks refuse what the native layout cannot build, with positions.
"""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, word_tokenizer
from PIL import Image
from transformers import (
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
)

from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

QWEN2_VL = ROOT / "examples" / "qwen2_vl_like.yaml"
COMPOSITION = ROOT / "examples" / "native_qwen3.yaml"
QWEN2_VL_TEXT = QWEN2_VL.read_text()

# Qwen2.5-VL: the example with Qwen2.5-VL's tower (SwiGLU MLP, RMSNorm, windows of 56 px = 2x2 merged blocks, the
# second block attending over the whole image) and decoder.
QWEN2_5_VL_TEXT = (
    QWEN2_VL_TEXT.replace("name: Qwen2VlLike", "name: Qwen25VlLike")
    .replace("model_type: qwen2_vl_like", "model_type: qwen25_vl_like")
    .replace("family: qwen2_vl\n", "family: qwen2_5_vl\n")
    .replace("family: qwen2_vl_text", "family: qwen2_5_vl_text")
    .replace(
        "  num_attention_heads: 2\n",
        "  num_attention_heads: 2\n  config: {window_size: 56, fullatt_block_indexes: [1]}\n",
        1,
    )
)

# (height, width) of the test images: wide, tall, and one below min_pixels (resized up); three token counts.
SIZES = [(90, 200), (260, 70), (40, 30)]


def import_generated(tmp_path, text: str):
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    spec = load_spec(path)
    for rel, source in render_spec(spec).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(source)
    sys.path.insert(0, str(tmp_path))
    try:
        return spec, importlib.import_module(spec.model.model_type)
    finally:
        sys.path.remove(str(tmp_path))


def picture(height: int, width: int, seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


def processor_for(spec, package):
    proc, d = spec.processor, spec.processor.image_delimiters
    tokenizer = word_tokenizer(
        {proc.image_token_id: proc.image_token, d.start_id: d.start, d.end_id: d.end}, spec.text.vocab_size
    )
    tokenizer.padding_side = "left"
    names = spec.model.name
    return getattr(package, f"{names}Processor")(
        image_processor=getattr(package, f"{names}ImageProcessor")(), tokenizer=tokenizer
    )


def image_batch(spec, processor):
    """Two prompts of different lengths, left-padded: two images in the first, one in the second."""
    token = spec.processor.image_token
    text = [f"w5 w6 {token} w7 w8 w9 {token} w10", f"w11 {token} w12 w13"]
    images = [picture(height, width, seed) for seed, (height, width) in enumerate(SIZES)]
    return processor(text=text, images=images, padding=True, return_tensors="pt")


UPSTREAM = {
    "qwen2_vl": (QWEN2_VL_TEXT, Qwen2VLConfig, Qwen2VLForConditionalGeneration),
    "qwen2_5_vl": (QWEN2_5_VL_TEXT, Qwen2_5_VLConfig, Qwen2_5_VLForConditionalGeneration),
}


@pytest.fixture(scope="module", params=sorted(UPSTREAM))
def pair(request, tmp_path_factory):
    """The generated model and transformers' model of the same config, with the same weights."""
    text, config_cls, model_cls = UPSTREAM[request.param]
    spec, package = import_generated(tmp_path_factory.mktemp(request.param), text)
    names = spec.model.name
    config = getattr(package, f"{names}Config")()
    d = spec.processor.image_delimiters
    upstream_config = config_cls(
        vision_config=config.vision_config.to_dict(),
        text_config=config.text_config.to_dict(),
        image_token_id=spec.processor.image_token_id,
        vision_start_token_id=d.start_id,
        vision_end_token_id=d.end_id,
        video_token_id=154,
    )
    torch.manual_seed(0)
    theirs = model_cls(upstream_config).eval()
    ours = getattr(package, f"{names}ForConditionalGeneration")(config).eval()
    renamed = {
        key.replace("model.visual.", "model.vision_tower."): value for key, value in theirs.state_dict().items()
    }
    assert ours.load_state_dict(renamed, strict=True)
    return request.param, spec, package, ours, theirs


def upstream_inputs(batch, image_token_id):
    """What transformers' model takes: its processor's mm_token_type_ids mark the image tokens only (the generated
    processor's mark the delimiters too)."""
    inputs = {key: batch[key] for key in ("input_ids", "attention_mask", "pixel_values", "image_grid_thw")}
    return {**inputs, "mm_token_type_ids": (batch["input_ids"] == image_token_id).int()}


def test_logits_and_greedy_generation_equal_transformers(pair):
    name, spec, package, ours, theirs = pair
    processor = processor_for(spec, package)
    batch = image_batch(spec, processor)
    grids = sorted(map(tuple, batch["image_grid_thw"].tolist()))
    assert len(grids) == 3 and len(set(grids)) == 3  # three images of different sizes
    assert batch["attention_mask"][1, 0] == 0  # the second prompt is left-padded
    image_token_id = spec.processor.image_token_id
    with torch.no_grad():
        theirs.model.rope_deltas = None
        expected = theirs(**upstream_inputs(batch, image_token_id)).logits
        got = ours(**batch).logits
    assert got.shape == expected.shape
    diff = (got - expected).abs().max().item()
    print(f"{name}: logits max abs diff {diff} over {tuple(got.shape)}, image grids {grids}")
    assert diff == 0.0

    new_tokens = 16
    with torch.no_grad():
        theirs.model.rope_deltas = None
        reference = theirs.generate(
            **upstream_inputs(batch, image_token_id), max_new_tokens=new_tokens, do_sample=False
        )
        generated = ours.generate(**batch, max_new_tokens=new_tokens, do_sample=False)
    length = batch["input_ids"].shape[1]
    print(f"{name}: greedy tokens equal: {generated.shape[1] - length} of {reference.shape[1] - length} per prompt")
    assert reference.shape[1] > length
    assert torch.equal(generated, reference)
    assert torch.equal(ours.model.rope_deltas, theirs.model.rope_deltas)


def test_text_only_batch_equals_transformers(pair):
    name, spec, package, ours, theirs = pair
    processor = processor_for(spec, package)
    batch = processor(text=["w5 w6 w7 w8 w9", "w10 w11"], padding=True, return_tensors="pt")
    inputs = {key: batch[key] for key in ("input_ids", "attention_mask")}
    with torch.no_grad():
        theirs.model.rope_deltas = None
        expected = theirs(**inputs).logits
        ours.model.rope_deltas = None
        got = ours(**inputs).logits
        theirs.model.rope_deltas = None
        reference = theirs.generate(**inputs, max_new_tokens=8, do_sample=False)
        generated = ours.generate(**inputs, max_new_tokens=8, do_sample=False)
    assert (got - expected).abs().max().item() == 0.0
    assert torch.equal(generated, reference)


def test_composition_with_a_one_dimensional_decoder(tmp_path):
    """The Qwen2-VL tower and its merger before qwen3 (plain positions): forward and generate on mixed sizes."""
    spec, package = import_generated(tmp_path, COMPOSITION.read_text())
    names = spec.model.name
    config = getattr(package, f"{names}Config")()
    assert config.text_config.model_type == "qwen3" and config.vision_config.model_type == "qwen2_vl_vision"
    torch.manual_seed(0)
    model = getattr(package, f"{names}ForConditionalGeneration")(config).eval()
    batch = image_batch(spec, processor_for(spec, package))
    with torch.no_grad():
        logits = model(**batch).logits
        generated = model.generate(**batch, max_new_tokens=6, do_sample=False)
        features = model.get_image_features(batch["pixel_values"], batch["image_grid_thw"]).pooler_output
    assert torch.isfinite(logits).all()
    assert generated.shape[1] > batch["input_ids"].shape[1]
    counts = [int(t * h * w) // 4 for t, h, w in batch["image_grid_thw"].tolist()]
    assert [tuple(f.shape) for f in features] == [(count, config.text_config.hidden_size) for count in counts]
    assert not hasattr(model, "rope_deltas") and not hasattr(model.model, "rope_deltas")


def errors_of(tmp_path, text: str) -> list[str]:
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


BAD = [
    ("type: identity ", "type: linear ", "projector.type", "patch merger is the connector"),
    ("type: identity ", "type: identity\n  layer_norm: true ", "projector.layer_norm", "patch merger is the connector"),
    ("mrope_section: [2, 3, 3]", "mrope_section: [2, 3, 4]", "text.config.rope_parameters.mrope_section", "adds up to 9 but must add up to head_dim / 2 = 8"),
    ("mrope_section: [2, 3, 3]", "mrope_section: [8]", "text.config.rope_parameters.mrope_section", "three positive integers"),
    (", mrope_section: [2, 3, 3]", "", "text.config.rope_parameters", "needs config.rope_parameters.mrope_section"),
    ("  num_attention_heads: 2\n", "  num_attention_heads: 2\n  patch_size: 14\n", "vision.patch_size", "states it once"),
    ("  num_attention_heads: 2\n", "  num_attention_heads: 2\n  image_size: 224\n", "vision.image_size", "own resolution"),
    ("  num_attention_heads: 2\n", "  num_attention_heads: 2\n  feature_layer: -2\n", "vision.feature_layer", "reads its last layer"),
    ("  num_attention_heads: 2\n", "  num_attention_heads: 2\n  config: {spatial_merge_size: 2}\n", "vision.config.spatial_merge_size", "set by image_processor.layout.merge_size"),
    ("  num_attention_heads: 2\n", "  num_attention_heads: 2\n  config: {hidden_size: 64}\n", "vision.config.hidden_size", "set by text.hidden_size"),
    ("  num_attention_heads: 2\n", "  num_attention_heads: 2\n  layer_norm_eps: 0.00001\n", "vision.layer_norm_eps", "Qwen2VLVisionConfig has no layer_norm_eps"),
    ("intermediate_size: 64 ", "intermediate_size: 48 ", "vision.intermediate_size", "multiple of hidden_size 32"),
    ("family: qwen2_vl\n", "family: siglip\n", "vision.family", "needs a tower that takes each image at its own resolution"),
]  # fmt: skip


@pytest.mark.parametrize("old, new, key, message", BAD, ids=[case[2] for case in BAD])
def test_bad_native_specs_are_refused_with_positions(tmp_path, old, new, key, message):
    assert old in QWEN2_VL_TEXT
    text = QWEN2_VL_TEXT.replace(old, new, 1)
    errors = errors_of(tmp_path, text)
    matching = [e for e in errors if f": {key}: " in e and message in e]
    assert matching, errors
    assert matching[0].startswith("spec.yaml:")


def test_m_rope_decoder_needs_the_native_layout(tmp_path):
    text = (ROOT / "examples" / "siglip_qwen2.yaml").read_text().replace("family: qwen2\n", "family: qwen2_vl_text\n")
    errors = errors_of(tmp_path, text)
    line = line_of(text, "family: qwen2_vl_text")
    assert any(
        e.startswith(f"spec.yaml:{line}:") and "text.family: " in e and "needs the native layout" in e for e in errors
    ), errors


def test_native_tower_needs_the_native_layout(tmp_path):
    text = (ROOT / "examples" / "siglip_qwen2.yaml").read_text().replace("family: siglip\n", "family: qwen2_vl\n")
    errors = errors_of(tmp_path, text)
    assert any("vision.family: " in e and "needs the native layout" in e for e in errors), errors


def test_tied_embeddings_with_an_m_rope_decoder(tmp_path):
    """Qwen2-VL's text config has no tie_word_embeddings: `text.tie_word_embeddings` goes to the VLM config alone,
    and the head shares the embeddings (as Qwen2-VL-2B's does)."""
    text = QWEN2_VL_TEXT.replace("  eos_token_id: 1\n", "  eos_token_id: 1\n  tie_word_embeddings: true\n")
    text = text.replace("name: Qwen2VlLike", "name: TiedQwen2Vl").replace("qwen2_vl_like", "tied_qwen2_vl")
    spec, package = import_generated(tmp_path, text)
    config = package.TiedQwen2VlConfig()
    assert (
        config.tie_word_embeddings
        and "tie_word_embeddings" not in package.configuration_tied_qwen2_vl.TEXT_CONFIG_DEFAULTS
    )
    model = package.TiedQwen2VlForConditionalGeneration(config)
    assert model.lm_head.weight.data_ptr() == model.model.language_model.embed_tokens.weight.data_ptr()
