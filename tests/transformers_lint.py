"""transformers' lint settings (the `[tool.ruff]` tables of transformers 5.23's pyproject.toml, restated here rather
than vendored), and a helper that runs ruff with them on a directory of generated code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

TRANSFORMERS_RUFF_TOML = """\
target-version = "py311"
line-length = 119

[lint]
preview = true
explicit-preview-rules = true
select = ["E", "F", "I", "W", "UP", "FURB", "SIM", "S110", "C4", "C901", "RUF013", "PERF102", "PLC1802", "PLC0208",
          "PIE794", "PLW1514"]
ignore = ["E501", "E741", "SIM1", "SIM905", "UP015", "UP031"]
extend-safe-fixes = ["UP006"]
external = ["NC"]

[lint.per-file-ignores]
"__init__.py" = ["E402", "F401", "F403", "F811"]

[lint.isort]
lines-after-imports = 2
known-first-party = ["transformers"]

[lint.mccabe]
max-complexity = 75

[format]
quote-style = "double"
indent-style = "space"
skip-magic-trailing-comma = false
line-ending = "auto"
"""


def run_ruff(directory: Path, *args: str) -> subprocess.CompletedProcess:
    """`ruff <args> .` in `directory` under transformers' settings (the config file sits next to the code)."""
    config = directory / "ruff.toml"
    config.write_text(TRANSFORMERS_RUFF_TOML, encoding="utf-8")
    try:
        return subprocess.run(
            [sys.executable, "-m", "ruff", *args, "--no-cache", "--config", str(config), "."],
            cwd=directory,
            capture_output=True,
            text=True,
        )
    finally:
        config.unlink()


def lint_problems(directory: Path) -> str:
    """Everything `ruff check` and `ruff format --check` report under transformers' settings ('' when clean)."""
    out = ""
    for args in (("check", "--output-format", "concise"), ("format", "--check")):
        result = run_ruff(directory, *args)
        if result.returncode != 0:
            out += result.stdout + result.stderr
    return out
