"""Text that describes the code must keep up with it: test files named in the sources exist, black is gone (ruff
formats), and the README's Layout names what is on disk."""

from __future__ import annotations

import re
from pathlib import Path

import tomllib

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "scaffold").rglob("*.py"))
# Mentions of black that are not about running it: a design reference and a statement about both formatters.
BLACK_REFERENCES = {
    "scaffold/errors.py": ["(as black's ``Report``)"],
    "scaffold/intree/registry.py": ["(black and ruff agree on these lines)", "as ruff/black lay it out"],
}


def layout_section() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return readme.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]


def test_test_files_named_in_the_sources_exist():
    named = {
        (path.relative_to(ROOT).as_posix(), match)
        for path in SOURCES
        for match in re.findall(r"\btests/[\w/]+\.py\b", path.read_text(encoding="utf-8"))
    }
    assert named, "expected the sources to name some test files"
    missing = sorted((source, test) for source, test in named if not (ROOT / test).is_file())
    assert not missing, f"sources name test files that do not exist: {missing}"


def test_black_is_not_configured_installed_or_run():
    assert "black" not in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]
    for script in sorted((ROOT / "scripts").glob("*")):
        assert not re.search(r"pip\"? install[^\n]*\bblack\b", script.read_text(encoding="utf-8")), script
    stale = []
    for path in SOURCES:
        rel = path.relative_to(ROOT).as_posix()
        for line in path.read_text(encoding="utf-8").splitlines():
            if re.search(r"\bblack\b", line) and not any(ref in line for ref in BLACK_REFERENCES.get(rel, [])):
                stale.append(f"{rel}: {line.strip()}")
    assert not stale, "black no longer formats anything (ruff does):\n" + "\n".join(stale)


def test_layout_names_every_package_and_the_template_structure():
    layout = layout_section()
    packages = sorted(p.parent.name for p in (ROOT / "scaffold").glob("*/__init__.py"))
    assert all(f"scaffold/{package}/" in layout for package in packages), (packages, layout)
    assert "one Jinja2 template per generated file" not in layout
    assert "modular.py.jinja" in layout
    for folder in sorted(p.name for p in (ROOT / "templates").iterdir() if p.is_dir()):
        assert f"{folder}/" in layout, f"templates/{folder}/ is not described in the README Layout"
