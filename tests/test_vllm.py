"""`vllm: true`: the spec key, the files it adds, and the generated vLLM integration against a real vLLM.

The last tests render examples/llava_vllm.yaml, a SigLIP/Qwen2 spec and `vllm: true` variants of the grid layout
example, of the two connector examples (internvl_shuffle: tiles, pixel shuffle, LayerNorm, delimiters, a SigLIP2
tower; patch_merge_swiglu: patch merge, LayerNorm, SwiGLU, delimiters added, an InternViT tower) and of the tile-marker
example (an InternViT tower; the native plugin's engine test only) and of the native layout example (Qwen2-VL's tower,
an M-RoPE decoder served through SupportsMRoPE), and run their generated vLLM tests
(registration, processor, placeholder, weight, connector and embedding parity, and the `vllm_engine` tests: the saved folder served through the native plugin and through vLLM's
Transformers backend as remote code, greedy output and prompt ids equal to transformers'), and the generated
fresh-process remote-code tests (transformers 5.19 there, no torchvision), with the Python of a vLLM venv,
`$SCAFFOLD_VLLM_PYTHON` (made by scripts/make-vllm-venv.sh; .ci/run sets it). Without that variable they skip; the
generated suite's vLLM-free tier still runs in test_generated_code.py.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
from helpers import ROOT, run_cli

from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec
from scaffold.spec.names import Names

EXAMPLE = ROOT / "examples" / "llava_vllm.yaml"
VLLM_PYTHON = os.environ.get("SCAFFOLD_VLLM_PYTHON")

needs_vllm_venv = pytest.mark.skipif(
    not VLLM_PYTHON,
    reason="SCAFFOLD_VLLM_PYTHON is unset: make a vLLM venv with scripts/make-vllm-venv.sh DIR and set it to DIR/bin/python",
)
VLLM_FILES = {
    "llava_vllm/vllm_llava_vllm.py",
    "llava_vllm/vllm_plugin_llava_vllm.py",
    "llava_vllm/tests/test_vllm_llava_vllm.py",
    "pyproject.toml",
}


def test_vllm_needs_the_model_sections(write_spec):
    text = EXAMPLE.read_text().split("vision:")[0] + "vllm: true\n"
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    problems = [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]
    assert len(problems) == 1 and problems[0].startswith("spec.yaml:"), problems
    assert "vllm: vllm: true needs the model sections vision, projector, text, processor" in problems[0]


def test_vllm_adds_its_files_only_when_asked(write_spec):
    with_vllm = set(render_spec(load_spec(EXAMPLE)))
    assert VLLM_FILES <= with_vllm
    without = set(render_spec(load_spec(write_spec(EXAMPLE.read_text().replace("vllm: true", "vllm: false")))))
    assert without == with_vllm - VLLM_FILES


def test_entry_point_and_registration_name_the_generated_class():
    files = render_spec(load_spec(EXAMPLE))
    pyproject = files["pyproject.toml"]
    assert '[project.entry-points."vllm.general_plugins"]' in pyproject
    assert 'llava_vllm = "llava_vllm.vllm_plugin_llava_vllm:register"' in pyproject
    plugin = files["llava_vllm/vllm_plugin_llava_vllm.py"]
    assert 'ARCHITECTURE = "LlavaVllmForConditionalGeneration"' in plugin
    assert 'MODEL_CLASS = "llava_vllm.vllm_llava_vllm:LlavaVllmForConditionalGeneration"' in plugin
    assert (
        "class LlavaVllmForConditionalGeneration(nn.Module, SupportsMultiModal):"
        in files["llava_vllm/vllm_llava_vllm.py"]
    )


# The other branches of the vLLM template: a SigLIP tower (no CLS) read from two concatenated layers, a linear
# projector, a Qwen2 decoder with tied embeddings and a chat template. Heads are 32 wide for vLLM's CPU attention.
SIGLIP_QWEN2 = """\
model: {name: SiglipQwen2Vllm, model_type: siglip_qwen2_vllm}
image_processor:
  resample: bicubic
  image_mean: imagenet_standard
  image_std: imagenet_standard
  size: {height: 48, width: 48}
vision: {family: siglip, image_size: 48, patch_size: 12, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 3,
  num_attention_heads: 2, feature_layer: [-3, -1], feature_select: patch}
projector: {type: linear}
text: {family: qwen2, vocab_size: 160, hidden_size: 64, intermediate_size: 96, num_hidden_layers: 2,
  num_attention_heads: 2, num_key_value_heads: 1, max_position_embeddings: 512, tie_word_embeddings: true,
  pad_token_id: 0, eos_token_id: 1}
processor: {image_token: "<|image_pad|>", image_token_id: 151}
vllm: true
"""


def layout_spec(example: str, name: str, model_type: str) -> str:
    """An example of a dynamic-resolution layout with `vllm: true` and heads 32 wide for vLLM's CPU attention."""
    text = (ROOT / "examples" / example).read_text(encoding="utf-8")
    text = re.sub(r"name: \w+", f"name: {name}", text, count=1)
    text = re.sub(r"model_type: \w+", f"model_type: {model_type}", text, count=1)
    text = text.replace("hidden_size: 32", "hidden_size: 64").replace(
        "num_key_value_heads: 2", "num_key_value_heads: 1"
    )
    text = text.replace("num_attention_heads: 4", "num_attention_heads: 2")
    return text + "vllm: true\n"


# LLaVA-NeXT's anyres grid (CLIP, Llama); the connectors and the delimited token scheme: InternVL's tiles (Qwen2)
# with its pixel shuffle, LayerNorm and GELU MLP, images between `<img>` and `</img>` (internvl_shuffle.yaml is
# internvl_tiles.yaml plus these, so it stands for the tiles layout too), and Mistral3's patch merge, a LayerNorm and a
# SwiGLU MLP on the fixed layout (CLIP, Llama), delimiters added; Idefics3's tile markers (Llama).
# The decoders vary too: the grid variant runs on Mistral, the patch-merge variant on Qwen3 (vLLM builds each from its
# own registry, by the decoder's causal-LM class). So do the towers: vLLM's own CLIP and SigLIP classes, and
# transformers' own module in the vLLM model for SigLIP2 (the shuffle variant, each view cut into patches), InternViT
# (the tile-marker and patch-merge variants).
GRID_VLLM = layout_spec("llava_next_grid.yaml", "GridVllm", "grid_vllm").replace("family: llama", "family: mistral")
SHUFFLE_VLLM = layout_spec("internvl_shuffle.yaml", "ShuffleVllm", "shuffle_vllm").replace(
    "family: siglip\n", "family: siglip2\n"
)
TILE_MARKERS_VLLM = (
    layout_spec("tile_markers.yaml", "TileMarkersVllm", "tile_markers_vllm")
    .replace("family: siglip\n", "family: internvl_vision\n")
    .replace("  feature_layer: -1\n", "  feature_layer: -1\n  feature_select: patch\n")
)
# InternViT on the fixed layout, so through vLLM's Transformers backend too.
PATCH_MERGE_VLLM = (
    layout_spec("patch_merge_swiglu.yaml", "PatchMergeVllm", "patch_merge_vllm")
    .replace("family: llama", "family: qwen3")
    .replace("family: clip\n", "family: internvl_vision\n")
    .replace("\nprocessor:", "\n  config: {head_dim: 32}\nprocessor:")
    .replace(
        "vllm: true\n",
        '  image_delimiters: {start: "<img>", start_id: 125, end: "</img>", end_id: 126}\nvllm: true\n',
    )
)
# The native layout: Qwen2-VL's tower (transformers' own module, its patch merger the connector) and its M-RoPE decoder
# (vLLM's Qwen2 with M-RoPE positions through SupportsMRoPE); mrope_section for heads 32 wide, and max_pixels at 256
# image tokens so that two of the largest images fit the 1024 positions vLLM profiles with.
NATIVE_VLLM = (
    layout_spec("qwen2_vl_like.yaml", "NativeVllm", "native_vllm")
    .replace("mrope_section: [2, 3, 3]", "mrope_section: [4, 6, 6]")
    .replace("max_pixels: 1003520     # 28 * 28 * 1280", "max_pixels: 200704      # 28 * 28 * 256")
)
SPECS = {
    "llava_vllm": None,
    "siglip_qwen2": SIGLIP_QWEN2,
    "grid": GRID_VLLM,
    "shuffle": SHUFFLE_VLLM,
    "patch_merge": PATCH_MERGE_VLLM,
    "tile_markers": TILE_MARKERS_VLLM,
    "native": NATIVE_VLLM,
}
# The tile-marker variant costs one engine run in CI: its native plugin only (vLLM 0.32's Transformers backend cannot
# serve the tiles layout; the shuffle variant shows it as a strict xfail). The native variant runs both engine tests:
# vLLM's Transformers backend serves it as transformers does (greedy output and prompt ids equal, M-RoPE positions
# through the generated get_rope_index). Every variant runs the remote-code tier.
NATIVE_ONLY = {"tile_markers"}


def projector_attributes(source: str, class_name: str) -> set[str]:
    """The `self.<name> =` attributes the class `class_name` of `source` sets."""
    body = source.split(f"class {class_name}(", 1)[1].split("\nclass ", 1)[0].split("\n@", 1)[0]
    return set(re.findall(r"self\.(\w+) = ", body))


@pytest.mark.parametrize("key", ["shuffle", "patch_merge"])
def test_connectors_and_delimiters_take_vllm(write_spec, key):
    """The spec takes `vllm: true` with a merge, a LayerNorm, SwiGLU and delimiters, and the vLLM module's connector
    sets the transformers connector's attributes (so the same parameter names) and wraps image tokens in delimiters."""
    spec = load_spec(write_spec(SPECS[key]))
    names = Names.from_parts(spec.model.name, spec.model.model_type)
    files = render_spec(spec)
    hf = projector_attributes(files[f"{names.package}/{names.modeling_module}.py"], names.projector_class)
    vllm = projector_attributes(files[f"{names.package}/{names.vllm_module}.py"], names.projector_class)
    assert hf == vllm and {"layer_norm", "linear_1", "linear_2"} <= hf, (hf, vllm)
    assert ("merging_layer" in hf) == (key == "patch_merge")
    module = files[f"{names.package}/{names.vllm_module}.py"]
    assert "start, end = self.info.get_image_delimiters()" in module and "[start, *" in module


def test_tile_markers_and_other_towers_take_vllm(write_spec):
    """The spec takes `vllm: true` with tile markers and with towers vLLM has no class for; the vLLM module builds
    those towers with transformers' AutoModel and writes each image's marker text through the transformers processor."""
    for key, tower in (
        ("patch_merge", "internvl_vision"),
        ("shuffle", "siglip2"),
        ("tile_markers", "internvl_vision"),
    ):
        spec = load_spec(write_spec(SPECS[key]))
        assert spec.vision.family == tower
        names = Names.from_parts(spec.model.name, spec.model.model_type)
        module = render_spec(spec)[f"{names.package}/{names.vllm_module}.py"]
        assert "self.vision_tower = AutoModel.from_config(config.vision_config" in module
        assert 'orig_to_new_prefix={\n            "model.vision_tower.": "vision_tower."' in module
    assert "processor.tile_marker_text(*grid, tokens_per_tile)" in module


def test_native_layout_takes_vllm(write_spec):
    """The native layout with an M-RoPE decoder gives a vLLM model with SupportsMRoPE whose positions come from the
    package's `mrope_positions`, and vLLM's Qwen2 as its decoder; with a 1-D decoder (native_qwen3.yaml) the model has
    no M-RoPE and vLLM's registry builds the decoder from its own causal-LM class."""
    spec = load_spec(write_spec(SPECS["native"]))
    module = render_spec(spec)["native_vllm/vllm_native_vllm.py"]
    assert "class NativeVllmForConditionalGeneration(nn.Module, SupportsMultiModal, SupportsMRoPE):" in module
    assert "from .modeling_native_vllm import mrope_positions" in module
    assert 'architectures=["Qwen2ForCausalLM"]' in module
    assert 'MultiModalFieldConfig.flat_from_sizes("image", image_grid_thw.prod(-1))' in module
    text = (ROOT / "examples" / "native_qwen3.yaml").read_text(encoding="utf-8") + "vllm: true\n"
    spec = load_spec(write_spec(text))
    names = Names.from_parts(spec.model.name, spec.model.model_type)
    module = render_spec(spec)[f"{names.package}/{names.vllm_module}.py"]
    assert f"class {names.for_conditional_generation_class}(nn.Module, SupportsMultiModal):" in module
    assert "SupportsMRoPE" not in module and "mrope_positions" not in module and "architectures=" not in module


def test_native_layout_refuses_a_decoder_vllm_does_not_serve(write_spec):
    text = (ROOT / "examples" / "native_qwen3.yaml").read_text(encoding="utf-8")
    text = text.replace("family: qwen3\n", "family: gemma\n") + "vllm: true\n"
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    problems = [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]
    line = text.splitlines().index("  family: gemma") + 1
    served = "llama, mistral, qwen2, qwen2_5_vl_text, qwen2_vl_text, qwen3"
    message = f"text.family: the vLLM model is tested with the {served} decoders only: set vllm: false"
    assert any(p.startswith(f"spec.yaml:{line}:") and message in p for p in problems), problems


@pytest.fixture(scope="module", params=sorted(SPECS))
def generated(request, tmp_path_factory) -> tuple[Path, Path]:
    """A rendered spec (the example, or SIGLIP_QWEN2) and its generated vLLM test file (relative to the output)."""
    base = tmp_path_factory.mktemp("vllm")
    spec_path = EXAMPLE
    if SPECS[request.param] is not None:
        spec_path = base / f"{request.param}.yaml"
        spec_path.write_text(SPECS[request.param], encoding="utf-8")
    out = base / "out"
    result = run_cli("new-vlm", str(spec_path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    spec = load_spec(spec_path)
    names = Names.from_parts(spec.model.name, spec.model.model_type)
    test_file = Path(names.package) / names.vllm_test_file
    assert (out / test_file).is_file()
    return out, test_file


def run_vllm_pytest(out: Path, *args: str) -> subprocess.CompletedProcess:
    assert VLLM_PYTHON
    env = {**os.environ, "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "PYTHONPATH": str(out)}
    return subprocess.run(
        [VLLM_PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *args],
        cwd=out,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )


def passed(result: subprocess.CompletedProcess) -> int:
    match = re.search(r"(\d+) passed", result.stdout)
    return int(match.group(1)) if match else 0


@needs_vllm_venv
def test_the_venv_has_vllm():
    assert VLLM_PYTHON
    result = subprocess.run([VLLM_PYTHON, "-c", "import vllm"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


@needs_vllm_venv
def test_generated_vllm_tests_without_the_engine(generated):
    """Tiers (a) and (b): nothing may skip here, since vLLM is importable."""
    out, test_file = generated
    result = run_vllm_pytest(out, str(test_file), "-m", "not vllm_engine")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert passed(result) >= 6 and "skipped" not in result.stdout, result.stdout[-3000:]


@needs_vllm_venv
def test_generated_vllm_engine_tests(generated):
    """Tier (c): on the folder the package saved, the native plugin and the Transformers backend (remote code, package
    unimportable) each generate as transformers does, token for token, with the same prompt ids."""
    out, test_file = generated
    native_only = any(f"{key}_vllm" in test_file.parts for key in NATIVE_ONLY)
    select = ["-k", "native_plugin"] if native_only else []
    result = run_vllm_pytest(out, str(test_file), "-m", "vllm_engine", *select)
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert "skipped" not in result.stdout, result.stdout[-3000:]
    if native_only:
        assert passed(result) == 1, result.stdout[-3000:]
    # The tiles layout (shuffle_vllm): the Transformers backend fails on the input num_patches (strict xfail).
    elif "shuffle_vllm" in test_file.parts:
        assert passed(result) == 1 and "1 xfailed" in result.stdout, result.stdout[-3000:]
    else:
        assert passed(result) == 2, result.stdout[-3000:]


@needs_vllm_venv
def test_generated_remote_code_tests_in_the_vllm_venv(generated):
    """The fresh-process remote-code tier and the generation tests (beam search included) on vLLM's transformers,
    without torchvision: only the torchvision backend's remote-code generation test may skip, with its reason."""
    out, test_file = generated
    modeling_test = test_file.with_name(test_file.name.replace("test_vllm_", "test_modeling_"))
    # With the generation tests: beam search on vLLM's transformers gives each copy of a prompt its own images too.
    result = run_vllm_pytest(out, str(modeling_test), "-rp", "-k", "remote_code or generate or beam")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert passed(result) >= 8, result.stdout[-3000:]
    beam = r"PASSED \S+::test_beam_search_gives_each_copy_of_a_prompt_its_own_images"
    assert re.search(beam, result.stdout), result.stdout[-3000:]
    skips = re.findall(r"SKIPPED \[\d+\] (.*)", result.stdout)
    assert all("torchvision is not installed" in skip for skip in skips), skips
