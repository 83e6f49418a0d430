"""The generate pipeline in one place: spec file -> planned files -> rendered, formatted text -> written."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from scaffold import __version__
from scaffold.codegen.format import format_many
from scaffold.codegen.render import render_template
from scaffold.errors import UsageError
from scaffold.generate.lock import Lock, LockedFile, LockError, Role, read_lock, sha256, state_ops
from scaffold.generate.modular import absolute_imports, split_modular
from scaffold.generate.plan import PACKAGE, Target, copyright_year, plan
from scaffold.generate.write import FileOp, WriteReport, read_existing_text, recover_stale_staging, write_files
from scaffold.spec.load import load_spec
from scaffold.spec.model import Spec
from scaffold.spec.names import Names


def apply_overrides(spec: Spec, kwargs_mode: str | None) -> Spec:
    if kwargs_mode is None:
        return spec
    ip = spec.image_processor.model_copy(update={"kwargs_mode": kwargs_mode})
    return spec.model_copy(update={"image_processor": ip})


def _ruff_config(target: Target) -> Path | None:
    return target.root / "pyproject.toml" if target.in_tree and target.root is not None else None


def render_spec(spec: Spec, target: Target = PACKAGE, *, year: int | None = None) -> dict[str, str]:
    """Relative path -> final file text, for every file the spec produces."""
    return render_with_roles(spec, target, year=year)[0]


def render_with_roles(
    spec: Spec, target: Target = PACKAGE, *, year: int | None = None
) -> tuple[dict[str, str], dict[str, Role]]:
    """The rendered files and each one's role: in-tree, the model files split from the modular file are derived."""
    the_plan = plan(spec, target, year=year)
    config = _ruff_config(target)
    files: dict[str, str] = {}

    # The modular file is the model's one source; the model files are split from it (formatted first in-tree,
    # since transformers' converter reads the formatted modular file).
    modular = the_plan.modular
    source = render_template("modular.py.jinja", modular.context)
    if modular.modular_path is not None:
        source = format_many([(source, _in_root(target, modular.modular_path), config)])[0]
        files[modular.modular_path] = source
    derived = split_modular(source, modular.split)
    for file_type, path in modular.derived_paths.items():
        files[path] = derived[file_type] if target.in_tree else absolute_imports(derived[file_type])

    for planned in the_plan.templates:
        files[planned.path] = render_template(planned.template, planned.context)

    unformatted = {p.path for p in the_plan.templates if not p.formatted} | {modular.modular_path}
    to_format = [
        path for path, text in files.items() if path.endswith(".py") and path not in unformatted and text.strip()
    ]
    items = [(files[path], _in_root(target, path), config) for path in to_format]
    files.update(zip(to_format, format_many(items), strict=True))
    derived_paths = set(modular.derived_paths.values()) if target.in_tree else set()
    return files, {path: Role.DERIVED if path in derived_paths else Role.GENERATED for path in files}


@dataclass(frozen=True)
class Output:
    """Everything one run writes for a spec: the rendered files, the tree's registration edits, and their roles."""

    files: dict[str, str]  # path -> rendered text (generated, derived and once files)
    edits: list[FileOp]  # in-tree registration edits, each against the text it was computed from
    registered: dict[str, str]  # in-tree: each registration file's text once edited (for the lock's sha256)
    roles: dict[str, Role]  # every path of `files` and `edits`
    year: int
    added: datetime.date


def render_output(
    spec: Spec,
    out_dir: Path,
    target: Target,
    *,
    year: int | None = None,
    added: datetime.date | None = None,
    rendered: tuple[dict[str, str], dict[str, Role]] | None = None,
) -> Output:
    """Render the spec for the target (unless `rendered` is render_with_roles' result for `year`); in a tree also
    add the doc page and compute the registration edits (libcst) against the tree's files."""
    year = copyright_year() if year is None else year
    added = added or datetime.date.today()
    files, roles = rendered if rendered is not None else render_with_roles(spec, target, year=year)
    files, roles = dict(files), dict(roles)
    edits: list[FileOp] = []
    registered: dict[str, str] = {}
    if target.in_tree:
        from scaffold.intree import registry  # libcst: only in-tree runs pay for it

        names = Names.from_parts(spec.model.name, spec.model.model_type)
        doc_page = registry.model_doc_path(names)
        if registry.has_docs(out_dir):  # the page is the contributor's to write once it exists
            files[doc_page] = registry.render_model_doc(names, pretty_name=spec.model.name, year=year, added=added)
            roles[doc_page] = Role.ONCE
        for e in registry.registration_edits(out_dir, names, pretty_name=spec.model.name, year=year, added=added):
            if e.path != doc_page:
                edits.append(FileOp(e.path, e.text, None if e.new_file else e.base))
        edited = {op.path: op.text or "" for op in edits}
        for path in registry.registration_paths(out_dir):
            registered[path] = edited[path] if path in edited else read_existing_text(out_dir / path)
            roles[path] = Role.REGISTRATION
    return Output(files, edits, registered, roles, year, added)


def make_lock(spec: Spec, target: Target, output: Output, overrides: dict[str, str]) -> Lock:
    shas = {path: sha256(text) for path, text in output.files.items()}
    shas.update({path: sha256(text) for path, text in output.registered.items()})
    return Lock(
        scaffold_version=__version__,
        target=target.kind,
        model_type=spec.model.model_type,
        year=output.year,
        added=output.added,
        overrides=overrides,
        spec=spec.model_dump(mode="json"),
        files={path: LockedFile(role=output.roles[path], sha256=shas[path]) for path in sorted(shas)},
    )


def the_modular_path(files: dict[str, str]) -> str:
    return next(path for path in files if path.rsplit("/", 1)[-1].startswith("modular_"))


def _in_root(target: Target, path: str) -> str:
    """The path ruff sees (its per-file settings match on it)."""
    return str(target.root / path) if target.root is not None else path


def generate(
    spec_path: Path,
    out_dir: Path,
    *,
    force: bool = False,
    dry_run: bool = False,
    kwargs_mode: str | None = None,
    target: Target = PACKAGE,
) -> WriteReport:
    spec = apply_overrides(load_spec(spec_path), kwargs_mode)
    check_target(spec, spec_path, out_dir, target)
    if not dry_run:
        recover_stale_staging(out_dir)  # before the lock is read: a killed run may have half-written it
    year, added = pinned_dates(out_dir, spec.model.model_type)
    rendered = render_with_roles(spec, target, year=year)
    if target.in_tree:
        from scaffold.intree import registry

        names = Names.from_parts(spec.model.name, spec.model.model_type)
        files = rendered[0]
        modular = the_modular_path(files)
        rerun = (out_dir / modular).is_file() and read_existing_text(out_dir / modular) == files[modular]
        if not rerun and not force:  # a re-run of the same spec is a no-op; anything else must be a new model
            problems = registry.existing_names(out_dir, names)
            if problems:
                raise UsageError(
                    "the transformers tree already has this model type or these classes (pick another "
                    "model.name / model.model_type, or --force to overwrite scaffold's own earlier output):\n"
                    + "\n".join(problems)
                )
    output = render_output(spec, out_dir, target, year=year, added=added, rendered=rendered)
    ops = [FileOp(path, text) for path, text in output.files.items()] + output.edits
    # The lock and the merge base that `scaffold update` starts from, in the same transaction.
    lock = make_lock(spec, target, output, {"kwargs_mode": kwargs_mode} if kwargs_mode else {})
    base = {path: text for path, text in output.files.items()}
    ops += state_ops(out_dir, lock, base, tree=target.in_tree)
    return write_files(out_dir, ops, force=force, dry_run=dry_run)


def pinned_dates(out_dir: Path, model_type: str) -> tuple[int, datetime.date | None]:
    """The year and doc-page date of an earlier run's lock, so re-running another year changes nothing; else now."""
    try:
        lock, _ = read_lock(out_dir, model_type, with_base=False)
    except LockError:
        return copyright_year(), None
    return lock.year, lock.added


def check_target(spec: Spec, spec_path: Path | str, out_dir: Path, target: Target) -> None:
    """Refuse a target the spec cannot go to: in-tree needs a model spec and a transformers tree."""
    if target.in_tree:
        from scaffold.intree import registry  # libcst: only in-tree runs pay for it

        if not spec.is_vlm:
            raise UsageError(f"{spec_path}: --transformers needs a model spec (vision, projector, text, processor)")
        registry.check_tree(out_dir)
