"""Command line: argument parsing and output only; the work happens in the pipeline modules, and every command ends
through ``scaffold.errors.Report`` (0 success; 1 conflicts or error-level findings; 2 bad spec, usage or paths).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from scaffold import __version__
from scaffold.errors import ConflictError, Report, UsageError
from scaffold.parity.cli import check_parity, gen_tests

STATUS_COLORS = {
    "created": "green",
    "updated": "yellow",
    "edited": "yellow",
    "unchanged": None,
    "would create": "cyan",
    "would change": "yellow",
    "conflict": "red",
    "removed": "yellow",
    "would remove": "yellow",
    # scaffold update
    "kept": None,
    "merged": "cyan",
    "stays deleted": None,
    "orphaned": "magenta",
    "registered": "yellow",
}


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scaffold")
def main() -> None:
    """Generate and check parity-correct VLMs for Hugging Face transformers v5."""


@main.command("new-vlm")
@click.argument("spec", type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory that receives the generated package.",
)
@click.option("--force", is_flag=True, help="Overwrite existing files that differ.")
@click.option("--dry-run", is_flag=True, help="Write nothing; report what would change.")
@click.option("--diff", "show_diff", is_flag=True, help="Show a unified diff for every file that differs.")
@click.option(
    "--transformers",
    "transformers_tree",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="Write the model into this transformers checkout (or unpacked sdist) as a pull request would; -o is ignored.",
)
@click.option(
    "--kwargs-mode",
    type=click.Choice(["import", "copy"]),
    default=None,
    help="Override image_processor.kwargs_mode from the spec.",
)
def new_vlm(
    spec: Path,
    out_dir: Path,
    force: bool,
    dry_run: bool,
    show_diff: bool,
    transformers_tree: Path | None,
    kwargs_mode: str | None,
) -> None:
    """Render SPEC (YAML) into a model package under --output.

    Exit 0 when every file was written or is unchanged, 1 on conflicts (existing files differ; nothing is
    written; use --force or --diff), 2 on an invalid spec or unusable paths.
    """
    Report.of(lambda: _new_vlm(spec, out_dir, force, dry_run, show_diff, transformers_tree, kwargs_mode)).exit()


def _new_vlm(
    spec: Path,
    out_dir: Path,
    force: bool,
    dry_run: bool,
    show_diff: bool,
    transformers_tree: Path | None,
    kwargs_mode: str | None,
) -> None:
    from scaffold.generate.pipeline import generate
    from scaffold.generate.plan import Target
    from scaffold.generate.write import Status

    target = Target("tree", transformers_tree) if transformers_tree is not None else Target("package")
    if transformers_tree is not None:
        out_dir = transformers_tree
    try:
        report = generate(spec, out_dir, force=force, dry_run=dry_run, kwargs_mode=kwargs_mode, target=target)
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    from scaffold.generate.lock import is_state_path

    for result in report.results:
        if not is_state_path(result.path):
            _echo_file(result.status.value, out_dir / result.path, result.diff if show_diff else "")
    if report.has_conflicts:
        raise ConflictError(
            f"{report.count(Status.CONFLICT)} file(s) differ from the spec's output; "
            "nothing was written. Re-run with --diff to see why, `scaffold update` to merge your edits into the "
            "new output, or --force to overwrite."
        )


def _echo_file(status: str, path: Path, diff: str) -> None:
    click.echo(f"{click.style(f'{status:>13}', fg=STATUS_COLORS[status])}  {path}")
    if diff:
        click.echo(diff, nl=False)


@main.command("update")
@click.argument("spec", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("."),
    show_default=True,
    help="Directory new-vlm wrote the package into.",
)
@click.option(
    "--transformers",
    "transformers_tree",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="The transformers tree new-vlm wrote the model into; -o is ignored.",
)
@click.option("--dry-run", is_flag=True, help="Write nothing; report what each file would become.")
@click.option("--diff", "show_diff", is_flag=True, help="Show a unified diff for every file that changes.")
@click.option(
    "--continue",
    "continue_",
    is_flag=True,
    help="After resolving an update's conflicts: check no markers are left and record the new merge base.",
)
@click.option(
    "--kwargs-mode",
    type=click.Choice(["import", "copy"]),
    default=None,
    help="Override image_processor.kwargs_mode (default: the override new-vlm was given, if any).",
)
def update(
    spec: Path | None,
    out_dir: Path,
    transformers_tree: Path | None,
    dry_run: bool,
    show_diff: bool,
    continue_: bool,
    kwargs_mode: str | None,
) -> None:
    """Re-render a generated model from SPEC (default: the spec recorded in the lock) with this scaffold, keeping
    your edits: a three-way merge of each file against what scaffold rendered last time.

    Exit 0 when everything merged, 1 on conflicts (files are written with diff3 markers; resolve them, then run
    `scaffold update --continue`), 2 on a bad spec, a missing or corrupt lock, or unusable paths.
    """
    Report.of(lambda: _update(spec, out_dir, transformers_tree, dry_run, show_diff, continue_, kwargs_mode)).exit()


def _update(
    spec: Path | None,
    out_dir: Path,
    transformers_tree: Path | None,
    dry_run: bool,
    show_diff: bool,
    continue_: bool,
    kwargs_mode: str | None,
) -> None:
    from scaffold.generate.plan import Target
    from scaffold.generate.update import continue_update
    from scaffold.generate.update import update as run_update

    target = Target("tree", transformers_tree) if transformers_tree is not None else Target("package")
    if transformers_tree is not None:
        out_dir = transformers_tree
    try:
        if continue_:
            checked = continue_update(spec, out_dir, dry_run=dry_run)
            click.echo(f"resolved {len(checked)} file(s); recorded the merge base of this update")
            return
        report = run_update(spec, out_dir, target, dry_run=dry_run, kwargs_mode=kwargs_mode)
    except OSError as exc:
        raise UsageError(f"{out_dir}: cannot write: {exc.strerror or exc}") from None
    for file in report.files:
        _echo_file(file.outcome.value, out_dir / file.path, file.diff if show_diff else "")
    for note in report.notes:
        click.echo(f"note: {note}")
    if dry_run:
        click.echo("dry run: nothing was written")
    if report.conflicts:
        written = "would be written" if dry_run else "written"
        raise ConflictError(
            f"{len(report.conflicts)} file(s) have conflicts, {written} with diff3 markers: "
            + ", ".join(report.conflicts)
            + (
                ""
                if dry_run
                else "\nResolve them, then run `scaffold update --continue` to record the new merge base."
            )
        )


@main.command("spec-from")
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="Write the spec here (default: print it).",
)
@click.option(
    "--like",
    "like",
    default=None,
    metavar="MODEL_TYPE",
    help="Start from an installed transformers model type's defaults instead of a folder (llava, llava_next, "
    "internvl, aya_vision).",
)
@click.option("--name", default=None, help="model.name of the spec (default: My + the checkpoint's model type).")
@click.option("--model-type", "spec_model_type", default=None, help="model.model_type (default: my_<model_type>).")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@click.option(
    "--vision-tower",
    "vision_tower",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="For a checkpoint in the original LLaVA layout (mm_* keys in config.json): the local folder of the vision "
    "tower mm_vision_tower names (config.json, preprocessor_config.json).",
)
def spec_from(
    folder: Path | None,
    output: Path | None,
    like: str | None,
    name: str | None,
    spec_model_type: str | None,
    force: bool,
    vision_tower: Path | None,
) -> None:
    """Write a commented spec that restates the checkpoint in FOLDER (config.json, processor_config.json or
    preprocessor_config.json, tokenizer files, weight names): tower, connector, layout, token scheme, decoder and
    image-processor settings, and the renames that let the generated model load the folder's weights. A checkpoint
    in the original LLaVA layout (mm_* keys) needs --vision-tower; its spec makes new-vlm write a conversion script.

    Exit 0 when written, 2 when the folder cannot be read or holds something scaffold cannot express (each
    problem names its file, key and value).
    """
    Report.of(lambda: _spec_from(folder, output, like, name, spec_model_type, force, vision_tower)).exit()


def _spec_from(
    folder: Path | None,
    output: Path | None,
    like: str | None,
    name: str | None,
    spec_model_type: str | None,
    force: bool,
    vision_tower: Path | None = None,
) -> None:
    from scaffold.specfrom import mapping, original, read, write

    if (folder is None) == (like is None):
        raise UsageError("spec-from needs a checkpoint FOLDER or --like MODEL_TYPE (one of them)")
    if output is not None and output.exists() and not force:
        raise UsageError(f"{output}: exists; use --force to overwrite it")
    if folder is not None:
        checkpoint = read.read_folder(folder)
        if original.is_original(checkpoint.config):
            source = original.source_from_original(checkpoint, vision_tower)
        elif vision_tower is not None:
            raise UsageError("--vision-tower is for checkpoints in the original LLaVA layout (mm_* config keys)")
        else:
            source = mapping.source_from_folder(checkpoint)
    else:
        source = mapping.source_from_defaults(like)
    base = spec_model_type or f"my_{source.model_type}"
    camel = name or "".join(part.title() for part in base.split("_"))
    draft = mapping.draft_spec(source, camel, base)
    if source.original is not None:
        original.finish(draft, source)
    text = write.render(draft)
    write.check(text, output.name if output is not None else "spec.yaml", source.origin)
    if output is None:
        click.echo(text, nl=False)
    else:
        from scaffold.generate.write import FileOp, write_files

        write_files(output.parent, [FileOp(output.name, text)], force=True, dry_run=False)
        click.echo(f"wrote {output}")
    for note in draft.notes:
        click.echo(f"note: {note}", err=True)


@main.command("schema")
def schema() -> None:
    """Print the JSON Schema of the spec file."""
    from scaffold.spec.schema import spec_json_schema

    click.echo(json.dumps(spec_json_schema(), indent=2))


# The parity checker's commands live with it; that module imports libcst only when a command runs.
main.add_command(check_parity)
main.add_command(gen_tests)
