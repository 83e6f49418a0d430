"""Odd files named like pair files: each becomes a finding on that file, and every other file is still checked."""

import json
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner
from parity.pairs import PIL, TORCH, write_pair

from scaffold.parity.api import check_paths
from scaffold.parity.cli import check_parity
from scaffold.parity.rules import Options

BAD_PIL = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")


def run_json(*paths, lone=False):
    """check-parity in a separate process, as users run it: a crash shows as a signal exit, not a test error."""
    args = [sys.executable, "-m", "scaffold", "check-parity", "--format", "json", "--no-cache", *map(str, paths)]
    proc = subprocess.run([*args, *(["--report-lone"] if lone else [])], capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    assert "Traceback" not in proc.stderr
    return proc.returncode, json.loads(proc.stdout)


def codes_by_file(doc):
    out = {}
    for f in doc["findings"]:
        out.setdefault(os.path.basename(f["path"]), []).append(f["code"])
    return out


@pytest.mark.parametrize(
    "expr",
    [
        "+".join(["1"] * 2000),  # a deep left-nested tree (once a segfault in libcst)
        "-" * 2000 + "1",
        "not " * 2000 + "x",
        "a if b else " * 2000 + "a",
        "+".join(["1"] * 100_000),  # too deep for ast: RecursionError while building the tree
        "-" * 100_000 + "1",  # too deep for the parser: MemoryError
    ],
)
def test_deep_nesting_is_a_finding_on_that_file(tmp_path, expr):
    write_pair(tmp_path, TORCH, PIL + f"\nX = {expr}\n", model="deep")
    write_pair(tmp_path, TORCH, BAD_PIL, model="other")
    rc, doc = run_json(tmp_path)
    found = codes_by_file(doc)
    assert rc == 1 and found["image_processing_pil_other.py"] == ["PAR020"]  # the other pair is still checked
    assert found.get("image_processing_pil_deep.py", []) in ([], ["PAR000"])


def test_class_attribute_nested_too_deep_for_the_analysis(tmp_path):
    deep = "-" * 5000 + "1"  # parses, but is too deep to fold into a value recursively
    d = write_pair(tmp_path, TORCH, PIL.replace("    patch_size = 14\n", f"    patch_size = {deep}\n"))
    rc, doc = run_json(d)
    assert rc == 1 and {f["code"] for f in doc["findings"]} <= {"PAR000", "PAR020"}


def test_fifo_is_skipped_with_a_warning(tmp_path):
    d = write_pair(tmp_path, TORCH, None, model="piped")
    os.mkfifo(d / "image_processing_pil_piped.py")
    write_pair(tmp_path, TORCH, BAD_PIL, model="other")
    rc, doc = run_json(tmp_path)  # must not block on the FIFO
    found = codes_by_file(doc)
    assert rc == 1 and found == {
        "image_processing_pil_piped.py": ["PAR005"],
        "image_processing_pil_other.py": ["PAR020"],
    }
    [warning] = [f for f in doc["findings"] if f["code"] == "PAR005"]
    assert warning["severity"] == "warning" and warning["subject"]["kind"] == "file"


def test_unreadable_file_is_an_error_finding(tmp_path):
    d = write_pair(tmp_path, TORCH, None)
    os.symlink(tmp_path / "nowhere.py", d / "image_processing_pil_toy.py")  # dangling: cannot be read
    write_pair(tmp_path, TORCH, BAD_PIL, model="other")
    rc, doc = run_json(tmp_path)
    assert rc == 1 and codes_by_file(doc) == {
        "image_processing_pil_toy.py": ["PAR006"],
        "image_processing_pil_other.py": ["PAR020"],
    }


@pytest.mark.parametrize(
    "data",
    [
        b"\xff\xfe\x00garbage\x00",
        b"x = 1\x00\n",
        b"",
        b"\xef\xbb\xbf" + PIL.encode(),  # BOM
        PIL.encode().replace(b"Patch size.", b"Patch size \xe9."),  # latin-1 byte in a docstring
        ("#" * 200_000 + "\n").encode() + PIL.encode(),  # a huge line
    ],
)
def test_odd_bytes(tmp_path, data):
    d = write_pair(tmp_path, TORCH, None)
    (d / "image_processing_pil_toy.py").write_bytes(data)
    write_pair(tmp_path, TORCH, BAD_PIL, model="other")
    rc, doc = run_json(tmp_path)
    assert codes_by_file(doc)["image_processing_pil_other.py"] == ["PAR020"]
    assert all(f["path"].endswith(("pil_toy.py", "pil_other.py", "_toy.py")) for f in doc["findings"])


def test_bom_file_is_checked_like_the_plain_one(pair_dir):
    d = pair_dir(pil_src=BAD_PIL)
    (d / "image_processing_pil_toy.py").write_bytes(b"\xef\xbb\xbf" + BAD_PIL.encode())
    [f] = check_paths([str(d)], use_cache=False).findings
    assert f.code == "PAR020" and (f.line, f.col) == (24, 5)


def test_model_type_starting_with_pil_is_a_pair(tmp_path):
    torch = TORCH.replace("ToyImageProcessor", "PilToyImageProcessor")
    pil = PIL.replace("ToyImageProcessor", "PilToyImageProcessor")
    d = tmp_path / "pil_toy"
    d.mkdir()
    (d / "image_processing_pil_toy.py").write_text(torch)
    (d / "image_processing_pil_pil_toy.py").write_text(pil)
    result = check_paths([str(tmp_path)], Options(report_lone=True), use_cache=False)
    assert [(p.model, os.path.basename(p.torch_path), os.path.basename(p.pil_path)) for p in result.pairs] == [
        ("pil_toy", "image_processing_pil_toy.py", "image_processing_pil_pil_toy.py")
    ]
    assert result.findings == []
    # either file alone maps to the pair
    for name in ("image_processing_pil_toy.py", "image_processing_pil_pil_toy.py"):
        assert check_paths([str(d / name)], Options(report_lone=True), use_cache=False).files_checked == 2


def test_renamed_backend_helper_called_by_the_other_side_is_an_error(pair_dir):
    torch = TORCH.replace(
        "    def get_number_of_image_patches(",
        '    def pad_to_square(self, images: "torch.Tensor", fill=0):\n        return images\n\n'
        "    def get_number_of_image_patches(",
    )
    pil_renamed = PIL.replace(
        "    def get_number_of_image_patches(",
        "    def pad_to_square_legacy(self, image: np.ndarray, fill=0):\n        return image\n\n"
        "    def get_number_of_image_patches(",
    )
    result = check_paths([str(pair_dir(torch_src=torch, pil_src=pil_renamed))], use_cache=False)
    assert sorted((f.code, f.subject.name) for f in result.findings) == [
        ("PAR042", "pad_to_square"),
        ("PAR042", "pad_to_square_legacy"),
    ]
    assert all("renamed?" in f.message for f in result.findings)
    # the PIL _preprocess still calls the torchvision name: an AttributeError at run time
    calls = pil_renamed.replace(
        "return [self.resize(i, size=size, resample=resample) for i in images] if do_resize else images, patch_size",
        "images = [self.pad_to_square(i) for i in images]\n        return images, patch_size",
    )
    result = check_paths([str(pair_dir(torch_src=torch, pil_src=calls))], use_cache=False)
    [error] = [f for f in result.findings if f.severity == "error"]
    assert error.code == "PAR040" and error.subject.name == "pad_to_square" and "calls it" in error.message
    assert (
        error.path.endswith("image_processing_pil_toy.py")
        and error.line == calls.splitlines().index("        images = [self.pad_to_square(i) for i in images]") + 1
    )


def test_fix_does_not_read_messages(pair_dir, monkeypatch):
    """--fix plans from the findings' fields: rewording every message changes nothing."""
    from scaffold.parity import rules
    from scaffold.parity.fix import fix_paths

    real_emit = rules.emit
    monkeypatch.setattr(
        rules, "emit", lambda code, path, pos, message, *a, **k: real_emit(code, path, pos, "?", *a, **k)
    )
    d = pair_dir(pil_src=PIL.replace("    do_resize = True\n", "    do_resize = True\n    crop_pct = 0.9\n"))
    assert fix_paths([str(d)], use_cache=False).changed
    assert (d / "image_processing_pil_toy.py").read_text() == PIL


def test_cli_exit_codes_with_odd_files(tmp_path):
    d = write_pair(tmp_path, TORCH, None)
    os.mkfifo(d / "image_processing_pil_toy.py")
    r = CliRunner().invoke(check_parity, ["--no-cache", str(tmp_path)])
    assert r.exit_code == 0 and "PAR005" in r.output  # a skipped file is a warning
