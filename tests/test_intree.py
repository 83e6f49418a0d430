"""In-tree mode on a real transformers tree: the 5.23.0 sdist, downloaded once per run (or SCAFFOLD_TRANSFORMERS_SDIST).

Every model example is generated into its own copy of the tree with `--transformers`; then, with the copy's `src`
first on PYTHONPATH, the model imports through transformers' lazy module, resolves through the edited Auto
mappings, runs forward and generate, and its generated tests pass on the sdist's own test mixins.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
from pathlib import Path

import pytest
from helpers import EXAMPLES, GOLDEN, run_cli

from scaffold.spec import load_spec
from scaffold.spec.names import Names

VERSION = "5.23.0"
MODEL_EXAMPLES = [e for e in EXAMPLES if load_spec(e).is_vlm]

# The sdist's test mixins import this helper from upstream's utils/, which the sdist does not ship. Upstream it maps
# a Hub URL to a cached file; offline, this stand-in gives every image URL one smooth local test image.
FETCH_SHIM = """import hashlib
import os
import tempfile

import numpy as np
from PIL import Image


def url_to_local_path(url, return_url_if_not_found=True):
    suffix = os.path.splitext(url)[1].lower()
    if not url.startswith("http") or suffix not in (".png", ".jpg", ".jpeg"):
        return url
    path = os.path.join(tempfile.gettempdir(), "scaffold-test-images", hashlib.sha1(url.encode()).hexdigest() + suffix)
    if not os.path.exists(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        y, x = np.mgrid[0:240, 0:320]
        pixels = np.stack([x * 255 // 319, y * 255 // 239, (x + y) * 255 // 557], axis=-1).astype(np.uint8)
        Image.fromarray(pixels).save(path)
    return path
"""


@pytest.fixture(scope="session")
def sdist(tmp_path_factory) -> Path:
    given = os.environ.get("SCAFFOLD_TRANSFORMERS_SDIST")
    if given:
        return Path(given)
    download = tmp_path_factory.mktemp("sdist")
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--no-binary", ":all:"]
        + ["--disable-pip-version-check", f"transformers=={VERSION}", "-d", str(download)],
        check=True,
    )
    with tarfile.open(download / f"transformers-{VERSION}.tar.gz") as archive:
        archive.extractall(download, filter="data")
    return download / f"transformers-{VERSION}"


def tree_copy(sdist: Path, dest: Path) -> Path:
    """A copy of the sdist laid out like a checkout for testing: tests/ and tests/models/ are packages."""
    shutil.copytree(sdist, dest, ignore=shutil.ignore_patterns("__pycache__"))
    (dest / "tests" / "models").mkdir(exist_ok=True)
    for package in (dest / "tests", dest / "tests" / "models"):
        (package / "__init__.py").touch()
    (dest / "utils").mkdir(exist_ok=True)
    (dest / "utils" / "fetch_hub_objects_for_ci.py").write_text(FETCH_SHIM)
    return dest


def in_tree_python(tree: Path, code: str, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree / "src"), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, *(["-c", code] if code else []), *args],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module", params=MODEL_EXAMPLES, ids=lambda p: p.stem)
def generated(request, sdist, tmp_path_factory):
    example = request.param
    tree = tree_copy(sdist, tmp_path_factory.mktemp(example.stem) / "transformers")
    done = run_cli("new-vlm", str(example), "--transformers", str(tree))
    assert done.returncode == 0, done.stderr
    spec = load_spec(example)
    return tree, Names.from_parts(spec.model.name, spec.model.model_type), done.stdout


def test_refuses_a_path_that_is_not_a_transformers_tree(tmp_path):
    done = run_cli("new-vlm", str(MODEL_EXAMPLES[0]), "--transformers", str(tmp_path))
    assert done.returncode == 2
    assert "transformers" in done.stderr and "Traceback" not in done.stderr


def test_new_files_match_their_golden_files(generated):
    """The in-tree goldens were checked against transformers' own modular converter (see README): this pins them."""
    tree, names, _ = generated
    new = {
        path.relative_to(tree).as_posix(): path.read_text(encoding="utf-8")
        for folder in (tree / "src/transformers/models" / names.model_type, tree / "tests/models" / names.model_type)
        for path in sorted(folder.rglob("*.py"))
    }
    golden = GOLDEN.parent / "golden_tree" / names.model_type
    if os.environ.get("SCAFFOLD_UPDATE_GOLDEN") == "1":
        shutil.rmtree(golden, ignore_errors=True)
        for rel, text in new.items():
            (golden / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden / rel).write_text(text, encoding="utf-8")
    on_disk = {p.relative_to(golden).as_posix() for p in golden.rglob("*.py")}
    assert on_disk == set(new), "file set changed; refresh with SCAFFOLD_UPDATE_GOLDEN=1"
    for rel, text in new.items():
        assert (golden / rel).read_text(encoding="utf-8") == text, f"{rel} differs from its golden file"


def test_refuses_a_model_type_or_class_the_tree_already_has(generated, tmp_path):
    tree, names, _ = generated
    example = next(e for e in MODEL_EXAMPLES if load_spec(e).model.model_type == names.model_type)
    text = example.read_text(encoding="utf-8")
    for old, new in (
        (f"model_type: {names.model_type}", "model_type: llava"),
        (f"name: {names.prefix}", "name: FastVlm"),
    ):
        spec = tmp_path / f"{new.split()[-1]}.yaml"
        spec.write_text(text.replace(old, new), encoding="utf-8")
        before = {p: p.stat().st_mtime_ns for p in (tree / "src/transformers/models/auto").iterdir()}
        done = run_cli("new-vlm", str(spec), "--transformers", str(tree))
        assert done.returncode == 2, done.stdout + done.stderr
        assert "already has" in done.stderr and "Traceback" not in done.stderr
        assert {p: p.stat().st_mtime_ns for p in (tree / "src/transformers/models/auto").iterdir()} == before


def test_second_run_is_a_no_op(generated):
    tree, names, first = generated
    before = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    example = next(e for e in MODEL_EXAMPLES if load_spec(e).model.model_type == names.model_type)
    done = run_cli("new-vlm", str(example), "--transformers", str(tree))
    assert done.returncode == 0, done.stderr
    assert all(line.split()[0] == "unchanged" for line in done.stdout.splitlines()), done.stdout
    assert {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()} == before


def test_model_imports_resolves_and_generates(generated):
    tree, names, _ = generated
    code = textwrap.dedent(
        f"""
        import torch, transformers
        assert transformers.__file__.startswith({str(tree / "src")!r}), transformers.__file__
        from transformers import (
            AutoConfig, AutoImageProcessor, AutoModelForImageTextToText, AutoProcessor,
            {names.config_class}, {names.for_conditional_generation_class}, {names.image_processor},
            {names.image_processor_pil}, {names.processor_class},
        )
        config = AutoConfig.for_model({names.model_type!r})
        assert type(config) is {names.config_class}
        torch.manual_seed(0)
        model = AutoModelForImageTextToText.from_config(config).eval()
        assert type(model) is {names.for_conditional_generation_class}
        for backend, cls in (("torchvision", {names.image_processor}), ("pil", {names.image_processor_pil})):
            from transformers.models.auto.image_processing_auto import get_image_processor_class_from_name
            assert get_image_processor_class_from_name(cls.__name__) is cls
        from transformers.models.auto.processing_auto import PROCESSOR_MAPPING_NAMES
        assert PROCESSOR_MAPPING_NAMES[{names.model_type!r}] == {names.processor_class!r}
        # The native layout's tower takes any size (its config has no image_size): a few blocks of patches.
        size = getattr(config.vision_config, "image_size", 40)
        size = size[0] if isinstance(size, (list, tuple)) else size  # InternViT keeps (height, width)
        # An image of another size and aspect ratio: a dynamic layout (grid, tiles) gives it several views.
        image = torch.randint(0, 256, (3, size + 5, 2 * size), dtype=torch.uint8)
        image_inputs = dict({names.image_processor}()(image, return_tensors="pt"))
        with torch.no_grad():
            features = model.model.get_image_features(**image_inputs).pooler_output
        n = sum(feature.shape[0] for feature in features)
        if set(image_inputs) == {{"pixel_values"}}:  # the fixed layout: one view per image
            assert n == config.image_seq_length
        if "image_grid_thw" in image_inputs:  # the native layout: a feature per merged block of the patch grid
            assert n == int(image_inputs["image_grid_thw"].prod()) // config.vision_config.spatial_merge_size**2 > 1
        input_ids = torch.tensor([[1] + [config.image_token_id] * n + [5, 6]])
        with torch.no_grad():
            out = model(input_ids=input_ids, **image_inputs)
            assert out.logits.shape == (1, n + 3, config.text_config.vocab_size)
            generated = model.generate(
                input_ids=input_ids, **image_inputs, max_new_tokens=3, min_new_tokens=3, do_sample=False
            )
        assert generated.shape == (1, n + 6)
        print("ok")
        """
    )
    done = in_tree_python(tree, code)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr[-3000:]


def test_generated_tests_pass_on_the_sdist_mixins(generated):
    """Every layout: its own tester settings and overrides (templates/layout_tests/<kind>/) fit the common mixins."""
    tree, names, _ = generated
    tests = tree / "tests" / "models" / names.model_type
    files = [tests / f"test_image_processing_{names.model_type}.py", tests / f"test_processing_{names.model_type}.py"]
    done = in_tree_python(tree, "", "-m", "pytest", "-q", "-p", "no:cacheprovider", *map(str, files))
    assert done.returncode == 0, done.stdout[-4000:]
    assert " passed" in done.stdout


def test_modeling_test_skips_without_upstream_testers(generated):
    """The sdist lacks tests/vlm_tester.py: the modeling test says so and skips (it runs in a real checkout)."""
    tree, names, _ = generated
    test = tree / "tests" / "models" / names.model_type / f"test_modeling_{names.model_type}.py"
    done = in_tree_python(tree, "", "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", str(test))
    assert done.returncode == 5, done.stdout[-3000:]  # pytest's "no tests ran": the module skipped itself
    assert "1 skipped" in done.stdout and "tests/vlm_tester.py is not in this tree" in done.stdout


def test_check_parity_is_clean_on_the_new_folder(generated):
    tree, names, _ = generated
    done = run_cli("check-parity", str(tree / "src" / "transformers" / "models" / names.model_type))
    assert done.returncode == 0, done.stdout + done.stderr
