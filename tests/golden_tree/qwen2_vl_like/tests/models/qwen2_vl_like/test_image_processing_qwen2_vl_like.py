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
"""Tests of the Qwen2VlLike image processors: transformers' common image-processor tests on both backends, with tiny
sizes, plus the defaults the processors were generated with.
"""

import math
import unittest

import numpy as np

from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.testing_utils import require_torch, require_vision

from ...test_image_processing_common import ImageProcessingTester, ImageProcessingTestMixin


# The class attributes the processors were generated with (both backends share them).
GENERATED_DEFAULTS = {
    "resample": PILImageResampling.BICUBIC,
    "image_mean": OPENAI_CLIP_MEAN,
    "image_std": OPENAI_CLIP_STD,
    "size": {"shortest_edge": 3136, "longest_edge": 1003520},
    "do_resize": True,
    "do_center_crop": False,
    "do_rescale": True,
    "do_normalize": True,
    "do_convert_rgb": True,
    "do_pad": False,
    "model_input_names": ["pixel_values", "image_grid_thw"],
    "patch_size": 14,
    "temporal_patch_size": 2,
    "merge_size": 2,
}
# Keyword arguments the generated processors add to transformers' ImagesKwargs.
ADDED_KWARGS = ["patch_size", "temporal_patch_size", "merge_size"]


class Qwen2VlLikeImageProcessingTester(ImageProcessingTester):
    """The generated defaults, with tiny sizes of the same kind (same dict keys) as the generated ones."""

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("size", {"shortest_edge": 3136, "longest_edge": 12544})
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

    def expected_grid(self, image):
        """[1, rows, columns] of the image's patch grid, Qwen2-VL's resize rule written out as the reference: each
        side rounded to a multiple of `patch_size * merge_size`; if the area is then above `size["longest_edge"]`
        pixels (or below `size["shortest_edge"]`), both sides scaled by one factor to fit, rounding down (up)."""
        height, width = self.image_height_width(image)
        factor = self.patch_size * self.merge_size
        rows, columns = round(height / factor), round(width / factor)
        if rows * columns * factor**2 > self.size["longest_edge"]:
            scale = math.sqrt(self.size["longest_edge"] / (height * width))
            rows = max(1, math.floor(height * scale / factor))
            columns = max(1, math.floor(width * scale / factor))
        elif rows * columns * factor**2 < self.size["shortest_edge"]:
            scale = math.sqrt(self.size["shortest_edge"] / (height * width))
            rows, columns = math.ceil(height * scale / factor), math.ceil(width * scale / factor)
        return [1, rows * self.merge_size, columns * self.merge_size]

    def expected_output_image_shape(self, images):
        """(patches, values per patch): every image's patches, each `temporal_patch_size` frames of a patch."""
        num_patches = sum(math.prod(self.expected_grid(image)) for image in images)
        return num_patches, self.num_channels * self.temporal_patch_size * self.patch_size**2


@require_torch
@require_vision
class Qwen2VlLikeImageProcessingTest(ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = Qwen2VlLikeImageProcessingTester

    def test_both_backends_are_registered(self):
        classes = {name: cls.__name__ for name, cls in self.image_processing_classes.items()}
        self.assertEqual(classes, {"pil": "Qwen2VlLikeImageProcessorPil", "torchvision": "Qwen2VlLikeImageProcessor"})

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

    # PIL's and torchvision's bicubic kernels differ. On the tester's random-noise images, resized down to a few
    # patches, the two backends differ by up to 28 of 255 levels in a few pixels (200 batches measured), above the
    # common test's 0.1 after normalization. Allow 32 levels, in normalized units; the mean-difference limit stays.
    @property
    def backend_equivalence_atol(self):
        return 32 / 255 / min(self.image_processor_dict.get("image_std") or [1.0])

    # The native layout cuts each image into patches at its own resolution and stacks the flattened patches of all
    # images: `pixel_values` is (patches, values per patch) and `image_grid_thw` each image's patch grid. The common
    # tests below expect one (channels, height, width) array per image, so they check both.
    def _assert_patches(self, image_processor, images, **kwargs):
        tester = self.image_processor_tester
        for batch in ([images[0]], images):
            encoding = image_processor(batch[0] if len(batch) == 1 else batch, return_tensors="pt", **kwargs)
            self.assertEqual(encoding.image_grid_thw.tolist(), [tester.expected_grid(image) for image in batch])
            self.assertEqual(tuple(encoding.pixel_values.shape), tester.expected_output_image_shape(batch))

    def test_call_pil(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False)
        for image_processing_class in self.image_processing_classes.values():
            self._assert_patches(image_processing_class(**self.image_processor_dict), images)

    def test_call_numpy(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, numpify=True)
        for image_processing_class in self.image_processing_classes.values():
            self._assert_patches(image_processing_class(**self.image_processor_dict), images)

    def test_call_pytorch(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, torchify=True)
        for image_processing_class in self.image_processing_classes.values():
            self._assert_patches(image_processing_class(**self.image_processor_dict), images)

    def test_call_numpy_4_channels(self):
        self.image_processor_tester.num_channels = 4
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, numpify=True)
        four_channels = {"image_mean": [0.0] * 4, "image_std": [1.0] * 4}
        for image_processing_class in self.image_processing_classes.values():
            image_processor = image_processing_class(**self.image_processor_dict)
            self._assert_patches(
                image_processor, images, do_convert_rgb=False, input_data_format="channels_last", **four_channels
            )

    def test_sizes_either_side_of_the_pixel_bounds(self):
        """Images whose rounded area is above the upper bound, below the lower bound and between them, a long thin
        one, and one beyond 200:1, which Qwen2-VL's rule refuses."""
        tester = self.image_processor_tester
        factor = tester.patch_size * tester.merge_size
        shapes = [
            (3 * factor, 9 * factor),
            (factor // 2, factor // 2),
            (3 * factor, 3 * factor),
            (factor, 40 * factor),
        ]
        images = [np.random.randint(0, 256, (*shape, 3), dtype=np.uint8) for shape in shapes]
        for backend, image_processing_class in self.image_processing_classes.items():
            with self.subTest(backend=backend):
                image_processor = image_processing_class(**self.image_processor_dict)
                self._assert_patches(image_processor, images)
                with self.assertRaisesRegex(ValueError, "absolute aspect ratio must be smaller than 200"):
                    image_processor(np.zeros((2, 401, 3), dtype=np.uint8), return_tensors="pt")
