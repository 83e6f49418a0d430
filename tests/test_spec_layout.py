"""image_processor.layout: the grid, tiles and native layouts, their keys and what they need from the rest of the spec."""

from __future__ import annotations

import pytest
from helpers import ROOT

from scaffold.errors import SpecError
from scaffold.spec import load_spec

GRID = (ROOT / "examples" / "llava_next_grid.yaml").read_text()
TILES = (ROOT / "examples" / "internvl_tiles.yaml").read_text()
# The native example without its model sections: the image processors and the processor alone.
_NATIVE_MODEL = (ROOT / "examples" / "qwen2_vl_like.yaml").read_text()
NATIVE = (
    _NATIVE_MODEL[: _NATIVE_MODEL.index("\nvision:") + 1] + _NATIVE_MODEL[_NATIVE_MODEL.index("\nprocessor:") + 1 :]
)
# The model sections of the tiles example (vision, projector, text), for the native layout's refusal.
MODEL_SECTIONS = TILES[TILES.index("\nvision:") + 1 : TILES.index("\nprocessor:") + 1]


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
    native = load_spec(write_spec(NATIVE))
    layout = native.image_processor.layout
    assert (layout.kind, layout.min_pixels, layout.max_pixels) == ("native", 56 * 56, 28 * 28 * 1280)
    assert (layout.patch_size, layout.merge_size, layout.temporal_patch_size) == (14, 2, 2)
    assert native.image_processor.resolved_size() == {"shortest_edge": 56 * 56, "longest_edge": 28 * 28 * 1280}
    assert native.processor_only and not native.is_vlm


def test_native_layout_defaults_are_qwen2_vl_s(write_spec):
    text = NATIVE[: NATIVE.index("    min_pixels")] + NATIVE[NATIVE.index("\nprocessor:") + 1 :]
    layout = load_spec(write_spec(text)).image_processor.layout
    assert (
        layout.min_pixels,
        layout.max_pixels,
        layout.patch_size,
        layout.merge_size,
        layout.temporal_patch_size,
    ) == (
        56 * 56,
        28 * 28 * 1280,
        14,
        2,
        2,
    )


def test_native_layout_without_a_processor_section(write_spec):
    spec = load_spec(write_spec(NATIVE[: NATIVE.index("\nprocessor:") + 1]))
    assert spec.processor is None and not spec.processor_only


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
        (NATIVE, "min_pixels: 3136", "min_pixels: 2000000", "image_processor.layout.min_pixels", "must not exceed max_pixels 1003520"),
        (NATIVE, "min_pixels: 3136", "min_pixels: 0", "image_processor.layout.min_pixels", "greater than 0"),
        (NATIVE, "max_pixels: 1003520", "max_pixels: -1", "image_processor.layout.max_pixels", "greater than 0"),
        (NATIVE, "min_pixels: 3136", "min_pixels: 1.5", "image_processor.layout.min_pixels", "valid integer"),
        (NATIVE, "max_pixels: 1003520", "max_pixels: 700", "image_processor.layout.max_pixels", "must be at least 784"),
        (NATIVE, "patch_size: 14", "patch_size: 0", "image_processor.layout.patch_size", "greater than 0"),
        (NATIVE, "merge_size: 2", "merge_size: -2", "image_processor.layout.merge_size", "greater than 0"),
        (NATIVE, "temporal_patch_size: 2", "temporal_patch_size: 0", "image_processor.layout.temporal_patch_size", "greater than 0"),
        (NATIVE, "  layout:\n", "  size: {height: 448, width: 448}\n  layout:\n", "image_processor.size", "the native layout's size is"),
        (NATIVE, "  layout:\n", "  do_pad: true\n  layout:\n", "image_processor.do_pad", "the native layout does not pad"),
        (NATIVE, "  layout:\n", "  do_center_crop: true\n  crop_size: 224\n  layout:\n", "image_processor.do_center_crop", "does not crop"),
        (NATIVE, "  layout:\n", "  do_resize: false\n  layout:\n", "image_processor.do_resize", "resizes every view"),
        (NATIVE, "  layout:\n", "  pad_to_square: true\n  layout:\n", "image_processor.pad_to_square", "has no pad_to_square"),
        (NATIVE, "  layout:\n", "  custom_kwargs:\n    - {name: merge_size, type: int, default: 3, doc: Merge.}\n  layout:\n",
         "image_processor.custom_kwargs[0].name", "already a kwarg of the native layout"),
        (NATIVE, "temporal_patch_size: 2", "temporal_patch_size: 2\n    spatial_merge_size: 2", "image_processor.layout.spatial_merge_size", "unknown key"),
        (NATIVE, "\nprocessor:", "\n" + MODEL_SECTIONS + "processor:", "vision.family", "the native layout needs a tower that takes each image at its own resolution"),
        (NATIVE, "end_id: 153", "end_id: 155", "processor.image_delimiters.end_id", "155 is processor.image_token_id"),
        (NATIVE, 'end: "<|vision_end|>"', 'end: "<|vision_start|>"', "processor.image_delimiters.end", "must differ from start"),
        (NATIVE, "    end_id: 153\n", "    end_id: 153\nvllm: true\n", "vllm", "vllm: true needs the model sections"),
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
