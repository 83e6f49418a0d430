"""Generated code is product code: every example renders, imports and passes its own generated tests, and those
tests fail when either backend is edited to diverge."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import EXAMPLES, ROOT, run_cli

from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec


def render_into(example: Path, out: Path) -> Path:
    result = run_cli("new-vlm", str(example), "-o", str(out))
    assert result.returncode == 0, result.stderr
    return out


def run_generated_tests(out: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *extra],
        cwd=out,
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_generated_code_is_parity_clean_and_passes_its_tests(tmp_path, example):
    out = render_into(example, tmp_path / "out")
    check = run_cli("check-parity", str(out), "--no-cache")
    assert check.returncode == 0 and "All checks passed" in check.stdout, check.stdout + check.stderr
    result = run_generated_tests(out)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert re.search(r"\d+ passed", result.stdout)


# Edits a contributor might make to one backend only. Each must be caught by the generated tests.
MUTATIONS = {
    "pil size": (
        "pil",
        'size = {"shortest_edge": 224, "longest_edge": 448}',
        'size = {"shortest_edge": 224, "longest_edge": 440}',
    ),
    "pil resample": ("pil", "resample = PILImageResampling.BICUBIC", "resample = PILImageResampling.BILINEAR"),
    "torchvision mean": ("tv", "image_mean = [0.485, 0.456, 0.406]", "image_mean = [0.485, 0.456, 0.41]"),
    "pil custom default": ("pil", "max_tiles = 6", "max_tiles = 8"),
    "pil kwargs field dropped": ("pil", "    tile_overlap: float\n", ""),
    "pil kwargs doc edited": ("pil", "Maximum number of tiles per image.", "Maximum tiles."),
    "pil extra kwarg in signature": (
        "pil",
        "def __init__(self, **kwargs",
        "def __init__(self, crop_pct=0.9, **kwargs",
    ),
    "pil rescale tweak": (
        "pil",
        "    def __init__(self,",
        "    def rescale(self, image, scale, **kwargs):\n        return super().rescale(image, scale * 1.02, **kwargs)\n\n"
        "    def __init__(self,",
    ),
}


@pytest.fixture(scope="module")
def tiled_output(tmp_path_factory):
    return render_into(ROOT / "examples" / "tiled_copy.yaml", tmp_path_factory.mktemp("tiled"))


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_generated_tests_catch_divergence(tiled_output, tmp_path, mutation):
    import shutil

    side, old, new = MUTATIONS[mutation]
    out = tmp_path / "mutant"
    shutil.copytree(tiled_output, out)
    name = "image_processing_pil_tiled_vlm.py" if side == "pil" else "image_processing_tiled_vlm.py"
    path = out / "tiled_vlm" / name
    source = path.read_text()
    assert old in source, f"mutation {mutation!r} no longer applies"
    path.write_text(source.replace(old, new, 1))
    result = run_generated_tests(out, "-x")
    assert result.returncode == 1, f"divergence {mutation!r} went unnoticed:\n{result.stdout[-3000:]}"
    assert "failed" in result.stdout


def test_import_mode_pil_module_imports_the_shared_kwargs_class(tmp_path):
    files = render_spec(load_spec(ROOT / "examples" / "tiled_copy.yaml").model_copy(deep=True))
    pil = files["tiled_vlm/image_processing_pil_tiled_vlm.py"]
    assert "# Adapted from tiled_vlm.image_processing_tiled_vlm.TiledVlmImageProcessorKwargs" in pil
    from scaffold.generate.pipeline import apply_overrides

    spec = apply_overrides(load_spec(ROOT / "examples" / "tiled_copy.yaml"), "import")
    pil = render_spec(spec)["tiled_vlm/image_processing_pil_tiled_vlm.py"]
    assert "from .image_processing_tiled_vlm import TiledVlmImageProcessorKwargs" in pil
    assert "class TiledVlmImageProcessorKwargs" not in pil


def test_import_mode_generated_tests_pass(tmp_path):
    """The default sharing mode (import) on a spec with custom kwargs, including the no-torchvision subprocess."""
    out = tmp_path / "out"
    result = run_cli("new-vlm", str(ROOT / "examples" / "tiled_copy.yaml"), "-o", str(out), "--kwargs-mode", "import")
    assert result.returncode == 0, result.stderr
    result = run_generated_tests(out, "-k", "torchvision or kwargs or signatures or configs")
    assert result.returncode == 0, result.stdout[-6000:]


def test_rendering_imports_neither_torch_nor_transformers(tmp_path):
    code = (
        "import sys\n"
        "from scaffold.cli import main\n"
        f"try:\n    main(['new-vlm', {str(ROOT / 'examples' / 'tiled_copy.yaml')!r}, '-o', {str(tmp_path)!r}])\n"
        "except SystemExit as exc:\n    assert not exc.code, exc.code\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'torch', 'torchvision', 'transformers', 'libcst'})\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
