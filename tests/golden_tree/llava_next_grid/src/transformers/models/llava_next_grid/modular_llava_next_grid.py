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

import re
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from huggingface_hub.dataclasses import strict
from torch import nn

from ... import initialization as init
from ...activations import ACT2FN
from ...cache_utils import Cache
from ...configuration_utils import PreTrainedConfig, SubConfigSpec
from ...generation import GenerationMixin
from ...image_processing_backends import PilBackend, TorchvisionBackend
from ...image_processing_utils import BatchFeature, get_patch_output_size, select_best_resolution
from ...image_transforms import divide_to_patches
from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, ChannelDimension, PILImageResampling, SizeDict
from ...modeling_outputs import BaseModelOutputWithPast, BaseModelOutputWithPooling, ModelOutput
from ...modeling_utils import PreTrainedModel
from ...processing_utils import ImagesKwargs, MultiModalData, ProcessorMixin, Unpack
from ...utils import TransformersKwargs, auto_docstring
from ...utils.generic import can_return_tuple, merge_with_config_defaults
from ...utils.output_capturing import select_hidden_states
from ..auto import AutoConfig, AutoModel


@auto_docstring(checkpoint="your-org/llava_next_grid")
@strict
class LlavaNextGridConfig(PreTrainedConfig):
    r"""
    projector_type (`str`, *optional*, defaults to `'mlp2x_gelu'`):
        Projector from vision features to the text hidden size: `linear`, `mlp{N}x_gelu` (N linear layers with the
        activation between them) or `identity`.
    image_grid_pinpoints (`list[list[int]]`, *optional*, defaults to `[[112, 224], [224, 112], [224, 224], [336, 112], [112, 336]]`):
        Canvas sizes (height, width) an image may be fitted into before it is cut into tiles of the tower's input
        size; the model packs the tiles' features by the same choice as the image processor.

    Example:

    ```python
    >>> from transformers import LlavaNextGridConfig, LlavaNextGridForConditionalGeneration

    >>> # Initializing a configuration with the defaults the model was generated with
    >>> configuration = LlavaNextGridConfig()

    >>> # Initializing a model (with random weights) from that configuration
    >>> model = LlavaNextGridForConditionalGeneration(configuration)

    >>> # Accessing the model configuration
    >>> configuration = model.config
    ```"""

    model_type = "llava_next_grid"
    attribute_map = {"image_token_id": "image_token_index"}
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="clip_vision_model",
            init_kwargs={
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 2,
                "num_channels": 3,
                "image_size": 112,
                "patch_size": 14,
            },
        ),
        "text_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="llama",
            init_kwargs={
                "vocab_size": 128,
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "max_position_embeddings": 2048,
                "tie_word_embeddings": False,
                "bos_token_id": 1,
                "eos_token_id": 2,
                "pad_token_id": 0,
            },
        ),
    }

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    image_token_index: int = 127
    image_seq_length: int = 64
    projector_type: str = "mlp2x_gelu"
    projector_hidden_act: str = "gelu"
    vision_feature_select_strategy: Literal["default", "full"] = "default"
    vision_feature_layer: int | list[int] = -2
    image_grid_pinpoints: list[list[int]] = field(
        default_factory=lambda: [[112, 224], [224, 112], [224, 224], [336, 112], [112, 336]]
    )
    multimodal_projector_bias: bool = True
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        # Checkpoints may record tying on the text config only.
        if not self.tie_word_embeddings and self.text_config.tie_word_embeddings:
            self.tie_word_embeddings = self.text_config.tie_word_embeddings


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


def grid_shape(height: int, width: int, grid_pinpoints: list[list[int]], tile_size: int) -> tuple[int, int]:
    """(rows, columns) of tiles for an image of (height, width): the best pinpoint for it, counted in tiles."""
    best_height, best_width = select_best_resolution((height, width), grid_pinpoints)
    return best_height // tile_size, best_width // tile_size


def grid_num_views(height: int, width: int, grid_pinpoints: list[list[int]], tile_size: int) -> int:
    """Tower inputs of one image: the base view, then its tiles."""
    rows, columns = grid_shape(height, width, grid_pinpoints, tile_size)
    return 1 + rows * columns


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


class LlavaNextGridImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    image_grid_pinpoints (`list[list[int]]`, *optional*, defaults to `[[112, 224], [224, 112], [224, 224], [336, 112], [112, 336]]`):
        Canvas sizes (height, width) an image may be fitted into before it is cut into tiles of the tower's input size; the one that keeps most of the image's resolution with the least padding is chosen.
    """

    image_grid_pinpoints: list[list[int]]


@auto_docstring
class LlavaNextGridImageProcessor(TorchvisionBackend):
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

    def _preprocess(
        self,
        images: list[torch.Tensor],
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
        self, image: torch.Tensor, grid_pinpoints: list[list[int]], tile_size: int, resample
    ) -> list[torch.Tensor]:
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
    def _pad_centered(image: torch.Tensor, height: int, width: int) -> torch.Tensor:
        """Zero-pad a (channels, h, w) image to (height, width), centred (the odd pixel goes right / bottom)."""
        left, top = (width - image.shape[-1]) // 2, (height - image.shape[-2]) // 2
        right, bottom = width - image.shape[-1] - left, height - image.shape[-2] - top
        return torch.nn.functional.pad(image, (left, right, top, bottom), value=0)

    @staticmethod
    def _stack_views(views: list[torch.Tensor]) -> torch.Tensor:
        return torch.stack(views, dim=0)

    @staticmethod
    def _pad_views(pixel_values: list[torch.Tensor]) -> list[torch.Tensor]:
        """Zero-pad the views axis of each image to the most views in the batch."""
        most = max(len(views) for views in pixel_values)
        return [torch.nn.functional.pad(views, (0, 0, 0, 0, 0, 0, 0, most - len(views))) for views in pixel_values]


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


def _size_pairs(image_sizes) -> list[tuple[int, int]]:
    """(height, width) pairs as Python ints: tensors must not reach the float arithmetic of the layout."""
    if hasattr(image_sizes, "tolist"):
        image_sizes = image_sizes.tolist()
    return [(int(height), int(width)) for height, width in image_sizes]


def projector_depth(projector_type: str) -> int:
    """Number of linear layers of a projector type: identity 0, linear 1, mlp{N}x_gelu N."""
    if projector_type == "identity":
        return 0
    if projector_type == "linear":
        return 1
    if match := re.fullmatch(r"mlp([1-9][0-9]*)x_gelu", projector_type):
        return int(match.group(1))
    raise ValueError(f"Unknown projector_type {projector_type!r}: expected linear, identity or mlpNx_gelu")


class LlavaNextGridMultiModalProjector(nn.Module):
    """Maps the selected vision features (vision hidden size times the number of feature layers) to the text
    hidden size: `linear`, `mlp{N}x_gelu` (N linear layers, the activation between them) or `identity`."""

    def __init__(self, config: LlavaNextGridConfig):
        super().__init__()
        num_feature_layers = 1 if isinstance(config.vision_feature_layer, int) else len(config.vision_feature_layer)
        in_features = config.vision_config.hidden_size * num_feature_layers
        out_features = config.text_config.hidden_size
        depth = projector_depth(config.projector_type)
        if depth == 0 and in_features != out_features:
            raise ValueError(
                f"projector_type 'identity' needs vision features of the text hidden size, got {in_features} "
                f"(vision hidden size {config.vision_config.hidden_size} x {num_feature_layers} feature layers) "
                f"and {out_features}"
            )
        layers = []
        for index in range(depth):
            if index:
                layers.append(ACT2FN[config.projector_hidden_act])
            layers.append(
                nn.Linear(
                    in_features if index == 0 else out_features, out_features, bias=config.multimodal_projector_bias
                )
            )
        self.layers = nn.Sequential(*layers)

    def forward(self, image_features):
        return self.layers(image_features)


@auto_docstring
class LlavaNextGridPreTrainedModel(PreTrainedModel):
    config: LlavaNextGridConfig
    base_model_prefix = "model"
    input_modalities = ("image", "text")
    supports_gradient_checkpointing = True
    _skip_keys_device_placement = ["past_key_values"]
    _supports_flash_attn = True
    _supports_sdpa = True
    _supports_flex_attn = True
    _can_compile_fullgraph = True
    _supports_attention_backend = True

    def _init_weights(self, module):
        super()._init_weights(module)
        if isinstance(module, LlavaNextGridModel):
            init.normal_(module.image_newline, mean=0.0, std=self.config.text_config.hidden_size**-0.5)


@dataclass
@auto_docstring(custom_intro="Base class for LlavaNextGrid outputs, with hidden states and attentions.")
class LlavaNextGridModelOutputWithPast(BaseModelOutputWithPast):
    r"""
    image_hidden_states (`torch.Tensor`, *optional*):
        Projected image features of shape `(num_image_features, hidden_size)`, the rows that replaced the image tokens.
    """

    image_hidden_states: torch.Tensor | None = None


@dataclass
@auto_docstring(custom_intro="Base class for LlavaNextGrid causal language model (or autoregressive) outputs.")
class LlavaNextGridCausalLMOutputWithPast(ModelOutput):
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
    custom_intro="The LlavaNextGrid model: a vision tower, a multimodal projector and a language model, without a language modeling head."
)
class LlavaNextGridModel(LlavaNextGridPreTrainedModel):
    def __init__(self, config: LlavaNextGridConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.multi_modal_projector = LlavaNextGridMultiModalProjector(config)
        # Learned embedding after every row of a grid image's features (initialised in `_init_weights`).
        self.image_newline = nn.Parameter(torch.empty(config.text_config.hidden_size))
        self.language_model = AutoModel.from_config(config.text_config)
        self.post_init()

    @merge_with_config_defaults
    @can_return_tuple
    @select_hidden_states("vision_feature_layer")
    @auto_docstring(
        custom_intro="Obtains image last hidden states from the vision tower and apply multimodal projection."
    )
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        image_sizes: torch.Tensor | list[list[int]] | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        if image_sizes is None:
            raise ValueError("The grid layout needs `image_sizes` (the processor returns them) with `pixel_values`")
        image_sizes = _size_pairs(image_sizes)
        tile_size = self.config.vision_config.image_size
        views = [
            grid_num_views(height, width, self.config.image_grid_pinpoints, tile_size) for height, width in image_sizes
        ]
        if pixel_values.dim() == 5:  # (images, views padded to the most, C, H, W): drop the padding views
            if pixel_values.shape[0] != len(image_sizes):
                raise ValueError(
                    f"pixel_values holds {pixel_values.shape[0]} images but image_sizes {len(image_sizes)}"
                )
            pixel_values = torch.cat([values[:count] for values, count in zip(pixel_values, views)], dim=0)
        if pixel_values.dim() != 4 or pixel_values.shape[0] != sum(views):
            raise ValueError(
                f"pixel_values of shape {tuple(pixel_values.shape)} do not match image_sizes {image_sizes}: the grid "
                f"layout needs {views} views per image, as (images, views, C, H, W) or (views, C, H, W)"
            )
        image_outputs = self.vision_tower(pixel_values, return_dict=True, **kwargs)
        layers = [vision_feature_layer] if isinstance(vision_feature_layer, int) else vision_feature_layer
        selected = [image_outputs.hidden_states[layer] for layer in layers]
        if vision_feature_select_strategy == "default":
            selected = [hidden_state[:, 1:] for hidden_state in selected]  # drop the CLS token
        image_outputs.pooler_output = self.multi_modal_projector(torch.cat(selected, dim=-1))
        image_outputs.pooler_output = self.pack_image_features(image_outputs.pooler_output.split(views), image_sizes)
        return image_outputs

    def pack_image_features(self, image_features, image_sizes: list[tuple[int, int]]) -> tuple[torch.Tensor, ...]:
        """Per image: the base view's features, then the tiles' feature grid without its letterbox rows / columns, row
        by row, with the learned newline after each feature row."""
        side = self.config.vision_config.image_size // self.config.vision_config.patch_size
        tile_size = self.config.vision_config.image_size
        packed = []
        for features, (height, width) in zip(image_features, image_sizes):
            rows, columns = grid_shape(height, width, self.config.image_grid_pinpoints, tile_size)
            if tuple(features.shape[:2]) != (1 + rows * columns, side * side):
                raise ValueError(
                    f"An image of {height}x{width} needs 1 + {rows}x{columns} views of {side * side} features each "
                    f"(one per patch), got {tuple(features.shape[:2])}"
                )
            base, tiles = features[0], features[1:]
            hidden = tiles.shape[-1]
            grid = tiles.reshape(rows, columns, side, side, hidden).transpose(1, 2)
            grid = grid.reshape(rows * side, columns * side, hidden)
            top, bottom, left, right = unpadded_shape(height, width, rows * side, columns * side)
            grid = grid[top:bottom, left:right]
            newline = self.image_newline.to(grid.device, grid.dtype).expand(grid.shape[0], 1, hidden)
            grid = torch.cat([grid, newline], dim=1).reshape(-1, hidden)
            packed.append(torch.cat([base, grid], dim=0))
        return tuple(packed)

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
        image_sizes: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | LlavaNextGridModelOutputWithPast:
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
                image_sizes=image_sizes,
                vision_feature_layer=vision_feature_layer,
                vision_feature_select_strategy=vision_feature_select_strategy,
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

        outputs = self.language_model(
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            **kwargs,
        )
        return LlavaNextGridModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=image_features,
        )


@auto_docstring(custom_intro="The LlavaNextGrid model with a language modeling head.")
class LlavaNextGridForConditionalGeneration(LlavaNextGridPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: LlavaNextGridConfig):
        super().__init__(config)
        self.model = LlavaNextGridModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @auto_docstring
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        image_sizes: torch.Tensor | list[list[int]] | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        return self.model.get_image_features(
            pixel_values=pixel_values,
            image_sizes=image_sizes,
            vision_feature_layer=vision_feature_layer,
            vision_feature_select_strategy=vision_feature_select_strategy,
            **kwargs,
        )

    @can_return_tuple
    @auto_docstring
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        image_sizes: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        labels: torch.LongTensor | None = None,
        logits_to_keep: int | torch.Tensor = 0,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | LlavaNextGridCausalLMOutputWithPast:
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            image_sizes=image_sizes,
            attention_mask=attention_mask,
            position_ids=position_ids,
            past_key_values=past_key_values,
            inputs_embeds=inputs_embeds,
            vision_feature_layer=vision_feature_layer,
            vision_feature_select_strategy=vision_feature_select_strategy,
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

        return LlavaNextGridCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=outputs.image_hidden_states,
        )


__all__ = [
    "LlavaNextGridConfig",
    "LlavaNextGridImageProcessor",
    "LlavaNextGridImageProcessorPil",
    "LlavaNextGridProcessor",
    "LlavaNextGridPreTrainedModel",
    "LlavaNextGridModel",
    "LlavaNextGridForConditionalGeneration",
]
