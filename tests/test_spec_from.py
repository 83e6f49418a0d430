"""`scaffold spec-from`: round trips through transformers' own models, and clear errors for folders it cannot read.

For llava, llava_next, internvl and aya_vision: a tiny random built-in model is saved with its processor and a tiny
local tokenizer; spec-from reads the folder, new-vlm renders the spec; the generated model loads the folder (every
weight, through the spec's checkpoint renames), its logits equal the built-in model's (max abs diff 0), it saves the
checkpoint's weight names back, and its processor's outputs equal the built-in processor's over 12 image sizes.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from helpers import word_tokenizer
from PIL import Image
from transformers import (
    AutoImageProcessor,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    AyaVisionConfig,
    AyaVisionForConditionalGeneration,
    AyaVisionProcessor,
    InternVLConfig,
    InternVLForConditionalGeneration,
    InternVLProcessor,
    InternVLVideoProcessor,
    LlavaConfig,
    LlavaForConditionalGeneration,
    LlavaNextConfig,
    LlavaNextForConditionalGeneration,
    LlavaNextProcessor,
    LlavaProcessor,
    PreTrainedTokenizerFast,
)
from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor
from transformers.models.llava.image_processing_llava import LlavaImageProcessor
from transformers.models.llava_next.image_processing_llava_next import LlavaNextImageProcessor

from scaffold.cli import main
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec
from scaffold.specfrom.read import weight_names

VISION = dict(
    hidden_size=16, intermediate_size=32, num_hidden_layers=2, num_attention_heads=2, image_size=28, patch_size=7
)
TEXT = dict(
    vocab_size=64,
    hidden_size=32,
    intermediate_size=64,
    num_hidden_layers=1,
    num_attention_heads=4,
    num_key_value_heads=2,
    pad_token_id=0,
    bos_token_id=1,
    eos_token_id=2,
)
PINPOINTS = [[28, 56], [56, 28], [56, 56], [84, 28], [28, 84]]
SIZES = [(28, 28), (30, 50), (50, 30), (100, 20), (20, 100), (64, 64), (90, 250), (300, 60), (17, 33), (200, 200),
         (56, 28), (28, 84)]  # fmt: skip


def tokenizer(specials: dict[int, str], **extra) -> PreTrainedTokenizerFast:
    """A word-level tokenizer of 64 ids: w<i> words and the given special tokens."""
    return word_tokenizer(specials, TEXT["vocab_size"], **extra)


def build_llava():
    config = LlavaConfig(
        vision_config=dict(model_type="clip_vision_model", **VISION), text_config=dict(model_type="llama", **TEXT),
        image_token_id=63,
    )  # fmt: skip
    processor = LlavaProcessor(
        image_processor=LlavaImageProcessor(
            size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}, do_pad=True
        ),
        tokenizer=tokenizer({0: "<unk>", 63: "<image>"}),
        patch_size=7,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    return LlavaForConditionalGeneration(config), processor, "<image>"


def build_llava_next():
    config = LlavaNextConfig(
        vision_config=dict(model_type="clip_vision_model", **VISION), text_config=dict(model_type="llama", **TEXT),
        image_token_id=63, image_grid_pinpoints=PINPOINTS, vision_feature_layer=[-2, -1],
    )  # fmt: skip
    image_processor = LlavaNextImageProcessor(
        size={"shortest_edge": 28}, crop_size={"height": 28, "width": 28}, image_grid_pinpoints=PINPOINTS
    )
    processor = LlavaNextProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer({0: "<unk>", 63: "<image>"}),
        patch_size=7,
        vision_feature_select_strategy="default",
        num_additional_image_tokens=1,
    )
    return LlavaNextForConditionalGeneration(config), processor, "<image>"


def build_internvl():
    vision = dict(VISION, image_size=[28, 28], patch_size=[7, 7])
    config = InternVLConfig(vision_config=vision, text_config=dict(model_type="qwen2", **TEXT), image_token_id=63)
    names = {"start_image_token": "<img>", "end_image_token": "</img>", "context_image_token": "<IMG_CONTEXT>"}
    tok = tokenizer({0: "<unk>", 60: "<video>", 61: "<img>", 62: "</img>", 63: "<IMG_CONTEXT>"},
                    extra_special_tokens={**names, "video_token": "<video>"})  # fmt: skip
    processor = InternVLProcessor(
        image_processor=GotOcr2ImageProcessor(size={"height": 28, "width": 28}, crop_to_patches=True, max_patches=6),
        tokenizer=tok,
        video_processor=InternVLVideoProcessor(),
        image_seq_length=4,
    )
    return InternVLForConditionalGeneration(config), processor, "<IMG_CONTEXT>"


def build_aya_vision():
    config = AyaVisionConfig(
        vision_config=dict(model_type="siglip_vision_model", **VISION), text_config=dict(model_type="cohere2", **TEXT),
        image_token_id=63, alignment_intermediate_size=48, adapter_layer_norm_eps=1e-5,
    )  # fmt: skip
    specials = {0: "<unk>", 57: "<image>", 58: "TILE", 59: "TILE_GLOBAL", 60: "<|IMG_LINE_BREAK|>",
                61: "<|START_OF_IMG|>", 62: "<|END_OF_IMG|>", 63: "<|IMG_PATCH|>"}  # fmt: skip
    processor = AyaVisionProcessor(
        image_processor=GotOcr2ImageProcessor(
            size={"height": 28, "width": 28}, crop_to_patches=True, max_patches=6,
            image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5],
        ),
        tokenizer=tokenizer(specials),
        patch_size=7,
        img_size=28,
        downsample_factor=2,
    )  # fmt: skip
    return AyaVisionForConditionalGeneration(config), processor, "<image>"


BUILDERS = {
    "llava": build_llava,
    "llava_next": build_llava_next,
    "internvl": build_internvl,
    "aya_vision": build_aya_vision,
}


def images(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in sizes]


def spec_from(*args: str):
    return CliRunner().invoke(main, ["spec-from", *args])


@pytest.fixture(scope="module", params=sorted(BUILDERS))
def round_trip(request, tmp_path_factory):
    """The built-in model and processor saved to a folder; the spec spec-from reads from it; the generated package."""
    model_type = request.param
    root = tmp_path_factory.mktemp(f"spec_from_{model_type}")
    torch.manual_seed(0)
    model, processor, placeholder = BUILDERS[model_type]()
    folder = root / "checkpoint"
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    result = spec_from(str(folder), "-o", str(root / "spec.yaml"), "--model-type", f"rt_{model_type}")
    assert result.exit_code == 0, result.output
    spec = load_spec(root / "spec.yaml")
    out = root / "out"
    for rel, text in render_spec(spec).items():
        (out / rel).parent.mkdir(parents=True, exist_ok=True)
        (out / rel).write_text(text)
    sys.path.insert(0, str(out))
    try:
        m = spec.model.model_type
        modules = {
            kind: importlib.import_module(f"{m}.{kind}_{m}")
            for kind in ("modeling", "processing", "image_processing", "image_processing_pil")
        }
    finally:
        sys.path.remove(str(out))
    return {
        "model_type": model_type,
        "folder": folder,
        "spec": spec,
        "spec_text": (root / "spec.yaml").read_text(),
        "out": out,
        "modules": modules,
        "builtin": model.eval(),
        "placeholder": placeholder,
        "output": result.output,
    }


def generated(rt, suffix):
    name = rt["spec"].model.name
    kind = {"ForConditionalGeneration": "modeling", "Processor": "processing", "ImageProcessor": "image_processing",
            "ImageProcessorPil": "image_processing_pil"}[suffix]  # fmt: skip
    return getattr(rt["modules"][kind], name + suffix)


def test_the_spec_is_commented_and_names_its_sources(round_trip):
    text = round_trip["spec_text"]
    assert text.startswith("# Started by `scaffold spec-from` from the checkpoint")
    assert "# vision_feature_layer" in text and "# text_config.model_type" in text
    assert "checkpoint_key_renames:" in text


def test_the_generated_model_loads_every_weight_and_equals_the_builtin(round_trip):
    rt = round_trip
    ours, info = generated(rt, "ForConditionalGeneration").from_pretrained(rt["folder"], output_loading_info=True)
    assert not (info["missing_keys"] or info["unexpected_keys"] or info["mismatched_keys"]), info
    builtin = AutoModelForImageTextToText.from_pretrained(rt["folder"]).eval()
    assert type(builtin) is type(rt["builtin"])
    processor = AutoProcessor.from_pretrained(rt["folder"])
    token = rt["placeholder"]
    batch = processor(images=images([(90, 250), (300, 60), (28, 28)]), text=[f"w5 {token} w6 {token} w7 {token}"],
                      return_tensors="pt")  # fmt: skip
    inputs = {
        key: batch[key] for key in ("input_ids", "attention_mask", "pixel_values", "image_sizes") if key in batch
    }
    extra = {}
    if rt["spec"].image_processor.layout.kind == "tiles":
        mine = generated(rt, "ImageProcessor")()(images([(90, 250), (300, 60), (28, 28)]), return_tensors="pt")
        extra["num_patches"] = mine["num_patches"]
    with torch.no_grad():
        expected = builtin(**inputs).logits
        got = ours.eval()(**inputs, **extra).logits
    assert got.shape == expected.shape
    assert (got - expected).abs().max().item() == 0.0


def test_the_generated_model_saves_the_checkpoints_weight_names(round_trip, tmp_path):
    ours = generated(round_trip, "ForConditionalGeneration").from_pretrained(round_trip["folder"])
    ours.save_pretrained(tmp_path)
    assert weight_names(tmp_path) == weight_names(round_trip["folder"])


@pytest.mark.parametrize("backend", ["torchvision", "pil"])
def test_the_generated_processor_equals_the_builtin_over_image_sizes(round_trip, backend):
    """input_ids and pixel_values equal the built-in processor's, one image per call over 12 sizes and a mixed batch
    (Aya Vision: pixel values and image-token counts; its tile markers are not expressed, see the spec's note)."""
    rt = round_trip
    builtin = AutoProcessor.from_pretrained(rt["folder"])
    builtin.image_processor = AutoImageProcessor.from_pretrained(rt["folder"], backend=backend)
    image_processor = generated(rt, "ImageProcessor" if backend == "torchvision" else "ImageProcessorPil")()
    ours = generated(rt, "Processor")(
        image_processor=image_processor, tokenizer=AutoTokenizer.from_pretrained(rt["folder"])
    )
    assert type(builtin.image_processor).__name__.endswith("Pil") == (backend == "pil")
    ours_token, theirs_token = rt["spec"].processor.image_token, rt["placeholder"]
    aya = rt["model_type"] == "aya_vision"
    cases = [[size] for size in SIZES] + [SIZES[:4]]
    for sizes in cases:
        pictures = images(sizes)
        theirs = builtin(images=pictures, text=[" ".join(["w3", theirs_token] * len(sizes))], return_tensors="pt")
        mine = ours(images=pictures, text=[" ".join(["w3", ours_token] * len(sizes))], return_tensors="pt")
        assert (mine["pixel_values"] - theirs["pixel_values"]).abs().max().item() == 0.0, sizes
        image_id = rt["spec"].processor.image_token_id
        if aya:
            assert (mine["input_ids"] == image_id).sum() == (theirs["input_ids"] == image_id).sum(), sizes
        else:
            assert mine["input_ids"].tolist() == theirs["input_ids"].tolist(), sizes
        if "image_sizes" in theirs:
            assert mine["image_sizes"].tolist() == theirs["image_sizes"].tolist()


def test_aya_visions_tile_markers_are_named_in_the_spec_and_the_report(round_trip):
    if round_trip["model_type"] != "aya_vision":
        pytest.skip("Aya Vision only")
    assert "per-tile markers" in round_trip["spec_text"]
    assert "note: Aya Vision's processor writes per-tile markers" in round_trip["output"]


@pytest.mark.slow
def test_the_generated_checkpoint_test_passes_on_the_folder(round_trip):
    """The generated package's own test of the checkpoint (skipped without SCAFFOLD_CHECKPOINT) passes with it."""
    rt = round_trip
    if rt["model_type"] not in ("llava", "aya_vision"):
        pytest.skip("one fixed and one tiles layout are enough for the generated test")
    m = rt["spec"].model.model_type
    env = {**os.environ, "SCAFFOLD_CHECKPOINT": str(rt["folder"]), "PYTHONPATH": str(rt["out"])}
    test_file = rt["out"] / m / "tests" / f"test_modeling_{m}.py"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file), "-k", "checkpoint or self_contained or remote_code_loads"],
        env=env, capture_output=True, text=True, cwd=rt["out"],
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3 passed" in done.stdout, done.stdout[-2000:]


# ---- bad folders -----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def llava_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("llava_bad") / "checkpoint"
    torch.manual_seed(0)
    model, processor, _ = build_llava()
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def broken(tmp_path, source: Path, edit) -> Path:
    folder = tmp_path / "broken"
    folder.mkdir()
    for path in source.iterdir():
        if path.suffix != ".safetensors":
            (folder / path.name).write_bytes(path.read_bytes())
    edit(folder)
    return folder


def edit_json(name, change):
    def edit(folder):
        data = json.loads((folder / name).read_text())
        change(data)
        (folder / name).write_text(json.dumps(data, indent=2))

    return edit


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda f: (f / "config.json").unlink(), "config.json: missing; spec-from needs the model's config.json"),
        (lambda f: (f / "processor_config.json").unlink(), "processor_config.json: missing (nor preprocessor_config.json)"),
        (lambda f: (f / "tokenizer.json").unlink(), "tokenizer.json: missing"),
        (lambda f: (f / "config.json").write_text('{\n  "model_type": "llava",\n  "x": [1, 2,\n}\n'), "config.json:4:1: not valid JSON"),
        (edit_json("config.json", lambda d: d.update(model_type="paligemma")), "config.json: model_type: 'paligemma': scaffold can start a spec from llava, llava_next, internvl, aya_vision"),
        (edit_json("config.json", lambda d: d.update(projector_hidden_act="relu")), "config.json: projector_hidden_act: 'relu': scaffold's MLP projectors use GELU"),
        (edit_json("config.json", lambda d: d.update(vision_feature_select_strategy="full", frobnicate=3)), "config.json: frobnicate: 3: scaffold's spec has no setting for it"),
        (edit_json("processor_config.json", lambda d: d.update(num_additional_image_tokens=0)), "processor_config.json: num_additional_image_tokens: 0: scaffold counts the tower's own tokens: 1 for clip"),
        (edit_json("processor_config.json", lambda d: d["image_processor"].update(image_processor_type="Idefics3ImageProcessor")), "image_processor_type: 'Idefics3ImageProcessor'"),
        (edit_json("processor_config.json", lambda d: d["image_processor"].update(do_flip=True)), "do_flip: True: scaffold's image processor has no such setting"),
    ],
    ids=["no_config", "no_processor", "no_tokenizer", "corrupt_json", "model_type", "projector_act", "unknown_key",
         "extra_tokens", "image_processor_type", "image_processor_key"],
)  # fmt: skip
def test_bad_folders_are_clear_errors(llava_folder, tmp_path, edit, message):
    folder = broken(tmp_path, llava_folder, edit)
    result = spec_from(str(folder), "-o", str(tmp_path / "spec.yaml"))
    assert result.exit_code == 2, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "spec.yaml").exists()


def test_not_a_folder_and_no_argument_are_usage_errors(tmp_path):
    result = spec_from(str(tmp_path / "nowhere"))
    assert result.exit_code == 2 and "not a folder" in result.output
    result = spec_from()
    assert result.exit_code == 2 and "needs a checkpoint FOLDER or --like MODEL_TYPE" in result.output


def test_an_existing_output_needs_force(llava_folder, tmp_path):
    (tmp_path / "spec.yaml").write_text("keep me\n")
    result = spec_from(str(llava_folder), "-o", str(tmp_path / "spec.yaml"))
    assert result.exit_code == 2 and "exists; use --force" in result.output
    assert (tmp_path / "spec.yaml").read_text() == "keep me\n"


# ---- --like: an installed model type's defaults ----------------------------------------------------------------


@pytest.mark.parametrize("model_type", ["llava", "llava_next", "internvl"])
def test_like_restates_the_default_config(model_type, tmp_path):
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    result = spec_from("--like", model_type, "-o", str(tmp_path / "spec.yaml"))
    assert result.exit_code == 0, result.output
    spec = load_spec(tmp_path / "spec.yaml")
    default = CONFIG_MAPPING[model_type]()
    vision, text = default.vision_config, default.text_config
    assert spec.vision.hidden_size == vision.hidden_size and spec.vision.num_hidden_layers == vision.num_hidden_layers
    assert spec.text.family == text.model_type and spec.text.hidden_size == text.hidden_size
    assert spec.processor.image_token_id == default.image_token_id
    assert spec.vision.feature_layer == default.vision_feature_layer
    assert render_spec(spec)  # renders


def test_like_refuses_defaults_that_are_no_consistent_model(tmp_path):
    """AyaVisionConfig's default tower (1152 wide, 14 heads, 384 px in patches of 14) is not a model scaffold can
    build; the spec loader's reasons are the error."""
    result = spec_from("--like", "aya_vision", "-o", str(tmp_path / "spec.yaml"))
    assert result.exit_code == 2
    assert "vision.patch_size: must divide image_size 384" in result.output
    assert not (tmp_path / "spec.yaml").exists()
    result = spec_from("--like", "paligemma")
    assert result.exit_code == 2 and "--like: 'paligemma'" in result.output


# ---- the checkpoint_key_renames spec key -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "renames, message",
    [
        ({"vision_tower\\.": "model.vision_tower."}, "must be anchored with ^"),
        ({"^(a|b)\\.": "model.x."}, "groups and back-references cannot be reversed on save"),
        ({"^a[": "model.a."}, "is not a regular expression"),
        ({"^a\\.": "model a"}, "must be a plain weight-name prefix"),
    ],
)
def test_checkpoint_key_renames_are_checked(write_spec, renames, message):
    from scaffold.errors import SpecError

    text = (Path(__file__).parents[1] / "examples" / "llava_clip_llama.yaml").read_text()
    text += "checkpoint_key_renames: " + json.dumps(renames) + "\n"
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    assert any(p.key.startswith("checkpoint_key_renames") and message in p.message for p in info.value.problems), str(
        info.value
    )


def test_checkpoint_key_renames_need_a_model(write_spec):
    from scaffold.errors import SpecError

    text = "model: {name: Only, model_type: only}\nimage_processor: {size: {height: 8, width: 8}, image_mean: openai_clip, "
    text += 'image_std: openai_clip}\ncheckpoint_key_renames: {"^a\\\\.": "b."}\n'
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    assert "renames weights of a model" in str(info.value)
    text = (Path(__file__).parents[1] / "examples" / "llava_vllm.yaml").read_text()
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text + 'checkpoint_key_renames: {"^a\\\\.": "b."}\n'))
    assert "set vllm: false" in str(info.value)
