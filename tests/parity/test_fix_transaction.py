"""`check-parity --fix` and `gen-tests` write through scaffold's one transactional writer (scaffold.generate.write)."""

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from parity.pairs import PIL, TORCH, write_pair

from scaffold.errors import ConflictError
from scaffold.generate.write import STAGING_PREFIX, WriteError
from scaffold.parity import fix as fix_module
from scaffold.parity.cli import check_parity, gen_tests
from scaffold.parity.fix import fix_paths

BROKEN = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")


def two_broken_pairs(tmp_path):
    dirs = [write_pair(tmp_path / name, TORCH, BROKEN) for name in ("a", "b")]
    return [d / "image_processing_pil_toy.py" for d in dirs]


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def fail_on_second_target(monkeypatch, targets):
    """os.replace fails when it moves the second of `targets` into place (EIO, like a full or failing disk)."""
    real_replace = os.replace
    wanted = {os.path.abspath(t) for t in targets}
    moved = []

    def replace(src, dst, *args, **kwargs):
        if os.path.abspath(dst) in wanted and os.path.abspath(dst) not in moved:
            moved.append(os.path.abspath(dst))
            if len(moved) == 2:
                raise OSError(5, "Input/output error", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    return moved


def test_both_files_fixed_together(tmp_path):
    pils = two_broken_pairs(tmp_path)
    result = fix_paths([str(tmp_path)], use_cache=False)
    assert sorted(result.changed) == sorted(str(p) for p in pils)
    assert all(p.read_text() == PIL for p in pils)
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))


def test_failure_on_the_second_file_leaves_every_file_unchanged(tmp_path, monkeypatch):
    pils = two_broken_pairs(tmp_path)
    before = snapshot(tmp_path)
    moved = fail_on_second_target(monkeypatch, pils)
    with pytest.raises(WriteError, match="nothing was changed"):
        fix_paths([str(tmp_path)], use_cache=False)
    assert len(moved) == 2  # the first file had been moved into place, then restored
    assert snapshot(tmp_path) == before


def test_failure_mid_way_via_the_cli_is_exit_2_and_changes_nothing(tmp_path, monkeypatch):
    pils = two_broken_pairs(tmp_path)
    before = snapshot(tmp_path)
    fail_on_second_target(monkeypatch, pils)
    r = CliRunner().invoke(check_parity, ["--fix", "--no-cache", str(tmp_path)])
    assert r.exit_code == 2, r.output
    assert "cannot write" in r.output and "fixed" not in r.output
    assert snapshot(tmp_path) == before


def test_a_file_changed_after_it_was_read_is_a_conflict(tmp_path, monkeypatch):
    pils = two_broken_pairs(tmp_path)
    real_write_files = fix_module.write_files
    edited_meanwhile = BROKEN + "\n# edited by someone else\n"

    def write_files(*args, **kwargs):
        pils[1].write_text(edited_meanwhile)  # between --fix reading the file and writing it
        return real_write_files(*args, **kwargs)

    monkeypatch.setattr(fix_module, "write_files", write_files)
    with pytest.raises(ConflictError, match="image_processing_pil_toy.py: changed after --fix read it"):
        fix_paths([str(tmp_path)], use_cache=False)
    assert pils[0].read_text() == BROKEN  # not fixed either: all or nothing
    assert pils[1].read_text() == edited_meanwhile


def test_gen_tests_writes_through_the_writer(pair_dir, tmp_path, monkeypatch):
    import scaffold.generate.write as write_module

    calls = []
    real_write_files = write_module.write_files

    def spy(out_dir, files, **kwargs):
        calls.append((Path(out_dir), [op.path for op in files]))
        return real_write_files(out_dir, files, **kwargs)

    monkeypatch.setattr(write_module, "write_files", spy)
    out = tmp_path / "tests" / "test_toy_parity.py"
    r = CliRunner().invoke(gen_tests, [str(pair_dir()), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert calls == [(out.parent, ["test_toy_parity.py"])]
    assert r.output == f"created {out}\n"
    r = CliRunner().invoke(gen_tests, [str(pair_dir()), "-o", str(out)])
    assert r.output == f"unchanged {out}\n"


def test_gen_tests_refuses_a_symlink_leaving_the_directory(pair_dir, tmp_path):
    outside = tmp_path / "outside.py"
    outside.write_text("# not ours\n")
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "test_toy_parity.py").symlink_to(outside)
    r = CliRunner().invoke(gen_tests, [str(pair_dir()), "-o", str(out_dir / "test_toy_parity.py")])
    assert r.exit_code == 2
    assert "is a symlink to" in r.output and "refusing to write through it" in r.output
    assert outside.read_text() == "# not ours\n"


def test_gen_tests_write_failure_keeps_the_old_file(pair_dir, tmp_path, monkeypatch):
    out = tmp_path / "test_toy_parity.py"
    out.write_text("# an older version\n")
    real_replace = os.replace

    def replace(src, dst, *args, **kwargs):
        if os.path.abspath(dst) == str(out):
            raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", replace)
    r = CliRunner().invoke(gen_tests, [str(pair_dir()), "-o", str(out)])
    assert r.exit_code == 2 and "No space left on device" in r.output
    assert out.read_text() == "# an older version\n"
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))
