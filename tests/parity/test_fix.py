"""``scaffold check-parity --fix``: before/after sources, idempotence, and a generated pair round-trip."""

import json
import textwrap
from pathlib import Path

from click.testing import CliRunner
from parity.pairs import PIL, TORCH

from scaffold.cli import main as scaffold_main
from scaffold.parity.api import check_paths
from scaffold.parity.cli import check_parity
from scaffold.parity.fix import fix_paths

ROOT = Path(__file__).resolve().parents[2]
MARKER = "# Adapted from transformers.models.toy.image_processing_toy.ToyImageProcessorKwargs\n"


def invoke(*args):
    return CliRunner().invoke(check_parity, [*args, "--no-cache"])


def pil_file(d):
    return d / "image_processing_pil_toy.py"


def fix(d):
    return fix_paths([str(d)], use_cache=False)


def test_attributes_replaced_inserted_removed(pair_dir):
    before = (
        PIL.replace("    patch_size = 14\n", "    patch_size = 16  # keep this comment? no: the value is replaced\n")
        .replace("    do_resize = True\n", "")
        .replace("    image_std = OPENAI_CLIP_STD\n", "    image_std = OPENAI_CLIP_STD\n    crop_pct = 0.9\n")
    )
    d = pair_dir(pil_src=before)
    result = fix(d)
    assert result.changed == [str(pil_file(d))] and result.notes == []
    after = PIL.replace(
        "    patch_size = 14\n", "    patch_size = 14  # keep this comment? no: the value is replaced\n"
    )
    assert pil_file(d).read_text() == after
    assert check_paths([str(d)], use_cache=False).findings == []


def test_value_spelled_differently_is_left_alone(pair_dir):
    before = PIL.replace("    resample = PILImageResampling.BICUBIC\n", "    resample = 3\n")
    d = pair_dir(pil_src=before)
    assert fix(d).changed == []
    assert pil_file(d).read_text() == before


def test_unflagged_pil_only_attribute_is_kept(pair_dir):
    # crop_size is a valid kwarg: `crop_size = None` on one side only is not a finding, so it stays
    before = PIL.replace("    do_resize = True\n", "    do_resize = True\n    crop_size = None\n")
    d = pair_dir(pil_src=before)
    assert fix(d).changed == []
    assert pil_file(d).read_text() == before


def test_missing_import_is_added_to_existing_from_import(pair_dir):
    before = PIL.replace(
        "from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling\n",
        "from ...image_utils import OPENAI_CLIP_STD, PILImageResampling\n",
    ).replace("    image_mean = OPENAI_CLIP_MEAN\n", "    image_mean = [0.5, 0.5, 0.5]\n")
    d = pair_dir(pil_src=before)
    fix(d)
    after = PIL.replace(
        "from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling\n",
        "from ...image_utils import OPENAI_CLIP_STD, PILImageResampling, OPENAI_CLIP_MEAN\n",
    )
    assert pil_file(d).read_text() == after
    assert check_paths([str(d)], use_cache=False).findings == []


def test_missing_import_gets_new_statement(pair_dir):
    torch = TORCH.replace(
        "from ...processing_utils import ImagesKwargs, Unpack\n",
        "from ...processing_utils import ImagesKwargs, Unpack\nfrom ...utils.constants import IMAGENET_STANDARD_STD\n",
    ).replace("    image_std = OPENAI_CLIP_STD\n", "    image_std = IMAGENET_STANDARD_STD\n")
    d = pair_dir(torch_src=torch)
    fix(d)
    after = PIL.replace(
        "from ...processing_utils import ImagesKwargs, Unpack\n",
        "from ...processing_utils import ImagesKwargs, Unpack\nfrom ...utils.constants import IMAGENET_STANDARD_STD\n",
    ).replace("    image_std = OPENAI_CLIP_STD\n", "    image_std = IMAGENET_STANDARD_STD\n")
    assert pil_file(d).read_text() == after


def test_name_defined_in_torch_module_is_not_fixed(pair_dir):
    torch = TORCH.replace(
        "class ToyImageProcessor(TorchvisionBackend):\n",
        'DEFAULT_SIZE = {"height": 336, "width": 336}\n\n\nclass ToyImageProcessor(TorchvisionBackend):\n',
    ).replace('    size = {"height": 224, "width": 224}\n', "    size = DEFAULT_SIZE\n")
    before = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")
    d = pair_dir(torch_src=torch, pil_src=before)
    r = invoke("--fix", str(d))
    assert r.exit_code == 1
    assert f"fixed {pil_file(d)}" in r.output
    assert "not fixed:" in r.output and "`ToyImageProcessorPil.size`" in r.output and "DEFAULT_SIZE" in r.output
    assert pil_file(d).read_text() == PIL  # patch_size fixed, size untouched
    assert "PAR020 default `size` differs" in r.output and "patch_size" not in r.output.split("not fixed:")[-1]


def test_kwargs_copy_body_and_marker(pair_dir):
    before = (
        PIL.replace(MARKER, "")
        .replace("        Patch size.\n", "        Size of a patch.\n")
        .replace("    patch_size: int\n", "    patch_size: int | None\n    extra: bool\n")
    )
    d = pair_dir(pil_src=before)
    assert {f.code for f in check_paths([str(d)], use_cache=False).findings} == {"PAR031", "PAR033"}
    fix(d)
    assert pil_file(d).read_text() == PIL
    assert check_paths([str(d)], use_cache=False).findings == []


def test_wrong_marker_is_rewritten(pair_dir):
    before = PIL.replace(MARKER, "# Adapted from transformers.models.toy.image_processing_toy.OtherKwargs\n")
    d = pair_dir(pil_src=before)
    fix(d)
    assert pil_file(d).read_text() == PIL


def test_idempotent(pair_dir):
    before = (
        PIL.replace(MARKER, "")
        .replace("    patch_size = 14\n", "    patch_size = 16\n")
        .replace("    do_resize = True\n", "    do_resize = False\n    crop_pct = 0.9\n")
    )
    d = pair_dir(pil_src=before)
    first = fix(d)
    assert first.changed
    once = pil_file(d).read_bytes()
    mtime = pil_file(d).stat().st_mtime_ns
    second = fix(d)
    assert second.changed == [] and second.notes == []
    assert pil_file(d).read_bytes() == once and pil_file(d).stat().st_mtime_ns == mtime
    r = invoke("--fix", str(d))
    assert r.exit_code == 0 and "fixed" not in r.output and r.output.strip() == "All checks passed (2 files)."


def test_clean_pair_untouched_and_json_stays_json(pair_dir):
    d = pair_dir(pil_src=PIL.replace("    patch_size = 14\n", "    patch_size = 16\n"))
    r = CliRunner().invoke(check_parity, ["--fix", "--format", "json", "--no-cache", str(d)])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["findings"] == []
    assert f"fixed {pil_file(d)}" in r.stderr


def test_generated_pair_round_trip(tmp_path):
    out = tmp_path / "gen"
    r = CliRunner().invoke(scaffold_main, ["new-vlm", str(ROOT / "examples" / "tiled_copy.yaml"), "-o", str(out)])
    assert r.exit_code == 0, r.output
    [pil] = [p for p in out.rglob("image_processing_pil_*.py") if ".scaffold" not in p.parts]
    original = pil.read_text()
    marker = next(line for line in original.splitlines(keepends=True) if line.startswith("# Adapted from"))
    mutated = (
        original.replace(marker, "")
        .replace("    max_tiles = 6\n", "    max_tiles = 8\n")
        .replace("    tile_overlap = 0.25\n", "")
        .replace("    resample = PILImageResampling.BICUBIC\n", "")
        .replace("    use_thumbnail = True\n", "    use_thumbnail = True\n    crop_pct = 0.9\n")
        .replace("    tile_overlap: float\n", "    tile_overlap: int\n")
        .replace("Maximum number of tiles", "Max tiles")
    )
    assert mutated.count("\n") == original.count("\n") - 2
    pil.write_text(mutated)
    assert invoke(str(out)).exit_code == 1
    r = invoke("--fix", str(out))
    assert r.exit_code == 0, r.output
    assert r.output.splitlines() == [f"fixed {pil}", "All checks passed (2 files)."]
    assert pil.read_text() == original
    r = invoke("--fix", str(out))
    assert r.exit_code == 0 and "fixed" not in r.output
    assert pil.read_text() == original


def test_fix_preserves_unrelated_formatting(pair_dir):
    before = textwrap.dedent(PIL).replace(
        "class ToyImageProcessorPil(PilBackend):\n",
        "class ToyImageProcessorPil(PilBackend):  # the PIL one\n    # defaults\n",
    )
    mutated = before.replace("    patch_size = 14\n", "    patch_size   =   (16)\n")
    d = pair_dir(pil_src=mutated)
    fix(d)
    assert pil_file(d).read_text() == before.replace("    patch_size = 14\n", "    patch_size   =   14\n")


def test_torch_none_for_valid_kwarg_is_not_inserted(pair_dir):
    torch = TORCH.replace("    do_resize = True\n", "    do_resize = True\n    crop_size = None\n")
    d = pair_dir(torch_src=torch)
    assert fix(d).changed == []
    assert pil_file(d).read_text() == PIL
