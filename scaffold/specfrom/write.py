"""Write the draft as a commented YAML spec (ruamel.yaml round-trip types keep the comments), after checking that
the spec loader accepts it: what it refuses is reported as the checkpoint's problem, nothing is written."""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from scaffold.errors import SpecError
from scaffold.specfrom.mapping import Draft
from scaffold.specfrom.read import CheckpointError

# Lists written on one line ([height, width] pairs, layer lists).
_FLOW_KEYS = {"grid_pinpoints", "feature_layer"}


def _node(value: Any, comments: dict[tuple[str, ...], str], path: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        node = CommentedMap()
        for key, item in value.items():
            node[key] = _node(item, comments, path + (str(key),))
            if path + (str(key),) in comments:
                node.yaml_add_eol_comment(comments[path + (str(key),)], key)
        if (
            path
            and path[-1] in ("size", "crop_size", "merge", "image_delimiters")
            or (
                len(path) == 2
                and path[0] == "image_processor"
                and path[1] == "layout"
                and "grid_pinpoints" not in value
            )
        ):
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        seq = CommentedSeq(_node(item, comments, path) for item in value)
        if path and path[-1] in _FLOW_KEYS or (path and path[-1] == "grid_pinpoints"):
            seq.fa.set_flow_style()
        elif all(not isinstance(item, (dict, list)) for item in value):
            seq.fa.set_flow_style()
        return seq
    return value


def render(draft: Draft) -> str:
    root = _node(draft.data, draft.comments, ())
    root.yaml_set_start_comment("\n".join(draft.header))
    yaml = YAML()
    yaml.width = 119
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    yaml.dump(root, out)
    return out.getvalue()


def check(text: str, name: str, origin: str) -> None:
    """The spec loader's verdict on the text; its problems become the checkpoint's."""
    from scaffold.spec.load import parse_yaml, validate

    try:
        validate(parse_yaml(text, name))
    except SpecError as exc:
        raise CheckpointError(
            [f"the spec read from {origin} does not validate (scaffold cannot express this model):"]
            + [f"  {problem.key}: {problem.message}" for problem in exc.problems]
        ) from None
