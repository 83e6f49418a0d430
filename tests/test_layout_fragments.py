"""The layout component's template fragments: the shared templates include them by hook name
(`{% include layout.fragment("<hook>") %}`: the layout's own, else the shared default in layouts/common/) and never
compare a layout kind or a tower/decoder family."""

from __future__ import annotations

import re

from helpers import EXAMPLES

from scaffold.codegen.render import templates_dir
from scaffold.components.layout import Layout
from scaffold.spec import load_spec

TEMPLATES = templates_dir()
# layouts/common/ holds the default of a hook (used by every layout without its own fragment for it) and parts that
# layouts' own fragments include by path.
KINDS = sorted(path.name for path in (TEMPLATES / "layouts").iterdir() if path.name != "common")
INCLUDE = re.compile(r'\{%-?\s*include\s+layout\.fragment\("(\w+)"\)(\s+ignore missing)?\s*-?%\}')
COMPARISON = re.compile(r'\b(kind|family)\s*(==|!=|in)\s*[\["\']')


def includes() -> set[str]:
    """The hooks the templates include. A hook every layout fills (its own fragment or the shared default), or only
    the layouts of the branch around it, is included plainly (Jinja fails on a missing file); one only some layouts
    fill says `ignore missing`."""
    return {hook for path in TEMPLATES.rglob("*.jinja") for hook, _ in INCLUDE.findall(path.read_text())}


def names(folder: str) -> set[str]:
    return {path.name.removesuffix(".py.jinja") for path in (TEMPLATES / "layouts" / folder).iterdir()}


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
    own = set().union(*(names(kind) for kind in KINDS))
    assert sorted(own - hooks) == [], "fragments no template includes"
    assert sorted(hooks - own - names("common")) == [], "includes no layout has a fragment for"


def test_every_shared_fragment_is_a_default_or_included_by_a_layout():
    text = "\n".join(path.read_text() for path in TEMPLATES.rglob("*.jinja"))
    unused = [
        name for name in names("common") if name not in includes() and f'"layouts/common/{name}.py.jinja"' not in text
    ]
    assert unused == []


def test_a_shared_default_is_not_also_copied_into_a_layout():
    """A layout's own fragment for a hook with a shared default must differ from that default."""
    copies = [
        f"{kind}/{hook}"
        for kind in KINDS
        for hook in names(kind) & names("common")
        if (TEMPLATES / "layouts" / kind / f"{hook}.py.jinja").read_text()
        == (TEMPLATES / "layouts" / "common" / f"{hook}.py.jinja").read_text()
    ]
    assert copies == []
