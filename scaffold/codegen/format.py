"""Format generated Python with ruff, as transformers' `make style` and modular converter do: `ruff check --fix`,
then `ruff format`; in a transformers tree with its own pyproject.toml, out of tree with its settings restated."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
from pathlib import Path, PurePosixPath

# Out of tree: ruff sorts imports and drops unused ones (what the modular split leaves to it), then formats.
PACKAGE_RUFF_ARGS = ("--isolated", "--line-length", "119", "--target-version", "py310")


def _ruff(args: list[str], source: str, path: str) -> str:
    from ruff.__main__ import find_ruff_bin

    done = subprocess.run(
        [find_ruff_bin(), *args, "--stdin-filename", path, "-"],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode not in (0, 1):  # 1: findings left after fixing; the text is still complete
        raise RuntimeError(f"ruff failed on generated {path}: {done.stderr.strip()}")
    return done.stdout


def format_python(source: str, path: str) -> str:
    """`ruff format` alone, with the out-of-tree settings (line length 119)."""
    return _ruff(["format", *PACKAGE_RUFF_ARGS], source, path)


def ruff_fix_and_format(source: str, path: str, config: Path | None) -> str:
    """`ruff check --fix` then `ruff format` with a transformers tree's config (None: the package settings)."""
    if config is None:
        # transformers' lint and format settings; the generated package counts as first-party, like transformers.
        first_party = ["transformers", *PurePosixPath(path).parts[:1]]
        isort = ["lint.isort.lines-after-imports = 2", f"lint.isort.known-first-party = {json.dumps(first_party)}"]
        settings = [*PACKAGE_RUFF_ARGS, *(arg for setting in isort for arg in ("--config", setting))]
        fixed = _ruff(["check", "--fix", "--exit-zero", "--select", "I,F401", *settings], source, path)
        return _ruff(["format", *settings], fixed, path)
    settings = ["--config", str(config)]
    fixed = _ruff(["check", "--fix", "--exit-zero", *settings], source, path)
    return _ruff(["format", *settings], fixed, path)


def _format_item(item: tuple[str, str, Path | None]) -> str:
    return ruff_fix_and_format(*item)


def format_many(items: list[tuple[str, str, Path | None]]) -> list[str]:
    """Format (text, path, tree ruff config or None) items, spread over the CPUs when there is enough work.

    Each item runs ruff twice; fork keeps the workers cheap. Elsewhere it runs serially.
    """
    workers = min(len(items), os.cpu_count() or 1)
    if workers < 2 or len(items) < 4 or "fork" not in multiprocessing.get_all_start_methods():
        return [_format_item(item) for item in items]
    # Largest files first so that the two halves of the work end together.
    order = sorted(range(len(items)), key=lambda i: -len(items[i][0]))
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        results = pool.map(_format_item, [items[i] for i in order], chunksize=1)
    out = [""] * len(items)
    for i, text in zip(order, results, strict=True):
        out[i] = text
    return out
