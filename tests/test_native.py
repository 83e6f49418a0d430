"""The native layout against transformers' Qwen2-VL (the image-processing half of native resolution, issue 16).

`examples/qwen2_vl_like.yaml` restates Qwen2-VL's image-processor defaults; rendered, then, on the same backend:
- pixel_values and image_grid_thw == Qwen2VLImageProcessor / Qwen2VLImageProcessorPil: max abs diff exactly 0.0,
  over 40 sizes (1x1, extreme aspect ratios, above max_pixels, below min_pixels, exact multiples of 28 and one pixel
  off), one image per call, mixed-size batches and a batch of one shape; sizes transformers refuses are refused with
  the same error;
- smart_resize (scaffold's, emitted into the package) == transformers' over a grid of sizes, factors and bounds,
  errors included;
- the processor's input_ids == Qwen2VLProcessor's (whose prompts carry <|vision_start|> / <|vision_end|> themselves),
  and its counts without processing == Qwen2VLProcessor's plus the two delimiters.
"""

from __future__ import annotations

import importlib
import io
import itertools
import random
import sys

import numpy as np
import pytest
import torch
from helpers import ROOT, word_tokenizer
from PIL import Image
from transformers import PreTrainedTokenizerFast, Qwen2VLProcessor, Qwen2VLVideoProcessor
from transformers.models.qwen2_vl import image_processing_qwen2_vl as upstream_module
from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

from scaffold.components import tokens
from scaffold.generate.pipeline import render_spec
from scaffold.spec import load_spec

EXAMPLE = ROOT / "examples" / "qwen2_vl_like.yaml"
MAX_PIXELS = 28 * 28 * 1280


def image_sizes(count: int = 40, seed: int = 0) -> list[tuple[int, int]]:
    """(height, width): the edge cases, then random ones (a quarter of them elongated)."""
    rng = random.Random(seed)
    sizes = [
        (1, 1), (4, 1500), (1500, 4), (2, 400), (400, 2), (10, 1500), (1500, 10), (20, 30), (27, 29), (28, 28),
        (29, 27), (56, 56), (55, 57), (14, 14), (100, 100), (480, 640), (640, 480), (896, 1120), (897, 1121),
        (3000, 2000), (2000, 3000), (4000, 4000), (1003, 1001), (333, 777),
    ]  # fmt: skip
    while len(sizes) < count:
        if rng.random() < 0.25:
            long, short = rng.randint(300, 2500), rng.randint(5, 60)
            sizes.append((long, short) if rng.random() < 0.5 else (short, long))
        else:
            sizes.append((rng.randint(8, 2200), rng.randint(8, 2200)))
    return sizes


SIZES = image_sizes()


def picture(height: int, width: int, seed: int, png: bool = False) -> Image.Image:
    """Random pixels through PIL; with `png`, encoded and decoded as a PNG file."""
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    image = Image.fromarray(pixels)
    if png:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        image = Image.open(io.BytesIO(buffer.getvalue()))
        image.load()
    return image


def refused(height: int, width: int) -> bool:
    return max(height, width) / min(height, width) > 200


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("native")
    spec = load_spec(EXAMPLE)
    for rel, text in render_spec(spec).items():
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp / rel).write_text(text)
    sys.path.insert(0, str(tmp))
    try:
        return importlib.import_module(spec.model.model_type), spec
    finally:
        sys.path.remove(str(tmp))


BACKENDS = {"torchvision": ("Qwen2VlLikeImageProcessor", Qwen2VLImageProcessor),
            "pil": ("Qwen2VlLikeImageProcessorPil", Qwen2VLImageProcessorPil)}  # fmt: skip


def outcome(processor, images):
    """The processor's output, or the exception it raised as (type, message)."""
    try:
        return processor(images, return_tensors="pt")
    except Exception as error:  # noqa: BLE001 - compared with the reference's
        return type(error), str(error)


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_pixels_equal_qwen2_vl(generated, backend):
    package, _ = generated
    ours, ref = getattr(package, BACKENDS[backend][0])(), BACKENDS[backend][1]()
    # one image per call (every size), then mixed-size batches of 5 (sizes that transformers refuses left out)
    calls = [[picture(h, w, i, png=i % 2 == 0)] for i, (h, w) in enumerate(SIZES)]
    accepted = [(h, w) for h, w in SIZES if not refused(h, w)]
    calls += [
        [picture(h, w, 100 + start + i) for i, (h, w) in enumerate(accepted[start : start + 5])]
        for start in range(0, len(accepted), 5)
    ]
    # images of one shape, which Qwen2-VL's torchvision backend resizes as one batch
    calls.append([picture(480, 640, 300 + k) for k in range(4)] + [picture(100, 3000, 305)])
    worst, compared, errors = 0.0, 0, 0
    for images in calls:
        a, b = outcome(ours, images), outcome(ref, images)
        if isinstance(b, tuple):
            assert a == b, [image.size for image in images]
            errors += 1
            continue
        assert not isinstance(a, tuple), (a, [image.size for image in images])
        assert torch.equal(a["image_grid_thw"], b["image_grid_thw"])
        assert a["pixel_values"].shape == b["pixel_values"].shape
        assert a["pixel_values"].dtype == b["pixel_values"].dtype
        worst = max(worst, (a["pixel_values"] - b["pixel_values"]).abs().max().item())
        compared += 1
    assert worst == 0.0, f"[{backend}] max abs diff {worst}"
    assert errors == 2 and compared == len(calls) - 2  # 4x1500 and 1500x4 are refused alike
    # the outputs cover images above max_pixels and below min_pixels
    grids = ours([picture(3000, 2000, 0), picture(20, 30, 1)])["image_grid_thw"].tolist()
    assert grids[0][1] * grids[0][2] * 14 * 14 <= MAX_PIXELS < 3000 * 2000
    assert grids[1][1] * grids[1][2] * 14 * 14 >= 56 * 56 > 20 * 30


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_unbatched_outputs_have_transformers_types(generated, backend):
    package, _ = generated
    image = picture(480, 640, 3)
    a, b = getattr(package, BACKENDS[backend][0])()(image), BACKENDS[backend][1]()(image)
    for key in ("pixel_values", "image_grid_thw"):
        assert type(a[key]) is type(b[key]) and a[key].dtype == b[key].dtype
        assert a[key].shape == b[key].shape


def test_patch_counts_equal_qwen2_vl(generated):
    package, _ = generated
    for backend in BACKENDS:
        ours, ref = getattr(package, BACKENDS[backend][0])(), BACKENDS[backend][1]()
        for h, w in SIZES:
            if refused(h, w):
                with pytest.raises(ValueError, match="absolute aspect ratio must be smaller than 200"):
                    ours.get_number_of_image_patches(h, w)
            else:
                assert ours.get_number_of_image_patches(h, w) == ref.get_number_of_image_patches(h, w, {}), (h, w)


def test_smart_resize_equals_transformers():
    sides = [1, 2, 3, 13, 14, 27, 28, 29, 55, 56, 57, 100, 223, 224, 225, 479, 1000, 1500, 3001, 8000]
    bounds = [(56 * 56, 28 * 28 * 1280), (4 * 28 * 28, 16384 * 28 * 28), (3136, 3136), (1, 10**9), (10000, 20000)]
    for (height, width), factor, (low, high) in itertools.product(
        itertools.product(sides, sides), (14, 28, 32), bounds
    ):
        expected = outcome_of(upstream_module.smart_resize, height, width, factor, low, high)
        assert outcome_of(tokens.smart_resize, height, width, factor, low, high) == expected, (height, width)


def outcome_of(function, *args):
    try:
        return function(*args)
    except Exception as error:  # noqa: BLE001 - compared with the reference's
        return type(error), str(error)


def test_smart_resize_is_emitted_not_copied(generated):
    """One module-level smart_resize in the package: the PIL module imports it from the torchvision one."""
    package, _ = generated
    torchvision_module = sys.modules[type(package.Qwen2VlLikeImageProcessor()).__module__]
    pil_module = sys.modules[type(package.Qwen2VlLikeImageProcessorPil()).__module__]
    assert pil_module.smart_resize is torchvision_module.smart_resize
    assert "def smart_resize" not in open(pil_module.__file__).read()


def tokenizer_for(spec) -> PreTrainedTokenizerFast:
    """A word-level tokenizer with Qwen2-VL's image, video and vision start/end tokens at their ids, and w<i> words."""
    proc, d = spec.processor, spec.processor.image_delimiters
    specials = {proc.image_token_id: proc.image_token, d.start_id: d.start, d.end_id: d.end, 151656: "<|video_pad|>"}
    return word_tokenizer(specials, 64)


def test_processor_equals_qwen2_vl_processor(generated):
    package, spec = generated
    proc, d = spec.processor, spec.processor.image_delimiters
    tokenizer = tokenizer_for(spec)
    ours = package.Qwen2VlLikeProcessor(image_processor=package.Qwen2VlLikeImageProcessorPil(), tokenizer=tokenizer)
    upstream = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessorPil(), tokenizer=tokenizer, video_processor=Qwen2VLVideoProcessor()
    )
    # Qwen2-VL's prompts carry the start and end tokens; the generated processor writes them around each image.
    ours_prompt, upstream_prompt = "w5 {image} w7", f"w5 {d.start}{{image}}{d.end} w7"
    accepted = [(h, w) for h, w in SIZES if not refused(h, w)]
    counts = set()
    for i, (height, width) in enumerate(accepted):
        images = [picture(height, width, i)]
        a = ours(text=[ours_prompt.format(image=proc.image_token)], images=images, return_tensors="pt")
        b = upstream(text=[upstream_prompt.format(image=proc.image_token)], images=images, return_tensors="pt")
        assert torch.equal(a["input_ids"], b["input_ids"]), (height, width)
        assert (a["pixel_values"] - b["pixel_values"]).abs().max().item() == 0.0
        count = int((a["input_ids"] == proc.image_token_id).sum())
        counts.add(count)
        fast, reference = (
            p._get_num_multimodal_tokens(image_sizes=[(height, width)]) for p in (ours, upstream)
        )  # fmt: skip
        assert fast.num_image_tokens == [count + 2] == [reference.num_image_tokens[0] + 2]
        assert fast.num_image_patches == reference.num_image_patches
    assert len(counts) > 20  # the sizes exercise many different counts
    # a batch of mixed sizes, two images in one prompt
    images = [picture(*accepted[k], 200 + k) for k in (0, 15, 20)]
    image = proc.image_token
    text = [f"{image} w3 {image}", f"w9 {image}"]
    upstream_text = [t.replace(image, f"{d.start}{image}{d.end}") for t in text]
    a = ours(text=text, images=images, padding=True, return_tensors="pt")
    b = upstream(text=upstream_text, images=images, padding=True, return_tensors="pt")
    assert torch.equal(a["input_ids"], b["input_ids"])
    assert torch.equal(a["image_grid_thw"], b["image_grid_thw"])
    assert (a["pixel_values"] - b["pixel_values"]).abs().max().item() == 0.0


def test_processor_with_the_torchvision_backend(generated):
    package, spec = generated
    tokenizer = tokenizer_for(spec)
    ours = package.Qwen2VlLikeProcessor(image_processor=package.Qwen2VlLikeImageProcessor(), tokenizer=tokenizer)
    upstream = Qwen2VLProcessor(
        image_processor=Qwen2VLImageProcessor(), tokenizer=tokenizer, video_processor=Qwen2VLVideoProcessor()
    )
    d, image = spec.processor.image_delimiters, spec.processor.image_token
    images = [picture(640, 480, 1), picture(33, 2000, 2)]
    a = ours(text=[f"w1 {image} w2 {image}"], images=images, return_tensors="pt")
    b = upstream(text=[f"w1 {d.start}{image}{d.end} w2 {d.start}{image}{d.end}"], images=images, return_tensors="pt")
    assert torch.equal(a["input_ids"], b["input_ids"])
    assert (a["pixel_values"] - b["pixel_values"]).abs().max().item() == 0.0
