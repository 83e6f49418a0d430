"""The grid and tiles layouts against transformers' own implementations of them.

Specs restating transformers' settings are rendered with `new-vlm`; then, on the same backend:
- grid pixels == LlavaNextImageProcessor / ...Pil, tiles pixels == GotOcr2ImageProcessor / ...Pil
  (crop_to_patches=True, InternVL's use): max abs diff exactly 0.0, over mixed-size calls;
- token counts (expansion and `_get_num_multimodal_tokens`) == LlavaNextProcessor's (grid) and GotOcr2's
  num_patches x features per tile (tiles), over >= 50 sizes with extreme aspect ratios;
- the model's grid packing == LlavaNextModel.pack_image_features.
"""

from __future__ import annotations

import importlib
import random
import sys
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from helpers import run_cli
from PIL import Image
from tokenizers import AddedToken, Tokenizer, models, pre_tokenizers
from transformers import LlavaNextProcessor, PreTrainedTokenizerFast
from transformers.models.got_ocr2.image_processing_got_ocr2 import GotOcr2ImageProcessor
from transformers.models.got_ocr2.image_processing_pil_got_ocr2 import GotOcr2ImageProcessorPil
from transformers.models.llava_next.image_processing_llava_next import LlavaNextImageProcessor
from transformers.models.llava_next.image_processing_pil_llava_next import LlavaNextImageProcessorPil
from transformers.models.llava_next.modeling_llava_next import LlavaNextModel

PINPOINTS_336 = [[336, 672], [672, 336], [672, 672], [1008, 336], [336, 1008]]
PINPOINTS_224 = [[224, 448], [448, 224], [448, 448], [224, 896], [896, 224], [672, 672]]

MODEL_SECTIONS = """
vision: {{family: {family}, image_size: {image_size}, patch_size: 14, hidden_size: 32, intermediate_size: 64,
         num_hidden_layers: 2, num_attention_heads: 2}}
projector: {{type: linear}}
text: {{family: llama, vocab_size: 128, hidden_size: 32, intermediate_size: 64, num_hidden_layers: 1,
       num_attention_heads: 2, max_position_embeddings: 32768, pad_token_id: 0, eos_token_id: 2}}
processor: {{image_token: "<image>", image_token_id: 127}}
"""

# name -> (image_processor section, vision family, image size, transformers reference class stem, its kwargs)
SETTINGS = {
    "grid_llava_v16": (
        f"""size: {{shortest_edge: 336}}
  default_to_square: false
  crop_size: {{height: 336, width: 336}}
  do_center_crop: true
  do_pad: true
  image_mean: openai_clip
  image_std: openai_clip
  layout: {{kind: grid, grid_pinpoints: {PINPOINTS_336}}}""",
        "clip",
        336,
        "llava_next",
        dict(size={"shortest_edge": 336}, crop_size={"height": 336, "width": 336}, image_grid_pinpoints=PINPOINTS_336),
    ),
    "grid_square_224": (
        f"""size: {{height: 224, width: 224}}
  crop_size: {{height: 224, width: 224}}
  do_center_crop: true
  do_pad: true
  image_mean: openai_clip
  image_std: openai_clip
  layout: {{kind: grid, grid_pinpoints: {PINPOINTS_224}}}""",
        "siglip",
        224,
        "llava_next",
        dict(
            size={"height": 224, "width": 224},
            crop_size={"height": 224, "width": 224},
            image_grid_pinpoints=PINPOINTS_224,
        ),
    ),
    "tiles_internvl": (
        """size: {height: 448, width: 448}
  image_mean: imagenet_standard
  image_std: imagenet_standard
  layout: {kind: tiles, min_tiles: 1, max_tiles: 12, use_thumbnail: true}""",
        "siglip",
        448,
        "got_ocr2",
        dict(size={"height": 448, "width": 448}, crop_to_patches=True, min_patches=1, max_patches=12),
    ),
    "tiles_2_to_6": (
        """size: {height: 224, width: 224}
  image_mean: openai_clip
  image_std: openai_clip
  layout: {kind: tiles, min_tiles: 2, max_tiles: 6}""",
        "clip",
        224,
        "got_ocr2",
        dict(size={"height": 224, "width": 224}, crop_to_patches=True, min_patches=2, max_patches=6),
    ),
    "tiles_one": (
        """size: {height: 224, width: 224}
  image_mean: openai_clip
  image_std: openai_clip
  layout: {kind: tiles, min_tiles: 1, max_tiles: 1}""",
        "clip",
        224,
        "got_ocr2",
        dict(size={"height": 224, "width": 224}, crop_to_patches=True, min_patches=1, max_patches=1),
    ),
    "tiles_no_thumbnail": (
        """size: {height: 224, width: 224}
  image_mean: openai_clip
  image_std: openai_clip
  layout: {kind: tiles, max_tiles: 9, use_thumbnail: false}""",
        "clip",
        224,
        "got_ocr2",
        dict(size={"height": 224, "width": 224}, crop_to_patches=True, min_patches=1, max_patches=9),
    ),
}
REFERENCES = {
    "llava_next": {"torchvision": LlavaNextImageProcessor, "pil": LlavaNextImageProcessorPil},
    "got_ocr2": {"torchvision": GotOcr2ImageProcessor, "pil": GotOcr2ImageProcessorPil},
}
# GotOcr2's default mean/std are OpenAI CLIP's; the InternVL setting uses ImageNet standard ones.
REFERENCE_STATS = {"tiles_internvl": dict(image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])}


def image_sizes(count: int = 64, seed: int = 0) -> list[tuple[int, int]]:
    """(height, width) pairs: fixed edge cases (extreme aspect ratios, exact pinpoints and tiles) plus random ones."""
    rng = random.Random(seed)
    sizes = [
        (4, 1500), (1500, 5), (10, 2000), (2000, 12), (16, 16), (5, 7), (336, 336), (672, 336), (336, 1008),
        (448, 448), (896, 448), (448, 1344), (100, 3000), (3000, 90), (333, 334), (1007, 1009), (20, 600), (700, 21),
    ]  # fmt: skip
    while len(sizes) < count:
        if rng.random() < 0.25:
            long, short = rng.randint(400, 2400), rng.randint(6, 60)
            sizes.append((long, short) if rng.random() < 0.5 else (short, long))
        else:
            sizes.append((rng.randint(20, 1600), rng.randint(20, 1600)))
    return sizes


SIZES = image_sizes()


def random_image(height, width, seed):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8))


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """name -> SimpleNamespace(torchvision, pil, processor_class, modeling module) of each rendered setting."""
    out = {}
    root = tmp_path_factory.mktemp("layouts")
    for name, (section, family, image_size, _, _) in SETTINGS.items():
        model_type = f"layout_{name}"
        spec = root / f"{name}.yaml"
        spec.write_text(
            f"model: {{name: {''.join(p.title() for p in model_type.split('_'))}, model_type: {model_type}}}\n"
            f"image_processor:\n  {section}\n" + MODEL_SECTIONS.format(family=family, image_size=image_size)
        )
        done = run_cli("new-vlm", str(spec), "-o", str(root / name))
        assert done.returncode == 0, done.stderr
        sys.path.insert(0, str(root / name))
        package = importlib.import_module(model_type)
        classes = {cls.__name__.removeprefix(package.__name__.title().replace("_", "")): cls for cls in
                   (getattr(package, n) for n in package.__all__)}  # fmt: skip
        out[name] = SimpleNamespace(
            torchvision=classes["ImageProcessor"],
            pil=classes["ImageProcessorPil"],
            processor=classes["Processor"],
            modeling=importlib.import_module(f"{model_type}.modeling_{model_type}"),
        )
    return out


def reference_processor(name, backend):
    _, _, _, stem, kwargs = SETTINGS[name]
    return REFERENCES[stem][backend](**kwargs, **REFERENCE_STATS.get(name, {}))


def drop_thumbnails(pixel_values, num_patches):
    """GotOcr2 always adds the thumbnail after more than one tile: remove it to compare with use_thumbnail false."""
    keep, start, counts = [], 0, []
    for n in num_patches.tolist():
        keep += list(range(start, start + (n - 1 if n > 1 else n)))
        counts.append(n - 1 if n > 1 else n)
        start += n
    return pixel_values[keep], torch.tensor(counts)


@pytest.mark.parametrize("backend", ["torchvision", "pil"])
@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_pixels_equal_transformers(generated, name, backend):
    """Each generated backend gives exactly what transformers' processor of the same layout gives on that backend."""
    ours, ref = getattr(generated[name], backend)(), reference_processor(name, backend)
    # The two main settings over every size; the variants over a third of them (mixed-size calls of 5 either way).
    sizes = SIZES if name in ("grid_llava_v16", "tiles_internvl") else SIZES[::3]
    worst = 0.0
    for start in range(0, len(sizes), 5):
        batch = [random_image(h, w, seed=start + i) for i, (h, w) in enumerate(sizes[start : start + 5])]
        a, b = ours(batch, return_tensors="pt"), ref(batch, return_tensors="pt")
        if "image_sizes" in b:
            assert torch.equal(a["image_sizes"], b["image_sizes"])
            b_pixels = b["pixel_values"]
        else:
            b_pixels, b_counts = b["pixel_values"], b["num_patches"]
            if not ours.use_thumbnail:
                b_pixels, b_counts = drop_thumbnails(b_pixels, b_counts)
            assert a["num_patches"].tolist() == b_counts.tolist()
        assert a["pixel_values"].shape == b_pixels.shape
        worst = max(worst, (a["pixel_values"] - b_pixels).abs().max().item())
    assert worst == 0.0, f"{name} [{backend}]: max abs diff {worst}"


def tokenizer():
    vocab = {"<unk>": 0, "hello": 1}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok = PreTrainedTokenizerFast(tokenizer_object=backend)
    tok.add_tokens([AddedToken("<image>", special=True, normalized=False)], special_tokens=True)
    return tok


def expanded(processor, image, image_token_id):
    ids = processor(images=[image], text=["hello <image> hello"], return_tensors="np")["input_ids"][0]
    return int((ids == image_token_id).sum())


@pytest.mark.parametrize("name", ["grid_llava_v16", "grid_square_224"])
def test_grid_counts_equal_llava_next_processor(generated, name):
    tok = tokenizer()
    image_token_id = tok.convert_tokens_to_ids("<image>")
    ours = generated[name].processor(image_processor=generated[name].pil(), tokenizer=tok)
    ref = LlavaNextProcessor(
        image_processor=reference_processor(name, "pil"),
        tokenizer=tok,
        patch_size=ours.patch_size,
        vision_feature_select_strategy=ours.vision_feature_select_strategy,
        num_additional_image_tokens=ours.num_additional_image_tokens,
    )
    ours_fast = ours._get_num_multimodal_tokens(image_sizes=SIZES)["num_image_tokens"]
    ref_fast = ref._get_num_multimodal_tokens(image_sizes=SIZES)["num_image_tokens"]
    assert ours_fast == ref_fast
    assert len(set(ours_fast)) > 10  # the sizes exercise many different counts
    expand = SIZES if name == "grid_llava_v16" else SIZES[::4]
    mismatches = [
        (h, w)
        for i, (h, w) in enumerate(expand)
        if len(
            {
                expanded(ours, image := random_image(h, w, i), image_token_id),
                expanded(ref, image, image_token_id),
                ours_fast[SIZES.index((h, w))],
            }
        )
        != 1  # fmt: skip
    ]
    assert not mismatches


@pytest.mark.parametrize("name", ["tiles_internvl", "tiles_2_to_6", "tiles_one", "tiles_no_thumbnail"])
def test_tiles_counts_equal_got_ocr2_patches(generated, name):
    tok = tokenizer()
    image_token_id = tok.convert_tokens_to_ids("<image>")
    image_processor = generated[name].pil()
    ours = generated[name].processor(image_processor=image_processor, tokenizer=tok)
    ref = reference_processor(name, "pil")
    per_tile = (SETTINGS[name][2] // 14) ** 2  # clip drops its CLS, siglip has none
    ours_fast = ours._get_num_multimodal_tokens(image_sizes=SIZES)
    expected_views = []
    for h, w in SIZES:
        views = ref.get_number_of_image_patches(h, w, {}) if image_processor.max_tiles > 1 else 1
        expected_views.append(views - 1 if views > 1 and not image_processor.use_thumbnail else views)
    assert ours_fast["num_image_patches"] == expected_views
    assert ours_fast["num_image_tokens"] == [views * per_tile for views in expected_views]
    if name == "tiles_internvl":
        assert len(set(expected_views)) > 5
        for i, (h, w) in enumerate(SIZES[::4]):
            image = random_image(h, w, i)
            real_views = int(ref([image])["num_patches"][0])
            assert (
                expanded(ours, image, image_token_id) == real_views * per_tile == ours_fast["num_image_tokens"][i * 4]
            )


def test_grid_packing_equals_llava_next(generated):
    """The generated model's pack_image_features gives exactly LlavaNextModel's, over every size."""
    model_class = generated["grid_llava_v16"].modeling.LayoutGridLlavaV16Model
    grid_num_views = generated["grid_llava_v16"].modeling.grid_num_views
    hidden = 8
    config = SimpleNamespace(
        vision_config=SimpleNamespace(image_size=336, patch_size=14), image_grid_pinpoints=PINPOINTS_336
    )
    newline = torch.randn(hidden)
    holder = SimpleNamespace(config=config, image_newline=newline)
    generator = torch.Generator().manual_seed(0)
    features = [
        torch.randn(grid_num_views(h, w, PINPOINTS_336, 336), 576, hidden, generator=generator) for h, w in SIZES
    ]
    ref, _ = LlavaNextModel.pack_image_features(
        holder, features, torch.tensor(SIZES), "default", image_newline=newline
    )
    ours = model_class.pack_image_features(holder, features, SIZES)
    assert len(ours) == len(ref) == len(SIZES)
    assert all(torch.equal(a, b) for a, b in zip(ours, ref, strict=True))


def test_count_mismatch_is_a_clear_error(generated):
    model_class = generated["grid_llava_v16"].modeling.LayoutGridLlavaV16Model
    holder = SimpleNamespace(
        config=SimpleNamespace(
            vision_config=SimpleNamespace(image_size=336, patch_size=14), image_grid_pinpoints=PINPOINTS_336
        ),
        image_newline=torch.zeros(8),
    )
    with pytest.raises(ValueError, match=r"needs 1 \+ 1x2 views of 576 features"):
        model_class.pack_image_features(holder, [torch.zeros(2, 576, 8)], [(300, 600)])
