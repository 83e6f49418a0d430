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
"""Tests of the PatchMergeSwiglu image processors: transformers' common image-processor tests on both backends, with tiny
sizes, plus the defaults the processors were generated with.
"""

import unittest

from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.testing_utils import require_torch, require_vision

from ...test_image_processing_common import ImageProcessingTester, ImageProcessingTestMixin


# The class attributes the processors were generated with (both backends share them).
GENERATED_DEFAULTS = {
    "resample": PILImageResampling.BICUBIC,
    "image_mean": OPENAI_CLIP_MEAN,
    "image_std": OPENAI_CLIP_STD,
    "size": {"shortest_edge": 112},
    "default_to_square": False,
    "crop_size": {"height": 112, "width": 112},
    "do_resize": True,
    "do_center_crop": True,
    "do_rescale": True,
    "do_normalize": True,
    "do_convert_rgb": True,
    "do_pad": False,
}
# Keyword arguments the generated processors add to transformers' ImagesKwargs.
ADDED_KWARGS = []


class PatchMergeSwigluImageProcessingTester(ImageProcessingTester):
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
class PatchMergeSwigluImageProcessingTest(ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = PatchMergeSwigluImageProcessingTester

    def test_both_backends_are_registered(self):
        classes = {name: cls.__name__ for name, cls in self.image_processing_classes.items()}
        self.assertEqual(
            classes, {"pil": "PatchMergeSwigluImageProcessorPil", "torchvision": "PatchMergeSwigluImageProcessor"}
        )

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
