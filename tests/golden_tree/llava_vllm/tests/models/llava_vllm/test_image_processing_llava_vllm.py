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
"""Tests of the LlavaVllm image processors: transformers' common image-processor tests on both backends, with tiny
sizes, plus the defaults the processors were generated with and the square padding.
"""

import unittest

import numpy as np

from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.testing_utils import require_torch, require_vision
from transformers.utils import is_torch_available

from ...test_image_processing_common import ImageProcessingTester, ImageProcessingTestMixin


if is_torch_available():
    import torch


# The class attributes the processors were generated with (both backends share them).
GENERATED_DEFAULTS = {
    "resample": PILImageResampling.BICUBIC,
    "image_mean": OPENAI_CLIP_MEAN,
    "image_std": OPENAI_CLIP_STD,
    "size": {"shortest_edge": 64},
    "default_to_square": False,
    "crop_size": {"height": 64, "width": 64},
    "do_resize": True,
    "do_center_crop": True,
    "do_rescale": True,
    "do_normalize": True,
    "do_convert_rgb": True,
    "do_pad": False,
    "pad_to_square": True,
}
# Keyword arguments the generated processors add to transformers' ImagesKwargs.
ADDED_KWARGS = ["pad_to_square"]


class LlavaVllmImageProcessingTester(ImageProcessingTester):
    """The generated defaults, with tiny sizes of the same kind (same dict keys) as the generated ones."""

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("size", {"shortest_edge": 20})
        kwargs.setdefault("crop_size", {"height": 16, "width": 18})
        for name, value in GENERATED_DEFAULTS.items():
            kwargs.setdefault(name, value)
        super().__init__(parent, **kwargs)

    def expected_output_image_shape(self, images):
        """(channels, height, width) of the processed images, following the processors' steps in order."""
        if getattr(self, "do_pad", False) and getattr(self, "pad_size", None):
            return self.num_channels, self.pad_size["height"], self.pad_size["width"]
        if getattr(self, "do_center_crop", False):
            return self.num_channels, self.crop_size["height"], self.crop_size["width"]
        if "height" in self.size:
            return self.num_channels, self.size["height"], self.size["width"]
        if getattr(self, "pad_to_square", False):
            # A square stays square under an aspect-preserving resize.
            side = min(
                self.size.get("shortest_edge", self.size.get("longest_edge")), self.size.get("longest_edge", 1 << 30)
            )
            return self.num_channels, side, side
        return super().expected_output_image_shape(images)


@require_torch
@require_vision
class LlavaVllmImageProcessingTest(ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = LlavaVllmImageProcessingTester

    def test_both_backends_are_registered(self):
        classes = {name: cls.__name__ for name, cls in self.image_processing_classes.items()}
        self.assertEqual(classes, {"pil": "LlavaVllmImageProcessorPil", "torchvision": "LlavaVllmImageProcessor"})

    def test_generated_defaults(self):
        for image_processing_class in self.image_processing_classes.values():
            image_processor = image_processing_class()
            for name, value in GENERATED_DEFAULTS.items():
                with self.subTest(backend=image_processing_class.__name__, attribute=name):
                    actual = getattr(image_processor, name)
                    if isinstance(value, (list, tuple)):
                        self.assertSequenceEqual(list(actual), list(value))
                    else:
                        self.assertEqual(dict(actual) if isinstance(value, dict) else actual, value)

    def test_added_kwargs_are_valid_and_saved(self):
        for image_processing_class in self.image_processing_classes.values():
            self.assertTrue(set(ADDED_KWARGS) <= set(image_processing_class.valid_kwargs.__annotations__))
            saved = image_processing_class().to_dict()
            for name in ADDED_KWARGS:
                self.assertEqual(saved[name], GENERATED_DEFAULTS[name])

    def test_pad_to_square_pads_with_the_mean_colour(self):
        height, width = 8, 4
        white = np.full((height, width, 3), 255, dtype=np.uint8)
        raw = {"do_resize": False, "do_center_crop": False, "do_rescale": False, "do_normalize": False}
        image_mean = self.image_processor_dict.get("image_mean", [0.0])
        colour = [int(image_mean[channel % len(image_mean)] * 255) for channel in range(3)]
        for image_processing_class in self.image_processing_classes.values():
            image_processor = image_processing_class(**self.image_processor_dict)
            with self.subTest(backend=image_processing_class.__name__):
                kept = image_processor(white, pad_to_square=False, return_tensors="pt", **raw).pixel_values
                self.assertEqual(tuple(kept.shape), (1, 3, height, width))
                padded = image_processor(white, pad_to_square=True, return_tensors="pt", **raw).pixel_values
                self.assertEqual(tuple(padded.shape), (1, 3, height, height))
                left = (height - width) // 2
                centre = padded[0, :, :, left : left + width]
                torch.testing.assert_close(centre, torch.full_like(centre, 255.0))
                for channel in range(3):
                    border = torch.cat([padded[0, channel, :, :left], padded[0, channel, :, left + width :]], dim=-1)
                    torch.testing.assert_close(border, torch.full_like(border, float(colour[channel])))

    def test_pad_to_square_output_shape_and_backends_agree(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, torchify=True)
        for pad_to_square in (True, False):
            self.image_processor_tester.pad_to_square = pad_to_square
            expected_shape = self.image_processor_tester.expected_output_image_shape(images)
            encodings = {}
            for backend, image_processing_class in self.image_processing_classes.items():
                image_processor = image_processing_class(**self.image_processor_dict)
                encodings[backend] = image_processor(images, return_tensors="pt").pixel_values
                with self.subTest(backend=backend, pad_to_square=pad_to_square):
                    self.assertEqual(tuple(encodings[backend].shape[1:]), expected_shape)
            self._assert_tensors_equivalence(
                encodings["pil"], encodings["torchvision"], atol=self.backend_equivalence_atol
            )
