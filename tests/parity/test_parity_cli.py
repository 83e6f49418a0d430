import json
import subprocess
import sys

from click.testing import CliRunner
from parity.pairs import PIL

from scaffold.parity.cli import check_parity

BAD_PIL = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")
WARN_PIL = PIL.replace("# Adapted from transformers.models.toy.image_processing_toy.ToyImageProcessorKwargs\n", "")


def invoke(*args):
    return CliRunner().invoke(check_parity, [*args, "--no-cache"])


def test_text_output_and_exit_codes(pair_dir):
    clean = pair_dir()
    r = invoke(str(clean))
    assert r.exit_code == 0, r.output
    assert r.output.strip() == "All checks passed (2 files)."

    bad = pair_dir(pil_src=BAD_PIL)
    r = invoke(str(bad))
    assert r.exit_code == 1
    first, last = r.output.strip().splitlines()
    path = bad / "image_processing_pil_toy.py"
    assert first.startswith(f"{path}:24:5: PAR020 default `patch_size` differs")
    assert f"{bad / 'image_processing_toy.py'}:23:5" in first
    assert last == "Found 1 error and 0 warnings in 2 files."


def test_warnings_do_not_fail(pair_dir):
    r = invoke(str(pair_dir(pil_src=WARN_PIL)))
    assert r.exit_code == 0
    assert "PAR033" in r.output and "0 errors and 1 warning" in r.output


def test_json_format(pair_dir):
    r = invoke("--format", "json", str(pair_dir(pil_src=BAD_PIL)))
    assert r.exit_code == 1
    doc = json.loads(r.output)
    [f] = doc["findings"]
    assert f["code"] == "PAR020" and f["severity"] == "error" and (f["line"], f["col"]) == (24, 5)
    assert f["related"]["line"] == 23
    assert doc["summary"] == {"errors": 1, "warnings": 0, "files": 2}


def test_github_format(pair_dir):
    d = pair_dir(pil_src=BAD_PIL)
    r = invoke("--format", "github", str(d))
    line = r.output.splitlines()[0]
    assert line.startswith(f"::error file={d / 'image_processing_pil_toy.py'},line=24,col=5,title=PAR020::default")


def test_usage_errors_exit_2(tmp_path):
    r = invoke(str(tmp_path / "missing"))
    assert r.exit_code == 2
    r = CliRunner().invoke(check_parity, ["--format", "xml", str(tmp_path)])
    assert r.exit_code == 2


def test_default_path_is_cwd(pair_dir, monkeypatch):
    d = pair_dir(pil_src=BAD_PIL)
    monkeypatch.chdir(d.parent)
    r = invoke()
    assert r.exit_code == 1 and "PAR020" in r.output


def test_cli_module_does_not_import_libcst():
    code = "import sys, scaffold.parity.cli; print('libcst' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"
