"""The generate pipeline in one place: spec file -> planned files -> rendered, formatted text -> written."""

from __future__ import annotations

from pathlib import Path

from scaffold.generate.format import format_many
from scaffold.generate.plan import plan
from scaffold.generate.render import render_template
from scaffold.generate.write import WriteReport, write_files
from scaffold.spec.load import load_spec
from scaffold.spec.model import Spec


def apply_overrides(spec: Spec, kwargs_mode: str | None) -> Spec:
    if kwargs_mode is None:
        return spec
    ip = spec.image_processor.model_copy(update={"kwargs_mode": kwargs_mode})
    return spec.model_copy(update={"image_processor": ip})


def render_spec(spec: Spec, spec_name: str) -> dict[str, str]:
    """Relative path -> final file text, for every file the spec produces."""
    files: dict[str, str] = {}
    to_format: list[str] = []
    for planned in plan(spec, spec_name):
        text = render_template(planned.template, planned.context)
        files[planned.path] = text
        if planned.formatted and planned.path.endswith(".py") and text.strip():
            to_format.append(planned.path)
    formatted = format_many([(files[path], path) for path in to_format])
    files.update(zip(to_format, formatted, strict=True))
    return files


def generate(
    spec_path: Path, out_dir: Path, *, force: bool = False, dry_run: bool = False, kwargs_mode: str | None = None
) -> WriteReport:
    spec = apply_overrides(load_spec(spec_path), kwargs_mode)
    files = render_spec(spec, spec_path.name)
    return write_files(out_dir, files, force=force, dry_run=dry_run)
