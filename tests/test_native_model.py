"""M-RoPE positions of the native layout against transformers' Qwen2-VL and Qwen2.5-VL (issue 16, item 4's arithmetic).

`scaffold.components.tokens.mrope_positions` (torch-free, emitted into packages as the other token arithmetic is)
gives each token of a sequence its (temporal, height, width) position and the sequence its rope delta. Checked here:
- positions and deltas == `Qwen2VLModel.get_rope_index` and `Qwen2_5_VLModel.get_rope_index` on text-only prompts,
  prompts with one image, with several images of mixed sizes (adjacent ones too, at the start and at the end), and
  left-padded batches;
- a tiny `Qwen2VLForConditionalGeneration` (and `Qwen2_5_VLForConditionalGeneration`) given these positions (as `position_ids`) gives logits equal (max abs
  diff 0) to the ones it computes itself, on a left-padded batch of two prompts holding three images of different
  sizes, and greedy `generate` is equal token for token; the delta places the generated tokens where transformers'
  cached generation does.
"""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from transformers import (
    Qwen2_5_VLConfig,
    Qwen2_5_VLForConditionalGeneration,
    Qwen2_5_VLModel,
    Qwen2VLConfig,
    Qwen2VLForConditionalGeneration,
    Qwen2VLModel,
)
from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

from scaffold.components.tokens import mrope_positions

IMAGE, START, END, PAD = 100, 101, 102, 0
MERGE = 2


def tiny_config(cls=Qwen2VLConfig):
    """Qwen2-VL (or Qwen2.5-VL) with two-layer towers and decoders; head_dim 16, mrope_section [2, 3, 3]."""
    vision = {"depth": 2, "num_heads": 2, "patch_size": 14, "spatial_merge_size": MERGE, "temporal_patch_size": 2}
    if cls is Qwen2VLConfig:
        vision.update(embed_dim=32, hidden_size=64, mlp_ratio=2)
    else:
        vision.update(hidden_size=32, intermediate_size=64, out_hidden_size=64, fullatt_block_indexes=[1])
    text = {
        "vocab_size": 128,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
        "pad_token_id": PAD,
        "eos_token_id": 1,
    }
    return cls(
        vision_config=vision,
        text_config=text,
        image_token_id=IMAGE,
        video_token_id=103,
        vision_start_token_id=START,
        vision_end_token_id=END,
    )


def grids_of(sizes: list[tuple[int, int]]):
    """pixel_values and image_grid_thw of images of these (height, width) sizes, as Qwen2-VL's processor makes them
    (small max_pixels keep the tiny model fast)."""
    rng = np.random.default_rng(0)
    images = [rng.integers(0, 256, (height, width, 3), dtype=np.uint8) for height, width in sizes]
    processor = Qwen2VLImageProcessor(size={"shortest_edge": 56 * 56, "longest_edge": 28 * 28 * 12})
    out = processor(images, return_tensors="pt")
    return out["pixel_values"], out["image_grid_thw"]


def prompt(rng: random.Random, parts: list) -> list[int]:
    """Token ids: an int part is that many random text tokens, a grid part one image between the delimiters."""
    ids: list[int] = []
    for part in parts:
        if isinstance(part, int):
            ids += [rng.randint(3, 99) for _ in range(part)]
        else:
            ids += [START] + [IMAGE] * (int(np.prod(part)) // MERGE**2) + [END]
    return ids


def left_padded(prompts: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
    length = max(map(len, prompts))
    ids = torch.tensor([[PAD] * (length - len(p)) + p for p in prompts])
    mask = torch.tensor([[0] * (length - len(p)) + [1] * len(p) for p in prompts])
    return ids, mask


def scaffold_position_ids(input_ids, attention_mask, image_grid_thw) -> tuple[torch.Tensor, torch.Tensor]:
    """(3, batch, length) position ids and (batch, 1) deltas from scaffold's arithmetic, padding at position 0; the
    images' grids are taken in order across the batch, as the processor lists them."""
    grids = [tuple(int(v) for v in grid) for grid in (image_grid_thw.tolist() if image_grid_thw is not None else [])]
    position_ids = torch.zeros(3, *input_ids.shape, dtype=torch.long)
    deltas = []
    for row, (ids, mask) in enumerate(zip(input_ids.tolist(), attention_mask.tolist(), strict=True)):
        kept = [index for index, keep in enumerate(mask) if keep]
        types = [int(ids[index] == IMAGE) for index in kept]
        count = sum(types)
        own, used = [], 0
        while used < count:  # this sequence's grids: as many as cover its image tokens
            own.append(grids.pop(0))
            used += own[-1][0] * own[-1][1] * own[-1][2] // MERGE**2
        positions, delta = mrope_positions(types, own, MERGE)
        position_ids[:, row, kept] = torch.tensor(positions)
        deltas.append(delta)
    return position_ids, torch.tensor(deltas).unsqueeze(1)


SIZES = {"a": (56, 84), "b": (140, 56), "c": (84, 112)}
# Each case: prompts, each a list of parts (int: that many text tokens; letter: the image of SIZES of that name).
CASES = {
    "text_only": [[7], [3]],
    "one_image": [[4, "a", 5]],
    "mixed_sizes_left_padded": [[3, "a", 4, "b", 2], [6, "c", 3]],
    "image_first_and_last": [["a", 3, "b"], [2, "c"]],
    "images_between_delimiters_only": [[2, "a", "b", 5], [1, "c", 4]],
    "text_only_prompt_beside_images": [[9], [2, "b", "c", 1]],
}


def build(case: str, seed: int = 0):
    rng = random.Random(seed)
    order = [part for parts in CASES[case] for part in parts if isinstance(part, str)]
    pixel_values, grid_thw = grids_of([SIZES[name] for name in order]) if order else (None, None)
    grid_of = {name: tuple(grid_thw[order.index(name)].tolist()) for name in order}
    prompts = [prompt(rng, [grid_of[p] if isinstance(p, str) else p for p in parts]) for parts in CASES[case]]
    input_ids, attention_mask = left_padded(prompts)
    return input_ids, attention_mask, pixel_values, grid_thw


@pytest.mark.parametrize("model_cls, config_cls", [(Qwen2VLModel, Qwen2VLConfig), (Qwen2_5_VLModel, Qwen2_5_VLConfig)])
@pytest.mark.parametrize("case", sorted(CASES))
def test_positions_equal_get_rope_index(case, model_cls, config_cls):
    torch.manual_seed(0)
    model = model_cls(tiny_config(config_cls)).eval()
    input_ids, attention_mask, _, grid_thw = build(case)
    expected, expected_deltas = model.get_rope_index(
        input_ids,
        mm_token_type_ids=(input_ids == IMAGE).int(),
        image_grid_thw=grid_thw,
        attention_mask=attention_mask,
    )
    ours, deltas = scaffold_position_ids(input_ids, attention_mask, grid_thw)
    assert torch.equal(ours, expected)
    assert torch.equal(deltas, expected_deltas)


def test_images_without_text_between():
    """Image tokens of two images with nothing between them (a processor without delimiters) are taken one grid at
    a time; transformers' get_rope_index takes one grid per run of image tokens, so it cannot place them."""
    positions, delta = mrope_positions([0] + [1] * 8 + [0], [(1, 4, 6), (1, 2, 4)], 2)
    first, _ = mrope_positions([0] + [1] * 6, [(1, 4, 6)], 2)
    assert [row[:7] for row in positions] == first
    assert [row[7:9] for row in positions] == [[4, 4], [4, 4], [4, 5]]
    assert [row[9] for row in positions] == [6, 6, 6]
    assert delta == 7 - 10


def test_image_runs_need_their_grids_tokens():
    with pytest.raises(ValueError, match=r"needs 6 consecutive image tokens"):
        mrope_positions([0, 1, 1, 1, 0], [(1, 4, 6)], 2)


@pytest.mark.parametrize(
    "model_cls, config_cls",
    [(Qwen2VLForConditionalGeneration, Qwen2VLConfig), (Qwen2_5_VLForConditionalGeneration, Qwen2_5_VLConfig)],
)
def test_logits_and_generate_equal_transformers(model_cls, config_cls):
    """Three images of different sizes in a left-padded batch of two prompts: the model given scaffold's positions
    equals the model computing its own, in one forward pass (max abs logits diff 0) and in greedy generation with a
    cache (token for token)."""
    torch.manual_seed(0)
    model = model_cls(tiny_config(config_cls)).eval()
    input_ids, attention_mask, pixel_values, grid_thw = build("mixed_sizes_left_padded")
    assert sorted(map(tuple, grid_thw.tolist())) == [(1, 4, 6), (1, 6, 8), (1, 10, 4)]
    inputs = {"input_ids": input_ids, "attention_mask": attention_mask}
    vision = {"pixel_values": pixel_values, "image_grid_thw": grid_thw}
    position_ids, deltas = scaffold_position_ids(input_ids, attention_mask, grid_thw)
    with torch.no_grad():
        model.model.rope_deltas = None
        expected = model(**inputs, **vision, mm_token_type_ids=(input_ids == IMAGE).int()).logits
        model.model.rope_deltas = None
        ours = model(**inputs, **vision, position_ids=position_ids).logits
        text_positions = (attention_mask.cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)
        model.model.rope_deltas = None
        one_d = model(**inputs, **vision, position_ids=text_positions).logits
    assert (ours - expected).abs().max().item() == 0.0
    assert (one_d - expected).abs().max().item() > 1e-4  # the positions matter: 1-D ones give other logits

    model.model.rope_deltas = None
    reference = model.generate(
        **inputs, **vision, mm_token_type_ids=(input_ids == IMAGE).int(), max_new_tokens=12, do_sample=False
    )
    # transformers' cached generation places the token after a sequence at its unpadded index plus the delta.
    assert torch.equal(model.model.rope_deltas, deltas)
    model.model.rope_deltas = None
    generated = model.generate(
        **inputs,
        **vision,
        position_ids=torch.cat([text_positions[None], position_ids], dim=0),
        max_new_tokens=12,
        do_sample=False,
    )
    assert generated.shape[1] == input_ids.shape[1] + 12
    assert torch.equal(generated, reference)
    # The next position of each sequence from scaffold's delta: its length without padding plus the delta.
    next_positions = attention_mask.sum(-1, keepdim=True) + deltas
    assert torch.equal(next_positions.squeeze(1), position_ids.amax(dim=(0, 2)) + 1)
