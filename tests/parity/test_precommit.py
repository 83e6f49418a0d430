"""The pre-commit hook, with real pre-commit in a temporary git repository (slow: pip-installs scaffold)."""

import os
import shutil
import subprocess
import sys

import pytest
from parity.pairs import PIL, TORCH, write_pair

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def git(cwd, *args):
    env = dict(
        os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@t"
    )
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)


def copy_project(dest):
    """The project's own files (tracked or not ignored by git): never venvs, caches or build output."""
    listed = subprocess.run(
        ["git", "-C", ROOT, "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        check=True,
    ).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        src = os.path.join(ROOT, rel)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, rel)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, rel))


@pytest.mark.slow
def test_precommit_blocks_divergence(tmp_path):
    if shutil.which("git") is None:
        pytest.skip("git not available")
    pre_commit = [sys.executable, "-m", "pre_commit"]
    # a committed copy of the scaffold project (try-repo needs the hook file committed)
    hook_repo = tmp_path / "scaffold"
    copy_project(hook_repo)
    assert git(hook_repo, "init", "-q").returncode == 0
    git(hook_repo, "add", "-A")
    assert git(hook_repo, "commit", "-q", "-m", "snapshot").returncode == 0

    repo = tmp_path / "work"
    repo.mkdir()
    git(repo, "init", "-q")
    write_pair(repo, TORCH, PIL, model="toy")
    git(repo, "add", "-A")
    env = dict(os.environ, PRE_COMMIT_HOME=str(tmp_path / "pc-home"), SCAFFOLD_CACHE_DIR=str(tmp_path / "cache"))

    def try_repo():
        return subprocess.run(
            [*pre_commit, "try-repo", str(hook_repo), "check-parity"],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )

    clean = try_repo()
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert git(repo, "commit", "-q", "-m", "clean pair").returncode == 0

    # stage a divergence in the PIL file only: the hook must check the pair and block
    (repo / "toy" / "image_processing_pil_toy.py").write_text(
        PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")
    )
    git(repo, "add", "-A")
    bad = try_repo()
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert "PAR020 default `patch_size` differs" in bad.stdout


def test_the_hook_skips_scaffold_update_merge_base():
    """`.scaffold/<m>/base/` holds copies of what scaffold rendered (committed with a package): not checked."""
    import re
    from pathlib import Path

    from ruamel.yaml import YAML

    [hook] = YAML(typ="safe").load((Path(__file__).resolve().parents[2] / ".pre-commit-hooks.yaml").read_text())
    files, exclude = re.compile(hook["files"]), re.compile(hook["exclude"])
    base = ".scaffold/tiny/base/tiny/image_processing_pil_tiny.py"
    for path in (base, "sub/" + base):
        assert files.search(path) and exclude.search(path)
    for path in ("tiny/image_processing_pil_tiny.py", "src/transformers/models/x/image_processing_x.py"):
        assert files.search(path) and not exclude.search(path)
