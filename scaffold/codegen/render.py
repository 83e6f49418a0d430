"""The Jinja2 environment: templates shipped in the package, StrictUndefined, the literal and docstring filters."""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

import jinja2

from scaffold.codegen.literals import py_doc, py_literal


def templates_dir() -> Path:
    """The wheel ships the top-level templates/ folder as scaffold/templates; a source checkout has it at the top."""
    packaged = Path(str(resources.files("scaffold") / "templates"))
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[2] / "templates"


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    env.filters["py_doc"] = py_doc
    return env


def render_template(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context)
