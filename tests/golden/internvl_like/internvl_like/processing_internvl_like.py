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


@auto_docstring
class InternvlLikeProcessor(ProcessorMixin):
    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        patch_size: int = 14,
        vision_feature_select_strategy: str = "default",
        num_additional_image_tokens: int = 1,
        merge_factor: int = 2,
        image_token: str = "<IMG_CONTEXT>",
        image_start_token: str = "<img>",
        image_end_token: str = "</img>",
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
        merge_factor (`int`, *optional*, defaults to 2):
            Side of the block of patch features the projector merges into one (`pixel_shuffle`).
        image_token (`str`, *optional*, defaults to `'<IMG_CONTEXT>'`):
            Placeholder of one image in prompts; the tokenizer must know it as a single token.
        image_start_token (`str`, *optional*, defaults to `'<img>'`):
            Text token before each image's image tokens; the tokenizer must know it as a single token.
        image_end_token (`str`, *optional*, defaults to `'</img>'`):
            Text token after them.
        """
        self.patch_size = patch_size
        self.vision_feature_select_strategy = vision_feature_select_strategy
        self.num_additional_image_tokens = num_additional_image_tokens
        self.merge_factor = merge_factor
        self.image_token = getattr(tokenizer, "image_token", None) or image_token
        self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
        self.image_start_token = image_start_token
        self.image_end_token = image_end_token
        self.image_start_token_id = tokenizer.convert_tokens_to_ids(image_start_token)
        self.image_end_token_id = tokenizer.convert_tokens_to_ids(image_end_token)
        super().__init__(image_processor, tokenizer, chat_template=chat_template)

    @property
    def image_token_ids(self) -> list[int]:
        """The tokens of an image's placeholder (`mm_token_type_ids` marks them): the image token and its delimiters."""
        return [self.image_token_id, self.image_start_token_id, self.image_end_token_id]

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

    def replace_image_token(self, image_inputs: dict, image_idx: int, **kwargs) -> str:
        views = int(image_inputs["num_patches"][image_idx])
        return (
            self.image_start_token + self.image_token * (views * self.tokens_per_tile(**kwargs)) + self.image_end_token
        )

    def _get_num_multimodal_tokens(self, image_sizes=None, **kwargs) -> MultiModalData:
        """Placeholder tokens per image for images of the given original (height, width) sizes, without processing
        them: the image's tiles (and thumbnail) times the features of one tile."""
        vision_data = {}
        if image_sizes is not None:
            views = [
                self.image_processor.get_number_of_image_patches(height, width, kwargs)
                for height, width in image_sizes
            ]
            per_tile = self.tokens_per_tile(**kwargs)
            vision_data["num_image_tokens"] = [count * per_tile + 2 for count in views]
            vision_data["num_image_patches"] = views
        return MultiModalData(**vision_data)


InternvlLikeProcessor.register_for_auto_class()


__all__ = ["InternvlLikeProcessor"]
