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
from transformers.image_processing_utils import BatchFeature, get_patch_output_size, select_best_resolution
from transformers.image_transforms import divide_to_patches
from transformers.image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, ChannelDimension, PILImageResampling, SizeDict
from transformers.processing_utils import Unpack
from transformers.utils import auto_docstring

from .configuration_llava_next_grid import AUTO_MAP
from .image_processing_llava_next_grid import LlavaNextGridImageProcessorKwargs, grid_num_views


@auto_docstring
class LlavaNextGridImageProcessorPil(PilBackend):
    valid_kwargs = LlavaNextGridImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 112}
    default_to_square = False
    crop_size = {"height": 112, "width": 112}
    do_resize = True
    do_center_crop = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = True
    model_input_names = ["pixel_values", "image_sizes"]
    image_grid_pinpoints = [[112, 224], [224, 112], [224, 224], [336, 112], [112, 336]]

    def __init__(self, **kwargs: Unpack[LlavaNextGridImageProcessorKwargs]):
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
        image_grid_pinpoints: list[list[int]],
        size: SizeDict,
        crop_size: SizeDict | None,
        resample,
        do_pad: bool | None,
        return_tensors=None,
        **kwargs,
    ) -> BatchFeature:
        """Each image becomes a base view of the whole image followed by the tiles of its best grid canvas; every view
        then gets the backend's ordinary resize / center crop / rescale / normalize. `do_pad` pads the views axis to
        the batch's most views so that `pixel_values` stacks to (images, views, channels, height, width)."""
        tile_size = self._tile_size(size, crop_size)
        if size.height and size.width:
            base_size = SizeDict(height=size.height, width=size.width)
        else:
            base_size = SizeDict(height=size.shortest_edge, width=size.shortest_edge)
        views, num_views, image_sizes = [], [], []
        for image in images:
            height, width = image.shape[-2:]
            image_views = [self.resize(image, base_size, resample=resample)]
            image_views += self._grid_tiles(image, image_grid_pinpoints, tile_size, resample)
            views += image_views
            num_views.append(len(image_views))
            image_sizes.append([int(height), int(width)])
        # One call for every view of every image, so that views of the same shape are processed as a batch.
        views = super()._preprocess(
            views, size=size, crop_size=crop_size, resample=resample, do_pad=False, return_tensors=None, **kwargs
        )["pixel_values"]
        pixel_values, start = [], 0
        for count in num_views:
            pixel_values.append(self._stack_views(views[start : start + count]))
            start += count
        if do_pad:
            pixel_values = self._pad_views(pixel_values)
        return BatchFeature(
            data={"pixel_values": pixel_values, "image_sizes": image_sizes}, tensor_type=return_tensors
        )

    @staticmethod
    def _tile_size(size: SizeDict, crop_size: SizeDict | None) -> int:
        """Side of a tile: the crop size when there is one, else the resize size (the tower's input either way)."""
        if crop_size is not None and crop_size.height:
            return crop_size.height
        return size.height or size.shortest_edge

    def _grid_tiles(
        self, image: np.ndarray, grid_pinpoints: list[list[int]], tile_size: int, resample
    ) -> list[np.ndarray]:
        """Fit the image into its best canvas keeping its aspect ratio, letterbox it with zeros (centred), cut tiles."""
        canvas_height, canvas_width = select_best_resolution(tuple(image.shape[-2:]), grid_pinpoints)
        fitted_height, fitted_width = get_patch_output_size(
            image, (canvas_height, canvas_width), input_data_format=ChannelDimension.FIRST
        )
        fitted = self.resize(image, SizeDict(height=fitted_height, width=fitted_width), resample=resample)
        canvas = self._pad_centered(fitted, canvas_height, canvas_width)
        return divide_to_patches(canvas, patch_size=tile_size)

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs: dict | None = None) -> int:
        """Views (base view and tiles) an image of this original size becomes, without processing it."""
        images_kwargs = images_kwargs or {}
        size = images_kwargs.get("size") or self.size
        crop_size = images_kwargs.get("crop_size") or self.crop_size
        if crop_size is not None and crop_size.get("height"):
            tile_size = crop_size["height"]
        else:
            tile_size = size.get("height") or size["shortest_edge"]
        grid_pinpoints = images_kwargs.get("image_grid_pinpoints") or self.image_grid_pinpoints
        return grid_num_views(height, width, grid_pinpoints, tile_size)

    @staticmethod
    def _pad_centered(image: np.ndarray, height: int, width: int) -> np.ndarray:
        """Zero-pad a (channels, h, w) image to (height, width), centred (the odd pixel goes right / bottom)."""
        left, top = (width - image.shape[-1]) // 2, (height - image.shape[-2]) // 2
        right, bottom = width - image.shape[-1] - left, height - image.shape[-2] - top
        return np.pad(image, ((0, 0), (top, bottom), (left, right)), mode="constant", constant_values=0)

    @staticmethod
    def _stack_views(views: list[np.ndarray]) -> np.ndarray:
        return np.stack(views, axis=0)

    @staticmethod
    def _pad_views(pixel_values: list[np.ndarray]) -> list[np.ndarray]:
        """Zero-pad the views axis of each image to the most views in the batch."""
        most = max(len(views) for views in pixel_values)
        return [np.pad(views, ((0, most - len(views)), (0, 0), (0, 0), (0, 0))) for views in pixel_values]


LlavaNextGridImageProcessorPil.register_for_auto_class()


__all__ = ["LlavaNextGridImageProcessorPil"]
