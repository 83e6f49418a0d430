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
"""Tests of the TileMarkers processor: transformers' common processor tests, fully offline (a local word-level
tokenizer over the model's vocabulary and the generated image processor), and the image-token expansion.
"""

import unittest

import numpy as np

from transformers import AddedToken, PreTrainedTokenizerFast
from transformers.testing_utils import require_tokenizers, require_torch, require_vision
from transformers.utils import is_tokenizers_available, is_vision_available

from ...test_processing_common import ProcessorTesterMixin


if is_tokenizers_available():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

if is_vision_available():
    from transformers import TileMarkersImageProcessor, TileMarkersProcessor


IMAGE_TOKEN = "<image>"
IMAGE_TOKEN_ID = 127
# Idefics3-style tile markers: the marker and global-image tokens by id, every `<row_r_col_c>` a tile can need, and
# the newline after each row of tiles, each one token (the test tokenizer gives them the highest free ids).
TILE_MARKERS = {125: "<fake_token_around_image>", 126: "<global-img>"}
ROW_COLUMN_MARKERS = [
    "<row_1_col_1>",
    "<row_1_col_2>",
    "<row_1_col_3>",
    "<row_1_col_4>",
    "<row_1_col_5>",
    "<row_1_col_6>",
    "<row_2_col_1>",
    "<row_2_col_2>",
    "<row_2_col_3>",
    "<row_3_col_1>",
    "<row_3_col_2>",
    "<row_4_col_1>",
    "<row_5_col_1>",
    "<row_6_col_1>",
]
VOCAB_SIZE = 128
SPECIAL_TOKEN_IDS = {"pad_token": 0, "bos_token": 1, "eos_token": 2}
# Image features the model gives per image at the generated image size; the processor expands each image token to as
# many tokens.
NUM_IMAGE_FEATURES = 16
# The most image tokens one image can expand to: the layout gives an image more tokens the more views it needs.
MAX_IMAGE_TOKENS = 134
# The words of ProcessorTesterMixin's prompts: known words keep decoded text equal to the prompt (offsets tests).
COMMON_TEST_WORDS = ["lower", "newer", "upper", "older", "longer", "string"]


def build_tokenizer():
    """A word-level tokenizer over the model's vocabulary: the image and special tokens at the model's ids, words
    `w<id>` elsewhere and `<unk>` for any other word. Words carry SentencePiece's `▁` word-start marker so that decoding
    restores the spaces between words and none around the image tokens."""
    tokens = {IMAGE_TOKEN_ID: IMAGE_TOKEN, **TILE_MARKERS}
    free = [i for i in range(VOCAB_SIZE) if i not in tokens and i not in SPECIAL_TOKEN_IDS.values()]
    tokens.update(zip(reversed(free), [*ROW_COLUMN_MARKERS, "\n"]))
    roles = {}
    for role, token in (("pad_token", "<pad>"), ("bos_token", "<s>"), ("eos_token", "</s>")):
        if SPECIAL_TOKEN_IDS[role] is not None:
            roles[role] = tokens.setdefault(SPECIAL_TOKEN_IDS[role], token)
    free = [i for i in range(VOCAB_SIZE) if i not in tokens]
    tokens[free.pop(0)] = roles["unk_token"] = "<unk>"
    # A lone word-start marker (a space before an image token), the common tests' prompt words, then `w<id>` words.
    for word in ["", *COMMON_TEST_WORDS]:
        tokens[free.pop(0)] = f"\u2581{word}"
    tokens.update({i: f"\u2581w{i}" for i in free})
    backend = Tokenizer(models.WordLevel(vocab={token: i for i, token in tokens.items()}, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="always")
    backend.decoder = decoders.Metaspace(prepend_scheme="always")
    roles.setdefault("pad_token", "<unk>")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, **roles)
    texts = [IMAGE_TOKEN, *TILE_MARKERS.values(), *ROW_COLUMN_MARKERS, "\n"]
    tokenizer.add_tokens([AddedToken(text, special=True, normalized=False) for text in texts], special_tokens=True)
    return tokenizer


def marker_tokens(processor, height, width):
    """Text tokens the tile markers add to an image of this original size."""
    from transformers.models.tile_markers.processing_tile_markers import tile_marker_tokens

    return tile_marker_tokens(*processor.tile_rows_and_columns(height, width))


@require_vision
@require_torch
@require_tokenizers
class TileMarkersProcessorTest(ProcessorTesterMixin, unittest.TestCase):
    processor_class = TileMarkersProcessor if is_vision_available() else None
    # Each image adds at most MAX_IMAGE_TOKENS tokens: the common tests' padded lengths leave room for them.
    images_text_kwargs_max_length = MAX_IMAGE_TOKENS + 117
    images_text_kwargs_override_max_length = MAX_IMAGE_TOKENS + 112
    images_unstructured_max_length = MAX_IMAGE_TOKENS + 76
    chat_template_max_length = MAX_IMAGE_TOKENS + 100

    @classmethod
    def _setup_tokenizer(cls):
        return build_tokenizer()

    @classmethod
    def _setup_image_processor(cls):
        return TileMarkersImageProcessor()

    def test_image_token_is_one_token(self):
        processor = self.get_processor()
        self.assertEqual(processor.image_token, IMAGE_TOKEN)
        self.assertEqual(processor.image_token_id, IMAGE_TOKEN_ID)
        input_ids = processor.tokenizer(f"lower {IMAGE_TOKEN} newer", add_special_tokens=False)["input_ids"]
        self.assertEqual(input_ids.count(IMAGE_TOKEN_ID), 1)
        self.assertNotIn(processor.tokenizer.unk_token_id, input_ids)

    def test_each_image_token_expands_to_the_feature_count(self):
        """Each image token becomes the image's views (`num_patches`: tiles, then the thumbnail) times the features of
        one view; `pixel_values` stacks every view of every image."""
        processor = self.get_processor()
        images = self.prepare_images_inputs(batch_size=3)
        text = [f"{IMAGE_TOKEN} lower", f"lower newer {IMAGE_TOKEN} {IMAGE_TOKEN} older"]
        inputs = processor(text=text, images=images, padding=True, return_tensors="pt")
        views = inputs["num_patches"].tolist()
        self.assertEqual(len(views), 3)
        self.assertGreater(views[0], 1, "the test image should need several tiles")
        counts = (inputs["input_ids"] == IMAGE_TOKEN_ID).sum(-1).tolist()
        self.assertEqual(counts, [views[0] * NUM_IMAGE_FEATURES, (views[1] + views[2]) * NUM_IMAGE_FEATURES])
        self.assertEqual(inputs["pixel_values"].shape[0], sum(views))

    def test_text_without_images_is_not_expanded(self):
        processor = self.get_processor()
        inputs = processor(text="lower newer older", return_tensors="pt")
        self.assertEqual(
            inputs["input_ids"].tolist(),
            processor.tokenizer("lower newer older", return_tensors="pt")["input_ids"].tolist(),
        )
        self.assertNotIn("pixel_values", inputs)

    def test_mismatched_images_and_image_tokens_raise(self):
        processor = self.get_processor()
        with self.assertRaises(ValueError):
            processor(text=f"{IMAGE_TOKEN} {IMAGE_TOKEN} lower", images=self.prepare_images_inputs(batch_size=1))

    def test_num_multimodal_tokens_match_the_expansion(self):
        """`_get_num_multimodal_tokens` gives, without processing, each image's views and the tokens the processor
        expands it to."""
        processor = self.get_processor()
        image_sizes = [(30, 40), (400, 17), (224, 224), (30, 400)]
        counts = processor._get_num_multimodal_tokens(image_sizes=image_sizes)
        expanded, views = [], []
        for height, width in image_sizes:
            image = np.random.randint(0, 256, (height, width, 3), dtype=np.uint8)
            inputs = processor(text=f"lower {IMAGE_TOKEN}", images=[image], return_tensors="pt")
            expanded.append(
                int((inputs["input_ids"] == IMAGE_TOKEN_ID).sum()) + marker_tokens(processor, height, width)
            )
            views.append(int(inputs["num_patches"][0]))
        self.assertEqual(counts["num_image_tokens"], expanded)
        self.assertEqual(counts["num_image_patches"], views)
        grids = zip(views, image_sizes)
        self.assertEqual(
            expanded,
            [count * NUM_IMAGE_FEATURES + marker_tokens(processor, height, width) for count, (height, width) in grids],
        )
        self.assertGreater(len(set(views)), 1, "the image sizes should give different view counts")
        self.assertTrue(all(count <= MAX_IMAGE_TOKENS for count in expanded))
