"""The writer is one transaction: every failure leaves the output directory exactly as before or exactly new."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scaffold.generate import write as write_module
from scaffold.generate.write import FileOp, Status, WriteError, read_existing_text, recover_stale_staging, write_files

NEW = {
    "pkg/__init__.py": "init\n",
    "pkg/a.py": "a new\n",
    "pkg/b.py": "b new\n",
    "pkg/tests/__init__.py": "",
    "pkg/tests/test_a.py": "test new\n",
}


def snapshot(root: Path) -> dict[str, bytes | None]:
    """Every path under root: file bytes, or None for a directory."""
    return {
        p.relative_to(root).as_posix(): (None if p.is_dir() else p.read_bytes())
        for p in sorted(root.rglob("*"))
        if not p.is_symlink()
    }


def expected_new(root: Path, before: dict) -> dict:
    after = dict(before)
    for rel, text in NEW.items():
        parts = rel.split("/")
        for i in range(1, len(parts)):
            after["/".join(parts[:i])] = None
        after[rel] = text.encode()
    return after


@pytest.fixture
def out(tmp_path):
    """An output directory holding an older version of the package (so moves both replace and create)."""
    root = tmp_path / "out"
    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "a.py").write_text("a old\n")
    (root / "unrelated.txt").write_text("keep\n")
    return root


@pytest.mark.parametrize("fail_at", [0, 1, 2, 4])
def test_a_move_that_fails_halfway_is_rolled_back(out, monkeypatch, fail_at):
    before = snapshot(out)
    real_replace = os.replace
    calls = []

    def flaky_replace(src, dst):
        if ".scaffold-staging-" not in str(dst):
            calls.append(dst)
            if len(calls) == fail_at + 1:
                raise OSError(28, "No space left on device", str(dst))
        return real_replace(src, dst)

    monkeypatch.setattr(write_module.os, "replace", flaky_replace)
    with pytest.raises(WriteError, match="nothing was changed"):
        write_files(out, NEW, force=True, dry_run=False)
    assert snapshot(out) == before


def test_parent_that_is_a_file_is_refused_before_anything_moves(out):
    (out / "pkg" / "tests").write_text("not a directory\n")
    before = snapshot(out)
    with pytest.raises(WriteError, match=r"pkg/tests is a file"):
        write_files(out, NEW, force=True, dry_run=False)
    assert snapshot(out) == before


def test_read_only_directory_is_rolled_back(out, monkeypatch):
    tests_dir = out / "pkg" / "tests"
    tests_dir.mkdir()
    tests_dir.chmod(0o500)
    if os.access(tests_dir, os.W_OK):  # root ignores permissions: make the directory refuse writes as it would
        real_replace = os.replace

        def read_only_replace(src, dst):
            if Path(dst).parent == tests_dir:
                raise PermissionError(13, "Permission denied", str(dst))
            return real_replace(src, dst)

        monkeypatch.setattr(write_module.os, "replace", read_only_replace)
    try:
        before = snapshot(out)
        with pytest.raises(WriteError, match="Permission denied"):
            write_files(out, NEW, force=True, dry_run=False)
        assert snapshot(out) == before
    finally:
        tests_dir.chmod(0o700)


def test_existing_file_that_is_not_utf8_is_a_clear_error(out):
    (out / "pkg" / "b.py").write_bytes(b"caf\xe9\n")
    before = snapshot(out)
    with pytest.raises(WriteError, match=r"b\.py: byte 3 is not valid UTF-8"):
        write_files(out, NEW, force=True, dry_run=False)
    assert snapshot(out) == before
    with pytest.raises(WriteError):
        read_existing_text(out / "pkg" / "b.py")


@pytest.mark.parametrize("link", ["pkg", "pkg/tests"])
def test_symlink_leaving_the_output_directory_is_refused(out, tmp_path, link):
    outside = tmp_path / "outside"
    outside.mkdir()
    if link == "pkg":
        (out / "pkg" / "a.py").unlink()
        (out / "pkg").rmdir()
    (out / link).symlink_to(outside, target_is_directory=True)
    with pytest.raises(WriteError, match="outside"):
        write_files(out, NEW, force=True, dry_run=False)
    assert list(outside.iterdir()) == []


def test_symlink_inside_the_output_directory_is_followed(out):
    (out / "real_tests").mkdir()
    (out / "pkg" / "tests").symlink_to(out / "real_tests", target_is_directory=True)
    write_files(out, NEW, force=True, dry_run=False)
    assert (out / "real_tests" / "test_a.py").read_text() == "test new\n"


KILLED_RUN = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from scaffold.generate import write

    real_replace, moves = os.replace, []

    def replace_then_die(src, dst):
        if "journal" not in str(dst):
            moves.append(dst)
            if len(moves) == 3:
                os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)

    write.os.replace = replace_then_die
    write.write_files(Path(sys.argv[1]), {files!r}, force=True, dry_run=False)
    """
)


def test_killed_run_is_undone_by_the_next_run(out):
    before = snapshot(out)
    proc = subprocess.run([sys.executable, "-c", KILLED_RUN.format(files=NEW), str(out)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert list(out.glob(".scaffold-staging-*")), "the killed run should leave its staging directory"
    assert snapshot(out) != before, "the killed run should have moved some files"

    assert recover_stale_staging(out)
    assert snapshot(out) == before, "recovery must restore the state before the killed run"

    subprocess.run([sys.executable, "-c", KILLED_RUN.format(files=NEW), str(out)], capture_output=True)
    report = write_files(out, NEW, force=True, dry_run=False)  # recovers, then writes
    assert snapshot(out) == expected_new(out, before)
    assert {r.path: r.status for r in report.results}["pkg/a.py"] is Status.UPDATED


def test_staging_of_a_live_run_is_left_alone(out):
    staging = write_module._Staging(out)
    try:
        assert recover_stale_staging(out) == []
        assert staging.dir.exists()
    finally:
        staging.close()
    assert not list(out.glob(".scaffold-staging-*"))


def test_in_place_edits_apply_when_the_file_is_unchanged_and_conflict_when_it_changed(out):
    base = "a old\n"
    edit = FileOp("pkg/a.py", "a old\nedited\n", base=base)
    report = write_files(out, [edit, FileOp("pkg/new.py", "n\n")], force=False, dry_run=False)
    assert [r.status for r in report.results] == [Status.EDITED, Status.CREATED]
    assert (out / "pkg" / "a.py").read_text() == "a old\nedited\n"

    again = write_files(out, [edit], force=False, dry_run=False)
    assert [r.status for r in again.results] == [Status.UNCHANGED]

    (out / "pkg" / "a.py").write_text("someone else's change\n")
    before = snapshot(out)
    stale = write_files(out, [edit, FileOp("pkg/other.py", "o\n")], force=False, dry_run=False)
    assert [r.status for r in stale.results] == [Status.CONFLICT, Status.WOULD_CREATE]
    assert snapshot(out) == before


def test_paths_must_stay_inside_the_output_directory(out):
    for bad in ["../x.py", "/etc/x.py", "pkg/../../x.py", ""]:
        with pytest.raises(WriteError):
            write_files(out, {bad: "x"}, force=True, dry_run=False)


def test_removals_apply_when_unchanged_conflict_when_changed_and_take_emptied_dirs(out):
    (out / "pkg" / "old" / "deep").mkdir(parents=True)
    (out / "pkg" / "old" / "deep" / "x.py").write_text("x\n")
    (out / "pkg" / "old" / "keep.txt").write_text("k\n")
    ops = [FileOp("pkg/old/deep/x.py", None, base="x\n"), FileOp("pkg/gone.py", None)]
    dry = write_files(out, ops, force=False, dry_run=True)
    assert [r.status for r in dry.results] == [Status.WOULD_REMOVE, Status.UNCHANGED]
    assert (out / "pkg" / "old" / "deep" / "x.py").exists()
    report = write_files(out, ops, force=False, dry_run=False)
    assert [r.status for r in report.results] == [Status.REMOVED, Status.UNCHANGED]
    assert not (out / "pkg" / "old" / "deep").exists() and (out / "pkg" / "old" / "keep.txt").exists()

    before = snapshot(out)
    stale = write_files(out, [FileOp("pkg/a.py", None, base="what it was\n")], force=False, dry_run=False)
    assert [r.status for r in stale.results] == [Status.CONFLICT]
    assert snapshot(out) == before


def test_a_removal_is_restored_when_a_later_move_fails(out, monkeypatch):
    (out / "pkg" / "old").mkdir()
    (out / "pkg" / "old" / "x.py").write_text("x\n")
    before = snapshot(out)

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device", str(dst))

    ops = [FileOp("pkg/old/x.py", None, base="x\n"), FileOp("pkg/b.py", "b\n")]
    real_replace = os.replace
    monkeypatch.setattr(
        write_module.os,
        "replace",
        lambda src, dst: failing_replace(src, dst) if str(dst).endswith("b.py") else real_replace(src, dst),
    )
    with pytest.raises(WriteError, match="nothing was changed"):
        write_files(out, ops, force=False, dry_run=False)
    assert snapshot(out) == before


KILLED_REMOVAL = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from scaffold.generate import write

    real_replace = os.replace

    def replace_then_die(src, dst):
        if "journal" not in str(dst):
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)

    write.os.replace = replace_then_die
    ops = [write.FileOp("pkg/old/x.py", None, base="x\\n"), write.FileOp("pkg/b.py", "b\\n")]
    write.write_files(Path(sys.argv[1]), ops, force=False, dry_run=False)
    """
)


def test_a_killed_run_that_had_removed_a_file_is_undone_by_the_next_run(out):
    (out / "pkg" / "old").mkdir()
    (out / "pkg" / "old" / "x.py").write_text("x\n")
    before = snapshot(out)
    proc = subprocess.run([sys.executable, "-c", KILLED_REMOVAL, str(out)], capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert not (out / "pkg" / "old" / "x.py").exists(), "the killed run should have removed the file"
    assert recover_stale_staging(out)
    assert snapshot(out) == before
