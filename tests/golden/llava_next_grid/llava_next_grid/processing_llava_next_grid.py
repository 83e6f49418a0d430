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

from transformers.processing_utils import MultiModalData, ProcessorMixin
from transformers.utils import auto_docstring

from .image_processing_llava_next_grid import grid_shape


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


def unpadded_shape(height: int, width: int, grid_height: int, grid_width: int) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) bounds of the part of a (grid_height, grid_width) feature grid the image covers.

    The image touches the canvas along one side; the covered length of the other side is rounded to 7 decimals
    before `int()` and the padding around it is split evenly.
    """
    if width / height > grid_width / grid_height:
        covered = int(round(height * (grid_width / width), 7))
        pad = (grid_height - covered) // 2
        return pad, grid_height - pad, 0, grid_width
    covered = int(round(width * (grid_height / height), 7))
    pad = (grid_width - covered) // 2
    return 0, grid_height, pad, grid_width - pad


def grid_num_image_tokens(
    height: int,
    width: int,
    grid_pinpoints: list[list[int]],
    tile_size: int,
    patch_size: int,
    num_additional_image_tokens: int,
    select_strategy: str,
) -> int:
    """Image tokens of an image of (height, width): the base view, the unpadded tile features, a newline per row."""
    rows, columns = grid_shape(height, width, grid_pinpoints, tile_size)
    side = tile_size // patch_size
    top, bottom, left, right = unpadded_shape(height, width, rows * side, columns * side)
    feature_rows, feature_columns = bottom - top, right - left
    base = tokens_per_view(tile_size, tile_size, patch_size, num_additional_image_tokens, select_strategy)
    return base + feature_rows * feature_columns + feature_rows


@auto_docstring
class LlavaNextGridProcessor(ProcessorMixin):
    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        patch_size: int = 14,
        vision_feature_select_strategy: str = "default",
        num_additional_image_tokens: int = 1,
        image_token: str = "<image>",
        chat_template: str | None = None,
        **kwargs,
    ):
        r"""
        patch_size (`int`, *optional*, defaults to 14):
            Patch size of the vision tower.
        vision_feature_select_strategy (`str`, *optional*, defaults to `'default'`):
            As in the model config: `"default"` drops the CLS token, `"full"` keeps every token.
        num_additional_image_tokens (`int`, *optional*, defaults to 1):
            Tokens the vision tower adds besides the patches (1 for a CLS token, 0 without).
        image_token (`str`, *optional*, defaults to `'<image>'`):
            Placeholder of one image in prompts; the tokenizer must know it as a single token.
        """
        self.patch_size = patch_size
        self.vision_feature_select_strategy = vision_feature_select_strategy
        self.num_additional_image_tokens = num_additional_image_tokens
        self.image_token = getattr(tokenizer, "image_token", None) or image_token
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        super().__init__(image_processor, tokenizer, chat_template=chat_template)

    def _tile_size(self, images_kwargs: dict) -> int:
        """The tower's input side the image processor produces (the crop size when there is one)."""
        crop_size = images_kwargs.get("crop_size") or self.image_processor.crop_size
        if crop_size is not None and crop_size.get("height"):
            return crop_size["height"]
        size = images_kwargs.get("size") or self.image_processor.size
        return size.get("height") or size["shortest_edge"]

    def num_image_tokens(self, height: int, width: int, **images_kwargs) -> int:
        """Image tokens of an image of the original (height, width): the base view's features, the tiles' feature grid
        without its letterbox padding, and one newline per feature row."""
        return grid_num_image_tokens(
            height,
            width,
            images_kwargs.get("image_grid_pinpoints") or self.image_processor.image_grid_pinpoints,
            self._tile_size(images_kwargs),
            self.patch_size,
            self.num_additional_image_tokens,
            self.vision_feature_select_strategy,
        )

    def replace_image_token(self, image_inputs: dict, image_idx: int, **kwargs) -> str:
        height, width = (int(value) for value in image_inputs["image_sizes"][image_idx])
        return self.image_token * self.num_image_tokens(height, width, **kwargs)

    def _get_num_multimodal_tokens(self, image_sizes=None, **kwargs) -> MultiModalData:
        """Placeholder tokens per image for images of the given original (height, width) sizes, without processing
        them. Each image's views are stacked as one (padded) item."""
        vision_data = {}
        if image_sizes is not None:
            vision_data["num_image_tokens"] = [
                self.num_image_tokens(height, width, **kwargs) for height, width in image_sizes
            ]
            vision_data["num_image_patches"] = [1] * len(image_sizes)
        return MultiModalData(**vision_data)


LlavaNextGridProcessor.register_for_auto_class()


__all__ = ["LlavaNextGridProcessor"]
