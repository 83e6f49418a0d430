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
"""Tests of the AyaVisionLike model on transformers' shared VLM tester: a tiny random model with the generated
architecture (siglip vision tower, swiglu projector, cohere2 decoder) on CPU.
"""

import unittest

import pytest

from transformers import (
    AyaVisionLikeConfig,
    AyaVisionLikeForConditionalGeneration,
    AyaVisionLikeModel,
    Cohere2Config,
    SiglipVisionConfig,
    is_torch_available,
)
from transformers.models.aya_vision_like.processing_aya_vision_like import tokens_per_view
from transformers.testing_utils import require_torch


try:
    from ...vlm_tester import VLMModelTest, VLMModelTester
except ImportError:
    raise unittest.SkipTest(
        "tests/vlm_tester.py is not in this tree (transformers sdist); run in a transformers checkout"
    ) from None


if is_torch_available():
    import torch


# A tiny image of 2 x 2 blocks of 2 x 2 patches (the connector merges each block into one feature).
# Its image features are counted by the processor's own arithmetic (the generated image size gives 16).
PATCH_SIZE = 14
MERGE_FACTOR = 2
IMAGE_SIZE = 2 * PATCH_SIZE * MERGE_FACTOR
NUM_IMAGE_TOKENS = tokens_per_view(IMAGE_SIZE, IMAGE_SIZE, PATCH_SIZE, 0, "full", MERGE_FACTOR)

# Views per test image (two tiles and the thumbnail): the tiles layout stacks all views of all images in
# `pixel_values` and gives each image's count as `num_patches`; an image's tokens are its views' features in order.
NUM_VIEWS = 3
NUM_TILES_IMAGE_TOKENS = NUM_VIEWS * NUM_IMAGE_TOKENS


class AyaVisionLikeModelTester(VLMModelTester):
    base_model_class = AyaVisionLikeModel
    config_class = AyaVisionLikeConfig
    conditional_generation_class = AyaVisionLikeForConditionalGeneration
    text_config_class = Cohere2Config
    vision_config_class = SiglipVisionConfig

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("num_views", NUM_VIEWS)
        kwargs.setdefault("num_image_tokens", kwargs["num_views"] * NUM_IMAGE_TOKENS)
        kwargs.setdefault("image_size", IMAGE_SIZE)
        kwargs.setdefault("patch_size", PATCH_SIZE)
        kwargs.setdefault("num_image_tokens", NUM_IMAGE_TOKENS)
        kwargs.setdefault("image_seq_length", NUM_IMAGE_TOKENS)
        kwargs.setdefault("projector_type", "swiglu")
        kwargs.setdefault("vision_feature_layer", -1)
        kwargs.setdefault("vision_feature_select_strategy", "full")
        kwargs.setdefault("tie_word_embeddings", True)
        super().__init__(parent, **kwargs)

    def create_pixel_values(self):
        """(views, channels, height, width): every view of every image, as the tiles layout's image processor stacks them."""
        return torch.rand(self.batch_size * self.num_views, self.num_channels, self.image_size, self.image_size)

    def get_additional_inputs(self, config, input_ids, modality_inputs):
        """The tiles layout's `num_patches`: the views of each image."""
        return {"num_patches": torch.tensor([self.num_views] * self.batch_size)}

    def get_vision_config(self):
        config = super().get_vision_config()
        config.vision_use_head = False
        return config


@require_torch
class AyaVisionLikeModelTest(VLMModelTest, unittest.TestCase):
    model_tester_class = AyaVisionLikeModelTester

    # Layers of the vision tower after the feature layer(s), and its final layer norm, take no part in the output.
    @pytest.mark.xfail(reason="vision layers after vision_feature_layer get no gradient")
    def test_training_gradient_checkpointing(self):
        super().test_training_gradient_checkpointing()

    @pytest.mark.xfail(reason="vision layers after vision_feature_layer get no gradient")
    def test_training_gradient_checkpointing_use_reentrant_false(self):
        super().test_training_gradient_checkpointing_use_reentrant_false()

    @pytest.mark.xfail(reason="vision layers after vision_feature_layer get no gradient")
    def test_training_gradient_checkpointing_use_reentrant_true(self):
        super().test_training_gradient_checkpointing_use_reentrant_true()

    def prepare_config_and_inputs_for_generate(self, batch_size=2):
        """The common inputs of the first `batch_size` prompts: the common slicing takes `batch_size` rows of every
        input, but `pixel_values` holds `num_views` rows per image."""
        config, inputs = super().prepare_config_and_inputs_for_generate(batch_size=batch_size)
        tester = self.model_tester
        shape = (
            len(inputs["input_ids"]) * tester.num_views,
            tester.num_channels,
            tester.image_size,
            tester.image_size,
        )
        inputs["pixel_values"] = torch.rand(shape)
        return config, inputs

    def _image_features_prepare_config_and_inputs(self):
        """The image inputs of the tiles layout: `pixel_values` and the views per image, `num_patches`."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        return config, {key: inputs[key] for key in ("pixel_values", "num_patches")}

    def test_generate_compile_model_forward_fullgraph(self):
        """The common test halves every input tensor along its first axis (`[:half, :]`), so it runs here on images of
        one view each, without the 1-D `num_patches`: the model then reads all views as one image, whose features fill
        the image tokens in the same order."""
        self.model_tester = self.model_tester_class(self, num_views=1)
        self.model_tester.get_additional_inputs = lambda config, input_ids, modality_inputs: {}
        super().test_generate_compile_model_forward_fullgraph()

    def test_mismatching_num_image_tokens(self):
        """The common test on the tiles layout's inputs, where an image is its `num_patches` views of `pixel_values`."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        for model_class in self.all_model_classes:
            model = model_class(config).eval()
            with torch.no_grad():
                model(**inputs)
                # One image fewer than the prompts' image tokens.
                fewer = {
                    **inputs,
                    "pixel_values": inputs["pixel_values"][NUM_VIEWS:],
                    "num_patches": inputs["num_patches"][1:],
                }
                with self.assertRaises(ValueError):
                    model(**fewer)
                # Two prompts with an image's tokens each, and one image.
                prompts = {key: torch.cat([inputs[key][:1]] * 2) for key in ("input_ids", "attention_mask")}
                image = {"pixel_values": inputs["pixel_values"][:NUM_VIEWS], "num_patches": inputs["num_patches"][:1]}
                with self.assertRaises(ValueError):
                    model(**prompts, **image)
                # Two prompts and two images.
                model(**prompts, **{key: torch.cat([value] * 2) for key, value in image.items()})

    def test_image_features_fill_the_image_tokens(self):
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        model = AyaVisionLikeModel(config).eval()
        batch_size, hidden_size = len(inputs["num_patches"]), config.text_config.hidden_size
        with torch.no_grad():
            features = model.get_image_features(
                pixel_values=inputs["pixel_values"], num_patches=inputs["num_patches"]
            ).pooler_output
            views = model.get_image_features(pixel_values=inputs["pixel_values"][:1]).pooler_output
        self.assertEqual(
            [tuple(image_features.shape) for image_features in features],
            [(NUM_TILES_IMAGE_TOKENS, hidden_size)] * batch_size,
        )
        self.assertEqual(
            int((inputs["input_ids"] == config.image_token_id).sum()), batch_size * NUM_TILES_IMAGE_TOKENS
        )
        # An image's features are its views' features in order: the first view alone gives the first rows.
        torch.testing.assert_close(features[0][:NUM_IMAGE_TOKENS], views[0])
