"""click commands ``check-parity`` and ``gen-tests``. Importing this module must stay cheap: no libcst here."""

from __future__ import annotations

import click

from scaffold.errors import Report, UsageError


@click.command("check-parity")
@click.argument("paths", nargs=-1, type=click.Path())
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "github"]),
    default="text",
    show_default=True,
    help="Output format (github = workflow annotations).",
)
@click.option("--report-lone", is_flag=True, help="Also report image_processing files without a counterpart.")
@click.option(
    "--kwargs-sharing",
    type=click.Choice(["any", "import", "copy"]),
    default="any",
    show_default=True,
    help="How the PIL file may get its Kwargs class: import it, copy it (with '# Adapted from'), or either.",
)
@click.option("--no-cache", is_flag=True, help="Do not read or write the facts cache.")
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Cache directory (default: $SCAFFOLD_CACHE_DIR or $XDG_CACHE_HOME/scaffold).",
)
@click.option("--jobs", type=click.IntRange(1, 64), default=None, help="Worker processes for cold parses (default 2).")
@click.option(
    "--fix",
    is_flag=True,
    help="Rewrite the PIL files to match the torchvision ones (class attributes, Kwargs copies), then check.",
)
def check_parity(paths, fmt, report_lone, kwargs_sharing, no_cache, cache_dir, jobs, fix):
    """Check that image_processing_<m>.py and image_processing_pil_<m>.py agree.

    PATHS are files or folders (default: the current directory). Given one file of a pair, the pair is checked.
    Exit status: 0 clean (warnings allowed), 1 error-level findings (an unreadable or unparseable file is one),
    2 usage error.
    """
    Report.of(lambda: _check_parity(paths, fmt, report_lone, kwargs_sharing, no_cache, cache_dir, jobs, fix)).exit()


def _check_parity(paths, fmt, report_lone, kwargs_sharing, no_cache, cache_dir, jobs, fix) -> int:
    from scaffold.parity.api import check_paths
    from scaffold.parity.report import render
    from scaffold.parity.rules import Options

    options = Options(kwargs_sharing=kwargs_sharing, report_lone=report_lone)
    if fix:
        from scaffold.parity.fix import fix_paths

        fixed = fix_paths(list(paths), options, use_cache=not no_cache, cache_dir=cache_dir, jobs=jobs)
        to_stderr = fmt != "text"  # keep json/github output machine-readable
        for path in fixed.changed:
            click.echo(f"fixed {path}", err=to_stderr)
        for note in fixed.notes:
            click.echo(f"not fixed: {note}", err=to_stderr)
    result = check_paths(list(paths), options, use_cache=not no_cache, cache_dir=cache_dir, jobs=jobs)
    click.echo(render(result.findings, fmt, result.files_checked))
    return result.errors


@click.command("gen-tests")
@click.argument("model_dir", type=click.Path(exists=True, file_okay=False))
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(dir_okay=False),
    required=True,
    help="Where to write the generated pytest file.",
)
@click.option(
    "--value",
    "values",
    multiple=True,
    metavar="NAME=JSON",
    help="Probe value for a custom kwarg (repeatable), e.g. --value max_image_size=490; "
    "by default one is derived from the kwarg's default.",
)
def gen_tests(model_dir, output, values):
    """Write a runtime parity pytest file for the image-processor pair in MODEL_DIR."""
    Report.of(lambda: _gen_tests(model_dir, output, values)).exit()


def _gen_tests(model_dir, output, values) -> None:
    import json

    from scaffold.parity.gentests import generate

    custom_values = {}
    for item in values:
        name, sep, raw = item.partition("=")
        try:
            if not sep or not name.isidentifier():
                raise ValueError("expected NAME=JSON")
            custom_values[name] = json.loads(raw)
        except ValueError as exc:
            raise UsageError(f"--value {item!r}: {exc}") from None
    status = generate(model_dir, output, custom_values)
    click.echo(f"{status} {output}")


def main():  # standalone entry for tests/benchmarks: python -m scaffold.parity.cli ...
    group = click.Group(commands=[check_parity, gen_tests])
    group(prog_name="scaffold")


if __name__ == "__main__":
    main()
