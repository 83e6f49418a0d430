"""Every example's rendered output is checked in under tests/golden/<example>/; any difference fails.

Refresh after an intended template change with:  SCAFFOLD_UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
import shutil

import pytest
from helpers import EXAMPLES, GOLDEN
from transformers_lint import lint_problems

from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

UPDATE = os.environ.get("SCAFFOLD_UPDATE_GOLDEN") == "1"


def rendered(example):
    return render_spec(load_spec(example))


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_output_matches_golden(example):
    files = rendered(example)
    golden_dir = GOLDEN / example.stem
    if UPDATE:
        shutil.rmtree(golden_dir, ignore_errors=True)
        for rel, text in files.items():
            (golden_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (golden_dir / rel).write_text(text, encoding="utf-8")
    on_disk = {p.relative_to(golden_dir).as_posix() for p in golden_dir.rglob("*") if p.is_file()}
    assert on_disk == set(files), "file set changed; refresh with SCAFFOLD_UPDATE_GOLDEN=1"
    for rel, text in files.items():
        assert (golden_dir / rel).read_text(encoding="utf-8") == text, f"{rel} differs from its golden file"


def test_output_is_clean_under_ruff(tmp_path):
    """Run from the output directory, as a user would: transformers' ruff settings find nothing to change."""
    for example in EXAMPLES:
        out = tmp_path / example.stem
        for rel, text in rendered(example).items():
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_text(text, encoding="utf-8")
        assert lint_problems(out) == ""


def test_rendering_is_deterministic():
    for example in EXAMPLES:
        assert rendered(example) == rendered(example)
