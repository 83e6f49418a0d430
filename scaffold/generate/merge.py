"""Three-way text merge through `git merge-file` (git's own merge, so conflicts look exactly as git writes them)."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from scaffold.errors import ScaffoldError


class MergeError(ScaffoldError):
    """git is missing or failed; nothing was changed."""


@dataclass(frozen=True)
class Merged:
    text: str
    conflicts: int  # conflicting hunks, each written between diff3 markers


def merge3(ours: str, base: str, theirs: str, *, labels: tuple[str, str, str]) -> Merged:
    """Merge `theirs` (the new render) into `ours` (the user's file), both descended from `base` (the old render).

    Conflicting hunks are written with diff3 markers: `<<<<<<< labels[0]`, `||||||| labels[1]`, `=======`,
    `>>>>>>> labels[2]`.
    """
    git = shutil.which("git")
    if git is None:
        raise MergeError("scaffold update merges with `git merge-file`, but git is not on PATH")
    with tempfile.TemporaryDirectory(prefix="scaffold-merge-") as tmp:
        paths = []
        for name, text in (("ours", ours), ("base", base), ("theirs", theirs)):
            path = Path(tmp) / name
            path.write_bytes(text.encode("utf-8"))
            paths.append(str(path))
        args = [git, "merge-file", "-p", "--diff3"]
        for label in labels:
            args += ["-L", label]
        proc = subprocess.run([*args, *paths], capture_output=True, check=False)
    # Exit status: the number of conflicts (capped at 127), or negative / above 127 for an error.
    if proc.returncode < 0 or proc.returncode > 127:
        raise MergeError(f"git merge-file failed ({proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
    return Merged(proc.stdout.decode("utf-8"), proc.returncode)


CONFLICT_MARKERS = ("<<<<<<< ", "||||||| ", ">>>>>>> ")


def has_conflict_markers(text: str) -> bool:
    """Whether a line of `text` starts a conflict marker (`=======` alone is too common to count)."""
    return any(line.startswith(CONFLICT_MARKERS) for line in text.splitlines())
