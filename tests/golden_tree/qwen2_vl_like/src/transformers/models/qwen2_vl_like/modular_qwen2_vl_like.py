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
from dataclasses import dataclass

import numpy as np
import torch
from huggingface_hub.dataclasses import strict
from torch import nn

from ...cache_utils import Cache
from ...configuration_utils import PreTrainedConfig, SubConfigSpec
from ...generation import GenerationMixin
from ...image_processing_backends import PilBackend, TorchvisionBackend
from ...image_processing_utils import BatchFeature
from ...image_transforms import group_images_by_shape, reorder_images
from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling, SizeDict
from ...modeling_outputs import BaseModelOutputWithPast, BaseModelOutputWithPooling, ModelOutput
from ...modeling_utils import PreTrainedModel
from ...processing_utils import ImagesKwargs, MultiModalData, ProcessorMixin, Unpack
from ...utils import TransformersKwargs, auto_docstring
from ...utils.generic import can_return_tuple
from ..auto import AutoConfig, AutoModel
from ..qwen2_vl import modeling_qwen2_vl


@auto_docstring(checkpoint="your-org/qwen2_vl_like")
@strict
class Qwen2VlLikeConfig(PreTrainedConfig):
    r"""
    image_token_index (`int`, *optional*, defaults to `155`):
        Token id of the image token: the processor repeats it once per image feature (one per `merge_size` x
        `merge_size` block of patches), and the model puts the vision tower's merged features there.

    Example:

    ```python
    >>> from transformers import Qwen2VlLikeConfig, Qwen2VlLikeForConditionalGeneration

    >>> # Initializing a configuration with the defaults the model was generated with
    >>> configuration = Qwen2VlLikeConfig()

    >>> # Initializing a model (with random weights) from that configuration
    >>> model = Qwen2VlLikeForConditionalGeneration(configuration)

    >>> # Accessing the model configuration
    >>> configuration = model.config
    ```"""

    model_type = "qwen2_vl_like"
    attribute_map = {"image_token_id": "image_token_index"}
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="qwen2_vl_vision",
            init_kwargs={
                "embed_dim": 32,
                "mlp_ratio": 2,
                "depth": 2,
                "num_heads": 2,
                "in_channels": 3,
                "patch_size": 14,
                "spatial_merge_size": 2,
                "temporal_patch_size": 2,
                "hidden_size": 64,
            },
        ),
        "text_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="qwen2_vl_text",
            init_kwargs={
                "vocab_size": 160,
                "hidden_size": 64,
                "intermediate_size": 128,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "max_position_embeddings": 1024,
                "bos_token_id": None,
                "eos_token_id": 1,
                "pad_token_id": 0,
                "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "mrope_section": [2, 3, 3]},
            },
        ),
    }

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    image_token_index: int = 155
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)


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


def native_num_tokens(num_patches: int, merge_size: int) -> int:
    """Image tokens of an image of `num_patches` patches (temporal x rows x columns of its patch grid): each
    `merge_size` x `merge_size` block of patches becomes one token."""
    return num_patches // merge_size**2


def mrope_positions(
    token_types: list[int], grids: list[tuple[int, int, int]], merge_size: int
) -> tuple[list[list[int]], int]:
    """M-RoPE positions (temporal, height, width) of one sequence without its padding, and its rope delta.

    `token_types` marks each token: 0 text, 1 image token; `grids` holds the (t, h, w) patch grid of each image in
    the order they appear. A text token advances all three positions by one. An image's tokens, one per
    `merge_size` x `merge_size` block of patches in raster order, all start at the position after the text before
    it: the temporal position counts frames (an image has one), the height position counts rows of blocks and the width position columns;
    the text after it continues at that start plus the longer side of the block grid (Qwen2-VL's rule). Images that
    follow each other without text between them are taken one grid at a time. The delta is what a position of the
    sequence exceeds its index by at the end (the highest position + 1 - the length): a token generated after the
    sequence sits at its index plus the delta in all three rows.
    """
    rows: list[list[int]] = [[], [], []]
    grid_iter = iter(grids)
    start = index = 0
    while index < len(token_types):
        if token_types[index] == 0:
            for row in rows:
                row.append(start)
            start += 1
            index += 1
            continue
        temporal, height, width = next(grid_iter)
        block_rows, block_columns = height // merge_size, width // merge_size
        count = temporal * block_rows * block_columns
        if token_types[index : index + count] != [1] * count:
            raise ValueError(f"an image of grid {(temporal, height, width)} needs {count} consecutive image tokens")
        for frame in range(temporal):
            for block_row in range(block_rows):
                for block_column in range(block_columns):
                    rows[0].append(start + frame)
                    rows[1].append(start + block_row)
                    rows[2].append(start + block_column)
        start += max(block_rows, block_columns)
        index += count
    highest = max(rows[0] + rows[1] + rows[2], default=-1)
    return rows, highest + 1 - len(token_types)


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


@auto_docstring
class Qwen2VlLikeImageProcessorPil(PilBackend):
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


@auto_docstring
class Qwen2VlLikeProcessor(ProcessorMixin):
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


@auto_docstring
class Qwen2VlLikePreTrainedModel(PreTrainedModel):
    config: Qwen2VlLikeConfig
    base_model_prefix = "model"
    input_modalities = ("image", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _can_compile_fullgraph = True
    _supports_attention_backend = True


@dataclass
@auto_docstring(custom_intro="Base class for Qwen2VlLike outputs, with hidden states and attentions.")
class Qwen2VlLikeModelOutputWithPast(BaseModelOutputWithPast):
    r"""
    image_hidden_states (`torch.Tensor`, *optional*):
        Projected image features of shape `(num_image_features, hidden_size)`, the rows that replaced the image tokens.
    """

    image_hidden_states: torch.Tensor | None = None


@dataclass
@auto_docstring(custom_intro="Base class for Qwen2VlLike causal language model (or autoregressive) outputs.")
class Qwen2VlLikeCausalLMOutputWithPast(ModelOutput):
    r"""
    loss (`torch.Tensor` of shape `(1,)`, *optional*, returned when `labels` is provided):
        Next-token prediction loss of the language modeling head.
    logits (`torch.Tensor` of shape `(batch_size, sequence_length, config.text_config.vocab_size)`):
        Scores of the language modeling head for every vocabulary token, before softmax.
    image_hidden_states (`torch.Tensor`, *optional*):
        Projected image features of shape `(num_image_features, hidden_size)`, the rows that replaced the image tokens.
    """

    loss: torch.Tensor | None = None
    logits: torch.Tensor | None = None
    past_key_values: Cache | None = None
    hidden_states: tuple[torch.Tensor] | None = None
    attentions: tuple[torch.Tensor] | None = None
    image_hidden_states: torch.Tensor | None = None


@auto_docstring(
    custom_intro="The Qwen2VlLike model: a vision tower that ends in its patch merger and a language model, without a language modeling head."
)
class Qwen2VlLikeModel(Qwen2VlLikePreTrainedModel):
    def __init__(self, config: Qwen2VlLikeConfig):
        super().__init__(config)
        self.vision_tower = modeling_qwen2_vl.Qwen2VisionTransformerPretrainedModel._from_config(config.vision_config)
        # Each prompt's rope delta (its highest M-RoPE position + 1 - its length), kept for the cached steps.
        self.rope_deltas = None
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    @can_return_tuple
    @auto_docstring(
        custom_intro="Obtains the image features from the vision tower, merged by its patch merger, one tensor per image."
    )
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        image_grid_thw: torch.LongTensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        r"""
        image_grid_thw (`torch.LongTensor` of shape `(num_images, 3)`):
            The (temporal, rows, columns) patch grid of each image in `pixel_values`, as the processor returns them.
        """
        if image_grid_thw is None:
            raise ValueError("The native layout needs `image_grid_thw` (the processor returns it) with `pixel_values`")
        pixel_values = pixel_values.to(self.vision_tower.dtype)
        image_outputs = self.vision_tower(pixel_values, grid_thw=image_grid_thw, return_dict=True, **kwargs)
        # The tower's pooler output is its patch merger's: one row per `merge_size` x `merge_size` block of patches.
        merge_size = self.config.vision_config.spatial_merge_size
        counts = [native_num_tokens(math.prod(grid), merge_size) for grid in image_grid_thw.tolist()]
        if image_outputs.pooler_output.shape[0] != sum(counts):
            raise ValueError(
                f"The vision tower gave {image_outputs.pooler_output.shape[0]} merged features for image_grid_thw "
                f"{image_grid_thw.tolist()}, which needs {sum(counts)}"
            )
        image_outputs.pooler_output = torch.split(image_outputs.pooler_output, counts)
        return image_outputs

    def get_rope_index(
        self,
        input_ids: torch.LongTensor,
        image_grid_thw: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        **kwargs,
    ) -> tuple[torch.LongTensor, torch.LongTensor]:
        """M-RoPE positions `(3, batch_size, sequence_length)` of the prompts and their rope deltas `(batch_size, 1)`,
        as `mrope_positions` counts them: the image tokens (`input_ids == config.image_token_id`) of each prompt,
        without its padding, placed by the patch grids of its images (`image_grid_thw` lists the batch's images in
        order); padding sits at position 0. Other inputs of a forward call are ignored, so that, as with Qwen2-VL,
        `get_rope_index(**inputs)` takes a whole batch of model inputs."""
        merge_size = self.config.vision_config.spatial_merge_size
        grids = [] if image_grid_thw is None else [tuple(grid) for grid in image_grid_thw.tolist()]
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        position_ids = torch.zeros(3, *input_ids.shape, dtype=torch.long, device=input_ids.device)
        deltas = []
        for row, (ids, mask) in enumerate(zip(input_ids.tolist(), attention_mask.tolist())):
            kept = [index for index, keep in enumerate(mask) if keep]
            token_types = [int(ids[index] == self.config.image_token_id) for index in kept]
            images = covered = 0
            while covered < sum(token_types) and images < len(grids):
                covered += native_num_tokens(math.prod(grids[images]), merge_size)
                images += 1
            if covered != sum(token_types):
                raise ValueError(
                    f"Prompt {row} holds {sum(token_types)} image tokens, which do not match the images left in "
                    f"image_grid_thw (one token per {merge_size}x{merge_size} block of an image's patches)"
                )
            positions, delta = mrope_positions(token_types, grids[:images], merge_size)
            grids = grids[images:]
            position_ids[:, row, kept] = torch.tensor(positions, dtype=torch.long, device=input_ids.device)
            deltas.append(delta)
        return position_ids, torch.tensor(deltas, dtype=torch.long, device=input_ids.device).unsqueeze(1)

    def compute_position_ids(
        self,
        input_ids: torch.LongTensor | None,
        inputs_embeds: torch.Tensor,
        image_grid_thw: torch.LongTensor | None,
        attention_mask: torch.Tensor | None,
        past_key_values: Cache | None,
    ) -> torch.LongTensor | None:
        """Position ids of a forward call given none: a prompt with images gets its M-RoPE positions (and its rope
        deltas are kept); a cached step (or embeddings alone) after it continues at the unpadded index plus the delta;
        otherwise the decoder counts positions itself (text only)."""
        past_length = 0 if past_key_values is None else past_key_values.get_seq_length()
        if input_ids is not None and image_grid_thw is not None and (self.rope_deltas is None or past_length == 0):
            position_ids, self.rope_deltas = self.get_rope_index(input_ids, image_grid_thw, attention_mask)
            return position_ids
        if self.rope_deltas is None or (past_length == 0 and input_ids is not None):
            return None
        batch_size, length = inputs_embeds.shape[:2]
        if attention_mask is not None:
            positions = (attention_mask.long().cumsum(-1) - 1).masked_fill(attention_mask == 0, 0)[:, -length:]
        else:
            positions = torch.arange(past_length, past_length + length, device=inputs_embeds.device)
            positions = positions.expand(batch_size, -1)
        deltas = self.rope_deltas.repeat_interleave(batch_size // self.rope_deltas.shape[0], dim=0)
        return (positions + deltas.to(positions.device)).unsqueeze(0).expand(3, -1, -1)

    def get_placeholder_mask(
        self, input_ids: torch.LongTensor | None, inputs_embeds: torch.Tensor, image_features: torch.Tensor
    ) -> torch.Tensor:
        """Positions of the image tokens, checked against the number of image features (one token per feature)."""
        if input_ids is None:
            image_embedding = self.get_input_embeddings()(
                torch.tensor(self.config.image_token_id, dtype=torch.long, device=inputs_embeds.device)
            )
            special_image_mask = (inputs_embeds == image_embedding).all(-1)
        else:
            special_image_mask = input_ids == self.config.image_token_id
        n_image_tokens = int(special_image_mask.sum())
        n_image_features = image_features.shape[0]
        if n_image_tokens != n_image_features:
            raise ValueError(
                f"Image features and image tokens do not match: the inputs hold {n_image_tokens} image tokens "
                f"(id {self.config.image_token_id}) but the images give {n_image_features} features. The number of "
                "tokens of an image depends on its size; let the processor expand one image token per image."
            )
        return special_image_mask.unsqueeze(-1).expand_as(inputs_embeds).to(inputs_embeds.device)

    @can_return_tuple
    @auto_docstring
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        image_grid_thw: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | Qwen2VlLikeModelOutputWithPast:
        if (input_ids is None) ^ (inputs_embeds is not None):
            raise ValueError("You must specify exactly one of input_ids or inputs_embeds")
        if pixel_values is not None and mm_encoder_outputs is not None:
            raise ValueError("You cannot specify both pixel_values and mm_encoder_outputs at the same time")
        if inputs_embeds is None:
            inputs_embeds = self.get_input_embeddings()(input_ids)

        # `generate` encodes the images once (transformers >= 5.21) and hands each copy of a prompt its own images
        # when it expands the batch (beam search, several sequences per prompt).
        image_outputs = (mm_encoder_outputs or {}).get("image")
        if image_outputs is None and pixel_values is not None:
            image_outputs = self.get_image_features(
                pixel_values=pixel_values,
                image_grid_thw=image_grid_thw,
                return_dict=True,
            )
        image_features = None
        if image_outputs is not None:
            image_features = image_outputs.pooler_output
            image_features = torch.cat(image_features, dim=0)
            image_features = image_features.to(inputs_embeds.device, inputs_embeds.dtype)
            special_image_mask = self.get_placeholder_mask(
                input_ids, inputs_embeds=inputs_embeds, image_features=image_features
            )
            inputs_embeds = inputs_embeds.masked_scatter(special_image_mask, image_features)

        if position_ids is None:
            position_ids = self.compute_position_ids(
                input_ids, inputs_embeds, image_grid_thw, attention_mask, past_key_values
            )

        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            **kwargs,
        )
        return Qwen2VlLikeModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=image_features,
        )


@auto_docstring(custom_intro="The Qwen2VlLike model with a language modeling head.")
class Qwen2VlLikeForConditionalGeneration(Qwen2VlLikePreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: Qwen2VlLikeConfig):
        super().__init__(config)
        self.model = Qwen2VlLikeModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @auto_docstring
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        image_grid_thw: torch.LongTensor | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        return self.model.get_image_features(
            pixel_values=pixel_values,
            image_grid_thw=image_grid_thw,
            **kwargs,
        )

    @can_return_tuple
    @auto_docstring
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        image_grid_thw: torch.LongTensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        labels: torch.LongTensor | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | Qwen2VlLikeCausalLMOutputWithPast:
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            image_grid_thw=image_grid_thw,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            mm_encoder_outputs=mm_encoder_outputs,
            **kwargs,
        )
        hidden_states = outputs[0]
        slice_indices = slice(-logits_to_keep, None) if isinstance(logits_to_keep, int) else logits_to_keep
        logits = self.lm_head(hidden_states[:, slice_indices, :])

        loss = None
        if labels is not None:
            loss = self.loss_function(
                logits=logits, labels=labels, vocab_size=self.config.text_config.vocab_size, **kwargs
            )

        return Qwen2VlLikeCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=outputs.image_hidden_states,
        )

    def _prepare_position_ids_for_generation(self, inputs_tensor, model_kwargs):
        """`generate`'s position ids: the text positions (the decoder builds its causal mask from them) and the three
        M-RoPE rows, `(4, batch_size, sequence_length)`; the prompts' rope deltas are kept for the cached steps."""
        text_positions = super()._prepare_position_ids_for_generation(inputs_tensor, model_kwargs)
        input_ids = model_kwargs.get("input_ids")
        if input_ids is None or input_ids.shape[1] == 0:
            input_ids = inputs_tensor
        cache = model_kwargs.get("past_key_values")
        past_length = 0 if cache is None else cache.get_seq_length()
        is_ids = input_ids.dim() == 2 and not input_ids.is_floating_point()
        new_images = is_ids and bool((input_ids[:, past_length:] == self.config.image_token_id).any())
        if past_length and self.model.rope_deltas is not None and not new_images:
            # Continuing from a cache: the stored deltas still place the new tokens.
            rows = (text_positions + self.model.rope_deltas)[None].expand(3, -1, -1)
            return torch.cat([text_positions[None], rows], dim=0)
        image_grid_thw = model_kwargs.get("image_grid_thw")
        if is_ids and image_grid_thw is not None:
            rows, self.model.rope_deltas = self.model.get_rope_index(
                input_ids, image_grid_thw, model_kwargs.get("attention_mask")
            )
        else:  # text only: the three rows are the text positions
            rows = text_positions[None].expand(3, -1, -1)
            self.model.rope_deltas = torch.zeros(
                text_positions.shape[0], 1, dtype=torch.long, device=text_positions.device
            )
        return torch.cat([text_positions[None], rows.to(text_positions.device)], dim=0)


__all__ = [
    "Qwen2VlLikeConfig",
    "Qwen2VlLikeImageProcessor",
    "Qwen2VlLikeImageProcessorPil",
    "Qwen2VlLikeProcessor",
    "Qwen2VlLikePreTrainedModel",
    "Qwen2VlLikeModel",
    "Qwen2VlLikeForConditionalGeneration",
]
