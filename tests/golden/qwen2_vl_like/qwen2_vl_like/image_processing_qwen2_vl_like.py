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
from .configuration_qwen2_vl_like import AUTO_MAP


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

    def to_dict(self):
        output = super().to_dict()
        # Remote code: transformers names this class alone; name both backends (`backend=` picks one).
        if "AutoImageProcessor" in (output.get("auto_map") or {}):
            output["auto_map"] = {**output["auto_map"], "AutoImageProcessor": AUTO_MAP["AutoImageProcessor"]}
        return output

    def _preprocess(
        self,
        images: list[torch.Tensor],
        do_resize: bool,
        size: SizeDict,
        resample,
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean: float | list[float] | None,
        image_std: float | list[float] | None,
        patch_size: int,
        temporal_patch_size: int,
        merge_size: int,
        return_tensors=None,
        **kwargs,
    ) -> BatchFeature:
        """Each image is resized to its own `smart_resize` size (sides multiples of `patch_size * merge_size`, area
        within `size.shortest_edge` to `size.longest_edge` pixels), rescaled and normalized, and cut into patches.
        `pixel_values` holds every image's flattened patches in order, (patches, channels * temporal_patch_size *
        patch_size**2) in float32, and `image_grid_thw` each image's (1, rows, columns) patch grid. The layout
        neither crops nor pads (`do_center_crop` and `do_pad` are ignored)."""
        if do_resize and (not size.shortest_edge or not size.longest_edge):
            raise ValueError(
                f"The native layout's size is {{'shortest_edge': min_pixels, 'longest_edge': max_pixels}}, got {size}."
            )
        patches, grids = self._native_patches(
            images,
            do_resize,
            size,
            resample,
            do_rescale,
            rescale_factor,
            do_normalize,
            image_mean,
            image_std,
            patch_size,
            temporal_patch_size,
            merge_size,
            **kwargs,
        )
        pixel_values, image_grid_thw = self._join_patches(patches, grids)
        return BatchFeature(
            data={"pixel_values": pixel_values, "image_grid_thw": image_grid_thw}, tensor_type=return_tensors
        )

    def _smart_resized(self, image: torch.Tensor, size: SizeDict, resample, factor: int) -> torch.Tensor:
        """The image (or a stack of images of one shape) resized to its `smart_resize` size."""
        height, width = smart_resize(
            image.shape[-2], image.shape[-1], factor, min_pixels=size.shortest_edge, max_pixels=size.longest_edge
        )
        return self.resize(image, SizeDict(height=height, width=width), resample=resample)

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

    def _native_patches(
        self,
        images: list[torch.Tensor],
        do_resize: bool,
        size: SizeDict,
        resample,
        do_rescale: bool,
        rescale_factor: float,
        do_normalize: bool,
        image_mean: float | list[float] | None,
        image_std: float | list[float] | None,
        patch_size: int,
        temporal_patch_size: int,
        merge_size: int,
        disable_grouping: bool | None = None,
        **kwargs,
    ) -> tuple[list[torch.Tensor], list[list[int]]]:
        """Each image's flattened patches and patch grid; images of one shape are resized, rescaled, normalized and
        cut as one batch."""
        grouped, grouped_index = group_images_by_shape(images, disable_grouping=disable_grouping)
        patches, grids = {}, {}
        for shape, stacked in grouped.items():
            if do_resize:
                stacked = self._smart_resized(stacked, size, resample, patch_size * merge_size)
            stacked = self.rescale_and_normalize(
                stacked, do_rescale, rescale_factor, do_normalize, image_mean, image_std
            )
            patches[shape] = self._flatten_patches(stacked, patch_size, merge_size, temporal_patch_size)
            grids[shape] = [[1, stacked.shape[-2] // patch_size, stacked.shape[-1] // patch_size]] * len(stacked)
        return reorder_images(patches, grouped_index), reorder_images(grids, grouped_index)

    @staticmethod
    def _flatten_patches(
        images: torch.Tensor, patch_size: int, merge_size: int, temporal_patch_size: int
    ) -> torch.Tensor:
        """(images, channels, height, width) -> (images, rows * columns, channels * temporal_patch_size *
        patch_size**2) in float32: the `merge_size` x `merge_size` blocks row by row, each block's patches row by row,
        every patch channel-major and repeated `temporal_patch_size` times."""
        images = images.to(torch.float32)
        batch, channels, height, width = images.shape
        rows, columns = height // patch_size, width // patch_size
        blocks = images.reshape(
            batch, channels, rows // merge_size, merge_size, patch_size, columns // merge_size, merge_size, patch_size
        )
        blocks = blocks.permute(0, 2, 5, 3, 6, 1, 4, 7).unsqueeze(6)
        blocks = blocks.expand(-1, -1, -1, -1, -1, -1, temporal_patch_size, -1, -1)
        return blocks.reshape(batch, rows * columns, channels * temporal_patch_size * patch_size * patch_size)

    @staticmethod
    def _join_patches(patches: list[torch.Tensor], grids: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.cat(patches, dim=0), torch.tensor(grids, dtype=torch.long)


Qwen2VlLikeImageProcessor.register_for_auto_class()


__all__ = ["Qwen2VlLikeImageProcessorKwargs", "Qwen2VlLikeImageProcessor"]
