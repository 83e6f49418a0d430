"""One mapping from how a command ended to its exit code (scaffold.errors.Report), the same for every command."""

import pytest
from click.testing import CliRunner
from parity.pairs import PIL

from scaffold.cli import main
from scaffold.errors import ConflictError, Report, SpecError, UsageError


@pytest.mark.parametrize(
    ("report", "code"),
    [
        (Report(), 0),
        (Report(failures=3), 1),
        (Report(error=ConflictError("x")), 1),
        (Report(error=UsageError("x")), 2),
        (Report(error=SpecError([])), 2),
    ],
)
def test_report_exit_codes(report, code):
    assert report.exit_code == code


def test_report_of_records_errors_and_failures():
    def boom():
        raise UsageError("p: cannot read: denied")

    assert Report.of(boom).error.args == ("p: cannot read: denied",)
    assert Report.of(lambda: 2).exit_code == 1
    assert Report.of(lambda: None).exit_code == 0


def test_usage_errors_print_alike_for_every_command(tmp_path):
    runner = CliRunner()
    missing = tmp_path / "missing"
    r1 = runner.invoke(main, ["check-parity", "--no-cache", str(missing)])
    r2 = runner.invoke(main, ["gen-tests", str(tmp_path), "-o", str(tmp_path / "t.py")])
    r3 = runner.invoke(main, ["new-vlm", str(missing)])
    assert (r1.exit_code, r2.exit_code, r3.exit_code) == (2, 2, 2)
    assert r1.stderr == f"{missing}: no such file or directory\n"
    assert r2.stderr.startswith(f"{tmp_path}: no image_processing_<m>.py")
    assert r3.stderr.startswith(f"{missing}: cannot read spec")


def test_new_vlm_conflict_is_a_conflict_error(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "examples" / "siglip_like.yaml"
    runner = CliRunner()
    assert runner.invoke(main, ["new-vlm", str(example), "-o", str(tmp_path)]).exit_code == 0
    [pil] = [p for p in tmp_path.rglob("image_processing_pil_*.py") if ".scaffold" not in p.parts]
    pil.write_text(pil.read_text() + "# edited\n")
    r = runner.invoke(main, ["new-vlm", str(example), "-o", str(tmp_path)])
    assert r.exit_code == 1 and "nothing was written" in r.stderr and "conflict" in r.stdout


def test_check_parity_findings_exit_1(pair_dir):
    d = pair_dir(pil_src=PIL.replace("    patch_size = 14\n", "    patch_size = 16\n"))
    r = CliRunner().invoke(main, ["check-parity", "--no-cache", str(d)])
    assert r.exit_code == 1 and r.stderr == ""
