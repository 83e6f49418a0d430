"""The Jinja2 environment: templates shipped in the package, StrictUndefined, and the one literal filter."""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2

from scaffold.generate.literals import py_literal


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resources.files("scaffold") / "templates")),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    env.filters["py"] = py_literal
    return env


def render_template(template: str, context: dict) -> str:
    return environment().get_template(template).render(**context)
