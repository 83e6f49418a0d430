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

import math

from transformers.image_processing_backends import TorchvisionBackend
from transformers.image_processing_utils import BatchFeature
from transformers.image_transforms import group_images_by_shape, reorder_images
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling, SizeDict
from transformers.processing_utils import ImagesKwargs, Unpack
from transformers.utils import auto_docstring, is_torch_available


if is_torch_available():  # the PIL backend's module imports the Kwargs class from here without torch
    import torch


class Qwen2VlLikeImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    patch_size (`int`, *optional*, defaults to `14`):
        The spatial patch size of the vision encoder.
    temporal_patch_size (`int`, *optional*, defaults to `2`):
        The temporal patch size of the vision encoder; each image patch is repeated this many times.
    merge_size (`int`, *optional*, defaults to `2`):
        Side of the block of patches merged into one image token; resized sides are multiples of `patch_size * merge_size`.
    """

    patch_size: int
    temporal_patch_size: int
    merge_size: int


def smart_resize(
    height: int, width: int, factor: int = 28, min_pixels: int = 56 * 56, max_pixels: int = 14 * 14 * 4 * 1280
) -> tuple[int, int]:
    """The (height, width) a native-resolution tower sees for an image of (height, width) pixels (Qwen2-VL's rule).

    Both sides become multiples of `factor` (patch size times merge size), the area stays within
    [`min_pixels`, `max_pixels`], and the aspect ratio is kept as closely as that rounding allows: each side is
    rounded to the nearest multiple; an area above `max_pixels` scales both sides down by the same factor and rounds
    them down (never below one `factor`), an area below `min_pixels` scales them up and rounds them up. An image more
    than 200 times longer than wide (or the reverse) is refused with a ValueError.
    """
    ratio = max(height, width) / min(height, width)
    if ratio > 200:
        raise ValueError(f"absolute aspect ratio must be smaller than 200, got {ratio}")
    resized_height, resized_width = round(height / factor) * factor, round(width / factor) * factor
    if resized_height * resized_width > max_pixels:
        scale = math.sqrt((height * width) / max_pixels)
        resized_height = max(factor, math.floor(height / scale / factor) * factor)
        resized_width = max(factor, math.floor(width / scale / factor) * factor)
    elif resized_height * resized_width < min_pixels:
        scale = math.sqrt(min_pixels / (height * width))
        resized_height = math.ceil(height * scale / factor) * factor
        resized_width = math.ceil(width * scale / factor) * factor
    return resized_height, resized_width


def native_patch_grid(
    height: int, width: int, patch_size: int, merge_size: int, min_pixels: int, max_pixels: int
) -> tuple[int, int]:
    """(rows, columns) of patches of an image of (height, width) pixels once `smart_resize` has resized it."""
    resized_height, resized_width = smart_resize(
        height, width, patch_size * merge_size, min_pixels=min_pixels, max_pixels=max_pixels
    )
    return resized_height // patch_size, resized_width // patch_size


@auto_docstring
class Qwen2VlLikeImageProcessor(TorchvisionBackend):
    valid_kwargs = Qwen2VlLikeImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 3136, "longest_edge": 1003520}
    do_resize = True
    do_center_crop = False
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = False
    model_input_names = ["pixel_values", "image_grid_thw"]
    patch_size = 14
    temporal_patch_size = 2
    merge_size = 2

    def __init__(self, **kwargs: Unpack[Qwen2VlLikeImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _preprocess(
        self,
        images: list[torch.Tensor],
        do_resize: bool,
        size: SizeDict,
        resample,
        patch_size: int,
        temporal_patch_size: int,
        merge_size: int,
        do_center_crop: bool = False,
        do_pad: bool = False,
        return_tensors=None,
        **kwargs,
    ) -> BatchFeature:
        """Each image is resized to its own `smart_resize` size (sides multiples of `patch_size * merge_size`, area
        within `size.shortest_edge` to `size.longest_edge` pixels), gets the backend's ordinary rescale / normalize
        and is cut into patches. `pixel_values` holds every image's flattened patches in order, (patches,
        channels * temporal_patch_size * patch_size**2), and `image_grid_thw` each image's (1, rows, columns) patch
        grid. The layout neither crops nor pads, whatever `do_center_crop` and `do_pad` say."""
        if do_resize:
            if not size.shortest_edge or not size.longest_edge:
                raise ValueError(
                    f"The native layout's size is {{'shortest_edge': min_pixels, 'longest_edge': max_pixels}}, got {size}."
                )
            images = self._resize_to_patch_grid(images, size, resample, patch_size * merge_size, **kwargs)
        images = super()._preprocess(
            images,
            do_resize=False,
            size=size,
            resample=resample,
            do_center_crop=False,
            do_pad=False,
            return_tensors=None,
            **kwargs,
        )["pixel_values"]
        patches, grids = [], []
        for image in images:
            patches.append(self._flatten_patches(image, patch_size, merge_size, temporal_patch_size))
            grids.append([1, image.shape[-2] // patch_size, image.shape[-1] // patch_size])
        pixel_values, image_grid_thw = self._join_patches(patches, grids)
        return BatchFeature(
            data={"pixel_values": pixel_values, "image_grid_thw": image_grid_thw}, tensor_type=return_tensors
        )

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs: dict | None = None) -> int:
        """Patches (rows x columns of the patch grid) an image of this original size becomes, without processing it;
        every `merge_size` x `merge_size` block of them is one image token."""
        images_kwargs = images_kwargs or {}
        size = images_kwargs.get("size") or self.size
        rows, columns = native_patch_grid(
            height,
            width,
            images_kwargs.get("patch_size") or self.patch_size,
            images_kwargs.get("merge_size") or self.merge_size,
            size["shortest_edge"],
            size["longest_edge"],
        )
        return rows * columns

    def _resize_to_patch_grid(
        self,
        images: list[torch.Tensor],
        size: SizeDict,
        resample,
        factor: int,
        disable_grouping: bool | None = None,
        **kwargs,
    ) -> list[torch.Tensor]:
        """Resize each image to its `smart_resize` size; images of the same shape are resized as one batch."""
        grouped, grouped_index = group_images_by_shape(images, disable_grouping=disable_grouping)
        resized = {}
        for shape, stacked in grouped.items():
            height, width = smart_resize(
                stacked.shape[-2],
                stacked.shape[-1],
                factor,
                min_pixels=size.shortest_edge,
                max_pixels=size.longest_edge,
            )
            resized[shape] = self.resize(stacked, SizeDict(height=height, width=width), resample=resample)
        return reorder_images(resized, grouped_index)

    @staticmethod
    def _flatten_patches(
        image: torch.Tensor, patch_size: int, merge_size: int, temporal_patch_size: int
    ) -> torch.Tensor:
        """(channels, height, width) -> (rows * columns, channels * temporal_patch_size * patch_size**2) in float32:
        the `merge_size` x `merge_size` blocks row by row, each block's patches row by row, every patch
        channel-major and repeated `temporal_patch_size` times."""
        image = image.to(torch.float32)
        channels, height, width = image.shape
        rows, columns = height // patch_size, width // patch_size
        blocks = image.reshape(
            channels, rows // merge_size, merge_size, patch_size, columns // merge_size, merge_size, patch_size
        )
        blocks = blocks.permute(1, 4, 2, 5, 0, 3, 6).unsqueeze(5)
        blocks = blocks.expand(-1, -1, -1, -1, -1, temporal_patch_size, -1, -1)
        return blocks.reshape(rows * columns, channels * temporal_patch_size * patch_size * patch_size)

    @staticmethod
    def _join_patches(patches: list[torch.Tensor], grids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat(patches, dim=0), torch.tensor(grids, dtype=torch.long)


__all__ = ["Qwen2VlLikeImageProcessorKwargs", "Qwen2VlLikeImageProcessor"]
