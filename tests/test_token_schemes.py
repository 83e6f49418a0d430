"""Image-token schemes: the InternVL-like example (tiles, pixel shuffle, `<img>` ... `</img>`) gives the input_ids and
pixel_values of `InternVLProcessor` (with GotOcr2's tiles, InternVL's image processor) over many image sizes, and the
spec checks the delimiters."""

from __future__ import annotations

import importlib
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, word_tokenizer
from transformers import InternVLProcessor, InternVLVideoProcessor
from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor

from scaffold.errors import SpecError
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

EXAMPLE = ROOT / "examples" / "internvl_shuffle.yaml"
# Sizes (height, width): tiny, extreme aspect ratios, exact canvases of 112 px tiles and one pixel off, large.
SIZES = [
    (1, 1), (4, 1500), (1500, 4), (30, 40), (40, 30), (112, 112), (111, 113), (113, 111), (112, 224), (224, 112),
    (225, 112), (112, 336), (336, 112), (224, 224), (223, 225), (336, 224), (224, 336), (448, 112), (112, 672),
    (672, 112), (500, 333), (333, 500), (1000, 999), (57, 300), (300, 57),
]  # fmt: skip


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("scheme")
    spec = load_spec(EXAMPLE)
    for rel, text in render_spec(spec).items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    sys.path.insert(0, str(tmp))
    try:
        m = spec.model.model_type
        return (
            importlib.import_module(f"{m}.processing_{m}"),
            importlib.import_module(f"{m}.image_processing_{m}"),
            spec,
        )
    finally:
        sys.path.remove(str(tmp))


def tokenizer_for(spec):
    """A word-level tokenizer of the spec's vocabulary with the image and delimiter tokens, carrying the attributes
    InternVLProcessor reads from InternVL's tokenizer."""
    proc, d = spec.processor, spec.processor.image_delimiters
    specials = {proc.image_token_id: proc.image_token, d.start_id: d.start, d.end_id: d.end}
    tokenizer = word_tokenizer(specials, spec.text.vocab_size)
    tokenizer.start_image_token, tokenizer.start_image_token_id = d.start, d.start_id
    tokenizer.end_image_token, tokenizer.end_image_token_id = d.end, d.end_id
    tokenizer.context_image_token, tokenizer.context_image_token_id = proc.image_token, proc.image_token_id
    tokenizer.video_token = "<video>"
    return tokenizer


def image(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def test_input_ids_and_pixel_values_equal_internvl_processor(generated):
    processing, image_processing, spec = generated
    layout = spec.image_processor.layout
    tokenizer = tokenizer_for(spec)
    side = spec.vision.image_size
    got_ocr2 = GotOcr2ImageProcessor(
        size={"height": side, "width": side},
        crop_to_patches=True,
        min_patches=layout.min_tiles,
        max_patches=layout.max_tiles,
        image_mean=[0.485, 0.456, 0.406],
        image_std=[0.229, 0.224, 0.225],
    )
    upstream = InternVLProcessor(
        image_processor=got_ocr2, tokenizer=tokenizer, video_processor=InternVLVideoProcessor(), image_seq_length=16
    )
    ours = processing.InternvlShuffleProcessor(
        image_processor=image_processing.InternvlShuffleImageProcessor(), tokenizer=tokenizer
    )
    prompt = f"w5 {spec.processor.image_token} w7"
    for i, (height, width) in enumerate(SIZES):
        pictures = [image(height, width, i)]
        a = ours(text=[prompt], images=pictures, return_tensors="pt")
        b = upstream(text=[prompt], images=pictures, return_tensors="pt")
        assert torch.equal(a["input_ids"], b["input_ids"]), (height, width)
        assert (a["pixel_values"] - b["pixel_values"]).abs().max().item() == 0.0, (height, width)
        assert ours._get_num_multimodal_tokens(image_sizes=[(height, width)]).num_image_tokens == (
            upstream._get_num_multimodal_tokens(image_sizes=[(height, width)]).num_image_tokens
        )
    # a batch of mixed sizes, two images in one prompt
    pictures = [image(*SIZES[k], 100 + k) for k in (1, 12, 22)]
    text = [f"{spec.processor.image_token} w3 {spec.processor.image_token}", f"w9 {spec.processor.image_token}"]
    # InternVL's processor pads on the left by default; the generated one leaves that to the tokenizer
    a = ours(text=text, images=pictures, padding=True, padding_side="left", return_tensors="pt")
    b = upstream(text=text, images=pictures, padding=True, return_tensors="pt")
    assert torch.equal(a["input_ids"], b["input_ids"])
    assert (a["pixel_values"] - b["pixel_values"]).abs().max().item() == 0.0


@pytest.mark.parametrize(
    "delimiters, where, message",
    [
        ('{start: "<img>", start_id: 127, end: "</img>", end_id: 126}', "image_delimiters.start_id", "is processor.image_token_id"),
        ('{start: "<img>", start_id: 125, end: "</img>", end_id: 128}', "image_delimiters.end_id", "must be below text.vocab_size"),
        ('{start: "<img>", start_id: 125, end: "<img>", end_id: 126}', "image_delimiters.end", "must differ from start"),
        ('{start: "<IMG_CONTEXT>", start_id: 125, end: "</img>", end_id: 126}', "image_delimiters.start", "must differ from processor.image_token"),
        ('{start: "<img>", start_id: 0, end: "</img>", end_id: 126}', "image_delimiters.start_id", "is text.pad_token_id"),
    ],
)  # fmt: skip
def test_delimiter_errors_name_the_key(write_spec, delimiters, where, message):
    text = EXAMPLE.read_text()
    old = '{start: "<img>", start_id: 125, end: "</img>", end_id: 126}'
    assert old in text
    with pytest.raises(SpecError) as info:
        load_spec(write_spec(text.replace(old, delimiters)))
    assert any(p.key == f"processor.{where}" and message in p.message for p in info.value.problems), str(info.value)
