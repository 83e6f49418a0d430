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
"""Tests of the LlavaNextGrid model on transformers' shared VLM tester: a tiny random model with the generated
architecture (clip vision tower, mlp2x_gelu projector, llama decoder) on CPU.
"""

import unittest

import pytest

from transformers import (
    CLIPVisionConfig,
    LlamaConfig,
    LlavaNextGridConfig,
    LlavaNextGridForConditionalGeneration,
    LlavaNextGridModel,
    is_torch_available,
)
from transformers.models.llava_next_grid.processing_llava_next_grid import tokens_per_view
from transformers.testing_utils import require_torch


try:
    from ...vlm_tester import VLMModelTest, VLMModelTester
except ImportError:
    raise unittest.SkipTest(
        "tests/vlm_tester.py is not in this tree (transformers sdist); run in a transformers checkout"
    ) from None


if is_torch_available():
    import torch


# A tiny image of 2 x 2 patches.
# Its image features are counted by the processor's own arithmetic (the generated image size gives 64).
PATCH_SIZE = 14
MERGE_FACTOR = 1
IMAGE_SIZE = 2 * PATCH_SIZE * MERGE_FACTOR
NUM_IMAGE_TOKENS = tokens_per_view(IMAGE_SIZE, IMAGE_SIZE, PATCH_SIZE, 1, "default", MERGE_FACTOR)

# The tiny grid: one pinpoint of 1 x 2 tiles, and test images of exactly that size (no letterbox). An image's views
# are its base view and two tiles; its tokens are the base view's features, then SIDE feature rows of 2 * SIDE
# features, each followed by the learned newline.
SIDE = IMAGE_SIZE // PATCH_SIZE
GRID_PINPOINTS = [[IMAGE_SIZE, 2 * IMAGE_SIZE]]
NUM_VIEWS = 3
NUM_GRID_IMAGE_TOKENS = NUM_IMAGE_TOKENS + SIDE * (2 * SIDE + 1)


class LlavaNextGridModelTester(VLMModelTester):
    base_model_class = LlavaNextGridModel
    config_class = LlavaNextGridConfig
    conditional_generation_class = LlavaNextGridForConditionalGeneration
    text_config_class = LlamaConfig
    vision_config_class = CLIPVisionConfig

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("num_image_tokens", NUM_GRID_IMAGE_TOKENS)
        kwargs.setdefault("image_size", IMAGE_SIZE)
        kwargs.setdefault("patch_size", PATCH_SIZE)
        kwargs.setdefault("num_image_tokens", NUM_IMAGE_TOKENS)
        kwargs.setdefault("image_seq_length", NUM_IMAGE_TOKENS)
        kwargs.setdefault("projector_type", "mlp2x_gelu")
        kwargs.setdefault("vision_feature_layer", -2)
        kwargs.setdefault("vision_feature_select_strategy", "default")
        kwargs.setdefault("tie_word_embeddings", False)
        super().__init__(parent, **kwargs)

    def create_pixel_values(self):
        """(images, views, channels, height, width), as the grid layout's image processor returns them."""
        return torch.rand(self.batch_size, NUM_VIEWS, self.num_channels, self.image_size, self.image_size)

    def get_additional_inputs(self, config, input_ids, modality_inputs):
        """The grid layout's `image_sizes`: each image's original (height, width), the size of the pinpoint."""
        return {"image_sizes": torch.tensor(GRID_PINPOINTS * self.batch_size)}

    def get_config(self):
        config = super().get_config()
        config.image_grid_pinpoints = GRID_PINPOINTS
        return config


@require_torch
class LlavaNextGridModelTest(VLMModelTest, unittest.TestCase):
    model_tester_class = LlavaNextGridModelTester

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

    # The vision tower's outputs cover every view of every image (checked below), not one entry per image.
    skip_test_image_features_output_shape = True

    def test_image_features_fill_the_image_tokens(self):
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        model = LlavaNextGridModel(config).eval()
        batch_size, hidden_size = inputs["pixel_values"].shape[0], config.text_config.hidden_size
        with torch.no_grad():
            outputs = model.get_image_features(pixel_values=inputs["pixel_values"], image_sizes=inputs["image_sizes"])
        self.assertEqual(outputs.last_hidden_state.shape[0], batch_size * NUM_VIEWS)
        self.assertEqual(
            [tuple(features.shape) for features in outputs.pooler_output],
            [(NUM_GRID_IMAGE_TOKENS, hidden_size)] * batch_size,
        )
        self.assertEqual(int((inputs["input_ids"] == config.image_token_id).sum()), batch_size * NUM_GRID_IMAGE_TOKENS)

    def test_letterboxed_image_keeps_only_its_features(self):
        """A square image in the 1 x 2 canvas covers its middle SIDE feature columns: the base view's features, then
        SIDE rows of SIDE features and a newline."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        model = LlavaNextGridModel(config).eval()
        image_sizes = torch.tensor([[IMAGE_SIZE, IMAGE_SIZE]] * inputs["pixel_values"].shape[0])
        with torch.no_grad():
            features = model.get_image_features(
                pixel_values=inputs["pixel_values"], image_sizes=image_sizes
            ).pooler_output
        expected = NUM_IMAGE_TOKENS + SIDE * (SIDE + 1)
        self.assertEqual([len(image_features) for image_features in features], [expected] * len(features))
        # The base view's features come first, as for an image of the pinpoint's size.
        with torch.no_grad():
            full = model.get_image_features(
                pixel_values=inputs["pixel_values"], image_sizes=inputs["image_sizes"]
            ).pooler_output
        torch.testing.assert_close(features[0][:NUM_IMAGE_TOKENS], full[0][:NUM_IMAGE_TOKENS])

    def test_tiles_are_packed_row_by_row(self):
        """Each feature row of the grid is the left tile's row of features, the right tile's, then the newline. A tile's
        features alone are those of the base view of an image whose base view is that tile."""
        config, inputs = self.model_tester.prepare_config_and_inputs_for_common()
        model = LlavaNextGridModel(config).eval()
        pixel_values, image_sizes = inputs["pixel_values"][:1], inputs["image_sizes"][:1]
        left, right = pixel_values[0, 1], pixel_values[0, 2]
        with torch.no_grad():
            packed = model.get_image_features(pixel_values=pixel_values, image_sizes=image_sizes).pooler_output[0]
            alone = [
                model.get_image_features(
                    pixel_values=torch.stack([tile, left, right])[None], image_sizes=image_sizes
                ).pooler_output[0][:NUM_IMAGE_TOKENS]
                for tile in (left, right)
            ]
        grid = packed[NUM_IMAGE_TOKENS:].reshape(SIDE, 2 * SIDE + 1, -1)
        torch.testing.assert_close(grid[:, :SIDE].reshape(SIDE * SIDE, -1), alone[0])
        torch.testing.assert_close(grid[:, SIDE : 2 * SIDE].reshape(SIDE * SIDE, -1), alone[1])
        torch.testing.assert_close(grid[:, 2 * SIDE], model.image_newline.expand(SIDE, -1))
