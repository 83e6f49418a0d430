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


def native_num_tokens(num_patches: int, merge_size: int) -> int:
    """Image tokens of an image of `num_patches` patches (temporal x rows x columns of its patch grid): each
    `merge_size` x `merge_size` block of patches becomes one token."""
    return num_patches // merge_size**2


@auto_docstring
class NativeQwen3Processor(ProcessorMixin):
    def __init__(
        self,
        image_processor=None,
        tokenizer=None,
        image_token: str = "<|image_pad|>",
        image_start_token: str = "<|vision_start|>",
        image_end_token: str = "<|vision_end|>",
        chat_template: str | None = None,
        **kwargs,
    ):
        r"""
        image_token (`str`, *optional*, defaults to `'<|image_pad|>'`):
            Placeholder of one image in prompts, repeated once per `merge_size` x `merge_size` block of the image's
            patches; the tokenizer must know it as a single token.
        image_start_token (`str`, *optional*, defaults to `'<|vision_start|>'`):
            Text token before each image's image tokens; the tokenizer must know it as a single token.
        image_end_token (`str`, *optional*, defaults to `'<|vision_end|>'`):
            Text token after them.
        """
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

    def replace_image_token(self, image_inputs: dict, image_idx: int, **kwargs) -> str:
        num_patches = int(image_inputs["image_grid_thw"][image_idx].prod())
        merge_size = kwargs.get("merge_size") or self.image_processor.merge_size
        return (
            self.image_start_token
            + self.image_token * native_num_tokens(num_patches, merge_size)
            + self.image_end_token
        )

    def _get_num_multimodal_tokens(self, image_sizes=None, **kwargs) -> MultiModalData:
        """Placeholder tokens per image for images of the given original (height, width) sizes, without processing
        them: the patches of the image's `smart_resize` size over `merge_size`**2, and the two delimiters."""
        vision_data = {}
        if image_sizes is not None:
            merge_size = kwargs.get("merge_size") or self.image_processor.merge_size
            patches = [
                self.image_processor.get_number_of_image_patches(height, width, kwargs)
                for height, width in image_sizes
            ]
            vision_data["num_image_tokens"] = [native_num_tokens(count, merge_size) + 2 for count in patches]
            vision_data["num_image_patches"] = patches
        return MultiModalData(**vision_data)


NativeQwen3Processor.register_for_auto_class()


__all__ = ["NativeQwen3Processor"]
