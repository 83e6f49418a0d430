"""Shared helpers: the example specs, rendering them into temp dirs, running the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
GOLDEN = ROOT / "tests" / "golden"


def run_cli(*args: str, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run `python -m scaffold ...` as a user would: separate process, real exit code, real stderr."""
    return subprocess.run(
        [sys.executable, "-m", "scaffold", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.fixture
def write_spec(tmp_path):
    """Write a spec text to tmp_path/spec.yaml and return its path."""

    def _write(text: str, name: str = "spec.yaml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write


# Golden files are generated code (including generated tests); they are compared as text, never collected.
collect_ignore_glob = ["golden/*"]
