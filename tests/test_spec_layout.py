"""image_processor.layout: the grid and tiles layouts, their keys and what they need from the rest of the spec."""

from __future__ import annotations

import pytest
from helpers import ROOT

from scaffold.errors import SpecError
from scaffold.spec import load_spec

GRID = (ROOT / "examples" / "llava_next_grid.yaml").read_text()
TILES = (ROOT / "examples" / "internvl_tiles.yaml").read_text()


def errors_of(write_spec, text: str) -> list[str]:
    path = write_spec(text)
    with pytest.raises(SpecError) as info:
        load_spec(path)
    return [str(p).replace(str(path), "spec.yaml") for p in info.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_examples_load_with_their_layouts(write_spec):
    grid = load_spec(write_spec(GRID)).image_processor.layout
    assert grid.kind == "grid" and grid.grid_pinpoints[0] == [112, 224]
    tiles = load_spec(write_spec(TILES)).image_processor.layout
    assert (tiles.kind, tiles.min_tiles, tiles.max_tiles, tiles.use_thumbnail) == ("tiles", 1, 6, True)


@pytest.mark.parametrize("base", [GRID, TILES], ids=["grid", "tiles"])
def test_layouts_take_vllm(write_spec, base):
    assert load_spec(write_spec(base + "vllm: true\n")).vllm


def test_default_layout_is_fixed(write_spec):
    without = "\n".join(line for line in GRID.splitlines() if not line.startswith(("  layout:", "    ")))
    spec = load_spec(write_spec(without.replace("  do_pad: true\n", "")))
    assert spec.image_processor.layout.kind == "fixed"


@pytest.mark.parametrize(
    "base,old,new,key,message",
    [
        (GRID, "kind: grid", "kind: mosaic", "image_processor.layout", "Input tag 'mosaic'"),
        (GRID, "[[112, 224], ", "[[112, 200], ", "image_processor.layout.grid_pinpoints[0]", "[112, 200] is not a multiple"),
        (GRID, "[[112, 224], ", "[[112, 224, 5], ", "image_processor.layout.grid_pinpoints[0]", "a pinpoint is [height, width]"),
        (GRID, "  do_pad: true\n", "", "image_processor.do_pad", "the grid layout pads each image's views"),
        (GRID, "crop_size: {height: 112, width: 112}", "crop_size: {height: 112, width: 224}", "image_processor.crop_size", "make it square"),
        (GRID, "size: {shortest_edge: 112}", "size: {shortest_edge: 224}", "image_processor.size", "must equal the tile size 112"),
        (GRID, "image_size: 112", "image_size: 224", "image_processor.crop_size", "gives 112x112 tiles but vision.image_size is 224"),
        (GRID, "feature_select: patch", "feature_select: cls_patch", "vision.feature_select", "square grid of patches"),
        (GRID, "  do_pad: true\n", "  do_pad: true\n  pad_to_square: true\n", "image_processor.pad_to_square", "has no pad_to_square"),
        (TILES, "min_tiles: 1", "min_tiles: 7", "image_processor.layout.min_tiles", "must not exceed max_tiles 6"),
        (TILES, "max_tiles: 6", "max_tiles: 0", "image_processor.layout.max_tiles", "greater than or equal to 1"),
        (TILES, "size: {height: 112, width: 112}", "size: {shortest_edge: 112}", "image_processor.size", "needs the tile size as size {height, width}"),
        (TILES, "size: {height: 112, width: 112}", "size: {height: 224, width: 224}", "image_processor.size", "gives 224x224 tiles"),
        (TILES, "  layout:\n", "  do_pad: true\n  layout:\n", "image_processor.do_pad", "the tiles layout does not pad"),
        (TILES, "  layout:\n", "  custom_kwargs:\n    - {name: max_tiles, type: int, default: 3, doc: Tiles.}\n  layout:\n",
         "image_processor.custom_kwargs[0].name", "already a kwarg of the tiles layout"),
        (TILES, "use_thumbnail: true", "use_thumbnail: true\n    tile_size: 112", "image_processor.layout.tile_size", "unknown key"),
    ],
)  # fmt: skip
def test_layout_errors_name_the_place(write_spec, base, old, new, key, message):
    assert old in base
    text = base.replace(old, new, 1)
    errors = errors_of(write_spec, text)
    matching = [e for e in errors if e.split(": ", 1)[-1].startswith(f"{key}: ") and message in e]
    assert matching, errors
    line, column = matching[0].split(":")[1:3]
    assert line.isdigit() and column.isdigit()
    anchor = key.rsplit(".", 1)[-1].split("[")[0]
    if anchor in text:  # the error points at the key the user should change
        assert anchor in text.splitlines()[int(line) - 1], (matching[0], text.splitlines()[int(line) - 1])
