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


import numpy as np

from transformers.image_processing_backends import PilBackend
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.processing_utils import Unpack
from transformers.utils import auto_docstring

from .configuration_llava_vllm import AUTO_MAP
from .image_processing_llava_vllm import LlavaVllmImageProcessorKwargs


@auto_docstring
class LlavaVllmImageProcessorPil(PilBackend):
    valid_kwargs = LlavaVllmImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 64}
    default_to_square = False
    crop_size = {"height": 64, "width": 64}
    do_resize = True
    do_center_crop = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = False
    pad_to_square = True

    def __init__(self, **kwargs: Unpack[LlavaVllmImageProcessorKwargs]):
        super().__init__(**kwargs)

    def to_dict(self):
        output = super().to_dict()
        # Remote code: transformers names this class alone; name both backends (`backend=` picks one).
        if "AutoImageProcessor" in (output.get("auto_map") or {}):
            output["auto_map"] = {**output["auto_map"], "AutoImageProcessor": AUTO_MAP["AutoImageProcessor"]}
        return output

    def _preprocess(
        self, images: list[np.ndarray], pad_to_square: bool = False, image_mean=None, **kwargs
    ) -> BatchFeature:
        if pad_to_square:
            images = [self._pad_to_square(image, image_mean) for image in images]
        return super()._preprocess(images, image_mean=image_mean, **kwargs)

    def _pad_to_square(self, image: np.ndarray, image_mean: float | list[float] | None) -> np.ndarray:
        """Pad a (channels, height, width) image to a centred square of its longer side, filled with the mean colour."""
        num_channels, height, width = image.shape[-3:]
        if height == width:
            return image
        side = max(height, width)
        colour = np.asarray(self._padding_colour(image_mean, num_channels), dtype=image.dtype).reshape(
            num_channels, 1, 1
        )
        square = np.repeat(np.repeat(colour, side, axis=1), side, axis=2)
        top, left = (side - height) // 2, (side - width) // 2
        square[:, top : top + height, left : left + width] = image
        return square

    @staticmethod
    def _padding_colour(image_mean: float | list[float] | None, num_channels: int) -> list[int]:
        """The mean colour in 0-255 levels, one value per channel (cycled when the channel counts differ)."""
        if image_mean is None:
            levels = [0]
        else:
            means = [image_mean] if isinstance(image_mean, (int, float)) else list(image_mean)
            levels = [int(mean * 255) for mean in means]
        return [levels[channel % len(levels)] for channel in range(num_channels)]


LlavaVllmImageProcessorPil.register_for_auto_class()


__all__ = ["LlavaVllmImageProcessorPil"]
