"""The project's own code meets the style it asks of generated code."""

from __future__ import annotations

import subprocess
import sys

from helpers import ROOT


def test_project_is_clean_under_ruff():
    ruff = [sys.executable, "-m", "ruff"]
    paths = ["scaffold", "tests", "benchmarks"]
    check = subprocess.run([*ruff, "check", "--no-cache", *paths], cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    fmt = subprocess.run([*ruff, "format", "--check", "--no-cache", *paths], cwd=ROOT, capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
