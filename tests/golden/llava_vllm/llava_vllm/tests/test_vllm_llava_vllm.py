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
"""Tests of the vLLM integration of LlavaVllm, in three tiers:

- always: the image-token count vLLM uses is the one the transformers processor expands to;
- when vLLM is importable: the vLLM module imports and registers, vLLM's multimodal processor gives the prompt the
  transformers processor gives, a transformers checkpoint loads into the vLLM model with no weight missing, and the
  vLLM image embeddings equal the transformers image features;
- marked `vllm_engine`: offline `vllm.LLM` serves the folder the package saved, through the native plugin
  (`model_impl="vllm"`) and through vLLM's Transformers backend (`model_impl="transformers"`, remote code, in a process
  that cannot import this package): greedy generation equals transformers `generate` token for token, and the prompt
  token ids equal the transformers processor's for images of many sizes.
"""

import importlib.metadata
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from llava_vllm import (
    LlavaVllmConfig,
    LlavaVllmForConditionalGeneration,
    LlavaVllmImageProcessorPil,
    LlavaVllmProcessor,
)
from llava_vllm.vllm_plugin_llava_vllm import ARCHITECTURE, num_image_tokens, register
from transformers.utils import is_torchvision_available

from .test_modeling_llava_vllm import (
    build_tokenizer,
    remote_code_cases,
    run_isolated,
    save_cases,
    smooth_image,
    words,
)


IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 127
IMAGE_SIZE = 64
# The directory holding the package: vLLM imports the model by module name, also in the processes it starts.
PACKAGE_PARENT = Path(__file__).resolve().parents[2]
PYPROJECT = PACKAGE_PARENT / "pyproject.toml"
# (height, width) of test images: tiny, huge, square, both orientations, odd sizes.
IMAGE_SIZES = [
    (1, 1),
    (2, 97),
    (97, 2),
    (14, 14),
    (IMAGE_SIZE - 1, IMAGE_SIZE + 1),
    (IMAGE_SIZE, IMAGE_SIZE),
    (IMAGE_SIZE + 1, IMAGE_SIZE + 1),
    (100, 37),
    (37, 100),
    (2 * IMAGE_SIZE + 3, IMAGE_SIZE // 2),
    (333, 500),
    (1024, 17),
]
MAX_NEW_TOKENS = 8


def image_processors():
    processors = [LlavaVllmImageProcessorPil()]
    if is_torchvision_available():
        from llava_vllm import LlavaVllmImageProcessor

        processors.append(LlavaVllmImageProcessor())
    return processors


# Tier (a): no vLLM needed ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("strategy", ["default", "full"])
def test_num_image_tokens_matches_the_processor_expansion(strategy):
    config = LlavaVllmConfig(vision_feature_select_strategy=strategy)
    tokenizer = build_tokenizer(config)
    expected = num_image_tokens(config)
    for image_processor in image_processors():
        processor = LlavaVllmProcessor(
            image_processor=image_processor, tokenizer=tokenizer, vision_feature_select_strategy=strategy
        )
        for height, width in IMAGE_SIZES:
            batch = processor(images=[smooth_image(height, width)], text=[f"{words(tokenizer, 1)} {IMAGE_TOKEN}"])
            count = int((np.asarray(batch["input_ids"]) == IMAGE_TOKEN_ID).sum())
            assert count == expected, (type(image_processor).__name__, strategy, height, width)


def test_num_image_tokens_is_the_model_feature_count():
    config = LlavaVllmConfig()
    assert num_image_tokens(config) == config.image_seq_length
    torch.manual_seed(0)
    model = LlavaVllmForConditionalGeneration(config).eval()
    side = config.vision_config.image_size
    pixel_values = torch.randn(1, 3, side, side)
    with torch.no_grad():
        features = model.get_image_features(pixel_values=pixel_values).pooler_output
    assert features[0].shape[0] == num_image_tokens(config)


def test_entry_point_names_register():
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    entry_points = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"]["vllm.general_plugins"]
    assert len(entry_points) == 1
    ((name, value),) = entry_points.items()
    loaded = importlib.metadata.EntryPoint(name=name, value=value, group="vllm.general_plugins").load()
    assert loaded is register


# Tier (b): vLLM importable, no engine -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def vllm():
    vllm = pytest.importorskip("vllm")
    os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"
    path = os.environ.get("PYTHONPATH", "")
    if str(PACKAGE_PARENT) not in path.split(os.pathsep):
        os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(PACKAGE_PARENT), path) if p)
    register()
    return vllm


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A tiny random model saved by transformers, with its processor (PIL backend) and tokenizer."""
    config = LlavaVllmConfig()
    torch.manual_seed(0)
    model = LlavaVllmForConditionalGeneration(config).eval()
    processor = LlavaVllmProcessor(image_processor=LlavaVllmImageProcessorPil(), tokenizer=build_tokenizer(config))
    path = tmp_path_factory.mktemp("checkpoint")
    model.save_pretrained(path)
    processor.save_pretrained(path)
    return path


def engine_kwargs(checkpoint):
    """vLLM settings for the tiny model on a CPU: float32 as transformers, eager, a small KV cache."""
    return {
        "model": str(checkpoint),
        "dtype": "float32",
        "max_model_len": LlavaVllmConfig().text_config.max_position_embeddings,
        "enforce_eager": True,
        "limit_mm_per_prompt": {"image": 2},
        "kv_cache_memory_bytes": 64 * 2**20,
        "max_num_seqs": 4,
    }


def engine_args(checkpoint):
    from vllm.engine.arg_utils import EngineArgs

    return EngineArgs(**engine_kwargs(checkpoint))


def prompts(tokenizer):
    """Prompts with one image, two images and none."""
    return remote_code_cases(tokenizer)


def size_prompts(tokenizer):
    """One prompt per size of IMAGE_SIZES, with one image of that size, the text around it varying."""
    return [
        (
            f"{words(tokenizer, 1 + k % 3, k)} {IMAGE_TOKEN} {words(tokenizer, 2, 3 * k)}",
            [smooth_image(height, width, seed=k)],
        )
        for k, (height, width) in enumerate(IMAGE_SIZES)
    ]


def test_vllm_module_imports_and_registers(vllm, checkpoint):
    from vllm.model_executor.models.interfaces import supports_multimodal

    from llava_vllm.vllm_llava_vllm import LlavaVllmForConditionalGeneration as VllmModel

    assert supports_multimodal(VllmModel)
    assert ARCHITECTURE in vllm.ModelRegistry.get_supported_archs()
    model_config = engine_args(checkpoint).create_model_config()
    model_cls, arch = vllm.ModelRegistry.resolve_model_cls(model_config.architectures, model_config)
    assert (model_cls, arch) == (VllmModel, ARCHITECTURE)
    assert model_config.is_multimodal_model


def test_vllm_discovers_the_entry_point(vllm, tmp_path, monkeypatch):
    """vLLM's plugin loader finds `register` through the entry point of pyproject.toml, as if the package were
    installed (a minimal .dist-info of it on sys.path)."""
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
    from vllm.plugins import load_plugins_by_group

    project = tomllib.loads(PYPROJECT.read_text())["project"]
    dist_info = tmp_path / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
    )
    plugins = project["entry-points"]["vllm.general_plugins"]
    lines = [f"{name} = {value}" for name, value in plugins.items()]
    (dist_info / "entry_points.txt").write_text("[vllm.general_plugins]\n" + "\n".join(lines) + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delenv("VLLM_PLUGINS", raising=False)
    loaded = load_plugins_by_group("vllm.general_plugins")
    assert [loaded[name] for name in plugins] == [register]


def test_vllm_processor_matches_the_transformers_processor(vllm, checkpoint):
    from vllm.multimodal import MULTIMODAL_REGISTRY

    from transformers import AutoProcessor

    model_config = engine_args(checkpoint).create_model_config()
    vllm_processor = MULTIMODAL_REGISTRY.create_processor(model_config)
    hf_processor = AutoProcessor.from_pretrained(checkpoint)
    expected_tokens = num_image_tokens(LlavaVllmConfig())
    for text, images in prompts(hf_processor.tokenizer):
        if not images:
            continue
        expected = hf_processor(images=images, text=[text], return_tensors="pt")
        mm_items = vllm_processor.info.parse_mm_data({"image": images})
        result = vllm_processor(text, mm_items)
        assert result["prompt_token_ids"] == expected["input_ids"][0].tolist()
        placeholders = result["mm_placeholders"]["image"]
        assert [p.length for p in placeholders] == [expected_tokens] * len(images)
        for placeholder in placeholders:
            span = result["prompt_token_ids"][placeholder.offset : placeholder.offset + placeholder.length]
            assert span == [IMAGE_TOKEN_ID] * expected_tokens
        pixel_values = torch.stack([item["pixel_values"].data for item in result["mm_kwargs"]["image"]])
        torch.testing.assert_close(pixel_values, expected["pixel_values"], atol=0, rtol=0)


@pytest.fixture(scope="module")
def vllm_model(vllm, checkpoint):
    """The vLLM model built from the checkpoint's config, outside the engine, and the names its weights loaded into."""
    from safetensors.torch import load_file
    from vllm.config import set_current_vllm_config
    from vllm.distributed import parallel_state
    from vllm.model_executor.model_loader.utils import initialize_model, process_weights_after_loading
    from vllm.utils.network_utils import get_open_port

    vllm_config = engine_args(checkpoint).create_engine_config()
    with set_current_vllm_config(vllm_config):
        parallel_state.init_distributed_environment(
            world_size=1,
            rank=0,
            local_rank=0,
            distributed_init_method=f"tcp://127.0.0.1:{get_open_port()}",
            backend="gloo",
        )
        parallel_state.initialize_model_parallel(1, 1)
        try:
            model = initialize_model(vllm_config=vllm_config).eval()
            loaded = model.load_weights(load_file(checkpoint / "model.safetensors").items())
            process_weights_after_loading(model, vllm_config.model_config, torch.device("cpu"))
            yield vllm_config, model, loaded
        finally:
            parallel_state.destroy_model_parallel()
            parallel_state.destroy_distributed_environment()


def test_all_weights_load(vllm_model):
    _, model, loaded = vllm_model
    parameters = {name for name, _ in model.named_parameters()}
    assert parameters - loaded == set()


def test_vllm_image_embeddings_match_transformers(vllm_model, checkpoint):
    from transformers import AutoModelForImageTextToText, AutoProcessor

    vllm_config, model, _ = vllm_model
    hf_model = AutoModelForImageTextToText.from_pretrained(checkpoint).eval()
    processor = AutoProcessor.from_pretrained(checkpoint)
    pixel_values = processor.image_processor(
        [smooth_image(48, 64, seed=1), smooth_image(30, 40, seed=2)], return_tensors="pt"
    )["pixel_values"]
    inputs = {"pixel_values": pixel_values}
    from vllm.config import set_current_vllm_config
    from vllm.forward_context import set_forward_context

    with torch.no_grad(), set_current_vllm_config(vllm_config), set_forward_context(None, vllm_config):
        embeddings = model.embed_multimodal(**inputs)
        expected = hf_model.get_image_features(**inputs).pooler_output
    assert len(embeddings) == len(expected) == 2
    for got, want in zip(embeddings, expected, strict=True):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


# Tier (c): the vLLM engine ------------------------------------------------------------------------------------------

# Serve a folder with `vllm.LLM(**engine kwargs)`: greedy generation on each case, then the prompt token ids of the
# size cases (one token generated).
ENGINE_CHILD = """
from PIL import Image
import vllm

kwargs, cases, size_cases = (json.loads(arg) for arg in sys.argv[1:4])
max_new_tokens = kwargs.pop("max_new_tokens")
if kwargs.pop("register_plugin"):
    from llava_vllm.vllm_plugin_llava_vllm import register

    register()
llm = vllm.LLM(**kwargs)
model_config = llm.llm_engine.model_config


def requests(cases):
    return [
        {"prompt": text, "multi_modal_data": {"image": [Image.open(path) for path in images]}} if images else {"prompt": text}
        for text, images in cases
    ]


outputs = llm.generate(requests(cases), vllm.SamplingParams(temperature=0.0, max_tokens=max_new_tokens), use_tqdm=False)
size_outputs = llm.generate(requests(size_cases), vllm.SamplingParams(temperature=0.0, max_tokens=1), use_tqdm=False)
report({
    "architecture": model_config._model_info.architecture,
    "is_multimodal": model_config.is_multimodal_model,
    "config_class": type(model_config.hf_config).__module__,
    "prompt_token_ids": [list(output.prompt_token_ids) for output in outputs],
    "generated": [list(output.outputs[0].token_ids) for output in outputs],
    "size_prompt_token_ids": [list(output.prompt_token_ids) for output in size_outputs],
    "imported_from_package": imported_from(os.environ["PACKAGE_DIR"]),
})
os._exit(0)  # no engine teardown: the results are out
"""


@pytest.fixture(scope="module")
def served(checkpoint, tmp_path_factory):
    """The cases, saved for another process, and what transformers gives on them: prompt ids and greedy tokens."""
    from transformers import AutoModelForImageTextToText, AutoProcessor

    hf_model = AutoModelForImageTextToText.from_pretrained(checkpoint).eval()
    processor = AutoProcessor.from_pretrained(checkpoint)
    cases, size_cases = prompts(processor.tokenizer), size_prompts(processor.tokenizer)
    expected = {"prompt_token_ids": [], "generated": []}
    for text, images in cases:
        inputs = processor(images=images or None, text=[text], return_tensors="pt")
        with torch.no_grad():
            generated = hf_model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        expected["prompt_token_ids"].append(inputs["input_ids"][0].tolist())
        expected["generated"].append(generated[0, inputs["input_ids"].shape[1] :].tolist())
    expected["size_prompt_token_ids"] = [
        processor(images=images, text=[text])["input_ids"][0] for text, images in size_cases
    ]
    assert any(len(tokens) == MAX_NEW_TOKENS for tokens in expected["generated"])  # not all stopped at once by an EOS
    directory = tmp_path_factory.mktemp("served")
    return {
        "cases": save_cases(directory / "cases", cases),
        "size_cases": save_cases(directory / "sizes", size_cases),
        "expected": expected,
    }


def serve(checkpoint, served, model_impl, *, without_package):
    """ENGINE_CHILD on the checkpoint with this `model_impl` and `trust_remote_code=True`, one engine per process. With
    `without_package`, the process cannot import this package (the folder's own code is all vLLM has); otherwise it
    registers the native model as the entry point would."""
    kwargs = {**engine_kwargs(checkpoint), "model_impl": model_impl, "trust_remote_code": True}
    kwargs.update(register_plugin=not without_package, max_new_tokens=MAX_NEW_TOKENS)
    code = ENGINE_CHILD
    if not without_package:  # the package is importable from PACKAGE_PARENT, as if installed
        code = f"sys.path.insert(0, {str(PACKAGE_PARENT)!r})\n" + code
    os.environ.setdefault("VLLM_ENABLE_V1_MULTIPROCESSING", "0")
    result = run_isolated(
        code,
        json.dumps(kwargs),
        json.dumps(served["cases"]),
        json.dumps(served["size_cases"]),
        package=not without_package,
    )
    assert result["is_multimodal"]
    return result


def assert_served_as_transformers(result, served):
    expected = served["expected"]
    assert result["prompt_token_ids"] == expected["prompt_token_ids"]
    assert result["generated"] == expected["generated"]
    assert len(result["size_prompt_token_ids"]) == len(IMAGE_SIZES)
    for size, got, want in zip(
        IMAGE_SIZES, result["size_prompt_token_ids"], expected["size_prompt_token_ids"], strict=True
    ):
        assert got == want, size


@pytest.mark.vllm_engine
def test_vllm_native_plugin_serves_the_folder_as_transformers(vllm, checkpoint, served):
    result = serve(checkpoint, served, "vllm", without_package=False)
    assert result["architecture"] == ARCHITECTURE
    assert result["imported_from_package"]  # the native model is this package's
    assert_served_as_transformers(result, served)


@pytest.mark.vllm_engine
def test_vllm_transformers_backend_serves_the_folder_as_transformers(vllm, checkpoint, served):
    result = serve(checkpoint, served, "transformers", without_package=True)
    assert result["architecture"] == "TransformersMultiModalForCausalLM"
    assert result["config_class"].startswith("transformers_modules.")
    assert result["imported_from_package"] == []
    assert_served_as_transformers(result, served)
