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

from transformers.image_utils import get_image_size, is_pil_image, make_flat_list_of_images, to_numpy_array
from transformers.processing_utils import MultiModalData, ProcessorMixin
from transformers.utils import auto_docstring

from .image_processing_tile_markers import tile_grid


def tokens_per_view(
    height: int,
    width: int,
    patch_size: int,
    num_additional_image_tokens: int,
    select_strategy: str,
    merge_factor: int = 1,
) -> int:
    """Features of one tower input of (height, width) pixels: one per patch, plus the tokens the tower adds (a CLS
    token), less the first token when the "default" strategy drops it; a connector that merges each
    `merge_factor` x `merge_factor` block of patches (no CLS token left) divides the patches by its square."""
    rows, columns = height // patch_size // merge_factor, width // patch_size // merge_factor
    count = rows * columns + num_additional_image_tokens
    return count - 1 if select_strategy == "default" else count


def tile_marker_tokens(rows: int, columns: int) -> int:
    """Text tokens Idefics3-style tile markers add to an image cut into rows x columns tiles: the around token and a
    `<row_r_col_c>` token before each tile, a newline after each row of tiles and one more, then the around token, the
    global-image token before the thumbnail's features and the around token after them (newlines count one token
    each, as Idefics3's processor counts them). An image of one tile is its global image alone: three tokens."""
    if rows * columns <= 1:
        return 3
    return 2 * rows * columns + rows + 1 + 3


@auto_docstring
class TileMarkersProcessor(ProcessorMixin):
    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        patch_size: int = 14,
        vision_feature_select_strategy: str = "full",
        num_additional_image_tokens: int = 0,
        merge_factor: int = 2,
        image_token: str = "<image>",
        tile_marker_token: str = "<fake_token_around_image>",
        global_image_token: str = "<global-img>",
        chat_template: str | None = None,
        **kwargs,
    ):
        r"""
        patch_size (`int`, *optional*, defaults to 14):
            Patch size of the vision tower.
        vision_feature_select_strategy (`str`, *optional*, defaults to `'full'`):
            As in the model config: `"default"` drops the CLS token, `"full"` keeps every token.
        num_additional_image_tokens (`int`, *optional*, defaults to 0):
            Tokens the vision tower adds besides the patches (1 for a CLS token, 0 without).
        merge_factor (`int`, *optional*, defaults to 2):
            Side of the block of patch features the projector merges into one (`pixel_shuffle`).
        image_token (`str`, *optional*, defaults to `'<image>'`):
            Placeholder of one image in prompts; the tokenizer must know it as a single token.
        tile_marker_token (`str`, *optional*, defaults to `'<fake_token_around_image>'`):
            Text token before each tile's `<row_r_col_c>` marker, and before and after the global image.
        global_image_token (`str`, *optional*, defaults to `'<global-img>'`):
            Text token before the thumbnail's image tokens.
        """
        self.patch_size = patch_size
        self.vision_feature_select_strategy = vision_feature_select_strategy
        self.num_additional_image_tokens = num_additional_image_tokens
        self.merge_factor = merge_factor
        self.image_token = getattr(tokenizer, "image_token", None) or image_token
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.tile_marker_token = tile_marker_token
        self.global_image_token = global_image_token
        max_tiles = getattr(image_processor, "max_tiles", None) or 6
        row_column_markers = [
            f"<row_{row}_col_{column}>" for row in range(1, max_tiles + 1) for column in range(1, max_tiles // row + 1)
        ]
        marker_ids = tokenizer.convert_tokens_to_ids([tile_marker_token, global_image_token, *row_column_markers])
        # The newline after each row of tiles is part of an image's text when the tokenizer makes it one token.
        newline = tokenizer.encode("\n", add_special_tokens=False)
        self.tile_marker_token_ids = marker_ids + (newline if len(newline) == 1 else [])
        super().__init__(image_processor, tokenizer, chat_template=chat_template)

    @property
    def image_token_ids(self) -> list[int]:
        """The tokens of an image's text (`mm_token_type_ids` marks them): the image token and the tile markers,
        newlines included when the tokenizer makes a newline one token (a newline elsewhere in a prompt is then
        marked too)."""
        return [self.image_token_id, *self.tile_marker_token_ids]

    def tokens_per_tile(self, **images_kwargs) -> int:
        """Features of one tile (every tile and the thumbnail are one tower input of `size`)."""
        size = images_kwargs.get("size") or self.image_processor.size
        return tokens_per_view(
            size["height"],
            size["width"],
            self.patch_size,
            self.num_additional_image_tokens,
            self.vision_feature_select_strategy,
            self.merge_factor,
        )

    def tile_rows_and_columns(self, height: int, width: int, **images_kwargs) -> tuple[int, int]:
        """(rows, columns) of the tiles the image processor cuts an image of this original size into."""
        image_processor = self.image_processor
        size = images_kwargs.get("size") or image_processor.size
        max_tiles = images_kwargs.get("max_tiles", image_processor.max_tiles)
        if max_tiles <= 1:
            return 1, 1
        min_tiles = images_kwargs.get("min_tiles", image_processor.min_tiles)
        columns, rows = tile_grid(height, width, size["height"], size["width"], min_tiles, max_tiles)
        return rows, columns

    def tile_marker_text(self, rows: int, columns: int, tokens_per_tile: int) -> str:
        """One image's text (Idefics3's): each tile's image tokens after the marker token and `<row_r_col_c>`, a
        newline after each row of tiles, then the thumbnail's image tokens between the marker and global-image
        tokens and the marker token. An image of one tile is its global image alone."""
        image = self.image_token * tokens_per_tile
        global_image = f"{self.tile_marker_token}{self.global_image_token}{image}{self.tile_marker_token}"
        if rows * columns <= 1:
            return global_image
        text = ""
        for row in range(1, rows + 1):
            for column in range(1, columns + 1):
                text += f"{self.tile_marker_token}<row_{row}_col_{column}>{image}"
            text += "\n"
        return f"{text}\n{global_image}"

    def _process_images(self, images, **kwargs):
        """The images' views, and each image's text: its tile grid comes from its original size."""
        if not kwargs.get("use_thumbnail", self.image_processor.use_thumbnail):
            raise ValueError("Tile markers end with the global image: the image processor must add the thumbnail")
        processed = self.image_processor(images, **kwargs)
        per_tile = self.tokens_per_tile(**kwargs)
        replacements = []
        for image in make_flat_list_of_images(images):
            # A PIL image says its size; an array's channel axis is inferred, as the image processor infers it.
            width, height = image.size if is_pil_image(image) else get_image_size(to_numpy_array(image))[::-1]
            replacements.append(self.tile_marker_text(*self.tile_rows_and_columns(height, width, **kwargs), per_tile))
        return processed, replacements

    def _get_num_multimodal_tokens(self, image_sizes=None, **kwargs) -> MultiModalData:
        """Placeholder tokens per image for images of the given original (height, width) sizes, without processing
        them: the image's tiles and thumbnail times the features of one tile, plus its markers."""
        vision_data = {}
        if image_sizes is not None:
            views = [
                self.image_processor.get_number_of_image_patches(height, width, kwargs)
                for height, width in image_sizes
            ]
            grids = [self.tile_rows_and_columns(height, width, **kwargs) for height, width in image_sizes]
            per_tile = self.tokens_per_tile(**kwargs)
            vision_data["num_image_tokens"] = [
                count * per_tile + tile_marker_tokens(*grid) for count, grid in zip(views, grids)
            ]
            vision_data["num_image_patches"] = views
        return MultiModalData(**vision_data)


TileMarkersProcessor.register_for_auto_class()


__all__ = ["TileMarkersProcessor"]
