"""scaffold.intree.registry: the edits that register a new model in a transformers tree."""

from __future__ import annotations

import ast
import difflib
import os
import shutil
import textwrap
from datetime import date
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from scaffold.errors import ConflictError, UsageError
from scaffold.intree.registry import (
    AUTO_MAPPINGS,
    MODELING_AUTO,
    MODELS_INIT,
    TOCTREE,
    Edit,
    MappingEntry,
    add_mapping_entries,
    add_model_import,
    add_toctree_entry,
    check_tree,
    existing_names,
    natural_key,
    registration_edits,
)
from scaffold.spec.names import Names

NAMES = Names.from_parts("TinyVlm", "tiny_vlm")
ADDED = date(2026, 11, 30)


def dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


# ------------------------------------------------------------------------------------------------ small fixtures

AUTO_MAPPINGS_TEXT = dedent(
    """
    # header comment kept as is
    from collections import OrderedDict


    CONFIG_MAPPING_NAMES = OrderedDict(
        [
            ("llava", "LlavaConfig"),
            ("siglip", "SiglipConfig"),  # a trailing comment
        ]
    )

    SPECIAL_MODEL_TYPE_TO_MODULE_NAME = OrderedDict(
        [
            ("aimv2_vision_model", "aimv2"),
        ]
    )

    PROCESSOR_MAPPING_NAMES = OrderedDict(
        [
            ("llava", "LlavaProcessor"),
        ]
    )

    IMAGE_PROCESSOR_MAPPING_NAMES = OrderedDict(
        [
            ("llava", {"pil": "LlavaImageProcessorPil", "torchvision": "LlavaImageProcessor"}),
            ("zoedepth", {"pil": "ZoeDepthImageProcessorPil", "torchvision": "ZoeDepthImageProcessor"}),
        ]
    )
    """
)

MODELING_AUTO_TEXT = dedent(
    """
    from collections import OrderedDict

    MODEL_MAPPING_NAMES = OrderedDict(
        [
            # Base model mapping
            ("llava", "LlavaModel"),
            ("zamba", "ZambaModel"),
        ]
    )

    MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES = OrderedDict(
        [
            ("aria", "AriaForConditionalGeneration"),
            ("vipllava", "VipLlavaForConditionalGeneration"),
        ]
    )

    MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES = OrderedDict(
        [
            *list(MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES.items()),
            ("voxtral", "VoxtralForConditionalGeneration"),
        ]
    )
    """
)

MODELS_INIT_TEXT = dedent(
    """
    from typing import TYPE_CHECKING

    from ..utils import _LazyModule


    if TYPE_CHECKING:
        from .deepseek_v4 import *
        from .deepseek_v32 import *
        from .llava import *
    else:
        import sys

        sys.modules[__name__] = _LazyModule(__name__, globals()["__file__"], {}, module_spec=__spec__)
    """
)

TOCTREE_TEXT = dedent(
    """
    - sections:
      - local: index
        title: Transformers
      title: Get started
    - isExpanded: false
      sections:
      - sections:
        - sections:
          - local: model_doc/bert
            title: BERT
          title: Text models
        - sections:
          - local: model_doc/aria
            title: Aria
          - local: model_doc/llava
            title: LLaVA
          - local: model_doc/xclip
            title: X-CLIP
          title: Multimodal models
        title: Models
      title: API
    """
)


def make_tree(root: Path, *, docs: bool = True) -> Path:
    for rel, text in ((AUTO_MAPPINGS, AUTO_MAPPINGS_TEXT), (MODELING_AUTO, MODELING_AUTO_TEXT)):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    (root / MODELS_INIT).write_text(MODELS_INIT_TEXT, encoding="utf-8")
    if docs:
        (root / "docs/source/en/model_doc").mkdir(parents=True)
        (root / TOCTREE).write_text(TOCTREE_TEXT, encoding="utf-8")
    return root


def apply(root: Path, edits: list[Edit]) -> None:
    for edit in edits:
        path = root / edit.path
        assert edit.new_file == (not path.exists())
        assert edit.base == ("" if edit.new_file else path.read_text(encoding="utf-8"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(edit.text, encoding="utf-8")


def added_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails when it removes or changes any."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [line for line in diff if line.startswith("- ")], "lines were removed or changed"
    return [line[2:] for line in diff if line.startswith("+ ")]


# ------------------------------------------------------------------------------------------------ whole edits


def test_edits_on_a_small_tree_before_after(tmp_path):
    root = make_tree(tmp_path)
    edits = registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED)
    by_path = {edit.path: edit for edit in edits}
    assert sorted(by_path) == sorted(
        [AUTO_MAPPINGS, MODELING_AUTO, MODELS_INIT, TOCTREE, "docs/source/en/model_doc/tiny_vlm.md"]
    )
    assert by_path[AUTO_MAPPINGS].text == AUTO_MAPPINGS_TEXT.replace(
        '        ("siglip", "SiglipConfig"),  # a trailing comment\n',
        '        ("siglip", "SiglipConfig"),  # a trailing comment\n        ("tiny_vlm", "TinyVlmConfig"),\n',
    ).replace(
        '        ("llava", "LlavaProcessor"),\n',
        '        ("llava", "LlavaProcessor"),\n        ("tiny_vlm", "TinyVlmProcessor"),\n',
    ).replace(
        '        ("zoedepth",',
        '        ("tiny_vlm", {"pil": "TinyVlmImageProcessorPil", "torchvision": "TinyVlmImageProcessor"}),\n'
        '        ("zoedepth",',
    )
    assert by_path[MODELING_AUTO].text == MODELING_AUTO_TEXT.replace(
        '        ("zamba", "ZambaModel"),',
        '        ("tiny_vlm", "TinyVlmModel"),\n        ("zamba", "ZambaModel"),',
    ).replace(
        '        ("vipllava", "VipLlavaForConditionalGeneration"),',
        '        ("tiny_vlm", "TinyVlmForConditionalGeneration"),\n'
        '        ("vipllava", "VipLlavaForConditionalGeneration"),',
    )
    assert by_path[MODELS_INIT].text == MODELS_INIT_TEXT.replace(
        "    from .llava import *\n", "    from .llava import *\n    from .tiny_vlm import *\n"
    )
    assert by_path[TOCTREE].text == TOCTREE_TEXT.replace(
        "      - local: model_doc/xclip\n",
        "      - local: model_doc/tiny_vlm\n        title: TinyVLM\n      - local: model_doc/xclip\n",
    )
    doc = by_path["docs/source/en/model_doc/tiny_vlm.md"]
    assert doc.new_file and doc.base == ""
    assert all(not edit.new_file for path, edit in by_path.items() if not path.endswith(".md"))


def test_edits_are_idempotent(tmp_path):
    root = make_tree(tmp_path)
    apply(root, registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED))
    assert registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED) == []


def test_no_docs_folder_means_no_doc_edits(tmp_path):
    root = make_tree(tmp_path, docs=False)
    edits = registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED)
    assert sorted(edit.path for edit in edits) == sorted([AUTO_MAPPINGS, MODELING_AUTO, MODELS_INIT])


def test_an_edited_doc_page_is_proposed_as_a_change_not_a_new_file(tmp_path):
    root = make_tree(tmp_path)
    apply(root, registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED))
    page = root / "docs/source/en/model_doc/tiny_vlm.md"
    page.write_text("my own text\n", encoding="utf-8")
    [edit] = registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED)
    assert (edit.path, edit.base, edit.new_file) == ("docs/source/en/model_doc/tiny_vlm.md", "my own text\n", False)


def test_model_doc_page(tmp_path):
    root = make_tree(tmp_path)
    edits = registration_edits(root, NAMES, pretty_name="TinyVLM", year=2031, added=ADDED)
    text = next(edit.text for edit in edits if edit.path.endswith("tiny_vlm.md"))
    assert text.startswith("<!--Copyright 2031 The HuggingFace Team. All rights reserved.\n")
    # the line utils/add_dates.py looks for, right after the licence comment
    assert "-->\n*This model was contributed to Hugging Face Transformers on 2026-11-30.*\n\n# TinyVLM\n" in text
    assert "## Overview" in text and "No checkpoint of TinyVLM is published yet" in text
    autodoc = [line.split()[1] for line in text.splitlines() if line.startswith("[[autodoc]]")]
    assert autodoc == [
        "TinyVlmConfig",
        "TinyVlmImageProcessor",
        "TinyVlmImageProcessorPil",
        "TinyVlmProcessor",
        "TinyVlmModel",
        "TinyVlmForConditionalGeneration",
    ]
    assert "[[autodoc]] TinyVlmForConditionalGeneration\n    - forward\n    - get_image_features\n" in text
    assert "[[autodoc]] TinyVlmProcessor\n    - __call__\n" in text
    assert "{{" not in text and "}}" not in text


# ------------------------------------------------------------------------------------------------ mappings


@pytest.mark.parametrize(
    ("model_type", "expected_index"),
    [("aaa", 0), ("llava_x", 1), ("zzz", 2)],
    ids=["start", "middle", "end"],
)
def test_mapping_entry_sorted_at_start_middle_and_end(model_type, expected_index):
    entry = MappingEntry("MODEL_MAPPING_NAMES", model_type, "XModel")
    text = add_mapping_entries(MODELING_AUTO_TEXT, [entry], path="m.py")
    keys = [key for key, _ in _mapping(text, "MODEL_MAPPING_NAMES")]
    assert keys.index(model_type) == expected_index
    assert keys == sorted(keys)
    new_lines = added_lines(MODELING_AUTO_TEXT, text)
    assert new_lines == [f'        ("{model_type}", "XModel"),']
    compile(text, "m.py", "exec")


def test_comment_after_the_opening_bracket_stays_first():
    text = add_mapping_entries(
        MODELING_AUTO_TEXT, [MappingEntry("MODEL_MAPPING_NAMES", "aaa", "AaaModel")], path="m.py"
    )
    assert '        # Base model mapping\n        ("aaa", "AaaModel"),\n        ("llava", "LlavaModel"),' in text


def test_entry_after_a_spread_and_before_the_rest():
    text = add_mapping_entries(
        MODELING_AUTO_TEXT, [MappingEntry("MODEL_FOR_MULTIMODAL_LM_MAPPING_NAMES", "aaa", "AaaLM")], path="m.py"
    )
    expected = (
        "        *list(MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES.items()),\n"
        '        ("aaa", "AaaLM"),\n'
        '        ("voxtral", "VoxtralForConditionalGeneration"),\n'
    )
    assert expected in text


def test_long_entries_are_split_as_ruff_format_splits_them():
    # the value alone still fits on a line (as conditional_detr in 5.23)
    value = {"pil": "PromptDepthAnythingTooImageProcessorPil", "torchvision": "PromptDepthAnythingTooImageProcessor"}
    entry = MappingEntry("IMAGE_PROCESSOR_MAPPING_NAMES", "prompt_depth_anything_too", value)
    text = add_mapping_entries(AUTO_MAPPINGS_TEXT, [entry], path="a.py")
    assert added_lines(AUTO_MAPPINGS_TEXT, text) == [
        "        (",
        '            "prompt_depth_anything_too",',
        '            {"pil": "PromptDepthAnythingTooImageProcessorPil", "torchvision": "PromptDepthAnythingTooImageProcessor"},',
        "        ),",
    ]
    assert dict(_mapping(text, "IMAGE_PROCESSOR_MAPPING_NAMES"))["prompt_depth_anything_too"] == value
    # neither does
    value = {
        "pil": "PromptDepthAnythingLongerImageProcessorPil",
        "torchvision": "PromptDepthAnythingLongerImageProcessor",
    }
    entry = MappingEntry("IMAGE_PROCESSOR_MAPPING_NAMES", "prompt_depth_anything_longer", value)
    text = add_mapping_entries(AUTO_MAPPINGS_TEXT, [entry], path="a.py")
    assert added_lines(AUTO_MAPPINGS_TEXT, text) == [
        "        (",
        '            "prompt_depth_anything_longer",',
        "            {",
        '                "pil": "PromptDepthAnythingLongerImageProcessorPil",',
        '                "torchvision": "PromptDepthAnythingLongerImageProcessor",',
        "            },",
        "        ),",
    ]
    assert dict(_mapping(text, "IMAGE_PROCESSOR_MAPPING_NAMES"))["prompt_depth_anything_longer"] == value


def test_trailing_comment_and_comment_lines_stay_with_their_entries():
    source = dedent(
        """
        X_MAPPING_NAMES = OrderedDict(
            [
                ("a", "A"),  # about a
                # about c
                ("c", "C"),  # about c too
                # before the bracket
            ]
        )
        """
    )
    middle = add_mapping_entries(source, [MappingEntry("X_MAPPING_NAMES", "b", "B")], path="x.py")
    assert '("a", "A"),  # about a\n        ("b", "B"),\n        # about c\n        ("c", "C"),' in middle
    end = add_mapping_entries(source, [MappingEntry("X_MAPPING_NAMES", "d", "D")], path="x.py")
    assert '("c", "C"),  # about c too\n        ("d", "D"),\n        # before the bracket\n    ]' in end


def test_present_entry_is_kept_and_a_different_one_conflicts():
    same = MappingEntry("CONFIG_MAPPING_NAMES", "llava", "LlavaConfig")
    assert add_mapping_entries(AUTO_MAPPINGS_TEXT, [same], path="a.py") == AUTO_MAPPINGS_TEXT
    other = MappingEntry("CONFIG_MAPPING_NAMES", "llava", "OtherConfig")
    with pytest.raises(ConflictError, match="already maps 'llava' to 'LlavaConfig'"):
        add_mapping_entries(AUTO_MAPPINGS_TEXT, [other], path="a.py")


def test_missing_mapping_is_a_usage_error():
    with pytest.raises(UsageError, match="no mapping NOPE_MAPPING_NAMES"):
        add_mapping_entries(AUTO_MAPPINGS_TEXT, [MappingEntry("NOPE_MAPPING_NAMES", "x", "X")], path="a.py")


# ------------------------------------------------------------------------------------------------ models/__init__


@pytest.mark.parametrize(
    ("package", "after"),
    [("aaa", None), ("deepseek_v5", "deepseek_v4"), ("deepseek_v40", "deepseek_v32"), ("zzz", "llava")],
    ids=["start", "natural-middle", "natural-after-bigger-number", "end"],
)
def test_model_import_in_natural_order(package, after):
    text = add_model_import(MODELS_INIT_TEXT, package, path="i.py")
    new = f"    from .{package} import *"
    assert added_lines(MODELS_INIT_TEXT, text) == [new]
    lines = text.splitlines()
    previous = lines[lines.index(new) - 1]
    assert previous == ("if TYPE_CHECKING:" if after is None else f"    from .{after} import *")
    assert add_model_import(text, package, path="i.py") == text


def test_natural_key_matches_the_shipped_order():
    assert sorted(["glm46v", "glm5_next", "deepseek_v32", "deepseek_v4"], key=natural_key) == [
        "deepseek_v4",
        "deepseek_v32",
        "glm5_next",
        "glm46v",
    ]


# ------------------------------------------------------------------------------------------------ toctree


@pytest.mark.parametrize(
    ("title", "before"),
    [("Aardvark", "model_doc/aria"), ("llava-Tiny", "model_doc/xclip"), ("Zebra", None)],
    ids=["start", "middle-case-insensitive", "end"],
)
def test_toctree_entry_sorted_by_lowercased_title(title, before):
    text = add_toctree_entry(TOCTREE_TEXT, local="model_doc/new", title=title, path=TOCTREE)
    assert added_lines(TOCTREE_TEXT, text) == ["      - local: model_doc/new", f"        title: {title}"]
    section = YAML(typ="safe").load(text)[1]["sections"][0]["sections"][1]
    assert section["title"] == "Multimodal models"
    titles = [item["title"] for item in section["sections"]]
    assert titles == sorted(titles, key=str.lower)
    locals_ = [item["local"] for item in section["sections"]]
    following = locals_[locals_.index("model_doc/new") + 1] if before else None
    assert following == before
    assert add_toctree_entry(text, local="model_doc/new", title=title, path=TOCTREE) == text


def test_toctree_title_needing_quotes():
    text = add_toctree_entry(TOCTREE_TEXT, local="model_doc/new", title="Odd: #1", path=TOCTREE)
    assert '        title: "Odd: #1"' in text
    section = YAML(typ="safe").load(text)[1]["sections"][0]["sections"][1]["sections"]
    assert {"local": "model_doc/new", "title": "Odd: #1"} in section


def test_toctree_conflicts():
    with pytest.raises(ConflictError, match="model_doc/llava is already listed"):
        add_toctree_entry(TOCTREE_TEXT, local="model_doc/llava", title="Other", path=TOCTREE)
    with pytest.raises(ConflictError, match="'Text models'"):
        add_toctree_entry(TOCTREE_TEXT, local="model_doc/bert", title="BERT", path=TOCTREE)


# ------------------------------------------------------------------------------------------------ tree checks


def test_check_tree(tmp_path):
    with pytest.raises(UsageError, match="not a transformers source tree.*auto_mappings.py"):
        check_tree(tmp_path)
    with pytest.raises(UsageError, match="not a directory"):
        check_tree(tmp_path / "nope")
    root = make_tree(tmp_path)
    check_tree(root)
    (root / TOCTREE).unlink()
    with pytest.raises(UsageError, match="no docs/source/en/_toctree.yml"):
        check_tree(root)


def test_existing_names_empty_for_a_new_model(tmp_path):
    assert existing_names(make_tree(tmp_path), NAMES) == []


def test_existing_names_reports_an_existing_model(tmp_path):
    root = make_tree(tmp_path)
    llava = Names.from_parts("Llava", "llava")
    (root / "src/transformers/models/llava").mkdir()
    (root / "src/transformers/models/llava/modeling_llava.py").write_text(
        "import torch\n\n\nclass LlavaModel:\n    pass\n", encoding="utf-8"
    )
    problems = existing_names(root, llava)
    assert "src/transformers/models/llava/: model type 'llava' already has a folder" in problems
    assert "src/transformers/models/llava/modeling_llava.py:4: class LlavaModel is already defined" in problems
    assert f"{AUTO_MAPPINGS}:7: model type 'llava' is already a mapping key" in problems
    assert f"{AUTO_MAPPINGS}:26: LlavaImageProcessorPil is already a mapping value" in problems
    assert f"{MODELING_AUTO}:6: LlavaModel is already a mapping value" in problems
    assert f"{TOCTREE}:15: model_doc/llava is already listed" in problems


def test_existing_names_reports_a_class_name_under_another_model_type(tmp_path):
    root = make_tree(tmp_path)
    problems = existing_names(root, Names.from_parts("Llava", "brand_new"))
    assert f"{AUTO_MAPPINGS}:7: LlavaConfig is already a mapping value" in problems
    assert not [p for p in problems if "mapping key" in p or "folder" in p]


def test_existing_names_after_registration(tmp_path):
    root = make_tree(tmp_path)
    apply(root, registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED))
    problems = existing_names(root, NAMES)
    assert "docs/source/en/model_doc/tiny_vlm.md: the model doc page already exists" in problems
    assert sum("model type 'tiny_vlm' is already a mapping key" in p for p in problems) == 5


# ------------------------------------------------------------------------------------------------ the real 5.23 tree


@pytest.fixture(scope="session")
def transformers_sdist() -> Path:
    """An unpacked transformers 5.23.0 sdist: $SCAFFOLD_TRANSFORMERS_SDIST, else /tmp/tf_sdist/transformers-5.23.0."""
    candidate = Path(os.environ.get("SCAFFOLD_TRANSFORMERS_SDIST", "/tmp/tf_sdist/transformers-5.23.0"))
    if not (candidate / AUTO_MAPPINGS).is_file():
        pytest.skip(f"no unpacked transformers sdist at {candidate} (set SCAFFOLD_TRANSFORMERS_SDIST)")
    return candidate


def _mapping(text: str, name: str) -> list[tuple[str, object]]:
    """The literal `(key, value)` pairs of `name = OrderedDict([...])`, skipping `*spread` items."""
    for node in ast.parse(text).body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == name:
            items = node.value.args[0].elts
            return [ast.literal_eval(item) for item in items if not isinstance(item, ast.Starred)]
    raise AssertionError(f"no {name}")


def test_real_sdist_tree(tmp_path, transformers_sdist):
    root = tmp_path / "tree"
    for rel in (AUTO_MAPPINGS, MODELING_AUTO, MODELS_INIT):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(transformers_sdist / rel, root / rel)
    before = {rel: (root / rel).read_text(encoding="utf-8") for rel in (AUTO_MAPPINGS, MODELING_AUTO, MODELS_INIT)}
    assert existing_names(root, NAMES) == []

    edits = registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED)
    assert sorted(edit.path for edit in edits) == sorted(before)
    apply(root, edits)
    after = {rel: (root / rel).read_text(encoding="utf-8") for rel in before}

    expected = {
        (AUTO_MAPPINGS, "CONFIG_MAPPING_NAMES"): "TinyVlmConfig",
        (AUTO_MAPPINGS, "PROCESSOR_MAPPING_NAMES"): "TinyVlmProcessor",
        (AUTO_MAPPINGS, "IMAGE_PROCESSOR_MAPPING_NAMES"): {
            "pil": "TinyVlmImageProcessorPil",
            "torchvision": "TinyVlmImageProcessor",
        },
        (MODELING_AUTO, "MODEL_MAPPING_NAMES"): "TinyVlmModel",
        (MODELING_AUTO, "MODEL_FOR_IMAGE_TEXT_TO_TEXT_MAPPING_NAMES"): "TinyVlmForConditionalGeneration",
    }
    for (rel, name), value in expected.items():
        old, new = _mapping(before[rel], name), _mapping(after[rel], name)
        keys = [key for key, _ in new]
        assert keys.count("tiny_vlm") == 1, name
        assert keys == sorted(keys), name  # sort_auto_mappings.py's order
        assert [item for item in new if item[0] != "tiny_vlm"] == old, name
        assert dict(new)["tiny_vlm"] == value, name

    for rel in before:
        ast.parse(after[rel])
    assert len(added_lines(before[AUTO_MAPPINGS], after[AUTO_MAPPINGS])) == 3
    assert len(added_lines(before[MODELING_AUTO], after[MODELING_AUTO])) == 2
    assert added_lines(before[MODELS_INIT], after[MODELS_INIT]) == ["    from .tiny_vlm import *"]
    stars = [line.split()[1][1:] for line in after[MODELS_INIT].splitlines() if line.endswith(" import *")]
    assert stars == sorted(stars, key=natural_key)

    assert registration_edits(root, NAMES, pretty_name="TinyVLM", year=2026, added=ADDED) == []
