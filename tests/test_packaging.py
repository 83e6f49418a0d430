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
    from scaffold.codegen.render import environment, templates_dir

    shipped = {p.relative_to(templates_dir()).as_posix() for p in templates_dir().rglob("*.jinja")}
    assert shipped == {p.relative_to(ROOT / "templates").as_posix() for p in (ROOT / "templates").rglob("*.jinja")}
    assert {"modular.py.jinja", "blocks/modeling.py.jinja"} <= set(environment().list_templates())
