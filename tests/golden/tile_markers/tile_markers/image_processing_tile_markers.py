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
from transformers.image_transforms import divide_to_patches
from transformers.image_utils import IMAGENET_STANDARD_MEAN, IMAGENET_STANDARD_STD, PILImageResampling, SizeDict
from transformers.processing_utils import ImagesKwargs, Unpack
from transformers.utils import auto_docstring, is_torch_available


if is_torch_available():  # the PIL backend's module imports the Kwargs class from here without torch
    import torch
from .configuration_tile_markers import AUTO_MAP


class TileMarkersImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    min_tiles (`int`, *optional*, defaults to `1`):
        Fewest tiles an image is cut into.
    max_tiles (`int`, *optional*, defaults to `6`):
        Most tiles an image is cut into; 1 resizes the whole image to one tile.
    use_thumbnail (`bool`, *optional*, defaults to `True`):
        Whether a thumbnail of the whole image follows the tiles when there is more than one tile.
    """

    min_tiles: int
    max_tiles: int
    use_thumbnail: bool


def tile_grid(
    height: int, width: int, tile_height: int, tile_width: int, min_tiles: int, max_tiles: int
) -> tuple[int, int]:
    """(columns, rows) of the canvas of tiles whose aspect ratio is closest to the image's.

    Candidates go by tile count, then columns, then rows; a later candidate at exactly the same distance wins
    while the image's area is more than half of that canvas's area.
    """
    candidates = sorted(
        (
            (columns, rows)
            for columns in range(1, max_tiles + 1)
            for rows in range(1, max_tiles + 1)
            if min_tiles <= columns * rows <= max_tiles
        ),
        key=lambda grid: grid[0] * grid[1],
    )
    image_ratio = width / height
    area = width * height
    best, best_distance = (1, 1), float("inf")
    for columns, rows in candidates:
        distance = abs(image_ratio - columns / rows)
        if distance < best_distance:
            best, best_distance = (columns, rows), distance
        elif distance == best_distance and area > 0.5 * tile_height * tile_width * columns * rows:
            best = (columns, rows)
    return best


def tiles_num_views(
    height: int, width: int, tile_height: int, tile_width: int, min_tiles: int, max_tiles: int, use_thumbnail: bool
) -> int:
    """Tower inputs of one image: its tiles, plus the thumbnail when there is more than one tile."""
    if max_tiles <= 1:
        return 1
    columns, rows = tile_grid(height, width, tile_height, tile_width, min_tiles, max_tiles)
    tiles = columns * rows
    return tiles + 1 if use_thumbnail and tiles > 1 else tiles


@auto_docstring
class TileMarkersImageProcessor(TorchvisionBackend):
    valid_kwargs = TileMarkersImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = IMAGENET_STANDARD_MEAN
    image_std = IMAGENET_STANDARD_STD
    size = {"height": 112, "width": 112}
    do_resize = True
    do_center_crop = False
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = False
    model_input_names = ["pixel_values", "num_patches"]
    min_tiles = 1
    max_tiles = 6
    use_thumbnail = True

    def __init__(self, **kwargs: Unpack[TileMarkersImageProcessorKwargs]):
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
        min_tiles: int,
        max_tiles: int,
        use_thumbnail: bool,
        do_resize: bool,
        size: SizeDict,
        resample,
        return_tensors=None,
        **kwargs,
    ) -> BatchFeature:
        """Each image becomes its tiles (row by row) and, with more than one tile, a thumbnail last; with max_tiles 1
        the image is only resized. The views then get the backend's ordinary rescale / normalize. `pixel_values` holds
        every view of every image in order, `num_patches` the views of each image."""
        views, num_patches = [], []
        for image in images:
            if max_tiles > 1:
                image_views = self._image_tiles(image, size, min_tiles, max_tiles, use_thumbnail, resample)
            else:
                image_views = [self.resize(image, size, resample=resample) if do_resize else image]
            views += image_views
            num_patches.append(len(image_views))
        pixel_values = super()._preprocess(
            views, do_resize=False, size=size, resample=resample, return_tensors=None, **kwargs
        )["pixel_values"]
        return BatchFeature(
            data={"pixel_values": pixel_values, "num_patches": num_patches}, tensor_type=return_tensors
        )

    def _image_tiles(
        self, image: torch.Tensor, size: SizeDict, min_tiles: int, max_tiles: int, use_thumbnail: bool, resample
    ) -> list[torch.Tensor]:
        """Resize the image to its best canvas of (columns x rows) tiles of `size`, cut the tiles, add the thumbnail."""
        height, width = image.shape[-2:]
        columns, rows = tile_grid(height, width, size.height, size.width, min_tiles, max_tiles)
        canvas = self.resize(image, SizeDict(height=rows * size.height, width=columns * size.width), resample=resample)
        tiles = divide_to_patches(canvas, patch_size=(size.height, size.width))
        if use_thumbnail and len(tiles) > 1:
            tiles.append(self.resize(image, size, resample=resample))
        return tiles

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs: dict | None = None) -> int:
        """Views (tiles and thumbnail) an image of this original size becomes, without processing it."""
        images_kwargs = images_kwargs or {}
        size = images_kwargs.get("size") or self.size
        return tiles_num_views(
            height,
            width,
            size["height"],
            size["width"],
            images_kwargs.get("min_tiles", self.min_tiles),
            images_kwargs.get("max_tiles", self.max_tiles),
            images_kwargs.get("use_thumbnail", self.use_thumbnail),
        )


TileMarkersImageProcessor.register_for_auto_class()


__all__ = ["TileMarkersImageProcessorKwargs", "TileMarkersImageProcessor"]
