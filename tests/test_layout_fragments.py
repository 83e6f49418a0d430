"""The layout component's template fragments: the shared templates include them by hook name
(`{% include layout.blocks ~ "/<hook>.py.jinja" %}`) and never compare a layout kind or a tower/decoder family."""

from __future__ import annotations

import re

from helpers import EXAMPLES

from scaffold.codegen.render import templates_dir
from scaffold.components.layout import Layout
from scaffold.spec import load_spec

TEMPLATES = templates_dir()
# layouts/common/ holds fragments that some layouts share; each layout's own fragment includes them by path.
KINDS = sorted(path.name for path in (TEMPLATES / "layouts").iterdir() if path.name != "common")
INCLUDE = re.compile(r'\{%-?\s*include\s+layout\.blocks\s*~\s*"/([\w.]+)"(\s+ignore missing)?\s*-?%\}')
COMPARISON = re.compile(r'\b(kind|family)\s*(==|!=|in)\s*[\["\']')


def includes() -> set[str]:
    """The fragment files the templates include. A hook every layout fills, or only the layouts of the branch
    around it, is included plainly (Jinja fails on a missing file); one only some layouts fill says `ignore missing`."""
    return {hook for path in TEMPLATES.rglob("*.jinja") for hook, _ in INCLUDE.findall(path.read_text())}


def test_the_layouts_folder_has_one_folder_per_layout_kind():
    assert KINDS == ["fixed", "grid", "native", "tiles"]
    blocks = {Layout.from_spec(load_spec(example).image_processor.layout).blocks for example in EXAMPLES}
    assert sorted(blocks) == [f"layouts/{kind}" for kind in KINDS]


def test_no_template_compares_a_kind_or_family_string():
    offenders = [
        f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}"
        for path in TEMPLATES.rglob("*.jinja")
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if COMPARISON.search(line)
    ]
    assert offenders == []


def test_every_fragment_is_included_and_every_include_has_a_fragment():
    hooks = includes()
    fragments = {path.name for kind in KINDS for path in (TEMPLATES / "layouts" / kind).iterdir()}
    assert sorted(fragments - set(hooks)) == [], "fragments no template includes"
    assert sorted(set(hooks) - fragments) == [], "includes no layout has a fragment for"


def test_every_shared_fragment_is_included_by_a_layout():
    text = "\n".join(path.read_text() for path in TEMPLATES.rglob("*.jinja"))
    shared = sorted(path.name for path in (TEMPLATES / "layouts" / "common").iterdir())
    assert [name for name in shared if f'"layouts/common/{name}"' not in text] == []
