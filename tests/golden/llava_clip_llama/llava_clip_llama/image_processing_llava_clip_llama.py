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

from transformers.image_processing_backends import TorchvisionBackend
from transformers.image_processing_utils import BatchFeature
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from transformers.processing_utils import ImagesKwargs, Unpack
from transformers.utils import auto_docstring, is_torch_available


if is_torch_available():  # the PIL backend's module imports the Kwargs class from here without torch
    import torch
from .configuration_llava_clip_llama import AUTO_MAP


class LlavaClipLlamaImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    pad_to_square (`bool`, *optional*, defaults to `True`):
        Whether to pad the image to a square of its longer side, centred, with the mean colour (`image_mean` scaled to 0-255) before resizing, as LLaVA's `image_aspect_ratio='pad'` does.
    """

    pad_to_square: bool


@auto_docstring
class LlavaClipLlamaImageProcessor(TorchvisionBackend):
    valid_kwargs = LlavaClipLlamaImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 336}
    default_to_square = False
    crop_size = {"height": 336, "width": 336}
    do_resize = True
    do_center_crop = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = False
    pad_to_square = True

    def __init__(self, **kwargs: Unpack[LlavaClipLlamaImageProcessorKwargs]):
        super().__init__(**kwargs)

    def to_dict(self):
        output = super().to_dict()
        # Remote code: transformers names this class alone; name both backends (`backend=` picks one).
        if "AutoImageProcessor" in (output.get("auto_map") or {}):
            output["auto_map"] = {**output["auto_map"], "AutoImageProcessor": AUTO_MAP["AutoImageProcessor"]}
        return output

    def _preprocess(
        self, images: list[torch.Tensor], pad_to_square: bool = False, image_mean=None, **kwargs
    ) -> BatchFeature:
        if pad_to_square:
            images = [self._pad_to_square(image, image_mean) for image in images]
        return super()._preprocess(images, image_mean=image_mean, **kwargs)

    def _pad_to_square(self, image: torch.Tensor, image_mean: float | list[float] | None) -> torch.Tensor:
        """Pad a (channels, height, width) image to a centred square of its longer side, filled with the mean colour."""
        num_channels, height, width = image.shape[-3:]
        if height == width:
            return image
        side = max(height, width)
        colour = image.new_tensor(self._padding_colour(image_mean, num_channels)).view(num_channels, 1, 1)
        square = colour.repeat(1, side, side)
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


LlavaClipLlamaImageProcessor.register_for_auto_class()


__all__ = ["LlavaClipLlamaImageProcessorKwargs", "LlavaClipLlamaImageProcessor"]
