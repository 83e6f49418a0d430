"""Write generated files as one transaction: check every target, stage, move into place, roll back on failure.

Every target is checked before the first file moves (conflicts, unreadable files, paths that cannot be written,
symlinks that leave the output directory). Changed files are written to a staging directory inside the output
directory with a journal, then moved into place; if a move fails, what was moved is restored. A run killed
mid-way (SIGKILL, power loss) leaves its staging directory behind; the next run rolls its moves back from the
journal and removes it.
"""

from __future__ import annotations

import contextlib
import difflib
import enum
import errno
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from scaffold.errors import ScaffoldError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; stale staging directories are then cleaned by age only
    fcntl = None  # type: ignore[assignment]

STAGING_PREFIX = ".scaffold-staging-"
_LOCK, _JOURNAL, _NEW, _OLD = "lock", "journal.json", "new", "old"
_UNLOCKED_GRACE_SECONDS = 600  # a staging directory without a lock file is still being set up for this long


class Status(enum.Enum):
    CREATED = "created"
    UNCHANGED = "unchanged"
    UPDATED = "updated"  # differed, overwritten with --force
    EDITED = "edited"  # an in-place edit applied to a file that still equals the text the edit was computed from
    REMOVED = "removed"  # a deletion applied to a file that still equals the text it was planned against
    WOULD_CREATE = "would create"
    WOULD_CHANGE = "would change"
    WOULD_REMOVE = "would remove"
    CONFLICT = "conflict"  # differs (or changed since an edit was computed), and neither --force nor --dry-run


class WriteError(ScaffoldError):
    """The output cannot be written as a whole (unusable paths, unreadable files, a failed move); nothing changed."""


@dataclass(frozen=True)
class FileOp:
    path: str  # relative to out_dir, POSIX separators
    text: str | None  # the new content; None deletes the file
    base: str | None = None  # set for an in-place edit of an existing file: the content the edit was computed from


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


def read_existing_text(path: Path) -> str:
    """A file's exact text (no newline translation); a `WriteError` naming the file if it is not readable UTF-8."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WriteError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WriteError(f"{path}: byte {exc.start} is not valid UTF-8; scaffold only edits UTF-8 files") from None


def unified_diff(old: str, new: str, path: str) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True), new.splitlines(keepends=True), f"a/{path}", f"b/{path}"
    )
    return "".join(lines)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _ops(files: Iterable[FileOp] | Mapping[str, str]) -> list[FileOp]:
    ops = [FileOp(p, t) for p, t in files.items()] if isinstance(files, Mapping) else list(files)
    seen: set[str] = set()
    for op in ops:
        parts = PurePosixPath(op.path).parts
        if not parts or op.path.startswith("/") or "\\" in op.path or any(p in ("", ".", "..") for p in parts):
            raise WriteError(f"{op.path!r}: not a relative POSIX path inside the output directory")
        if op.path in seen:
            raise WriteError(f"{op.path}: written twice")
        seen.add(op.path)
    return ops


def _unresolvable(path: Path) -> str | None:
    """Why `path` cannot be resolved (a symlink loop: RuntimeError before Python 3.13, OSError after), or None."""
    try:
        path.resolve()
    except (RuntimeError, OSError) as exc:
        if isinstance(exc, RuntimeError) or exc.errno == errno.ELOOP:
            return f"{path} is a symlink loop; refusing to write through it"
        return f"{path} cannot be resolved: {exc.strerror or exc}; refusing to write through it"
    return None


def _path_problem(out_dir: Path, rel: str) -> str | None:
    """Why `rel` cannot be written under `out_dir`: a parent that is a file, a symlink leaving out_dir, a dir."""
    if problem := _unresolvable(out_dir):
        return problem
    root = out_dir.resolve()
    current = out_dir
    for i, part in enumerate(PurePosixPath(rel).parts):
        current = current / part
        last = i == len(PurePosixPath(rel).parts) - 1
        if current.is_symlink():
            if problem := _unresolvable(current):
                return problem
            resolved = current.resolve()
            if resolved != root and root not in resolved.parents:
                return f"{current} is a symlink to {resolved}, outside {out_dir}; refusing to write through it"
        if not current.exists():
            return None
        if not last and not current.is_dir():
            return f"{current} is a file, but generated files go inside it"
        if last and current.is_dir():
            return f"{current} is a directory, but a file is generated there"
    return None


def _missing_dirs(out_dir: Path, rels: list[str]) -> list[str]:
    """Directories (relative, parents first) that moving these files creates, out_dir included as '.'."""
    missing = [] if out_dir.exists() else ["."]
    for rel in rels:
        for parent in reversed(PurePosixPath(rel).parents[:-1]):
            if parent.as_posix() not in missing and not (out_dir / parent).exists():
                missing.append(parent.as_posix())
    return missing


def write_files(
    out_dir: Path, files: Iterable[FileOp] | Mapping[str, str], *, force: bool, dry_run: bool
) -> WriteReport:
    """Write `files` (FileOps, or relative path -> text) under `out_dir`, all or nothing.

    Statuses: `created`, `unchanged`, `updated` (differed, --force), `edited` (an op with `base` whose file still
    equals `base`), `removed` (an op with text None), `conflict` (differs without --force, or an edit or removal
    whose file changed since it was read), `would create` / `would change` / `would remove` (--dry-run, or when
    conflicts stop the run). With any conflict, or on --dry-run, nothing is written. Unusable targets raise
    `WriteError` before anything is written.
    """
    ops = _ops(files)
    if not dry_run:
        recover_stale_staging(out_dir)
    errors = list(dict.fromkeys(problem for op in ops if (problem := _path_problem(out_dir, op.path))))
    if errors:
        raise WriteError("\n".join(errors))
    results: list[FileResult] = []
    to_write: list[tuple[FileOp, str | None]] = []  # (op, old text)
    unreadable: list[str] = []
    for op in ops:
        target = out_dir / op.path
        try:
            old = read_existing_text(target) if target.exists() else None
        except WriteError as exc:
            unreadable.append(str(exc))
            continue
        if old == op.text or (old is None and op.text is None):
            results.append(FileResult(op.path, Status.UNCHANGED, ""))
            continue
        diff = unified_diff(old or "", op.text or "", op.path)
        stale_edit = op.base is not None and old != op.base
        if op.text is None:
            if dry_run:
                status = Status.WOULD_REMOVE
            else:
                status = Status.CONFLICT if stale_edit and not force else Status.REMOVED
        elif dry_run:
            status = Status.WOULD_CREATE if old is None else Status.WOULD_CHANGE
        elif old is None and op.base is None:
            status = Status.CREATED
        elif not stale_edit and op.base is not None:
            status = Status.EDITED
        elif force:
            status = Status.CREATED if old is None else Status.UPDATED
        else:
            status = Status.CONFLICT
        results.append(FileResult(op.path, status, diff))
        if status in _WRITES:
            to_write.append((op, old))
    if unreadable:
        raise WriteError("\n".join(unreadable))
    report = WriteReport(results)
    if report.has_conflicts:
        # Nothing is written: what would have been written is reported as `would create` / `would change`.
        report.results = [FileResult(r.path, _WOULD.get(r.status, r.status), r.diff) for r in report.results]
    if dry_run or report.has_conflicts or not to_write:
        return report
    _commit(out_dir, to_write)
    return report


_WOULD = {
    Status.CREATED: Status.WOULD_CREATE,
    Status.UPDATED: Status.WOULD_CHANGE,
    Status.EDITED: Status.WOULD_CHANGE,
    Status.REMOVED: Status.WOULD_REMOVE,
}
_WRITES = frozenset(_WOULD)


class _Staging:
    """A staging directory held by this process (an flock on its lock file) for as long as the transaction runs."""

    def __init__(self, out_dir: Path):
        self.dir = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
        self.lock = open(self.dir / _LOCK, "w", encoding="utf-8")  # noqa: SIM115 - held until close()
        if fcntl is not None:
            fcntl.flock(self.lock, fcntl.LOCK_EX)
        self.lock.write(str(os.getpid()))
        self.lock.flush()

    def close(self) -> None:
        self.lock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def _commit(out_dir: Path, to_write: list[tuple[FileOp, str | None]]) -> None:
    created_dirs = _missing_dirs(out_dir, [op.path for op, _ in to_write])
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = _Staging(out_dir)
    journal = {
        "dirs": created_dirs,
        "files": [
            {"path": op.path, "created": old is None, "removed": op.text is None, "sha256": _sha(op.text or "")}
            for op, old in to_write
        ],
    }
    moved: list[int] = []
    try:
        for op, old in to_write:
            for name, text in ((_NEW, op.text), (_OLD, old)):
                if text is not None:
                    staged = staging.dir / name / op.path
                    staged.parent.mkdir(parents=True, exist_ok=True)
                    staged.write_bytes(text.encode("utf-8"))
        (staging.dir / f"{_JOURNAL}.tmp").write_text(json.dumps(journal), encoding="utf-8")
        os.replace(staging.dir / f"{_JOURNAL}.tmp", staging.dir / _JOURNAL)  # from here on, a crash is undone
        for i, (op, _) in enumerate(to_write):
            target = out_dir / op.path
            if op.text is None:
                target.unlink()  # its old text is staged: a roll-back restores it
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging.dir / _NEW / op.path, target)  # atomic per file on the same filesystem
            moved.append(i)
    except BaseException as exc:
        try:
            _roll_back(out_dir, staging.dir, journal, only=moved)
        except BaseException:
            staging.lock.close()  # keep the journal: the next run finishes the roll-back
            raise WriteError(
                f"{out_dir}: writing failed ({exc}) and so did restoring; the next run restores it"
            ) from None
        staging.close()
        _remove_dirs(out_dir, created_dirs)
        if not isinstance(exc, OSError):
            raise
        where = exc.filename or out_dir
        raise WriteError(f"{where}: cannot write: {exc.strerror or exc}; nothing was changed in {out_dir}") from None
    staging.close()
    _remove_emptied_dirs(out_dir, [op.path for op, _ in to_write if op.text is None])


def _remove_emptied_dirs(out_dir: Path, removed: list[str]) -> None:
    """Remove the directories that removing these files left empty (never out_dir itself)."""
    for rel in removed:
        for parent in PurePosixPath(rel).parents[:-1]:
            try:
                (out_dir / parent).rmdir()
            except OSError:
                break  # not empty: neither is any directory above it


def _remove_dirs(out_dir: Path, created: list[str]) -> None:
    for rel in reversed(created):
        with contextlib.suppress(OSError):  # not empty (someone else's files) or already gone
            (out_dir / rel).rmdir()


def _roll_back(out_dir: Path, staging: Path, journal: dict, only: list[int] | None = None) -> None:
    """Undo the moves of a transaction: restore replaced files, remove created ones and the directories made.

    With `only`, the moves known to have happened; otherwise (recovering a killed run) every file whose content is
    still exactly what that run wrote.
    """
    entries = journal["files"]
    indices = only if only is not None else range(len(entries))
    for i in reversed(list(indices)):
        entry = entries[i]
        target = out_dir / entry["path"]
        removed = entry.get("removed", False)
        if only is None:
            if removed:
                if target.exists() or target.is_symlink():
                    continue  # never removed, or made again since: not ours to undo
            else:
                try:
                    if _sha(target.read_bytes().decode("utf-8")) != entry["sha256"]:
                        continue  # never moved, or changed since: not ours to undo
                except (OSError, UnicodeDecodeError):
                    continue
        if entry["created"]:
            target.unlink(missing_ok=True)
        else:
            target.parent.mkdir(parents=True, exist_ok=True)  # a removal may have taken its directory with it
            os.replace(staging / _OLD / entry["path"], target)


def recover_stale_staging(out_dir: Path) -> list[Path]:
    """Roll back and remove the staging directories of killed runs (ones whose lock no live process holds)."""
    removed: list[Path] = []
    if not out_dir.is_dir():
        return removed
    for staging in sorted(out_dir.glob(f"{STAGING_PREFIX}*")):
        if not staging.is_dir() or staging.is_symlink():
            continue
        lock_path = staging / _LOCK
        if not lock_path.exists():
            if time.time() - staging.stat().st_mtime < _UNLOCKED_GRACE_SECONDS:
                continue  # another run may be creating it right now
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
            continue
        with open(lock_path, "a", encoding="utf-8") as lock:
            if fcntl is not None:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:
                    continue  # a live run holds it
            elif time.time() - lock_path.stat().st_mtime < _UNLOCKED_GRACE_SECONDS:
                continue
            journal_path = staging / _JOURNAL
            journal = json.loads(journal_path.read_text(encoding="utf-8")) if journal_path.exists() else None
            if journal is not None:
                _roll_back(out_dir, staging, journal)
            shutil.rmtree(staging, ignore_errors=True)
            removed.append(staging)
        if journal is not None:
            _remove_dirs(out_dir, journal["dirs"])
    return removed
