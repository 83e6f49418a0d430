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

from transformers.image_processing_backends import PilBackend
from transformers.image_utils import IMAGENET_DEFAULT_STD, PILImageResampling
from transformers.processing_utils import ImagesKwargs, Unpack
from transformers.utils import auto_docstring


# Adapted from tiled_vlm.image_processing_tiled_vlm.TiledVlmImageProcessorKwargs
class TiledVlmImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    max_tiles (`int`, *optional*, defaults to `6`):
        Maximum number of tiles per image.
    tile_overlap (`float`, *optional*, defaults to `0.25`):
        Fraction of a tile shared with its neighbour.
    use_thumbnail (`bool`, *optional*, defaults to `True`):
        Whether to add a downscaled thumbnail of the whole image.
    tile_grid (`list[int]`, *optional*, defaults to `[2, 3]`):
        Rows and columns of the tiling grid.
    """

    max_tiles: int
    tile_overlap: float
    use_thumbnail: bool
    tile_grid: list[int]


@auto_docstring
class TiledVlmImageProcessorPil(PilBackend):
    valid_kwargs = TiledVlmImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = [0.485, 0.456, 0.406]
    image_std = IMAGENET_DEFAULT_STD
    size = {"shortest_edge": 224, "longest_edge": 448}
    default_to_square = False
    do_resize = True
    do_center_crop = False
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = True
    pad_size = {"height": 448, "width": 448}
    max_tiles = 6
    tile_overlap = 0.25
    use_thumbnail = True
    tile_grid = [2, 3]

    def __init__(self, **kwargs: Unpack[TiledVlmImageProcessorKwargs]):
        super().__init__(**kwargs)


__all__ = ["TiledVlmImageProcessorPil"]
