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
"""Tests of the LlavaNextGrid image processors: transformers' common image-processor tests on both backends, with tiny
sizes, plus the defaults the processors were generated with.
"""

import unittest

import numpy as np

from transformers.image_processing_utils import select_best_resolution
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
    "do_pad": True,
    "model_input_names": ["pixel_values", "image_sizes"],
    "image_grid_pinpoints": [[112, 224], [224, 112], [224, 224], [336, 112], [112, 336]],
}
# Keyword arguments the generated processors add to transformers' ImagesKwargs.
ADDED_KWARGS = ["image_grid_pinpoints"]


class LlavaNextGridImageProcessingTester(ImageProcessingTester):
    """The generated defaults, with tiny sizes of the same kind (same dict keys) as the generated ones."""

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("size", {"shortest_edge": 16})
        kwargs.setdefault("crop_size", {"height": 16, "width": 16})
        kwargs.setdefault("image_grid_pinpoints", [[16, 32], [32, 16], [32, 32], [48, 16], [16, 48]])
        for name, value in GENERATED_DEFAULTS.items():
            kwargs.setdefault(name, value)
        super().__init__(parent, **kwargs)

    @staticmethod
    def image_height_width(image):
        """(height, width) of a test image: PIL, numpy (channels last) or torch (channels first)."""
        if isinstance(image, np.ndarray):
            return image.shape[0], image.shape[1]
        if hasattr(image, "shape"):
            return image.shape[1], image.shape[2]
        width, height = image.size
        return height, width

    def expected_num_views(self, image):
        """The base view, then the tiles of the pinpoint that keeps most of the image with the least padding."""
        best_height, best_width = select_best_resolution(self.image_height_width(image), self.image_grid_pinpoints)
        return 1 + (best_height // self.crop_size["height"]) * (best_width // self.crop_size["width"])

    def expected_output_image_shape(self, images):
        """(views, channels, tile height, tile width): each image's views, padded to the most views in the batch."""
        views = max(self.expected_num_views(image) for image in images)
        return views, self.num_channels, self.crop_size["height"], self.crop_size["width"]


@require_torch
@require_vision
class LlavaNextGridImageProcessingTest(ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = LlavaNextGridImageProcessingTester

    def test_both_backends_are_registered(self):
        classes = {name: cls.__name__ for name, cls in self.image_processing_classes.items()}
        self.assertEqual(
            classes, {"pil": "LlavaNextGridImageProcessorPil", "torchvision": "LlavaNextGridImageProcessor"}
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

    def test_grid_views_and_image_sizes(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, torchify=True)
        views = [self.image_processor_tester.expected_num_views(image) for image in images]
        self.assertGreater(max(views), 2, "the test images should need several tiles")
        for backend, image_processing_class in self.image_processing_classes.items():
            with self.subTest(backend=backend):
                encoding = image_processing_class(**self.image_processor_dict)(images, return_tensors="pt")
                self.assertEqual(encoding.image_sizes.tolist(), [list(image.shape[1:]) for image in images])
                self.assertEqual(tuple(encoding.pixel_values.shape[:2]), (len(images), max(views)))
                for values, count in zip(encoding.pixel_values, views):
                    # Padding views are all zeros; an image's own views are not.
                    self.assertTrue(values[count:].eq(0).all())
                    self.assertTrue(values[:count].flatten(1).ne(0).any(-1).all())
