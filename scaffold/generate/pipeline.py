"""The generate pipeline in one place: spec file -> planned files -> rendered, formatted text -> written."""

from __future__ import annotations

from pathlib import Path

from scaffold.codegen.format import format_many
from scaffold.codegen.render import render_template
from scaffold.errors import UsageError
from scaffold.generate.modular import absolute_imports, split_modular
from scaffold.generate.plan import PACKAGE, Target, copyright_year, plan
from scaffold.generate.write import FileOp, WriteReport, read_existing_text, write_files
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


def render_spec(spec: Spec, target: Target = PACKAGE) -> dict[str, str]:
    """Relative path -> final file text, for every file the spec produces."""
    the_plan = plan(spec, target)
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
    return files


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
    if target.in_tree:
        from scaffold.intree import registry  # libcst: only in-tree runs pay for it

        if not spec.is_vlm:
            raise UsageError(f"{spec_path}: --transformers needs a model spec (vision, projector, text, processor)")
        registry.check_tree(out_dir)
    files = render_spec(spec, target)
    ops = [FileOp(path, text) for path, text in files.items()]
    if target.in_tree:
        names = Names.from_parts(spec.model.name, spec.model.model_type)
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
        edits = registry.registration_edits(out_dir, names, pretty_name=spec.model.name, year=copyright_year())
        ops += [FileOp(e.path, e.text, None if e.new_file else e.base) for e in edits]
    return write_files(out_dir, ops, force=force, dry_run=dry_run)
