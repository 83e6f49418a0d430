"""`scaffold update`: re-render a model from its current spec and this scaffold, keeping the user's hand edits.

For every file the lock lists or the new render has, three texts meet: the merge base (what scaffold rendered
last time, kept under `.scaffold/<model_type>/base/`), the user's file on disk, and the new render:

    user's file == base          -> the new render is written                         (updated)
    new render == base           -> the user's file is kept                           (kept)
    file deleted by the user     -> it stays deleted                                   (deleted by you)
    file new on both sides       -> merged against an empty base                       (merged / conflict)
    anything else                -> three-way merge, diff3 markers on conflicting hunks (merged / conflict)
    no longer rendered           -> removed if unedited, else kept                     (removed / orphaned)

The doc page (role `once`) is never re-rendered; registration edits are recomputed against the tree and applied
as idempotent edits. Everything, the new lock and base included, is one transaction of the writer. With conflicts
the files are written with markers, the command exits 1, and the new lock and base wait under `pending/` until
`update --continue` records them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path

from scaffold import __version__
from scaffold.errors import ConflictError, UsageError
from scaffold.generate.lock import (
    LockError,
    Role,
    discard_pending_ops,
    lock_path,
    locked_model_types,
    read_lock,
    state_dir,
    state_ops,
)
from scaffold.generate.merge import has_conflict_markers, merge3
from scaffold.generate.pipeline import apply_overrides, check_target, make_lock, render_output
from scaffold.generate.plan import Target
from scaffold.generate.write import (
    STAGING_PREFIX,
    FileOp,
    Status,
    WriteReport,
    read_existing_text,
    recover_stale_staging,
    unified_diff,
    write_files,
)
from scaffold.spec.load import load_spec
from scaffold.spec.model import Spec


class Outcome(enum.Enum):
    UNCHANGED = "unchanged"
    CREATED = "created"  # new in this render, absent on disk
    UPDATED = "updated"  # the user had not edited it: the new render replaces it
    KEPT = "kept"  # the render did not change: the user's edits stay as they are
    MERGED = "merged"  # both changed it: merged without conflicts
    CONFLICT = "conflict"  # both changed the same lines: written with diff3 markers
    STAYS_DELETED = "stays deleted"  # the user deleted it
    REMOVED = "removed"  # no longer rendered and not edited
    ORPHANED = "orphaned"  # no longer rendered, but edited: kept
    REGISTERED = "registered"  # a registration edit of a shared file, re-applied


@dataclass(frozen=True)
class FileUpdate:
    path: str
    outcome: Outcome
    role: Role
    diff: str = ""  # from the file on disk to what it becomes


@dataclass
class UpdateReport:
    model_type: str
    files: list[FileUpdate] = field(default_factory=list)
    written: WriteReport | None = None  # None on --dry-run
    notes: list[str] = field(default_factory=list)

    @property
    def conflicts(self) -> list[str]:
        return [f.path for f in self.files if f.outcome is Outcome.CONFLICT]


def finish_killed_runs(out_dir: Path, dry_run: bool) -> None:
    """Roll back what a killed run left half-moved, before anything reads the files it was writing."""
    if not dry_run:
        recover_stale_staging(out_dir)
    elif out_dir.is_dir() and any(out_dir.glob(f"{STAGING_PREFIX}*")):
        raise UsageError(f"{out_dir}: a killed run left a staging folder; run without --dry-run to roll it back first")


def find_model_type(out_dir: Path, spec: Spec | None) -> str:
    if spec is not None:
        return spec.model.model_type
    locked = locked_model_types(out_dir)
    if len(locked) == 1:
        return locked[0]
    if not locked:
        raise LockError(f"{out_dir}: no scaffold lock here (.scaffold/<model_type>/lock.json); run new-vlm first")
    raise UsageError(f"{out_dir}: locks for several models ({', '.join(locked)}); name the spec to update")


def update(
    spec_path: Path | None,
    out_dir: Path,
    target: Target,
    *,
    dry_run: bool = False,
    kwargs_mode: str | None = None,
) -> UpdateReport:
    """Re-render and merge (see the module docstring); with conflicts the files are written with markers and
    the report's `conflicts` lists them (the caller exits 1)."""
    spec = load_spec(spec_path) if spec_path is not None else None
    finish_killed_runs(out_dir, dry_run)
    model_type = find_model_type(out_dir, spec)
    if (out_dir / lock_path(model_type, pending=True)).exists():
        raise UsageError(
            f"{out_dir / state_dir(model_type)}/pending: an earlier update stopped on conflicts; resolve them and run "
            "`scaffold update --continue`, or delete that pending folder to start over"
        )
    old_lock, base = read_lock(out_dir, model_type)
    if old_lock.target != target.kind:
        where = "--transformers TREE" if old_lock.target == "tree" else "-o DIR"
        raise UsageError(f"{out_dir}: this model was generated as a {old_lock.target}; update it with {where}")
    overrides = dict(old_lock.overrides)
    if kwargs_mode is not None:
        overrides["kwargs_mode"] = kwargs_mode
    if spec is None:
        spec = Spec.model_validate(old_lock.spec)  # a scaffold upgrade: the same answers, the new templates
    spec = apply_overrides(spec, overrides.get("kwargs_mode"))
    check_target(spec, spec_path or lock_path(model_type), out_dir, target)

    output = render_output(spec, out_dir, target, year=old_lock.year, added=old_lock.added)
    report = UpdateReport(model_type)
    ops: list[FileOp] = []
    old_roles = {path: entry.role for path, entry in old_lock.files.items()}
    for path in sorted(set(output.files) | set(base)):
        role = output.roles.get(path) or old_roles[path]
        current = read_existing_text(out_dir / path) if (out_dir / path).is_file() else None
        outcome, text = _merge_one(path, role, base.get(path), current, output.files.get(path), old_roles)
        if text != current:
            ops.append(FileOp(path, text, current))
        report.files.append(FileUpdate(path, outcome, role, unified_diff(current or "", text or "", path)))
    for op in output.edits:
        ops.append(op)
        report.files.append(
            FileUpdate(
                op.path, Outcome.REGISTERED, Role.REGISTRATION, unified_diff(op.base or "", op.text or "", op.path)
            )
        )

    new_lock = make_lock(spec, target, output, overrides)
    new_base = {path: text for path, text in output.files.items()}
    conflicts = report.conflicts
    if conflicts:
        pending = new_lock.model_copy(update={"conflicts": conflicts})
        ops += state_ops(out_dir, pending, new_base, pending=True, tree=target.in_tree)
    else:
        ops += state_ops(out_dir, new_lock, new_base, tree=target.in_tree)
    modular = [f for f in report.files if f.path.rsplit("/", 1)[-1].startswith("modular_")]
    if target.in_tree and modular and modular[0].outcome in (Outcome.KEPT, Outcome.MERGED, Outcome.CONFLICT):
        report.notes.append(
            f"{modular[0].path} holds your edits: once it is resolved, regenerate the model files from it with "
            f"`python utils/modular_model_converter.py --files {modular[0].path}` (check_modular_conversion.py "
            "fails until they agree)"
        )
    if not dry_run:
        report.written = write_files(out_dir, ops, force=False, dry_run=False)
        if report.written.has_conflicts:  # a file changed while we merged: nothing was written
            changed = [r.path for r in report.written.results if r.status is Status.CONFLICT]
            raise ConflictError(f"files changed during the update, nothing was written; run it again: {changed}")
    return report


def _merge_one(
    path: str, role: Role, base: str | None, current: str | None, new: str | None, old_roles: dict[str, Role]
) -> tuple[Outcome, str | None]:
    """What one file becomes, and why."""
    if role is Role.ONCE and (path in old_roles or current is not None):  # the contributor's file now
        return Outcome.UNCHANGED if current is not None else Outcome.STAYS_DELETED, current
    if new is None:  # scaffold no longer renders it
        if current is None:
            return Outcome.UNCHANGED, None
        return (Outcome.REMOVED, None) if current == base else (Outcome.ORPHANED, current)
    if current is None:
        return (Outcome.STAYS_DELETED, None) if base is not None else (Outcome.CREATED, new)
    if current == new:
        return Outcome.UNCHANGED, current
    if base is not None and current == base:
        return Outcome.UPDATED, new
    if base is not None and new == base:
        return Outcome.KEPT, current
    merged = merge3(
        current,
        base or "",
        new,
        labels=(
            f"yours ({path})",
            "base (scaffold's last render)" if base else "base (empty)",
            f"scaffold {__version__}",
        ),
    )
    if merged.conflicts:
        return Outcome.CONFLICT, merged.text
    return Outcome.MERGED, merged.text


def continue_update(spec_path: Path | None, out_dir: Path, *, dry_run: bool = False) -> list[str]:
    """Record the pending update's lock and base once its conflicts are resolved; returns the files it checked."""
    spec = load_spec(spec_path) if spec_path is not None else None
    finish_killed_runs(out_dir, dry_run)
    model_type = _pending_model_type(out_dir, spec)
    pending, base = read_lock(out_dir, model_type, pending=True)
    unresolved = [
        path
        for path in pending.conflicts
        if (out_dir / path).is_file() and has_conflict_markers(read_existing_text(out_dir / path))
    ]
    if unresolved:
        raise ConflictError("still holding conflict markers: " + ", ".join(unresolved))
    lock = pending.model_copy(update={"conflicts": []})
    ops = state_ops(out_dir, lock, base, tree=lock.target == "tree") + discard_pending_ops(out_dir, model_type)
    if not dry_run:
        write_files(out_dir, ops, force=False, dry_run=False)
    return list(pending.conflicts)


def _pending_model_type(out_dir: Path, spec: Spec | None) -> str:
    if spec is not None:
        return spec.model.model_type
    pending = [m for m in locked_model_types(out_dir) if (out_dir / lock_path(m, pending=True)).is_file()]
    if len(pending) == 1:
        return pending[0]
    if not pending:
        raise LockError(f"{out_dir}: no update is waiting for its conflicts to be resolved")
    raise UsageError(f"{out_dir}: several models have pending updates ({', '.join(pending)}); name the spec")
