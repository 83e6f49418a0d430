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
"""Tests of the Qwen2VlLike processor: transformers' common processor tests, fully offline (a local word-level
tokenizer over the model's vocabulary and the generated image processor), and the image-token expansion.
"""

import math
import unittest

import numpy as np

from transformers import AddedToken, PreTrainedTokenizerFast
from transformers.testing_utils import require_tokenizers, require_torch, require_vision
from transformers.utils import is_tokenizers_available, is_vision_available

from ...test_processing_common import ProcessorTesterMixin


if is_tokenizers_available():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers

if is_vision_available():
    from transformers import Qwen2VlLikeImageProcessor, Qwen2VlLikeProcessor


IMAGE_TOKEN = "<|image_pad|>"
IMAGE_TOKEN_ID = 155
# Text tokens around each image's image tokens (start, end) by id; the processor's placeholder counts include them.
IMAGE_DELIMITERS = {152: "<|vision_start|>", 153: "<|vision_end|>"}
NUM_DELIMITERS = 2
VOCAB_SIZE = 160
SPECIAL_TOKEN_IDS = {"pad_token": 0, "bos_token": None, "eos_token": 1}
# Image features the model gives per image at the generated image size; the processor expands each image token to as
# many tokens.
NUM_IMAGE_FEATURES = None
# The most image tokens one image can expand to: the layout gives an image more tokens the more views it needs.
MAX_IMAGE_TOKENS = 1282
# The words of ProcessorTesterMixin's prompts: known words keep decoded text equal to the prompt (offsets tests).
COMMON_TEST_WORDS = ["lower", "newer", "upper", "older", "longer", "string"]


def build_tokenizer():
    """A word-level tokenizer over the model's vocabulary: the image and special tokens at the model's ids, words
    `w<id>` elsewhere and `<unk>` for any other word. Words carry SentencePiece's `▁` word-start marker so that decoding
    restores the spaces between words and none around the image tokens."""
    tokens = {IMAGE_TOKEN_ID: IMAGE_TOKEN, **IMAGE_DELIMITERS}
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
    texts = [IMAGE_TOKEN, *IMAGE_DELIMITERS.values()]
    tokenizer.add_tokens([AddedToken(text, special=True, normalized=False) for text in texts], special_tokens=True)
    return tokenizer


@require_vision
@require_torch
@require_tokenizers
class Qwen2VlLikeProcessorTest(ProcessorTesterMixin, unittest.TestCase):
    processor_class = Qwen2VlLikeProcessor if is_vision_available() else None
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
        return Qwen2VlLikeImageProcessor()

    def test_image_token_is_one_token(self):
        processor = self.get_processor()
        self.assertEqual(processor.image_token, IMAGE_TOKEN)
        self.assertEqual(processor.image_token_id, IMAGE_TOKEN_ID)
        input_ids = processor.tokenizer(f"lower {IMAGE_TOKEN} newer", add_special_tokens=False)["input_ids"]
        self.assertEqual(input_ids.count(IMAGE_TOKEN_ID), 1)
        self.assertNotIn(processor.tokenizer.unk_token_id, input_ids)

    def test_each_image_token_expands_to_the_feature_count(self):
        processor = self.get_processor()
        images = self.prepare_images_inputs(batch_size=3)
        text = [f"{IMAGE_TOKEN} lower", f"lower newer {IMAGE_TOKEN} {IMAGE_TOKEN} older"]
        inputs = processor(text=text, images=images, padding=True, return_tensors="pt")
        # One token per merge_size x merge_size block of each image's patch grid.
        merged = processor.image_processor.merge_size**2
        per_image = [math.prod(grid) // merged for grid in inputs["image_grid_thw"].tolist()]
        counts = (inputs["input_ids"] == IMAGE_TOKEN_ID).sum(-1).tolist()
        self.assertEqual(counts, [per_image[0], per_image[1] + per_image[2]])
        self.assertEqual(
            inputs["pixel_values"].shape[0], sum(math.prod(grid) for grid in inputs["image_grid_thw"].tolist())
        )

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
        processor = self.get_processor()
        image_sizes = [(30, 400), (400, 17), (224, 224), (3000, 20)]
        counts = processor._get_num_multimodal_tokens(image_sizes=image_sizes)
        for (height, width), num_tokens, num_patches in zip(
            image_sizes, counts["num_image_tokens"], counts["num_image_patches"]
        ):
            image = np.zeros((height, width, 3), dtype=np.uint8)
            inputs = processor(text=f"lower {IMAGE_TOKEN}", images=image, return_tensors="pt")
            with self.subTest(size=(height, width)):
                self.assertEqual(num_patches, math.prod(inputs["image_grid_thw"][0].tolist()))
                self.assertEqual(int((inputs["input_ids"] == IMAGE_TOKEN_ID).sum()) + NUM_DELIMITERS, num_tokens)
