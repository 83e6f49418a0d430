"""`vllm: true`: the spec key, the files it adds, and the generated vLLM integration against a real vLLM.

The last tests render examples/llava_vllm.yaml and run its generated vLLM tests (registration, processor, weight and
embedding parity, and the `vllm_engine` greedy-generation test) with the Python of a vLLM venv,
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
    with_vllm = set(render_spec(load_spec(EXAMPLE), EXAMPLE.name))
    assert VLLM_FILES <= with_vllm
    without = set(render_spec(load_spec(write_spec(EXAMPLE.read_text().replace("vllm: true", "vllm: false"))), "x"))
    assert without == with_vllm - VLLM_FILES


def test_entry_point_and_registration_name_the_generated_class():
    files = render_spec(load_spec(EXAMPLE), EXAMPLE.name)
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


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """The rendered example and its generated vLLM test file (relative to the output directory)."""
    out = tmp_path_factory.mktemp("vllm") / "out"
    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(out))
    assert result.returncode == 0, result.stderr
    spec = load_spec(EXAMPLE)
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
def test_generated_vllm_engine_test(generated):
    """Tier (c): vLLM's greedy generation equals transformers' token for token."""
    out, test_file = generated
    result = run_vllm_pytest(out, str(test_file), "-m", "vllm_engine")
    assert result.returncode == 0, result.stdout[-8000:] + result.stderr[-3000:]
    assert passed(result) == 1 and "skipped" not in result.stdout, result.stdout[-3000:]
