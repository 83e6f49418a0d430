# Copyright 2026 The HuggingFace Team. All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Runtime tests of the LlavaVllm model, config and processor: a tiny random model built from the spec, fully
offline (the tokenizer is a local word-level one), run on CPU. The last tests load a folder the package saved in a
fresh process that cannot import the package (transformers' remote code, `trust_remote_code=True`).
"""

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from tokenizers import Tokenizer, models, pre_tokenizers

from llava_vllm import (
    LlavaVllmConfig,
    LlavaVllmForConditionalGeneration,
    LlavaVllmImageProcessor,
    LlavaVllmImageProcessorPil,
    LlavaVllmProcessor,
)
from llava_vllm.configuration_llava_vllm import AUTO_MAP
from transformers import (
    AddedToken,
    AutoConfig,
    AutoModelForImageTextToText,
    AutoProcessor,
    AutoTokenizer,
    PreTrainedTokenizerFast,
)
from transformers.utils import is_torchvision_available


IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 127
IMAGE_SIZE = 64
# Features per image: one per patch, plus the CLS token when the spec keeps it.
NUM_IMAGE_FEATURES = 16
CHAT_TEMPLATE = None
# Same tolerances as the image-processor parity tests (PIL and torchvision resizers round differently).
ATOL = 0.04
MEAN_ABS_TOL = 1e-3
MAX_NEW_TOKENS = 3
# The directory of this package: a process that loads its saved folder as remote code must import nothing from it.
PACKAGE_DIR = Path(__file__).resolve().parents[1]
MODEL_MODULES = sorted(
    {
        f"{reference.split('.')[0]}.py"
        for references in AUTO_MAP.values()
        for reference in (references.values() if isinstance(references, dict) else [references])
    }
)


def build_tokenizer(config):
    """A word-level tokenizer over the whole vocabulary: special tokens at the config's ids, words `w<id>` elsewhere."""
    text_config = config.text_config
    tokens = {IMAGE_TOKEN_ID: IMAGE_TOKEN}
    roles = {}
    for role, token in (("pad_token", "<pad>"), ("bos_token", "<s>"), ("eos_token", "</s>")):
        token_id = getattr(text_config, role + "_id")
        if token_id is not None:
            roles[role] = tokens.setdefault(token_id, token)
    free = [i for i in range(text_config.vocab_size) if i not in tokens]
    tokens[free[0]] = roles["unk_token"] = "<unk>"
    tokens.update({i: f"w{i}" for i in free[1:]})
    backend = Tokenizer(models.WordLevel(vocab={token: i for i, token in tokens.items()}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    roles.setdefault("pad_token", "<unk>")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, padding_side="left", **roles)
    tokenizer.add_tokens([AddedToken(IMAGE_TOKEN, special=True, normalized=False)], special_tokens=True)
    return tokenizer


def words(tokenizer, count, offset=0):
    """`count` ordinary words of the test vocabulary, as prompt text."""
    vocab = sorted((i, token) for token, i in tokenizer.get_vocab().items() if token[0] == "w" and token[1:].isdigit())
    return " ".join(vocab[(offset + k) % len(vocab)][1] for k in range(count))


def image_prompts(tokenizer):
    """Two images of different aspect ratios and two prompts of different lengths, one image each."""
    images = [smooth_image(48, 64, seed=1), smooth_image(40, 30, seed=2)]
    text = [f"{words(tokenizer, 2)} {IMAGE_TOKEN} {words(tokenizer, 3, 5)}", f"{IMAGE_TOKEN} {words(tokenizer, 1, 9)}"]
    return {"images": images, "text": text}


def smooth_image(height, width, seed=0):
    rng = np.random.default_rng(seed)
    y = np.linspace(0.0, 1.0, height)[:, None, None]
    x = np.linspace(0.0, 1.0, width)[None, :, None]
    freq = rng.uniform(0.1, 0.4, size=(2, 3))
    phase = rng.uniform(0.0, 2 * np.pi, size=3)
    pixels = 127.5 + 100.0 * np.sin(2 * np.pi * (freq[0] * x + freq[1] * y) + phase)
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8))


def config_dict(config):
    """The config's values, without where it was loaded from and the dtype loading records."""

    def clean(value):
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items() if k not in ("_name_or_path", "dtype")}
        return value

    return clean(config.to_dict())


@pytest.fixture(scope="module")
def config():
    return LlavaVllmConfig()


@pytest.fixture(scope="module")
def model(config):
    torch.manual_seed(0)
    return LlavaVllmForConditionalGeneration(config).eval()


@pytest.fixture(scope="module")
def tokenizer(config):
    return build_tokenizer(config)


@pytest.fixture(scope="module")
def processor(tokenizer):
    # Where torchvision is missing (vLLM's venv runs the generation tests too), the PIL backend makes the inputs.
    backend = LlavaVllmImageProcessor if is_torchvision_available() else LlavaVllmImageProcessorPil
    return LlavaVllmProcessor(image_processor=backend(), tokenizer=tokenizer)


@pytest.fixture(scope="module")
def image_batch(processor):
    return processor(**image_prompts(processor.tokenizer), padding=True, return_tensors="pt")


def test_config_matches_spec(config, tokenizer):
    assert config.model_type == "llava_vllm"
    assert config.vision_config.model_type == "clip_vision_model"
    assert config.text_config.model_type == "llama"
    assert config.image_token_id == IMAGE_TOKEN_ID == tokenizer.convert_tokens_to_ids(IMAGE_TOKEN)
    assert config.image_seq_length == NUM_IMAGE_FEATURES
    assert config.vision_config.image_size == IMAGE_SIZE


def test_config_round_trip(config, tmp_path):
    assert LlavaVllmConfig.from_dict(config.to_dict()).to_dict() == config.to_dict()
    config.save_pretrained(tmp_path)
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is LlavaVllmConfig
    assert config_dict(loaded) == config_dict(config)


def test_processor_expands_each_image_token_to_the_feature_count(image_batch):
    counts = (image_batch["input_ids"] == IMAGE_TOKEN_ID).sum(-1).tolist()
    assert counts == [NUM_IMAGE_FEATURES, NUM_IMAGE_FEATURES]
    assert tuple(image_batch["pixel_values"].shape) == (2, 3, IMAGE_SIZE, IMAGE_SIZE)


def test_processor_predicts_the_token_count_without_processing(processor):
    counts = processor._get_num_multimodal_tokens(image_sizes=[(48, 64), (IMAGE_SIZE * 2, 17)])
    assert counts.num_image_tokens == [NUM_IMAGE_FEATURES, NUM_IMAGE_FEATURES]


def test_model_gives_one_feature_per_image_token(model, image_batch):
    with torch.no_grad():
        features = model.get_image_features(pixel_values=image_batch["pixel_values"]).pooler_output
    assert [tuple(f.shape) for f in features] == [(NUM_IMAGE_FEATURES, model.config.text_config.hidden_size)] * 2


def test_forward_and_generate_with_images(model, image_batch):
    with torch.no_grad():
        logits = model(**image_batch).logits
        generated = model.generate(**image_batch, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    batch, length = image_batch["input_ids"].shape
    assert tuple(logits.shape) == (batch, length, model.config.text_config.vocab_size)
    assert torch.isfinite(logits).all()
    assert generated.shape[0] == batch and length < generated.shape[1] <= length + MAX_NEW_TOKENS
    assert torch.equal(generated[:, :length], image_batch["input_ids"])


def test_beam_search_gives_each_copy_of_a_prompt_its_own_images(model, image_batch):
    """Beam search copies every prompt (the first one holds more images than the second); each copy must see its own
    prompt's images, so the first step's logits of every beam equal the forward pass's for its prompt."""
    with torch.no_grad():
        expected = model(**image_batch).logits[:, -1]
        out = model.generate(
            **image_batch,
            max_new_tokens=MAX_NEW_TOKENS,
            do_sample=False,
            num_beams=2,
            num_return_sequences=2,
            output_logits=True,
            return_dict_in_generate=True,
        )
    first_step = out.logits[0].view(expected.shape[0], 2, -1)
    assert out.sequences.shape[0] == 2 * expected.shape[0]
    for beam in range(2):
        torch.testing.assert_close(first_step[:, beam], expected, rtol=1e-4, atol=1e-4)


def test_generate_text_only(model, processor):
    text = [words(processor.tokenizer, 4), words(processor.tokenizer, 2, 7)]
    inputs = processor(text=text, padding=True, return_tensors="pt")
    assert "pixel_values" not in inputs
    with torch.no_grad():
        generated = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    length = inputs["input_ids"].shape[1]
    assert generated.shape[0] == 2 and length < generated.shape[1] <= length + MAX_NEW_TOKENS


def test_wrong_number_of_image_tokens_is_a_clear_error(model, processor, image_batch):
    input_ids = image_batch["input_ids"].clone()
    first = (input_ids[0] == IMAGE_TOKEN_ID).nonzero()[0, 0]
    input_ids[0, first] = model.config.text_config.vocab_size - 1 if IMAGE_TOKEN_ID == 0 else 0
    with pytest.raises(ValueError, match="image tokens") as error:
        model(input_ids=input_ids, pixel_values=image_batch["pixel_values"])
    assert f"{2 * NUM_IMAGE_FEATURES - 1} image tokens" in str(error.value)
    with pytest.raises(ValueError, match="tokens"):  # the processor counts image tokens against images, too
        processor(images=[smooth_image(32, 32)], text=[f"{IMAGE_TOKEN} {IMAGE_TOKEN}"])


def test_save_and_load_keep_logits(model, processor, image_batch, tmp_path):
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded_model = AutoModelForImageTextToText.from_pretrained(tmp_path).eval()
    loaded_processor = AutoProcessor.from_pretrained(tmp_path)
    assert type(loaded_model) is LlavaVllmForConditionalGeneration
    assert type(loaded_processor) is LlavaVllmProcessor
    assert config_dict(loaded_model.config) == config_dict(model.config)
    assert type(AutoTokenizer.from_pretrained(tmp_path)).__name__ == type(processor.tokenizer).__name__
    again = loaded_processor(**image_prompts(processor.tokenizer), padding=True, return_tensors="pt")
    assert torch.equal(again["input_ids"], image_batch["input_ids"])
    torch.testing.assert_close(again["pixel_values"], image_batch["pixel_values"], atol=0, rtol=0)
    with torch.no_grad():
        assert torch.equal(loaded_model(**again).logits, model(**image_batch).logits)
    pil_processor = AutoProcessor.from_pretrained(tmp_path, backend="pil")
    assert type(pil_processor.image_processor) is LlavaVllmImageProcessorPil
    with_pil = pil_processor(**image_prompts(processor.tokenizer), padding=True, return_tensors="pt")
    assert torch.equal(with_pil["input_ids"], image_batch["input_ids"])
    diff = (with_pil["pixel_values"] - image_batch["pixel_values"]).abs()
    assert diff.max() <= ATOL and diff.mean() <= MEAN_ABS_TOL


@pytest.mark.parametrize("size", [(48, 64), (64, 48), (IMAGE_SIZE + 7, IMAGE_SIZE // 2)])
def test_both_image_processor_backends_give_the_same_inputs(tokenizer, size):
    text = [f"{words(tokenizer, 2)} {IMAGE_TOKEN}"]
    image = smooth_image(*size, seed=3)
    outputs = [
        LlavaVllmProcessor(image_processor=backend(), tokenizer=tokenizer)(
            images=[image], text=text, return_tensors="pt"
        )
        for backend in (LlavaVllmImageProcessor, LlavaVllmImageProcessorPil)
    ]
    assert torch.equal(outputs[0]["input_ids"], outputs[1]["input_ids"])
    diff = (outputs[0]["pixel_values"] - outputs[1]["pixel_values"]).abs()
    assert diff.max() <= ATOL and diff.mean() <= MEAN_ABS_TOL


@pytest.mark.parametrize("projector_type", ["identity", "linear", "mlp3x_gelu"])
def test_every_projector_type_runs(config, image_batch, projector_type):
    """The projector is chosen by `config.projector_type`; identity needs text hidden size = vision features."""
    layers = config.vision_feature_layer
    width = config.vision_config.hidden_size * (1 if isinstance(layers, int) else len(layers))
    text_config = config.text_config.to_dict()
    if projector_type == "identity":
        text_config.update(hidden_size=width, num_attention_heads=2, num_key_value_heads=1)
        if text_config.get("head_dim") is not None:
            text_config["head_dim"] = width // 2
    variant = LlavaVllmConfig(
        projector_type=projector_type, vision_config=config.vision_config.to_dict(), text_config=text_config
    )
    torch.manual_seed(0)
    model = LlavaVllmForConditionalGeneration(variant).eval()
    linears = [m for m in model.model.multi_modal_projector.modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == {"identity": 0, "linear": 1, "mlp3x_gelu": 3}[projector_type]
    with torch.no_grad():
        logits = model(**image_batch).logits
    assert tuple(logits.shape) == (*image_batch["input_ids"].shape, variant.text_config.vocab_size)


# Remote code: the folder the package saves, loaded where the package cannot be imported ---------------------------

# Preamble of a fresh `python -I` (no PYTHONPATH, no current directory on sys.path): the names in BLOCKED cannot be
# imported (as if not installed); `report` prints the result, `imported_from` the modules taken from a directory.
ISOLATED_PREAMBLE = """
import json, os, sys
for name in json.loads(os.environ["BLOCKED"]):
    sys.modules[name] = None


def report(value):  # the result, on a line of its own (libraries may print too)
    print("RESULT " + json.dumps(value, default=str), flush=True)


def imported_from(directory):
    return sorted(
        name for name, module in list(sys.modules.items())
        if (getattr(module, "__file__", None) or "").startswith(directory)
    )
"""

# Load config, models, processor and image processors from the folder as remote code; greedy `generate` on each case
# with each backend's processor; save the loaded model and processor, and the default image processor alone, again.
REMOTE_CODE_CHILD = """
import torch
from PIL import Image
from transformers import AutoConfig, AutoImageProcessor, AutoModel, AutoModelForImageTextToText, AutoProcessor

folder, cases, backends, resave = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3]), sys.argv[4]
kwargs = {"trust_remote_code": True}
model, info = AutoModelForImageTextToText.from_pretrained(folder, output_loading_info=True, **kwargs)
base_model, base_info = AutoModel.from_pretrained(folder, output_loading_info=True, **kwargs)
loaded = {
    "config": AutoConfig.from_pretrained(folder, **kwargs),
    "model": model.eval(),
    "base_model": base_model,
    "processor": AutoProcessor.from_pretrained(folder, **kwargs),
    "image_processor": AutoImageProcessor.from_pretrained(folder, **kwargs),
}
out = {"loading_info": [{key: sorted(map(str, value)) for key, value in i.items()} for i in (info, base_info)]}
out["generated"] = {}
for backend in backends:
    loaded[f"image_processor_{backend}"] = AutoImageProcessor.from_pretrained(folder, backend=backend, **kwargs)
    processor = loaded[f"processor_{backend}"] = AutoProcessor.from_pretrained(folder, backend=backend, **kwargs)
    out["generated"][backend] = []
    for text, images in cases:
        inputs = processor(images=[Image.open(path) for path in images] or None, text=[text], return_tensors="pt")
        with torch.no_grad():
            generated = model.generate(**inputs, max_new_tokens=int(os.environ["MAX_NEW_TOKENS"]), do_sample=False)
        out["generated"][backend].append(generated[0].tolist())
out["classes"] = {key: f"{type(value).__module__}.{type(value).__name__}" for key, value in loaded.items()}
out["image_processors"] = {
    key: type(value.image_processor).__name__ for key, value in loaded.items() if key.startswith("processor")
}
if resave != "-":
    model.save_pretrained(os.path.join(resave, "model"))
    loaded["processor"].save_pretrained(os.path.join(resave, "model"))
    loaded["image_processor"].save_pretrained(os.path.join(resave, "image_processor"))
out["imported_from_package"] = imported_from(os.environ["PACKAGE_DIR"])
report(out)
"""


def run_isolated(code, *args, blocked=(), package=False):
    """Run ISOLATED_PREAMBLE + `code` in a fresh interpreter where scaffold, `blocked` and (unless `package`) this
    package cannot be imported, with an empty transformers remote-code cache; return what it reports last."""
    with tempfile.TemporaryDirectory(prefix="hf-modules-") as modules_cache:
        env = {
            **os.environ,
            "BLOCKED": json.dumps(["scaffold", *blocked] + ([] if package else ["llava_vllm"])),
            "PACKAGE_DIR": str(PACKAGE_DIR),
            "HF_MODULES_CACHE": modules_cache,
            "HF_HUB_OFFLINE": "1",
            "MAX_NEW_TOKENS": str(MAX_NEW_TOKENS),
        }
        done = subprocess.run(
            [sys.executable, "-I", "-c", ISOLATED_PREAMBLE + code, *map(str, args)],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
        )
    results = [line[len("RESULT ") :] for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and results, done.stdout[-3000:] + done.stderr[-6000:]
    return json.loads(results[-1])


def save_cases(directory, cases):
    """(text, [PIL image]) cases as (text, [PNG path]), for another process."""
    directory.mkdir(parents=True, exist_ok=True)
    saved = []
    for index, (text, images) in enumerate(cases):
        paths = []
        for k, image in enumerate(images):
            paths.append(str(directory / f"case{index}_{k}.png"))
            image.save(paths[-1])
        saved.append((text, paths))
    return saved


def remote_code_cases(tokenizer):
    """An image and text, two images, text only."""
    return [
        (f"{words(tokenizer, 2)} {IMAGE_TOKEN} {words(tokenizer, 3, 5)}", [smooth_image(48, 64, seed=1)]),
        (
            f"{IMAGE_TOKEN} {words(tokenizer, 1, 9)} {IMAGE_TOKEN}",
            [smooth_image(40, 30, seed=2), smooth_image(9, 9, seed=3)],
        ),
        (words(tokenizer, 5, 3), []),
    ]


def available_backends():
    return ["pil", "torchvision"] if is_torchvision_available() else ["pil"]


@pytest.fixture(scope="module")
def published(model, tokenizer, tmp_path_factory):
    """A folder saved by the package's own classes (model, then processor with the PIL backend), the test cases, and
    the package's greedy output on them with each backend."""
    root = tmp_path_factory.mktemp("published")
    folder = root / "model"
    model.save_pretrained(folder)
    LlavaVllmProcessor(image_processor=LlavaVllmImageProcessorPil(), tokenizer=tokenizer).save_pretrained(folder)
    cases = remote_code_cases(tokenizer)
    expected = {}
    for backend in available_backends():
        image_processor = LlavaVllmImageProcessorPil() if backend == "pil" else LlavaVllmImageProcessor()
        processor = LlavaVllmProcessor(image_processor=image_processor, tokenizer=tokenizer)
        expected[backend] = []
        for text, images in cases:
            inputs = processor(images=images or None, text=[text], return_tensors="pt")
            with torch.no_grad():
                generated = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
            expected[backend].append(generated[0].tolist())
    return {"root": root, "folder": folder, "cases": save_cases(root / "cases", cases), "expected": expected}


@pytest.fixture(scope="module")
def remote_loaded(published):
    """REMOTE_CODE_CHILD on the published folder, re-saving what it loaded under root/resaved."""
    resave = published["root"] / "resaved"
    backends = available_backends()
    return run_isolated(
        REMOTE_CODE_CHILD, published["folder"], json.dumps(published["cases"]), json.dumps(backends), resave
    )


def test_remote_code_folder_is_self_contained(published, model):
    folder = published["folder"]
    files = sorted(path.name for path in folder.iterdir())
    assert [name for name in files if name.endswith(".py")] == MODEL_MODULES
    assert {"config.json", "model.safetensors", "processor_config.json", "tokenizer.json"} <= set(files)
    config = json.loads((folder / "config.json").read_text())
    assert config["auto_map"] == AUTO_MAP
    processor_config = json.loads((folder / "processor_config.json").read_text())
    assert processor_config["auto_map"] == {"AutoProcessor": AUTO_MAP["AutoProcessor"]}
    image_processor_map = processor_config["image_processor"]["auto_map"]
    assert image_processor_map["AutoImageProcessor"] == AUTO_MAP["AutoImageProcessor"]
    # The code files import each other relatively, and nothing from the package or from scaffold.
    for name in MODEL_MODULES:
        for node in ast.walk(ast.parse((folder / name).read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                assert node.level == 1 and f"{node.module}.py" in MODEL_MODULES, (name, node.module)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [node.module] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
                assert not {m.split(".")[0] for m in modules} & {"llava_vllm", "scaffold"}, (name, modules)
    from safetensors import safe_open

    from transformers.core_model_loading import revert_weight_conversion

    with safe_open(folder / "model.safetensors", "pt") as weights:
        keys = set(weights.keys())
    # As transformers saves them: a tower or decoder with a conversion mapping (DINOv2's) keeps its older names.
    saved = set(revert_weight_conversion(model, dict(model.state_dict())))
    assert keys == saved - set(model._tied_weights_keys if model.config.tie_word_embeddings else {})


def test_remote_code_loads_without_the_package(remote_loaded):
    assert remote_loaded["imported_from_package"] == []
    classes = remote_loaded["classes"]
    assert all(name.startswith("transformers_modules.") for name in classes.values()), classes
    assert classes["config"].endswith(".configuration_llava_vllm.LlavaVllmConfig")
    assert classes["model"].endswith(".modeling_llava_vllm.LlavaVllmForConditionalGeneration")
    assert classes["base_model"].endswith(".modeling_llava_vllm.LlavaVllmModel")
    assert classes["processor"].endswith(".processing_llava_vllm.LlavaVllmProcessor")
    assert classes["image_processor_pil"].endswith(".image_processing_pil_llava_vllm.LlavaVllmImageProcessorPil")
    assert remote_loaded["image_processors"]["processor_pil"] == "LlavaVllmImageProcessorPil"
    if is_torchvision_available():
        assert classes["image_processor_torchvision"].endswith(".image_processing_llava_vllm.LlavaVllmImageProcessor")
        assert remote_loaded["image_processors"]["processor_torchvision"] == "LlavaVllmImageProcessor"
    # Every weight loads, under the names it was saved with; the base model (AutoModel, vLLM's Transformers backend)
    # has all of them but the language modeling head.
    info, base_info = remote_loaded["loading_info"]
    assert not any(info[key] for key in ("missing_keys", "unexpected_keys", "mismatched_keys")), info
    assert not base_info["missing_keys"] and not base_info["mismatched_keys"], base_info
    assert all(key.startswith("lm_head.") for key in base_info["unexpected_keys"]), base_info


@pytest.mark.parametrize("backend", ["pil", "torchvision"])
def test_remote_code_generates_as_the_package(published, remote_loaded, backend):
    if backend not in available_backends():
        pytest.skip("torchvision is not installed: the torchvision image processor cannot run")
    assert remote_loaded["generated"][backend] == published["expected"][backend]
    assert any(len(tokens) > 0 for tokens in published["expected"][backend])


def test_remote_code_resaves_a_complete_folder(remote_loaded, published):
    """Objects loaded as remote code save folders that need nothing else either (transformers copies a module with the
    modules it imports relatively; see the TYPE_CHECKING imports of the configuration module)."""
    resaved = published["root"] / "resaved"
    assert sorted(path.name for path in (resaved / "model").glob("*.py")) == MODEL_MODULES
    assert json.loads((resaved / "model" / "config.json").read_text())["auto_map"] == AUTO_MAP
    alone = resaved / "image_processor"
    modules = {reference.split(".")[0] + ".py" for reference in AUTO_MAP["AutoImageProcessor"].values()}
    assert modules <= {path.name for path in alone.glob("*.py")}
    saved = json.loads((alone / "preprocessor_config.json").read_text())
    assert saved["auto_map"]["AutoImageProcessor"] == AUTO_MAP["AutoImageProcessor"]


def test_remote_code_pil_backend_without_torchvision(published, remote_loaded):
    """Where torchvision cannot be imported, the re-saved folder loads with the PIL backend by default and generates
    as the package does; the image processor saved alone loads too."""
    resaved = published["root"] / "resaved"
    without = run_isolated(
        REMOTE_CODE_CHILD,
        resaved / "model",
        json.dumps(published["cases"]),
        json.dumps(["pil"]),
        "-",
        blocked=["torchvision"],
    )
    assert without["imported_from_package"] == []
    assert without["image_processors"]["processor"] == "LlavaVllmImageProcessorPil"
    assert without["classes"]["image_processor"].endswith(".LlavaVllmImageProcessorPil")
    assert without["generated"]["pil"] == published["expected"]["pil"]
    code = "from transformers import AutoImageProcessor\n"
    code += "image_processor = AutoImageProcessor.from_pretrained(sys.argv[1], trust_remote_code=True)\n"
    code += "report([type(image_processor).__name__, imported_from(os.environ['PACKAGE_DIR'])])\n"
    assert run_isolated(code, resaved / "image_processor", blocked=["torchvision"]) == [
        "LlavaVllmImageProcessorPil",
        [],
    ]
