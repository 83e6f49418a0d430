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
"""Tests of the InternvlTiles image processors: transformers' common image-processor tests on both backends, with tiny
sizes, plus the defaults the processors were generated with.
"""

import math
import unittest

import numpy as np

from transformers.image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, PILImageResampling
from transformers.testing_utils import require_torch, require_vision

from ...test_image_processing_common import ImageProcessingTester, ImageProcessingTestMixin


# The class attributes the processors were generated with (both backends share them).
GENERATED_DEFAULTS = {
    "resample": PILImageResampling.BICUBIC,
    "image_mean": IMAGENET_DEFAULT_MEAN,
    "image_std": IMAGENET_DEFAULT_STD,
    "size": {"height": 112, "width": 112},
    "do_resize": True,
    "do_center_crop": False,
    "do_rescale": True,
    "do_normalize": True,
    "do_convert_rgb": True,
    "do_pad": False,
    "model_input_names": ["pixel_values", "num_patches"],
    "min_tiles": 1,
    "max_tiles": 6,
    "use_thumbnail": True,
}
# Keyword arguments the generated processors add to transformers' ImagesKwargs.
ADDED_KWARGS = ["min_tiles", "max_tiles", "use_thumbnail"]


class InternvlTilesImageProcessingTester(ImageProcessingTester):
    """The generated defaults, with tiny sizes of the same kind (same dict keys) as the generated ones."""

    def __init__(self, parent, **kwargs):
        kwargs.setdefault("size", {"height": 20, "width": 22})
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
        """InternVL's rule, written out as the reference: the canvas of (columns x rows) tiles whose aspect ratio is
        closest to the image's; of equally close canvases the larger one while the image covers more than half of
        it; a thumbnail follows when there is more than one tile."""
        height, width = self.image_height_width(image)
        tile_height, tile_width = self.size["height"], self.size["width"]
        if self.max_tiles <= 1:
            return 1
        canvases = sorted(
            {
                (columns, rows)
                for columns in range(1, self.max_tiles + 1)
                for rows in range(1, self.max_tiles + 1)
                if self.min_tiles <= columns * rows <= self.max_tiles
            },
            key=lambda canvas: canvas[0] * canvas[1],
        )
        best, best_distance = (1, 1), float("inf")
        for columns, rows in canvases:
            distance = abs(width / height - columns / rows)
            covers_half = width * height > 0.5 * tile_height * tile_width * columns * rows
            if distance < best_distance or (distance == best_distance and covers_half):
                best, best_distance = (columns, rows), distance
        tiles = best[0] * best[1]
        return tiles + 1 if self.use_thumbnail and tiles > 1 else tiles

    def expected_output_image_shape(self, images):
        """(channels, tile height, tile width) of every view; `pixel_values` stacks all views of all images."""
        return self.num_channels, self.size["height"], self.size["width"]


@require_torch
@require_vision
class InternvlTilesImageProcessingTest(ImageProcessingTestMixin, unittest.TestCase):
    image_processor_tester_class = InternvlTilesImageProcessingTester

    def test_both_backends_are_registered(self):
        classes = {name: cls.__name__ for name, cls in self.image_processing_classes.items()}
        self.assertEqual(
            classes, {"pil": "InternvlTilesImageProcessorPil", "torchvision": "InternvlTilesImageProcessor"}
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

    # PIL's and torchvision's bicubic kernels differ. On the tester's random-noise images, resized up into several
    # tiles, the two backends differ by up to 17 of 255 levels in a few pixels (400 batches measured), above the
    # common test's 0.1 after normalization. Allow 32 levels, in normalized units; the mean-difference limit stays.
    @property
    def backend_equivalence_atol(self):
        return 32 / 255 / min(self.image_processor_dict.get("image_std") or [1.0])

    # The tiles layout stacks every view of every image along the first axis of `pixel_values` and returns each
    # image's view count as `num_patches`: the common tests below expect one view per image, so they check both.
    def _assert_views(self, image_processor, images, **kwargs):
        tester = self.image_processor_tester
        for batch in ([images[0]], images):
            views = [tester.expected_num_views(image) for image in batch]
            encoding = image_processor(batch[0] if len(batch) == 1 else batch, return_tensors="pt", **kwargs)
            self.assertEqual(encoding.num_patches.tolist(), views)
            self.assertEqual(
                tuple(encoding.pixel_values.shape), (sum(views), *tester.expected_output_image_shape(batch))
            )
        self.assertGreater(max(views), 1, "the test images should need several tiles")

    def test_call_pil(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False)
        for image_processing_class in self.image_processing_classes.values():
            self._assert_views(image_processing_class(**self.image_processor_dict), images)

    def test_call_numpy(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, numpify=True)
        for image_processing_class in self.image_processing_classes.values():
            self._assert_views(image_processing_class(**self.image_processor_dict), images)

    def test_call_pytorch(self):
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, torchify=True)
        for image_processing_class in self.image_processing_classes.values():
            self._assert_views(image_processing_class(**self.image_processor_dict), images)

    def test_call_numpy_4_channels(self):
        self.image_processor_tester.num_channels = 4
        images = self.image_processor_tester.prepare_image_inputs(equal_resolution=False, numpify=True)
        four_channels = {"image_mean": [0.0] * 4, "image_std": [1.0] * 4}
        for image_processing_class in self.image_processing_classes.values():
            image_processor = image_processing_class(**self.image_processor_dict)
            self._assert_views(
                image_processor, images, do_convert_rgb=False, input_data_format="channels_last", **four_channels
            )

    def test_square_images_either_side_of_the_tie_rule(self):
        """Square images tie between the 1 x 1 and 2 x 2 canvases: the larger wins only while the image covers more
        than half of it (2 x tile area), and a long thin image takes the most tiles in a row."""
        tester = self.image_processor_tester
        half_canvas = 2 * tester.size["height"] * tester.size["width"]
        below, above = math.isqrt(half_canvas - 1), math.isqrt(half_canvas) + 1
        shapes = [(below, below), (above, above), (tester.size["height"], 30 * tester.size["width"])]
        images = [np.random.randint(0, 256, (*shape, 3), dtype=np.uint8) for shape in shapes]
        views = [tester.expected_num_views(image) for image in images]
        if tester.min_tiles <= 1 and tester.max_tiles >= 4:
            self.assertEqual(views[:2], [1, 5 if tester.use_thumbnail else 4])
        for backend, image_processing_class in self.image_processing_classes.items():
            with self.subTest(backend=backend):
                encoding = image_processing_class(**self.image_processor_dict)(images, return_tensors="pt")
                self.assertEqual(encoding.num_patches.tolist(), views)
