from click.testing import CliRunner

from scaffold.parity.cli import gen_tests


def test_gen_tests_for_a_pair(pair_dir, tmp_path):
    d = pair_dir()
    out = tmp_path / "test_toy_parity.py"
    r = CliRunner().invoke(gen_tests, [str(d), "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert "ToyImageProcessorPil" in text and "image_processing_pil_toy" in text
    compile(text, str(out), "exec")


def test_gen_tests_without_pair(tmp_path):
    r = CliRunner().invoke(gen_tests, [str(tmp_path), "-o", str(tmp_path / "x.py")])
    assert r.exit_code == 2


def test_gen_tests_probe_values_reach_the_file(pair_dir, tmp_path):
    d = pair_dir()
    out = tmp_path / "test_toy_parity.py"
    r = CliRunner().invoke(gen_tests, [str(d), "-o", str(out), "--value", "patch_size=16", "--value", 'mode="x"'])
    assert r.exit_code == 0, r.output
    assert 'CUSTOM_VALUES = {"patch_size": 16, "mode": "x"}' in out.read_text()
    bad = CliRunner().invoke(gen_tests, [str(d), "-o", str(out), "--value", "patch_size=[1"])
    assert bad.exit_code == 2 and "--value" in bad.output
