# Copyright 2026 The HuggingFace Team. All rights reserved.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""Tests of the Qwen2VlLike model on transformers' shared VLM tester: a tiny random model with the generated
architecture (qwen2_vl vision tower, identity projector, qwen2_vl_text decoder) on CPU.
"""

import tempfile
import unittest

from transformers import (
    Qwen2VlLikeConfig,
    Qwen2VlLikeForConditionalGeneration,
    Qwen2VlLikeModel,
    Qwen2VLTextConfig,
    Qwen2VLVisionConfig,
    is_torch_available,
)
from transformers.testing_utils import require_torch


try:
    from ...vlm_tester import VLMModelTest, VLMModelTester
except ImportError:
    raise unittest.SkipTest(
        "tests/vlm_tester.py is not in this tree (transformers sdist); run in a transformers checkout"
    ) from None


if is_torch_available():
    import torch


# One patch per test image (a 1 x 1 patch grid, and the tower's merger set to blocks of one patch): each image is one
# row of `pixel_values` and one image token, so the common tests, which take the first rows of every input for a
# smaller batch, keep each prompt's image with it (Qwen2-VL's own tests do the same).
PATCH_SIZE = 14
IMAGE_SIZE = PATCH_SIZE
NUM_IMAGE_TOKENS = 1
# The spec's tower; the tests make it and its merger's output as wide as the test decoder.
VISION_CONFIG = {
    "embed_dim": 32,
    "mlp_ratio": 2,
    "depth": 2,
    "num_heads": 2,
    "in_channels": 3,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "hidden_size": 64,
}


class Qwen2VlLikeModelTester(VLMModelTester):
    base_model_class = Qwen2VlLikeModel
    config_class = Qwen2VlLikeConfig
    conditional_generation_class = Qwen2VlLikeForConditionalGeneration
    text_config_class = Qwen2VLTextConfig
    vision_config_class = Qwen2VLVisionConfig

    def __init__(self, parent, **kwargs):
        # The spec's decoder widths and M-RoPE sections (which must add up to head_dim / 2).
        kwargs.setdefault("hidden_size", 64)
        kwargs.setdefault("num_attention_heads", 4)
        kwargs.setdefault("num_key_value_heads", 2)
        kwargs.setdefault(
            "rope_parameters", {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]}
        )
        kwargs.setdefault("image_size", IMAGE_SIZE)
        kwargs.setdefault("patch_size", PATCH_SIZE)
        kwargs.setdefault("num_image_tokens", NUM_IMAGE_TOKENS)
        kwargs.setdefault("image_seq_length", NUM_IMAGE_TOKENS)
        kwargs.setdefault("projector_type", "identity")
        kwargs.setdefault("vision_feature_layer", -2)
        kwargs.setdefault("vision_feature_select_strategy", "full")
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(parent, **kwargs)

    def get_vision_config(self):
        """The spec's tower with merger blocks of one patch, as wide as the test decoder, which is also its merger's
        output width. (The common image-feature test reads the width of the tower's hidden states, before the merger,
        from the config's `out_hidden_size` where it has one: the merger's width, as in Qwen2.5-VL's config.)"""
        widths = dict.fromkeys(["embed_dim", "hidden_size"], self.hidden_size)
        return self.vision_config_class(**{**VISION_CONFIG, "spatial_merge_size": 1, **widths})

    def create_pixel_values(self):
        """(patches, values per patch): one flattened patch per image, `temporal_patch_size` frames of it."""
        vision = VISION_CONFIG
        return torch.rand(
            self.batch_size, self.num_channels * vision["temporal_patch_size"] * vision["patch_size"] ** 2
        )

    def get_additional_inputs(self, config, input_ids, modality_inputs):
        """The native layout's `image_grid_thw`: each image's (temporal, rows, columns) patch grid."""
        return {"image_grid_thw": torch.tensor([[1, 1, 1]] * self.batch_size)}


@require_torch
class Qwen2VlLikeModelTest(VLMModelTest, unittest.TestCase):
    model_tester_class = Qwen2VlLikeModelTester

    def test_mismatching_num_image_tokens(self):
        """The common test on the native layout's inputs, where an image is its rows of `pixel_values` and its row
        of `image_grid_thw`."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config).eval()
            with torch.no_grad():
                model(**inputs)
                # One image fewer than the prompts' image tokens.
                fewer = {
                    **inputs,
                    "pixel_values": inputs["pixel_values"][1:],
                    "image_grid_thw": inputs["image_grid_thw"][1:],
                }
                with self.assertRaises(ValueError):
                    model(**fewer)
                # Two prompts with an image's tokens each, and one image.
                prompts = {key: torch.cat([inputs[key][:1]] * 2) for key in ("input_ids", "attention_mask")}
                image = {key: inputs[key][:1] for key in ("pixel_values", "image_grid_thw")}
                with self.assertRaises(ValueError):
                    model(**prompts, **image)
                # Two prompts and two images.
                model(**prompts, **{key: torch.cat([value] * 2) for key, value in image.items()})

    def test_image_features_fill_the_image_tokens(self):
        """Images of several patch grids: each gives one feature per `spatial_merge_size`**2 block of its patches."""
        config, _ = self.model_tester.prepare_config_and_inputs_for_common()
        config.vision_config.spatial_merge_size = 2
        model = Qwen2VlLikeModel(config).eval()
        grids = torch.tensor([[1, 2, 2], [1, 4, 2], [1, 2, 6]])
        vision = config.vision_config
        pixel_values = torch.rand(int(grids.prod(-1).sum()), 3 * vision.temporal_patch_size * vision.patch_size**2)
        with torch.no_grad():
            features = model.get_image_features(pixel_values=pixel_values, image_grid_thw=grids).pooler_output
        self.assertEqual(
            [tuple(image_features.shape) for image_features in features],
            [
                (1, config.text_config.hidden_size),
                (2, config.text_config.hidden_size),
                (3, config.text_config.hidden_size),
            ],
        )

    def attention_mask_padding_matches_padding_free_with_position_ids(self, attn_implementation, fa_kwargs=False):
        """The common test packs the prompts into one row with 1-D positions restarting at each prompt. With M-RoPE
        the packed position ids have four rows, as Qwen2-VL's decoder takes them: those text positions, which the
        attention mask is built from, then the three M-RoPE rows of each prompt's tokens."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        model_class = Qwen2VlLikeForConditionalGeneration
        with tempfile.TemporaryDirectory() as directory:
            model_class(config).save_pretrained(directory)
            model = model_class.from_pretrained(
                directory, dtype=torch.bfloat16, attn_implementation=attn_implementation
            ).eval()
        kept = inputs["attention_mask"].bool()
        inputs["input_ids"][~kept] = config.text_config.pad_token_id
        rope_positions, _ = model.model.get_rope_index(**inputs)
        text_positions = torch.cat([torch.arange(int(length)) for length in kept.sum(-1)])
        packed = {
            "input_ids": inputs["input_ids"][kept][None],
            "position_ids": torch.cat([text_positions[None], rope_positions[:, kept]])[:, None],
            "pixel_values": inputs["pixel_values"],
            "image_grid_thw": inputs["image_grid_thw"],
        }
        if fa_kwargs:
            lengths = torch.tensor([0] + kept.sum(-1).tolist())
            boundaries = lengths.cumsum(-1).to(torch.int32)
            longest = int(lengths.max())
            packed.update(
                cu_seq_lens_q=boundaries, cu_seq_lens_k=boundaries, max_length_q=longest, max_length_k=longest
            )
        with torch.no_grad():
            padded_logits = model(**inputs, use_cache=False).logits[kept]
            packed_logits = model(**packed, use_cache=False).logits[0]
        tolerance = torch.finfo(torch.bfloat16).eps
        torch.testing.assert_close(padded_logits, packed_logits, rtol=tolerance, atol=tolerance)
