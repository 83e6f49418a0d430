"""Compare rendered files with what is on disk, then write all of them or none (stage, then move)."""

from __future__ import annotations

import difflib
import enum
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path


class Status(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    UPDATED = "updated"  # differed, overwritten with --force
    WOULD_CREATE = "would create"
    WOULD_CHANGE = "would change"
    CONFLICT = "conflict"  # differs, and neither --force nor --dry-run was given


@dataclass(frozen=True)
class FileResult:
    path: str  # relative to the output directory
    status: Status
    diff: str  # unified diff from the current file (empty when unchanged)


@dataclass
class WriteReport:
    results: list[FileResult]

    def count(self, *statuses: Status) -> int:
        return sum(r.status in statuses for r in self.results)

    @property
    def has_conflicts(self) -> bool:
        return self.count(Status.CONFLICT) > 0


def _unified_diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(lines)


def write_files(out_dir: Path, files: dict[str, str], *, force: bool, dry_run: bool) -> WriteReport:
    """Write `files` (relative path -> text) under `out_dir`.

    Nothing is written when any file conflicts (exists, differs, no --force) or on --dry-run. Otherwise every
    changed file is first written to a staging directory inside `out_dir`, then moved into place, so a failure
    mid-way leaves no half-written file behind.
    """
    results: list[FileResult] = []
    to_write: list[str] = []
    for rel, text in files.items():
        target = out_dir / rel
        if target.is_dir():
            results.append(FileResult(rel, Status.CONFLICT, f"{target} is a directory\n"))
            continue
        old = target.read_text(encoding="utf-8") if target.exists() else None
        if old == text:
            results.append(FileResult(rel, Status.UNCHANGED, ""))
            continue
        diff = _unified_diff(old or "", text, rel)
        if dry_run:
            results.append(FileResult(rel, Status.WOULD_CREATE if old is None else Status.WOULD_CHANGE, diff))
        elif old is not None and not force:
            results.append(FileResult(rel, Status.CONFLICT, diff))
        else:
            results.append(FileResult(rel, Status.CREATED if old is None else Status.UPDATED, diff))
            to_write.append(rel)
    report = WriteReport(results)
    if dry_run or report.has_conflicts or not to_write:
        if report.has_conflicts:
            # Nothing was written: new files are reported as `would create`, not `created`.
            report.results = [
                FileResult(r.path, Status.WOULD_CREATE, r.diff) if r.status is Status.CREATED else r
                for r in report.results
            ]
        return report

    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".scaffold-staging-", dir=out_dir))
    try:
        for rel in to_write:
            staged = staging / rel
            staged.parent.mkdir(parents=True, exist_ok=True)
            staged.write_text(files[rel], encoding="utf-8")
        for rel in to_write:
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / rel, target)  # atomic per file on the same filesystem
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return report
