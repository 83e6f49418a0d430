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
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling, SizeDict
from transformers.processing_utils import Unpack
from transformers.utils import auto_docstring

from .configuration_native_qwen3 import AUTO_MAP
from .image_processing_native_qwen3 import NativeQwen3ImageProcessorKwargs, native_patch_grid, smart_resize


@auto_docstring
class NativeQwen3ImageProcessorPil(PilBackend):
    valid_kwargs = NativeQwen3ImageProcessorKwargs

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

    def __init__(self, **kwargs: Unpack[NativeQwen3ImageProcessorKwargs]):
        super().__init__(**kwargs)

    def to_dict(self):
        output = super().to_dict()
        # Remote code: transformers names this class alone; name both backends (`backend=` picks one).
        if "AutoImageProcessor" in (output.get("auto_map") or {}):
            output["auto_map"] = {**output["auto_map"], "AutoImageProcessor": AUTO_MAP["AutoImageProcessor"]}
        return output

    def _preprocess(
        self,
        images: list[np.ndarray],
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

    def _smart_resized(self, image: np.ndarray, size: SizeDict, resample, factor: int) -> np.ndarray:
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
        images: list[np.ndarray],
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
        **kwargs,
    ) -> tuple[list[np.ndarray], list[list[int]]]:
        """Each image's flattened patches and patch grid, one image at a time from resize to patches (its
        intermediate arrays are freed before the next image's)."""
        patches, grids = [], []
        for image in images:
            if do_resize:
                image = self._smart_resized(image, size, resample, patch_size * merge_size)
            if do_rescale:
                image = self.rescale(image, rescale_factor)
            if do_normalize:
                image = self.normalize(image, image_mean, image_std)
            patches.append(self._flatten_patches(image, patch_size, merge_size, temporal_patch_size))
            grids.append([1, image.shape[-2] // patch_size, image.shape[-1] // patch_size])
        return patches, grids

    @staticmethod
    def _flatten_patches(image: np.ndarray, patch_size: int, merge_size: int, temporal_patch_size: int) -> np.ndarray:
        """(channels, height, width) -> (rows * columns, channels * temporal_patch_size * patch_size**2) in float32:
        the `merge_size` x `merge_size` blocks row by row, each block's patches row by row, every patch
        channel-major and repeated `temporal_patch_size` times."""
        image = np.asarray(image, dtype=np.float32)
        channels, height, width = image.shape
        rows, columns = height // patch_size, width // patch_size
        blocks = image.reshape(
            channels, rows // merge_size, merge_size, patch_size, columns // merge_size, merge_size, patch_size
        )
        blocks = blocks.transpose(1, 4, 2, 5, 0, 3, 6)[:, :, :, :, :, None]
        blocks = np.broadcast_to(blocks, (*blocks.shape[:5], temporal_patch_size, *blocks.shape[6:]))
        return blocks.reshape(rows * columns, channels * temporal_patch_size * patch_size * patch_size)

    @staticmethod
    def _join_patches(patches: list[np.ndarray], grids: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
        return np.concatenate(patches, axis=0), np.array(grids, dtype=np.int64)


NativeQwen3ImageProcessorPil.register_for_auto_class()


__all__ = ["NativeQwen3ImageProcessorPil"]
