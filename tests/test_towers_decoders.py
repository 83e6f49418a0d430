"""Any tower, any decoder: the generated model built on each tested transformers tower and decoder agrees with
transformers' own classes given the same weights (max abs diff 0), the InternVL- and Aya-Vision-like examples equal
InternVLForConditionalGeneration and AyaVisionForConditionalGeneration, and the spec is checked against the config
classes with positions."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, word_tokenizer
from PIL import Image
from transformers import AutoModel, AutoModelForCausalLM

from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

INTERNVL = ROOT / "examples" / "internvl_like.yaml"
AYA = ROOT / "examples" / "aya_vision_like.yaml"

# One image per view, a linear projector: what varies is the tower and the decoder.
SPEC = """
model: {{name: {name}, model_type: {model_type}}}
image_processor:
  size: {{height: 28, width: 28}}
  image_mean: openai_clip
  image_std: openai_clip
vision:
  family: {tower}
  image_size: 28
  patch_size: 7
  hidden_size: 16{vision_mlp}
  num_hidden_layers: 2
  num_attention_heads: 2
  feature_layer: {feature_layer}{vision_extra}
projector: {{type: mlp2x_gelu}}
text:
  family: {decoder}
  vocab_size: 64
  hidden_size: 32
  intermediate_size: 64
  num_hidden_layers: 2
  num_attention_heads: 4
  num_key_value_heads: 2
  pad_token_id: 0
  eos_token_id: 2{text_extra}
processor: {{image_token: "<image>", image_token_id: 63}}
"""

# (tower, decoder, extra vision lines, extra text lines): every tested tower and decoder at least once.
PAIRS = {
    "clip_llama": ("clip", "llama", "", ""),
    "siglip_qwen2": ("siglip", "qwen2", "", ""),
    "siglip2_qwen3": ("siglip2", "qwen3", "", "\n  config: {head_dim: 8}"),
    "internvl_mistral": ("internvl_vision", "mistral", "", "\n  config: {head_dim: 8}"),
    "clip_gemma2": ("clip", "gemma2", "", "\n  config: {head_dim: 8, query_pre_attn_scalar: 8}"),
    "siglip_cohere2": ("siglip", "cohere2", "", ""),
    # A tower scaffold has no traits for: DINOv2, whose CLS token the spec declares.
    "dinov2_llama": ("dinov2", "llama", "\n  cls_token: true\n  config: {mlp_ratio: 2}", ""),
}


def import_generated(tmp_path, spec_path):
    spec = load_spec(spec_path)
    for rel, text in render_spec(spec).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        m = spec.model.model_type
        return spec, importlib.import_module(f"{m}.modeling_{m}"), importlib.import_module(f"{m}.processing_{m}")
    finally:
        sys.path.remove(str(tmp_path))


@pytest.fixture(scope="module", params=sorted(PAIRS))
def pair(request, tmp_path_factory):
    tower, decoder, vision_extra, text_extra = PAIRS[request.param]
    tmp = tmp_path_factory.mktemp(request.param)
    model_type = f"td_{request.param}"
    text = SPEC.format(
        name="Td" + "".join(part.title() for part in request.param.split("_")),
        model_type=model_type,
        tower=tower,
        decoder=decoder,
        feature_layer=-2,
        vision_mlp="" if tower == "dinov2" else "\n  intermediate_size: 32",
        vision_extra=vision_extra,
        text_extra=text_extra,
    )
    (tmp / "spec.yaml").write_text(text)
    spec, modeling, _ = import_generated(tmp, tmp / "spec.yaml")
    config = getattr(modeling, f"{spec.model.name}Config")()
    torch.manual_seed(0)
    model = getattr(modeling, f"{spec.model.name}ForConditionalGeneration")(config).eval()
    return spec, model


def test_the_tower_is_the_transformers_class_and_its_features_lose_exactly_the_cls_token(pair):
    spec, model = pair
    vision_config = model.config.vision_config
    assert type(model.model.vision_tower) is type(AutoModel.from_config(vision_config))
    torch.manual_seed(1)
    pixel_values = torch.randn(3, 3, 28, 28)
    patches = (28 // 7) ** 2
    with torch.no_grad():
        features = model.model.get_image_features(pixel_values=pixel_values).pooler_output
        reference = tower_hidden_state(model.model.vision_tower, pixel_values, layer=-2)
        # The tower's own token count says whether it has a CLS token: scaffold's traits must agree.
        assert reference.shape[1] == patches + (1 if spec.vision.has_cls else 0)
        if spec.vision.has_cls:
            reference = reference[:, 1:]
        expected = model.model.multi_modal_projector(reference)
    assert tuple(features.shape) == (3, patches, model.config.text_config.hidden_size)
    assert (features - expected).abs().max().item() == 0.0


def tower_hidden_state(tower, pixel_values, layer):
    """The tower run as transformers' own processors feed it: SigLIP2 takes the patches its image processor cuts."""
    if type(tower).__name__ == "Siglip2VisionModel":
        from transformers.models.siglip2.image_processing_siglip2 import convert_image_to_patches

        patch = tower.config.patch_size
        patches = torch.stack([convert_image_to_patches(view, patch) for view in pixel_values])
        side = pixel_values.shape[-1] // patch
        out = tower(
            patches,
            pixel_attention_mask=torch.ones(patches.shape[:2], dtype=torch.long),
            spatial_shapes=torch.tensor([[side, side]] * len(pixel_values)),
            output_hidden_states=True,
        )
    else:
        out = tower(pixel_values, output_hidden_states=True)
    return out.hidden_states[layer]


def test_text_logits_equal_the_decoders_own_causal_lm(pair):
    """With no image, the model is its decoder: logits equal AutoModelForCausalLM's given the same weights (Cohere's
    logit_scale aside, which Aya Vision's head does not apply either)."""
    _, model = pair
    text_config = model.config.text_config
    reference = AutoModelForCausalLM.from_config(text_config).eval()
    state = {f"model.{key}": value for key, value in model.model.language_model.state_dict().items()}
    state["lm_head.weight"] = model.lm_head.weight
    missing, unexpected = reference.load_state_dict(state, strict=False)
    assert not unexpected and set(missing) <= {"lm_head.weight"}
    input_ids = torch.tensor([[1, 5, 9, 13, 7, 3], [0, 0, 4, 8, 12, 16]])
    attention_mask = (input_ids != 0).long()
    with torch.no_grad():
        ours = model(input_ids=input_ids, attention_mask=attention_mask).logits
        theirs = reference(input_ids=input_ids, attention_mask=attention_mask).logits
    scale = getattr(text_config, "logit_scale", 1.0)
    assert (ours * scale - theirs).abs().max().item() == 0.0


# ---- whole models: InternVL and Aya Vision ---------------------------------------------------------------------


def mixed_batch(spec, processor_module, image_processor_cls):
    """Two prompts, three images of different sizes and aspect ratios, through the generated processor."""
    proc, d = spec.processor, spec.processor.image_delimiters
    specials = {proc.image_token_id: proc.image_token, d.start_id: d.start, d.end_id: d.end}
    tokenizer = word_tokenizer(specials, spec.text.vocab_size)
    processor = getattr(processor_module, f"{spec.model.name}Processor")(
        image_processor=image_processor_cls(), tokenizer=tokenizer
    )
    rng = np.random.default_rng(0)
    images = [
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in [(90, 250), (300, 60), (112, 112)]
    ]
    text = [f"w5 {proc.image_token} w6 {proc.image_token} w7", f"w8 {proc.image_token} w9 w10"]
    return processor(images=images, text=text, padding=True, return_tensors="pt")


def whole_model(tmp_path_factory, example, name):
    tmp = tmp_path_factory.mktemp(name)
    spec, modeling, processing = import_generated(tmp, example)
    m = spec.model.model_type
    image_processing = importlib.import_module(f"{m}.image_processing_{m}")
    config = getattr(modeling, f"{spec.model.name}Config")()
    torch.manual_seed(0)
    model = getattr(modeling, f"{spec.model.name}ForConditionalGeneration")(config).eval()
    batch = mixed_batch(spec, processing, getattr(image_processing, f"{spec.model.name}ImageProcessor"))
    return spec, model, batch


def assert_equal_logits(ours, theirs, batch, rename=lambda key: key):
    state = {rename(key): value for key, value in ours.state_dict().items()}
    theirs.load_state_dict(state, strict=True)
    inputs = {key: batch[key] for key in ("input_ids", "attention_mask", "pixel_values")}
    with torch.no_grad():
        expected = theirs(**inputs).logits
        got = ours(**inputs, num_patches=batch["num_patches"]).logits
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() == 0.0
    assert len(batch["num_patches"]) == 3 and len(set(batch["num_patches"].tolist())) > 1


def test_internvl_like_equals_internvl_for_conditional_generation(tmp_path_factory):
    from transformers import InternVLConfig, InternVLForConditionalGeneration

    spec, ours, batch = whole_model(tmp_path_factory, INTERNVL, "internvl_like")
    config = InternVLConfig(
        vision_config=ours.config.vision_config.to_dict(),
        text_config=ours.config.text_config.to_dict(),
        image_token_id=spec.processor.image_token_id,
        downsample_ratio=0.5,
        projector_hidden_act="gelu",
        vision_feature_layer=-1,
        vision_feature_select_strategy="default",
        tie_word_embeddings=ours.config.tie_word_embeddings,
    )
    assert_equal_logits(ours, InternVLForConditionalGeneration(config).eval(), batch)


def test_aya_vision_like_equals_aya_vision_for_conditional_generation(tmp_path_factory):
    from transformers import AyaVisionConfig, AyaVisionForConditionalGeneration

    spec, ours, batch = whole_model(tmp_path_factory, AYA, "aya_vision_like")
    config = AyaVisionConfig(
        vision_config=ours.config.vision_config.to_dict(),
        text_config=ours.config.text_config.to_dict(),
        image_token_id=spec.processor.image_token_id,
        downsample_factor=2,
        adapter_layer_norm_eps=spec.projector.layer_norm_eps,
        alignment_intermediate_size=spec.projector.intermediate_size,
        vision_feature_layer=-1,
        vision_feature_select_strategy="full",
        tie_word_embeddings=ours.config.tie_word_embeddings,
    )
    # Aya Vision names the projector's LayerNorm `layernorm`.
    rename = lambda key: key.replace("multi_modal_projector.layer_norm", "multi_modal_projector.layernorm")  # noqa: E731
    assert_equal_logits(ours, AyaVisionForConditionalGeneration(config).eval(), batch, rename)


# ---- the spec against the config classes ----------------------------------------------------------------------


def spec_text(**changes: str) -> str:
    values = dict(
        name="Bad", model_type="bad", tower="clip", decoder="llama", feature_layer=-2, vision_extra="", text_extra=""
    )
    values["vision_mlp"] = "\n  intermediate_size: 32"
    values.update(changes)
    return SPEC.format(**values)


@pytest.mark.parametrize(
    "changes, where, line, message",
    [
        ({"tower": "no_such_tower"}, "vision.family", 8, "'no_such_tower' is not a model type of the installed"),
        ({"tower": "llama"}, "vision.family", 8, "llama is a language model, not a vision tower"),
        ({"tower": "dinov2"}, "vision.family", 8, "set vision.cls_token"),
        ({"decoder": "clip_vision_model"}, "text.family", 18, "is not a decoder"),
        ({"decoder": "gemma2"}, "text.hidden_act", 0, None),  # placeholder, replaced below
        ({"text_extra": "\n  config: {head_dimm: 8}"}, "text.config.head_dimm", 27, "LlamaConfig has no head_dimm (did you mean head_dim?)"),
        ({"text_extra": "\n  config: {head_dim: eight}"}, "text.config.head_dim", 27, "expected int | None, got 'eight'"),
        ({"text_extra": "\n  config: {hidden_size: 8}"}, "text.config.hidden_size", 27, "set it as text.hidden_size"),
        ({"text_extra": "\n  rms_norm_eps: 1.0e-5", "decoder": "cohere2"}, "text.rms_norm_eps", 27, "Cohere2Config has no rms_norm_eps"),
        ({"vision_extra": "\n  config: {use_mask_tokn: true}", "tower": "internvl_vision"}, "vision.config.use_mask_tokn", 16, "did you mean use_mask_token?"),
    ],
)  # fmt: skip
def test_spec_errors_name_the_key_and_line(write_spec, changes, where, line, message):
    if "hidden_act" in where:
        changes = {"decoder": "gemma2", "text_extra": "\n  hidden_act: gelu"}
        line, message = 27, "Gemma2Config has no hidden_act (did you mean hidden_activation?)"
    path = write_spec(spec_text(**changes))
    with pytest.raises(SpecError) as info:
        load_spec(path)
    problems = {p.key: p for p in info.value.problems}
    assert where in problems, str(info.value)
    assert message in problems[where].message
    assert problems[where].location.line == line, str(info.value)


@pytest.mark.parametrize(
    "changes, where, message",
    [
        ({"decoder": "gemma2", "text_extra": "\n  config: {head_dim: 8}"}, "text.family", "tested with the llama, mistral, qwen2, qwen3 decoders only"),
    ],
)  # fmt: skip
def test_vllm_refuses_what_its_model_cannot_build(write_spec, changes, where, message):
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(spec_text(**changes) + "vllm: true\n"))
    problems = {p.key: p.message for p in info.value.problems}
    assert message in problems.get(where, ""), str(info.value)


@pytest.mark.parametrize("tower", ["clip", "siglip", "siglip2", "internvl_vision"])
def test_vllm_takes_every_tower(write_spec, tower):
    """The vLLM model builds any tower: vLLM's own class for CLIP and SigLIP, transformers' module for the others
    (tests/test_vllm.py serves internvl_vision through the engine)."""
    spec = load_spec(write_spec(spec_text(tower=tower) + "vllm: true\n"))
    assert spec.vllm and spec.vision.family == tower
