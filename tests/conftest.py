"""Fixtures shared by the tests in this folder; plain helpers live in helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis_profiles  # noqa: F401 - registers and loads the hypothesis profile
import pytest

# Golden files are generated code (including generated tests); they are compared as text, never collected.
collect_ignore_glob = ["golden/*", "golden_tree/*"]


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec text to tmp_path/spec.yaml and return its path."""

    def _write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


# Golden files hold a copyright year: render them as of 2026 whatever today's date (see plan.copyright_year).
os.environ.setdefault("SOURCE_DATE_EPOCH", "1767225600")
