"""`scaffold spec-from` on the original LLaVA repository's training layout, and the conversion script it leads to.

A tiny original checkpoint is built here: a Llama decoder's config.json with LLaVA's `mm_*` keys, weights named
`model.embed_tokens.*`, `model.layers.*`, `model.norm.*`, `lm_head.*`, `model.mm_projector.{0,2}.*` and
`model.vision_tower.vision_tower.vision_model.*`, a word-level tokenizer without `<image>` or a pad token, and a tiny
CLIP tower folder (CLIPVisionConfig, CLIPImageProcessor) for `--vision-tower`. spec-from -> new-vlm -> the generated
`convert_<m>_weights_to_hf.py` (a subprocess) -> the converted folder loads with from_pretrained, every weight, and its
logits equal independent references: LlamaForCausalLM built from the original text weights (text only, the original
tokens' columns) and LlavaForConditionalGeneration given the same weights (with an image), max abs diff 0.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner
from safetensors.torch import save_file
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import (
    CLIPImageProcessor,
    CLIPVisionConfig,
    CLIPVisionModel,
    LlamaConfig,
    LlamaForCausalLM,
    LlavaConfig,
    LlavaForConditionalGeneration,
    PreTrainedTokenizerFast,
)

from scaffold.cli import main
from scaffold.generate.pipeline import render_spec
from scaffold.generate.plan import Target, plan
from scaffold.spec import load_spec

VISION = dict(
    hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=28, patch_size=7
)
TEXT = dict(
    vocab_size=64, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=4,
    num_key_value_heads=2, bos_token_id=1, eos_token_id=2,
)  # fmt: skip
MM = dict(
    mm_vision_tower="openai/clip-vit-large-patch14-336", mm_projector_type="mlp2x_gelu", mm_hidden_size=16,
    mm_vision_select_layer=-2, mm_vision_select_feature="patch", image_aspect_ratio="pad", mm_patch_merge_type="flat",
    mm_use_im_start_end=False, mm_use_im_patch_token=False, image_grid_pinpoints=None, use_mm_proj=True,
    freeze_mm_mlp_adapter=False, tune_mm_mlp_adapter=False, tokenizer_model_max_length=2048,
)  # fmt: skip
IMAGE_FEATURES = (28 // 7) ** 2  # CLS dropped (mm_vision_select_feature: patch)


def build_original(
    root: Path, extra_weights: dict | None = None, tower_in_checkpoint: bool = True, **config_changes
) -> tuple[Path, Path]:
    """The original checkpoint folder and the tower folder (with the tower's weights unless the checkpoint has them)."""
    torch.manual_seed(0)
    tower = root / "clip_tower"
    vision_config = CLIPVisionConfig(**VISION)
    vision_config.save_pretrained(tower)
    CLIPImageProcessor(size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}).save_pretrained(tower)
    text_config = LlamaConfig(**TEXT)
    state = dict(LlamaForCausalLM(text_config).state_dict())
    clip = CLIPVisionModel(vision_config)
    if tower_in_checkpoint:
        for key, value in clip.state_dict().items():
            # The original repository saved CLIPVisionModel's weights under its `vision_model.` wrapper.
            state[f"model.vision_tower.vision_tower.vision_model.{key.removeprefix('vision_model.')}"] = value
    else:
        clip.save_pretrained(tower)
    if config_changes.get("mm_projector_type") == "linear":  # an nn.Linear itself, not a Sequential
        state["model.mm_projector.weight"] = torch.randn(32, 16) * 0.1
        state["model.mm_projector.bias"] = torch.randn(32) * 0.1
    else:
        state["model.mm_projector.0.weight"] = torch.randn(32, 16) * 0.1
        state["model.mm_projector.0.bias"] = torch.randn(32) * 0.1
        state["model.mm_projector.2.weight"] = torch.randn(32, 32) * 0.1
        state["model.mm_projector.2.bias"] = torch.randn(32) * 0.1
    state.update(extra_weights or {})
    folder = root / "original"
    folder.mkdir()
    save_file({key: value.contiguous() for key, value in state.items()}, folder / "model.safetensors")
    config = {**text_config.to_dict(), "model_type": "llava_llama", "architectures": ["LlavaLlamaForCausalLM"], **MM}
    config.update(config_changes)
    (folder / "config.json").write_text(json.dumps(config, indent=2))
    vocab = {"<unk>": 0, "<s>": 1, "</s>": 2, **{f"w{i}": i for i in range(3, TEXT["vocab_size"])}}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>")
    tokenizer.save_pretrained(folder)
    return folder, tower


def spec_from(*args: str):
    return CliRunner().invoke(main, ["spec-from", *map(str, args)])


def convert(out: Path, m: str, original: Path, tower: Path, output: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(out)}
    return subprocess.run(
        [sys.executable, "-m", f"{m}.convert_{m}_weights_to_hf", "--original", str(original), "--vision-tower",
         str(tower), "--output", str(output)],
        env=env, capture_output=True, text=True, cwd=out,
    )  # fmt: skip


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    root = tmp_path_factory.mktemp("original_llava")
    original, tower = build_original(root)
    result = spec_from(original, "--vision-tower", tower, "-o", root / "spec.yaml", "--model-type", "orig_llava")
    assert result.exit_code == 0, result.output
    spec = load_spec(root / "spec.yaml")
    out = root / "out"
    for rel, text in render_spec(spec).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    done = convert(out, "orig_llava", original, tower, root / "converted")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    sys.path.insert(0, str(out))
    try:
        import orig_llava.modeling_orig_llava as modeling
        import orig_llava.processing_orig_llava as processing
    finally:
        sys.path.remove(str(out))
    return {
        "root": root, "original": original, "tower": tower, "spec": spec, "spec_text": (root / "spec.yaml").read_text(),
        "out": out, "folder": root / "converted", "stdout": done.stdout, "modeling": modeling, "processing": processing,
    }  # fmt: skip


def test_the_spec_restates_the_original_layout(converted):
    spec, text = converted["spec"], converted["spec_text"]
    assert spec.original_checkpoint.layout == "llava" and spec.checkpoint_key_renames is None
    assert spec.processor.image_token == "<image>" and spec.processor.image_token_id == 64
    assert spec.text.vocab_size == 66 and spec.text.pad_token_id == 65  # <image> and <pad> added
    assert spec.projector.type == "mlp2x_gelu" and spec.vision.feature_layer == -2
    assert spec.vision.feature_select == "patch" and spec.image_processor.pad_to_square is True
    assert "# config.json vocab_size 64 + <image> and <pad>, which the conversion adds" in text
    assert "# image_aspect_ratio 'pad'" in text and "--vision-tower folder" in text
    files = (converted["out"] / "orig_llava").iterdir()
    assert "convert_orig_llava_weights_to_hf.py" in {path.name for path in files}


def test_the_conversion_checks_its_references(converted):
    assert "text-only logits vs LlamaForCausalLM: max abs diff 0.0" in converted["stdout"]
    assert "image logits vs LlavaForConditionalGeneration: max abs diff 0.0" in converted["stdout"]


def test_the_converted_folder_loads_and_equals_independent_references(converted):
    cls = converted["modeling"].OrigLlavaForConditionalGeneration
    model, info = cls.from_pretrained(converted["folder"], output_loading_info=True)
    assert not (info["missing_keys"] or info["unexpected_keys"] or info["mismatched_keys"]), info
    model.eval()
    original = load_original(converted["original"])
    text_model = LlamaForCausalLM(LlamaConfig(**TEXT)).eval()
    text_model.load_state_dict({k: v for k, v in original.items() if not k.startswith("model.vision_tower.")
                                and not k.startswith("model.mm_projector.")})  # fmt: skip
    ids = torch.randint(0, 64, (2, 9), generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        got = model(input_ids=ids).logits
        assert got.shape[-1] == 66
        assert (got[..., :64] - text_model(input_ids=ids).logits).abs().max().item() == 0.0
    # Every original weight is in the converted model unchanged; the two new rows are near the old rows' mean.
    state = model.state_dict()
    embed = state["model.language_model.embed_tokens.weight"]
    assert torch.equal(embed[:64], original["model.embed_tokens.weight"])
    assert torch.equal(state["lm_head.weight"][:64], original["lm_head.weight"])
    assert torch.equal(state["model.multi_modal_projector.layers.2.bias"], original["model.mm_projector.2.bias"])
    key = "encoder.layers.1.mlp.fc2.weight"
    ours = next(value for name, value in state.items() if name.startswith("model.vision_tower") and name.endswith(key))
    assert torch.equal(ours, original[f"model.vision_tower.vision_tower.vision_model.{key}"])
    mean, spread = embed[:64].mean(0), embed[:64].std(0).max()
    assert (embed[64:] - mean).abs().max() < spread and not torch.equal(embed[64], embed[65])
    # With an image: LlavaForConditionalGeneration given the same weights.
    llava = LlavaForConditionalGeneration(
        LlavaConfig(vision_config=model.config.vision_config.to_dict(), text_config=model.config.text_config.to_dict(),
                    image_token_id=64, vision_feature_layer=-2, vision_feature_select_strategy="default")
    ).eval()  # fmt: skip
    llava.load_state_dict(
        {k.replace("layers.0.", "linear_1.").replace("layers.2.", "linear_2.") if "multi_modal_projector" in k else k: v
         for k, v in state.items()}
    )  # fmt: skip
    pixel_values = torch.randn(1, 3, 28, 28, generator=torch.Generator().manual_seed(2))
    input_ids = torch.tensor([[1, 5] + [64] * IMAGE_FEATURES + [7, 8]])
    with torch.no_grad():
        got = model(input_ids=input_ids, pixel_values=pixel_values).logits
        expected = llava(input_ids=input_ids, pixel_values=pixel_values).logits
    assert (got - expected).abs().max().item() == 0.0


def test_the_converted_processor_has_the_added_tokens(converted):
    import numpy as np
    from PIL import Image

    processor = converted["processing"].OrigLlavaProcessor.from_pretrained(converted["folder"])
    tokenizer = processor.tokenizer
    assert tokenizer.convert_tokens_to_ids("<image>") == 64 and tokenizer.pad_token == "<pad>"
    assert tokenizer.pad_token_id == 65 and len(tokenizer) == 66
    image = Image.fromarray(np.random.default_rng(0).integers(0, 256, (40, 20, 3), dtype=np.uint8))
    batch = processor(images=[image], text=["w5 <image> w6"], return_tensors="pt")
    assert (batch["input_ids"] == 64).sum().item() == IMAGE_FEATURES
    assert tuple(batch["pixel_values"].shape) == (1, 3, 28, 28)


def test_the_in_tree_plan_puts_the_script_beside_the_model(converted):
    paths = [file.path for file in plan(converted["spec"], Target("tree", Path("/tree")), year=2026).templates]
    assert "src/transformers/models/orig_llava/convert_orig_llava_weights_to_hf.py" in paths


def test_the_towers_weights_may_come_from_the_tower_folder(converted, tmp_path):
    """Checkpoints saved without the (frozen) tower: the conversion takes its weights from --vision-tower."""
    original, tower = build_original(tmp_path, tower_in_checkpoint=False)
    done = convert(converted["out"], "orig_llava", original, tower, tmp_path / "converted")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "image logits vs LlavaForConditionalGeneration: max abs diff 0.0" in done.stdout


def test_a_full_clip_folder_as_the_tower(converted, tmp_path):
    """The hub's CLIP folders hold a CLIPConfig (the tower under vision_config) and an old CLIPFeatureExtractor
    config with integer sizes: the same spec."""
    from transformers import CLIPConfig

    tower = tmp_path / "clip"
    CLIPConfig(vision_config=VISION, text_config=dict(hidden_size=16, intermediate_size=32, num_hidden_layers=1,
                                                      num_attention_heads=2)).save_pretrained(tower)  # fmt: skip
    (tower / "preprocessor_config.json").write_text(json.dumps({
        "crop_size": 28, "do_center_crop": True, "do_normalize": True, "do_resize": True, "resample": 3, "size": 28,
        "feature_extractor_type": "CLIPFeatureExtractor", "image_mean": [0.48145466, 0.4578275, 0.40821073],
        "image_std": [0.26862954, 0.26130258, 0.27577711],
    }))  # fmt: skip
    result = spec_from(converted["original"], "--vision-tower", tower, "-o", tmp_path / "spec.yaml", "--model-type",
                       "orig_llava")  # fmt: skip
    assert result.exit_code == 0, result.output
    ours = (tmp_path / "spec.yaml").read_text().split("\n", 1)[1]
    assert ours == converted["spec_text"].split("\n", 1)[1]


def test_a_linear_projector_converts(tmp_path):
    """mm_projector_type linear: the projector's weight and bias become layers.0; no transformers class has this
    projector, so the script checks the text-only logits and says the image logits are not checked."""
    original, tower = build_original(tmp_path, mm_projector_type="linear")
    result = spec_from(original, "--vision-tower", tower, "-o", tmp_path / "spec.yaml", "--model-type", "lin_llava")
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "spec.yaml")
    assert spec.projector.type == "linear"
    out = tmp_path / "out"
    for rel, text in render_spec(spec).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    done = convert(out, "lin_llava", original, tower, tmp_path / "converted")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "text-only logits vs LlamaForCausalLM: max abs diff 0.0" in done.stdout
    assert "image logits: not checked (no transformers class has a linear projector)" in done.stdout
    from safetensors.torch import load_file

    saved = load_file(tmp_path / "converted" / "model.safetensors")
    assert torch.equal(saved["model.multi_modal_projector.layers.0.weight"],
                       load_original(original)["model.mm_projector.weight"])  # fmt: skip


@pytest.mark.slow
def test_the_in_tree_script_converts(converted, tmp_path):
    """In a transformers tree (the 5.23 sdist, SCAFFOLD_TRANSFORMERS_SDIST): the script beside the model converts."""
    import shutil

    given = os.environ.get("SCAFFOLD_TRANSFORMERS_SDIST")
    if not given:
        pytest.skip("set SCAFFOLD_TRANSFORMERS_SDIST to an unpacked transformers sdist")
    tree = tmp_path / "transformers"
    shutil.copytree(given, tree, ignore=shutil.ignore_patterns("__pycache__"))
    done = CliRunner().invoke(main, ["new-vlm", str(converted["root"] / "spec.yaml"), "--transformers", str(tree)])
    assert done.exit_code == 0, done.output
    script = tree / "src/transformers/models/orig_llava/convert_orig_llava_weights_to_hf.py"
    env = {**os.environ, "PYTHONPATH": str(tree / "src")}
    done = subprocess.run(
        [sys.executable, str(script), "--original", str(converted["original"]), "--vision-tower",
         str(converted["tower"]), "--output", str(tmp_path / "converted")],
        env=env, capture_output=True, text=True, cwd=tree,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "image logits vs LlavaForConditionalGeneration: max abs diff 0.0" in done.stdout


def load_original(folder: Path) -> dict[str, torch.Tensor]:
    from safetensors.torch import load_file

    return load_file(folder / "model.safetensors")


# ---- errors ----------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def original_parts(tmp_path_factory):
    return build_original(tmp_path_factory.mktemp("original_parts"))


def edited(tmp_path: Path, source: Path, **changes) -> Path:
    folder = tmp_path / "edited"
    folder.mkdir()
    for path in source.iterdir():
        (folder / path.name).write_bytes(path.read_bytes())
    config = json.loads((folder / "config.json").read_text())
    config.update(changes)
    (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"mm_projector_type": "qformer"}, "config.json: mm_projector_type: 'qformer': scaffold converts LLaVA's linear and mlpNx_gelu projectors only"),
        ({"image_aspect_ratio": "anyres"}, "config.json: image_aspect_ratio: 'anyres': not yet"),
        ({"mm_patch_merge_type": "spatial_unpad"}, "config.json: mm_patch_merge_type: 'spatial_unpad': scaffold restates 'flat' only"),
        ({"mm_vision_select_feature": "cls"}, "config.json: mm_vision_select_feature: 'cls': expected 'patch' or 'cls_patch'"),
        ({"mm_hidden_size": 1024}, "config.json: mm_hidden_size: 1024: differs from the tower's hidden_size 16"),
        ({"frobnicate": 3}, "config.json: frobnicate: 3: scaffold's spec has no setting for it"),
    ],
    ids=["projector_type", "anyres", "patch_merge", "select_feature", "mm_hidden_size", "unknown_key"],
)  # fmt: skip
def test_unsupported_settings_are_clear_errors(original_parts, tmp_path, changes, message):
    original, tower = original_parts
    folder = edited(tmp_path, original, **changes)
    result = spec_from(folder, "--vision-tower", tower, "-o", tmp_path / "spec.yaml")
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output, result.output
    assert not (tmp_path / "spec.yaml").exists()


def test_the_vision_tower_folder_is_required(original_parts, tmp_path):
    original, tower = original_parts
    result = spec_from(original, "-o", tmp_path / "spec.yaml")
    assert result.exit_code == 2, result.output
    assert "mm_vision_tower: 'openai/clip-vit-large-patch14-336'" in result.output
    assert "with --vision-tower FOLDER" in result.output
    result = spec_from(original, "--vision-tower", tmp_path, "-o", tmp_path / "spec.yaml")
    assert result.exit_code == 2 and "config.json: missing; --vision-tower needs" in result.output


def test_an_unmappable_weight_is_an_error_of_spec_from_and_of_the_conversion(converted, tmp_path):
    original, tower = build_original(tmp_path, extra_weights={"model.image_newline": torch.zeros(32)})
    result = spec_from(original, "--vision-tower", tower, "-o", tmp_path / "spec.yaml")
    assert result.exit_code == 2, result.output
    assert "weights: ['model.image_newline']: the conversion maps no such weight" in result.output
    done = convert(converted["out"], "orig_llava", original, tower, tmp_path / "converted")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "no rule maps these weights: model.image_newline" in done.stderr
    assert not (tmp_path / "converted").exists()


# ---- the original_checkpoint spec key --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "example, edit, message",
    [
        ("llava_next_grid.yaml", None, "the conversion handles the fixed layout only"),
        ("llava_clip_llama.yaml", ("type: mlp2x_gelu", "type: identity"), "not projector.type 'identity'"),
        ("llava_vllm.yaml", None, "not with vllm: true"),
        ("clip_like.yaml", None, "converts weights of a model: needs vision, projector, text, processor"),
    ],
    ids=["grid", "identity", "vllm", "no_model"],
)
def test_original_checkpoint_is_checked(write_spec, example, edit, message):
    from scaffold.errors import SpecError

    text = (Path(__file__).parents[1] / "examples" / example).read_text()
    if edit:
        text = text.replace(*edit)
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text + "original_checkpoint: {layout: llava}\n"))
    assert any(p.key == "original_checkpoint.layout" and message in p.message for p in info.value.problems), str(
        info.value
    )
