"""new-vlm as a user runs it: statuses per file, idempotence, conflicts never overwritten, dry-run, diff."""

from __future__ import annotations

from pathlib import Path

from helpers import ROOT, run_cli

from scaffold.codegen.literals import PyExpr, py_literal
from scaffold.generate.write import Status, write_files

EXAMPLE = ROOT / "examples" / "clip_like.yaml"


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def statuses(stdout: str) -> list[str]:
    return [line.strip().split("  ")[0] for line in stdout.splitlines() if line.strip()]


def test_second_run_is_byte_identical_and_reports_unchanged(tmp_path):
    first = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path))
    assert first.returncode == 0 and set(statuses(first.stdout)) == {"created"}
    before = snapshot(tmp_path)
    second = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path))
    assert second.returncode == 0 and set(statuses(second.stdout)) == {"unchanged"}
    assert snapshot(tmp_path) == before


def test_conflict_writes_nothing_and_force_overwrites(tmp_path):
    run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path))
    edited = tmp_path / "clip_like_vlm" / "image_processing_pil_clip_like_vlm.py"
    edited.write_text(edited.read_text() + "# my edit\n")
    (tmp_path / "clip_like_vlm" / "__init__.py").unlink()
    before = snapshot(tmp_path)

    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path))
    assert result.returncode == 1
    assert "conflict" in statuses(result.stdout) and "would create" in statuses(result.stdout)
    assert "nothing was written" in result.stderr
    assert snapshot(tmp_path) == before, "a conflict must leave every file as it was"

    forced = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path), "--force")
    assert forced.returncode == 0
    assert sorted(set(statuses(forced.stdout))) == ["created", "unchanged", "updated"]
    assert "# my edit" not in edited.read_text()


def test_dry_run_writes_nothing_and_diff_shows_changes(tmp_path):
    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path / "out"), "--dry-run")
    assert result.returncode == 0 and set(statuses(result.stdout)) == {"would create"}
    assert not (tmp_path / "out").exists()

    run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path / "out"))
    target = tmp_path / "out" / "clip_like_vlm" / "image_processing_clip_like_vlm.py"
    target.write_text(target.read_text().replace("do_center_crop = True", "do_center_crop = False"))
    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path / "out"), "--dry-run", "--diff")
    assert result.returncode == 0
    assert "-    do_center_crop = False" in result.stdout and "+    do_center_crop = True" in result.stdout
    assert "do_center_crop = False" in target.read_text()


def test_missing_spec_and_unwritable_output_are_usage_errors(tmp_path):
    result = run_cli("new-vlm", str(tmp_path / "nope.yaml"), "-o", str(tmp_path))
    assert result.returncode == 2 and "cannot read spec" in result.stderr and "Traceback" not in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(blocker))
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_write_files_is_all_or_nothing_on_conflict(tmp_path):
    (tmp_path / "b.py").write_text("old\n")
    report = write_files(tmp_path, {"a.py": "new\n", "b.py": "new\n"}, force=False, dry_run=False)
    assert [r.status for r in report.results] == [Status.WOULD_CREATE, Status.CONFLICT]
    assert not (tmp_path / "a.py").exists() and (tmp_path / "b.py").read_text() == "old\n"
    assert not list(tmp_path.glob(".scaffold-staging-*")), "staging directory left behind"


def test_py_literal_renders_only_literals():
    import ast

    for value in [None, True, 3, 0.1, "a'b\"c", [1, 2.5], (1,), {"height": 3}, [[1], {"k": "v"}]]:
        assert ast.literal_eval(py_literal(value)) == value
    assert py_literal(PyExpr("OPENAI_CLIP_MEAN")) == "OPENAI_CLIP_MEAN"
    for bad in [object(), {1, 2}, float("nan")]:
        try:
            py_literal(bad)
        except (TypeError, ValueError):
            continue
        raise AssertionError(f"{bad!r} was rendered")


def test_symlink_loop_at_the_package_is_a_clear_error(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    package = out / "clip_like_vlm"
    package.symlink_to(package)  # points at itself
    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{package} is a symlink loop; refusing to write through it" in result.stderr
    assert result.stderr.count("symlink loop") == 1  # once, not once per generated file
    assert [p.name for p in out.iterdir()] == ["clip_like_vlm"]


def test_output_directory_that_is_a_symlink_loop_is_a_clear_error(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    result = run_cli("new-vlm", str(EXAMPLE), "-o", str(tmp_path / "a"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert f"{tmp_path / 'a'} is a symlink loop" in result.stderr
