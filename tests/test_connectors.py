"""Connector fidelity: the generated merges and projectors equal the upstream modules they restate, given the same
weights (max abs diff 0), and the spec checks what a merge needs."""

from __future__ import annotations

import importlib
import sys
import types

import pytest
import torch
from helpers import ROOT

from scaffold.components.connector import Connector
from scaffold.components.tokens import tokens_per_view
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

SHUFFLE = ROOT / "examples" / "internvl_shuffle.yaml"
MERGE = ROOT / "examples" / "patch_merge_swiglu.yaml"


def generated_modeling(tmp_path, spec_text: str, name: str):
    """Render a spec into tmp_path and import its modeling module (a fresh package name per spec)."""
    spec_path = tmp_path / f"{name}.yaml"
    spec_path.write_text(spec_text)
    spec = load_spec(spec_path)
    for rel, text in render_spec(spec).items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        return importlib.import_module(f"{spec.model.model_type}.modeling_{spec.model.model_type}")
    finally:
        sys.path.remove(str(tmp_path))


def renamed(example, model_type: str, name: str) -> str:
    """The example's spec text under another model name (each fixture imports a package of its own)."""
    spec = load_spec(example)
    text = example.read_text()
    return text.replace(spec.model.model_type, model_type).replace(f"name: {spec.model.name}", f"name: {name}")


@pytest.fixture(scope="module")
def shuffle_module(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("shuffle")
    return generated_modeling(tmp, renamed(SHUFFLE, "fid_shuffle", "FidShuffle"), "shuffle")


@pytest.fixture(scope="module")
def merge_module(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("merge")
    return generated_modeling(tmp, renamed(MERGE, "fid_merge", "FidMerge"), "merge")


@pytest.fixture(scope="module")
def aya_module(tmp_path_factory):
    """Aya Vision's connector: pixel shuffle 2, LayerNorm, SwiGLU."""
    tmp = tmp_path_factory.mktemp("aya")
    text = renamed(MERGE, "fid_aya", "FidAya").replace("kind: patch_merge", "kind: pixel_shuffle")
    return generated_modeling(tmp, text, "aya")


@pytest.mark.parametrize("side, factor, channels", [(8, 2, 32), (4, 2, 6), (12, 3, 5), (16, 4, 3)])
def test_pixel_shuffle_equals_internvl_aya_vision_and_idefics3(shuffle_module, side, factor, channels):
    from transformers.models.aya_vision.modeling_aya_vision import AyaVisionMultiModalProjector
    from transformers.models.idefics3.modeling_idefics3 import Idefics3Connector
    from transformers.models.internvl.modeling_internvl import InternVLModel

    torch.manual_seed(side * factor)
    features = torch.randn(3, side * side, channels)
    ours = shuffle_module.pixel_shuffle(features, factor)
    assert tuple(ours.shape) == (3, (side // factor) ** 2, channels * factor**2)
    aya = AyaVisionMultiModalProjector.pixel_shuffle(types.SimpleNamespace(downsample_factor=factor), features)
    idefics3 = Idefics3Connector.pixel_shuffle(None, features, scale_factor=factor)
    upstreams = [aya, idefics3]
    if factor & (factor - 1) == 0:  # InternVL's float downsample_ratio only divides exactly for powers of two
        grid = features.reshape(3, side, side, channels)  # the model's square grid, flattened again after
        upstreams.append(InternVLModel.pixel_shuffle(None, grid, scale_factor=1 / factor))
    for upstream in upstreams:
        assert torch.equal(ours, upstream.reshape(3, -1, channels * factor**2))


@pytest.mark.parametrize("side, factor, channels", [(8, 2, 32), (6, 3, 4)])
def test_patch_merge_equals_mistral3_patch_merger(merge_module, side, factor, channels):
    from transformers import Mistral3Config
    from transformers.models.mistral3.modeling_mistral3 import Mistral3PatchMerger

    patch = 14
    config = Mistral3Config(spatial_merge_size=factor, vision_config={"hidden_size": channels, "patch_size": patch})
    upstream = Mistral3PatchMerger(config).eval()
    torch.manual_seed(side)
    features = torch.randn(2, side * side, channels)
    ours = merge_module.patch_merge(features, factor)
    layer = torch.nn.Linear(channels * factor**2, channels, bias=False)
    layer.weight.data.copy_(upstream.merging_layer.weight.data)
    sizes = torch.tensor([[side * patch, side * patch]] * 2)
    with torch.no_grad():
        expected = upstream(features.reshape(-1, channels), sizes)
        assert torch.equal(layer(ours).reshape(-1, channels), expected)


def _copy(dst: torch.nn.Module, src: torch.nn.Module) -> None:
    dst.weight.data.copy_(src.weight.data)
    if getattr(src, "bias", None) is not None:
        dst.bias.data.copy_(src.bias.data)


def test_internvl_projector_equals_upstream_given_the_same_weights(shuffle_module):
    from transformers import InternVLConfig
    from transformers.models.internvl.modeling_internvl import InternVLModel, InternVLMultiModalProjector

    config = shuffle_module.FidShuffleConfig()
    ours = shuffle_module.FidShuffleMultiModalProjector(config).eval()
    up_config = InternVLConfig(
        vision_config={"hidden_size": config.vision_config.hidden_size},
        text_config={"model_type": "qwen2", "hidden_size": config.text_config.hidden_size},
        downsample_ratio=0.5,
        projector_hidden_act="gelu",
    )
    upstream = InternVLMultiModalProjector(up_config).eval()
    for name in ("layer_norm", "linear_1", "linear_2"):
        _copy(getattr(ours, name), getattr(upstream, name))
    side = config.vision_config.image_size // config.vision_config.patch_size
    torch.manual_seed(0)
    features = torch.randn(5, side * side, config.vision_config.hidden_size)
    with torch.no_grad():
        grid = features.reshape(5, side, side, -1)
        shuffled = InternVLModel.pixel_shuffle(None, grid, scale_factor=0.5).reshape(5, -1, 4 * grid.shape[-1])
        assert (ours(features) - upstream(shuffled)).abs().max().item() == 0.0


def test_aya_vision_projector_equals_upstream_given_the_same_weights(aya_module):
    from transformers import AyaVisionConfig
    from transformers.models.aya_vision.modeling_aya_vision import AyaVisionMultiModalProjector

    config = aya_module.FidAyaConfig(projector_layer_norm_eps=1e-6)
    ours = aya_module.FidAyaMultiModalProjector(config).eval()
    up_config = AyaVisionConfig(
        vision_config={"model_type": "siglip_vision_model", "hidden_size": config.vision_config.hidden_size},
        text_config={"model_type": "cohere2", "hidden_size": config.text_config.hidden_size},
        downsample_factor=2,
        adapter_layer_norm_eps=1e-6,
        alignment_intermediate_size=config.projector_intermediate_size,
    )
    upstream = AyaVisionMultiModalProjector(up_config).eval()
    _copy(ours.layer_norm, upstream.layernorm)
    _copy(ours.linear_1, upstream.linear_1)
    _copy(ours.linear_2, upstream.linear_2)
    side = config.vision_config.image_size // config.vision_config.patch_size
    torch.manual_seed(1)
    features = torch.randn(4, side * side, config.vision_config.hidden_size)
    with torch.no_grad():
        expected = upstream(features).reshape(4, -1, config.text_config.hidden_size)
        assert (ours(features) - expected).abs().max().item() == 0.0


def test_token_counts_divide_by_the_merge_factor_squared():
    for path in (SHUFFLE, MERGE):
        spec = load_spec(path)
        connector = Connector.from_spec(spec.projector, spec.text.hidden_size)
        side = spec.vision.image_size // spec.vision.patch_size
        assert connector.factor == 2
        assert spec.vision.features_per_view(connector.factor) == (side // 2) ** 2
    assert tokens_per_view(112, 112, 14, 1, "default", 2) == 16
    assert tokens_per_view(112, 112, 14, 0, "full", 4) == 4


@pytest.mark.parametrize(
    "change, where, message",
    [
        ("factor: 2}", "projector.merge.factor", "must divide the 8x8 feature grid"),
        ("feature_select: patch", "vision.feature_select", "the CLS token cannot be kept"),
        ("intermediate_size: 64\n  merge", "projector.intermediate_size", "must be even"),
        ("type: swiglu", "projector.type", "must be linear, mlp2x_gelu, swiglu or identity"),
    ],
)
def test_spec_errors_of_a_merge_name_the_key(write_spec, change, where, message):
    from scaffold.errors import SpecError

    replacement = {
        "factor: 2}": "factor: 3}",
        "feature_select: patch": "feature_select: cls_patch",
        "intermediate_size: 64\n  merge": "intermediate_size: 63\n  merge",
        "type: swiglu": "type: mlp3x_gelu",
    }[change]
    text = MERGE.read_text()
    assert change in text
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text.replace(change, replacement, 1)))
    assert any(p.key == where and message in p.message for p in info.value.problems), str(info.value)
