"""The wheel's package list is explicit (templates/ is mapped into it); keep it equal to the packages on disk."""

from __future__ import annotations

from pathlib import Path

import tomllib
from setuptools import find_packages

ROOT = Path(__file__).resolve().parents[1]


def test_every_scaffold_package_is_listed():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = set(find_packages(str(ROOT), include=["scaffold*"]))
    assert listed == on_disk | {"scaffold.templates"}


def test_installed_package_ships_the_templates():
    from scaffold.generate.render import environment, templates_dir

    shipped = {p.name for p in templates_dir().glob("*.jinja")}
    assert shipped == {p.name for p in (ROOT / "templates").glob("*.jinja")}
    assert "image_processing.py.jinja" in environment().list_templates()
