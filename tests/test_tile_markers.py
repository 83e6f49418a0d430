"""Idefics3-style tile markers: the tile_markers example writes each image's text exactly as Idefics3's processor
writes it for the same grid of tiles, counts its tokens as Idefics3 counts them, and the model's image tokens are
its views' features; the spec checks the markers."""

from __future__ import annotations

import importlib
import sys
from types import SimpleNamespace

import numpy as np
import pytest
from helpers import ROOT, word_tokenizer
from PIL import Image
from transformers.models.idefics3.processing_idefics3 import Idefics3Processor

from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

EXAMPLE = ROOT / "examples" / "tile_markers.yaml"
# Tiny, extreme aspect ratios, exact canvases of 112 px tiles and one pixel off, large.
SIZES = [
    (1, 1), (4, 1500), (1500, 4), (30, 40), (112, 112), (111, 113), (112, 224), (224, 112), (112, 336), (336, 112),
    (224, 224), (223, 225), (336, 224), (224, 336), (448, 112), (112, 672), (672, 112), (500, 333), (333, 500),
    (1000, 999), (57, 300), (300, 57),
]  # fmt: skip


@pytest.fixture(scope="module")
def processor(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("markers")
    spec = load_spec(EXAMPLE)
    for rel, text in render_spec(spec).items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    sys.path.insert(0, str(tmp))
    try:
        m = spec.model.model_type
        processing = importlib.import_module(f"{m}.processing_{m}")
        image_processing = importlib.import_module(f"{m}.image_processing_{m}")
    finally:
        sys.path.remove(str(tmp))
    return processing.TileMarkersProcessor(
        image_processor=image_processing.TileMarkersImageProcessor(), tokenizer=tokenizer_for(spec)
    )


def tokenizer_for(spec):
    """Word-level, with the image, marker and `<row_r_col_c>` tokens as single tokens and a newline as one token (as
    Idefics3's counts assume)."""
    proc, markers = spec.processor, spec.processor.tile_markers
    specials = {proc.image_token_id: proc.image_token, markers.around_id: markers.around, 3: "\n"}
    specials[markers.global_image_id] = markers.global_image
    row_columns = [f"<row_{r}_col_{c}>" for r in range(1, 7) for c in range(1, 7) if r * c <= 6]
    specials.update({100 - k: token for k, token in enumerate(row_columns)})
    return word_tokenizer(specials, spec.text.vocab_size)


def image(height: int, width: int, seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


def idefics3_text(processor, rows: int, columns: int, tokens_per_tile: int) -> str:
    """Idefics3Processor's text for an image of rows x columns tiles (0 x 0: not split, the global image alone)."""
    upstream = SimpleNamespace(
        fake_image_token=processor.tile_marker_token,
        global_image_tag=processor.global_image_token,
        image_token=processor.image_token,
        image_seq_len=tokens_per_tile,
    )
    if rows * columns <= 1:
        rows = columns = 0
    return Idefics3Processor.replace_image_token(upstream, {"rows": [[rows]], "cols": [[columns]]}, 0)


def test_each_image_is_written_and_counted_as_idefics3_writes_and_counts_it(processor):
    per_tile = processor.tokens_per_tile()
    grids = set()
    for i, (height, width) in enumerate(SIZES):
        rows, columns = processor.tile_rows_and_columns(height, width)
        grids.add((rows, columns))
        _, (text,) = processor._process_images([image(height, width, i)])
        assert text == idefics3_text(processor, rows, columns, per_tile), (height, width)
        inputs = processor(text=[f"w5 {processor.image_token} w7"], images=[image(height, width, i)])
        ids = inputs["input_ids"][0]
        (count,) = processor._get_num_multimodal_tokens(image_sizes=[(height, width)]).num_image_tokens
        assert len(ids) - 2 == count, (height, width)  # the prompt's two words aside, every token is the image's
        # the model's image tokens: one per feature of the image's views (tiles and thumbnail)
        assert ids.count(processor.image_token_id) == int(inputs["num_patches"][0]) * per_tile
    assert len(grids) >= 6, grids


@pytest.mark.parametrize(
    "change, where, message",
    [
        ("around_id: 125", "processor.tile_markers.around_id", "is processor.image_token_id"),
        ("global_image: \"<global-img>\"", "processor.tile_markers.global_image", "must differ from around"),
        ("use_thumbnail: true", "processor.tile_markers", "set layout.use_thumbnail: true"),
        ("kind: tiles", "processor.tile_markers", "not the fixed layout"),
    ],
)  # fmt: skip
def test_tile_marker_errors_name_the_key(write_spec, change, where, message):
    replacement = {
        "around_id: 125": "around_id: 127",
        'global_image: "<global-img>"': 'global_image: "<fake_token_around_image>"',
        "use_thumbnail: true": "use_thumbnail: false",
        "kind: tiles": "kind: fixed",
    }[change]
    text = EXAMPLE.read_text()
    assert change in text
    text = text.replace(change, replacement, 1)
    if change == "kind: tiles":
        text = text.replace("    min_tiles: 1\n    max_tiles: 6\n    use_thumbnail: true\n", "")
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text))
    assert any(p.key == where and message in p.message for p in info.value.problems), str(info.value)
