"""What `new-vlm` records for `update`: a lock file and a pristine copy of every file it rendered (the merge base).

Both live in a state folder of the output directory, one per model type: `<out>/.scaffold/<model_type>/` for a
package (commit it with the package, so any clone can update), and `<tree>/.scaffold/<model_type>/` in a
transformers tree, where `.scaffold/.gitignore` ignores the folder so it is never committed by accident.

    .scaffold/<model_type>/lock.json      scaffold version, resolved spec, pinned year, every file's role and sha256
    .scaffold/<model_type>/base/<path>    the text scaffold rendered for <path>: the merge base of the next update
    .scaffold/<model_type>/pending/...    the same two for an update that stopped on conflicts (`update --continue`)
"""

from __future__ import annotations

import datetime
import enum
import hashlib
import json
from pathlib import Path, PurePosixPath
from typing import Any, Literal

import pydantic

from scaffold.errors import ScaffoldError
from scaffold.generate.write import FileOp, read_existing_text

STATE_DIR = ".scaffold"
LOCK_FILE = "lock.json"
BASE_DIR = "base"
PENDING_DIR = "pending"
LOCK_VERSION = 1


class LockError(ScaffoldError):
    """The lock or its merge base is missing, unreadable or inconsistent; nothing was changed."""


class Role(str, enum.Enum):
    GENERATED = "generated"  # rendered from the spec; update merges the user's edits into each new render
    DERIVED = "derived"  # in-tree: split from the modular file (utils/modular_model_converter.py makes them too)
    ONCE = "once"  # written when missing, then the contributor's (the model's doc page)
    REGISTRATION = "registration"  # an idempotent edit of a shared file (Auto mappings, models/__init__.py, toctree)

    @property
    def has_base(self) -> bool:
        return self is not Role.REGISTRATION


class LockedFile(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    role: Role
    sha256: str = pydantic.Field(pattern=r"^[0-9a-f]{64}$")  # of the rendered text (the base); registration: the edit


class Lock(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True)

    lock_version: Literal[1] = LOCK_VERSION
    scaffold_version: str
    target: Literal["package", "tree"]
    model_type: str
    year: int  # the copyright year every file was rendered with: pinned, so a new year is no change
    added: datetime.date  # the doc page's "contributed on" date (in-tree), pinned likewise
    overrides: dict[str, str] = {}  # command-line overrides of the spec (--kwargs-mode)
    spec: dict[str, Any]  # the fully resolved spec, every default filled in
    files: dict[str, LockedFile]  # relative path -> role and sha256, sorted
    conflicts: list[str] = []  # pending only: the files written with conflict markers

    def to_text(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def state_dir(model_type: str) -> str:
    """The state folder of one model, relative to the output directory."""
    return f"{STATE_DIR}/{model_type}"


def lock_path(model_type: str, *, pending: bool = False) -> str:
    return f"{state_dir(model_type)}/{PENDING_DIR}/{LOCK_FILE}" if pending else f"{state_dir(model_type)}/{LOCK_FILE}"


def base_path(model_type: str, path: str, *, pending: bool = False) -> str:
    sub = f"{PENDING_DIR}/{BASE_DIR}" if pending else BASE_DIR
    return f"{state_dir(model_type)}/{sub}/{path}"


def is_state_path(path: str) -> bool:
    return PurePosixPath(path).parts[:1] == (STATE_DIR,)


def locked_model_types(out_dir: Path) -> list[str]:
    """The model types that have a lock under out_dir."""
    root = out_dir / STATE_DIR
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob(f"*/{LOCK_FILE}") if p.is_file())


def read_lock(
    out_dir: Path, model_type: str, *, pending: bool = False, with_base: bool = True
) -> tuple[Lock, dict[str, str]]:
    """The lock and (unless `with_base` is false) the merge base, path -> text, of one model; a LockError names what
    is wrong."""
    rel = lock_path(model_type, pending=pending)
    path = out_dir / rel
    if not path.is_file():
        if pending:
            raise LockError(f"{path}: no update is waiting for its conflicts to be resolved")
        raise LockError(
            f"{path}: no lock for model type {model_type!r}; update needs the lock that `scaffold new-vlm` writes "
            "(run new-vlm once with the spec the files were generated from)"
        )
    try:
        raw = json.loads(read_existing_text(path))
    except json.JSONDecodeError as exc:
        raise LockError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except ScaffoldError as exc:
        raise LockError(str(exc)) from None
    try:
        lock = Lock.model_validate(raw)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise LockError(
            f"{path}: {where}: {first['msg']} ({exc.error_count()} problem(s)); restore the lock from version "
            "control, or delete the state folder and start again with new-vlm"
        ) from None
    if lock.model_type != model_type:
        raise LockError(f"{path}: model_type: is {lock.model_type!r}, but the folder is {model_type!r}")
    base: dict[str, str] = {}
    for file, entry in lock.files.items():
        if not with_base or not entry.role.has_base:
            continue
        copy = out_dir / base_path(model_type, file, pending=pending)
        if not copy.is_file():
            raise LockError(f"{copy}: the merge base of {file} is missing; restore it from version control")
        try:
            text = read_existing_text(copy)
        except ScaffoldError as exc:
            raise LockError(str(exc)) from None
        if sha256(text) != entry.sha256:
            raise LockError(f"{copy}: the merge base of {file} does not match its sha256 in {rel}; it was edited")
        base[file] = text
    return lock, base


def state_ops(
    out_dir: Path, lock: Lock, base: dict[str, str], *, pending: bool = False, tree: bool = False
) -> list[FileOp]:
    """The writes that record `lock` and `base` (as the lock, or as the pending update), and that remove the
    previous record's base files which are not in `base`. Each op is an edit of the text on disk now."""
    model_type = lock.model_type
    wanted = {lock_path(model_type, pending=pending): lock.to_text()}
    wanted.update({base_path(model_type, path, pending=pending): text for path, text in base.items()})
    if tree:  # in a transformers checkout the state folder must never be committed by accident
        wanted[f"{STATE_DIR}/.gitignore"] = "# scaffold's update state (see `scaffold update`); never committed\n*\n"
    folder = out_dir / state_dir(model_type) / (f"{PENDING_DIR}/{BASE_DIR}" if pending else BASE_DIR)
    stale = [
        p.relative_to(out_dir).as_posix()
        for p in sorted(folder.rglob("*"))
        if (p.is_file() or p.is_symlink()) and p.relative_to(out_dir).as_posix() not in wanted
    ]
    ops = [FileOp(rel, text, _current(out_dir / rel)) for rel, text in wanted.items()]
    ops += [FileOp(rel, None, _current(out_dir / rel)) for rel in stale]
    return ops


def discard_pending_ops(out_dir: Path, model_type: str) -> list[FileOp]:
    """Removals of every file of the pending record."""
    folder = out_dir / state_dir(model_type) / PENDING_DIR
    return [
        FileOp(p.relative_to(out_dir).as_posix(), None, _current(p))
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    ]


def _current(path: Path) -> str | None:
    return read_existing_text(path) if path.is_file() else None
