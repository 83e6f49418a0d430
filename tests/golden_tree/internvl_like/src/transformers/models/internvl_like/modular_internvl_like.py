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

from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from huggingface_hub.dataclasses import strict
from torch import nn

from ...activations import ACT2FN
from ...cache_utils import Cache
from ...configuration_utils import PreTrainedConfig, SubConfigSpec
from ...generation import GenerationMixin
from ...image_processing_backends import PilBackend, TorchvisionBackend
from ...image_processing_utils import BatchFeature
from ...image_transforms import divide_to_patches
from ...image_utils import IMAGENET_DEFAULT_MEAN, IMAGENET_DEFAULT_STD, PILImageResampling, SizeDict
from ...modeling_outputs import BaseModelOutputWithPast, BaseModelOutputWithPooling, ModelOutput
from ...modeling_utils import PreTrainedModel
from ...processing_utils import ImagesKwargs, MultiModalData, ProcessorMixin, Unpack
from ...utils import TransformersKwargs, auto_docstring
from ...utils.generic import can_return_tuple, merge_with_config_defaults
from ...utils.output_capturing import select_hidden_states
from ..auto import AutoConfig, AutoModel


@auto_docstring(checkpoint="your-org/internvl_like")
@strict
class InternvlLikeConfig(PreTrainedConfig):
    r"""
    projector_type (`str`, *optional*, defaults to `'mlp2x_gelu'`):
        Projector from vision features to the text hidden size: `linear`, `mlp{N}x_gelu` (N linear layers with the
        activation between them) or `identity`.
    projector_merge (`Literal["pixel_shuffle", "patch_merge"] | None`, *optional*, defaults to `'pixel_shuffle'`):
        How neighbouring vision features are merged before the projector's MLP: each `factor` x `factor` block of the square feature grid becomes one feature of `factor`^2 times the width, in the channel order of InternVL's, Aya Vision's and Idefics3's pixel shuffle.
    projector_merge_factor (`int`, *optional*, defaults to `2`):
        Side of the block of features merged into one; features per view divide by its square.
    projector_layer_norm (`bool`, *optional*, defaults to `True`):
        Whether a LayerNorm normalises the MLP's input.
    projector_layer_norm_eps (`float`, *optional*, defaults to `1e-05`):
        Epsilon of that LayerNorm.
    projector_intermediate_size (`int | None`, *optional*, defaults to `None`):
        Width of the SwiGLU projector's gated layer, split into value and gate halves.

    Example:

    ```python
    >>> from transformers import InternvlLikeConfig, InternvlLikeForConditionalGeneration

    >>> # Initializing a configuration with the defaults the model was generated with
    >>> configuration = InternvlLikeConfig()

    >>> # Initializing a model (with random weights) from that configuration
    >>> model = InternvlLikeForConditionalGeneration(configuration)

    >>> # Accessing the model configuration
    >>> configuration = model.config
    ```"""

    model_type = "internvl_like"
    attribute_map = {"image_token_id": "image_token_index"}
    sub_configs_defaults = {
        "vision_config": SubConfigSpec(
            config_class=AutoConfig,
            model_type="internvl_vision",
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
            model_type="qwen2",
            init_kwargs={
                "vocab_size": 128,
                "hidden_size": 32,
                "intermediate_size": 64,
                "num_hidden_layers": 2,
                "num_attention_heads": 4,
                "num_key_value_heads": 2,
                "max_position_embeddings": 2048,
                "tie_word_embeddings": False,
                "bos_token_id": None,
                "eos_token_id": 2,
                "pad_token_id": 0,
            },
        ),
    }

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    image_token_index: int = 127
    image_seq_length: int = 16
    projector_type: str = "mlp2x_gelu"
    projector_hidden_act: str = "gelu"
    vision_feature_select_strategy: Literal["default", "full"] = "default"
    vision_feature_layer: int | list[int] = -1
    multimodal_projector_bias: bool = True
    projector_merge: Literal["pixel_shuffle", "patch_merge"] | None = "pixel_shuffle"
    projector_merge_factor: int = 2
    projector_layer_norm: bool = True
    projector_layer_norm_eps: float = 1e-05
    projector_intermediate_size: int | None = None
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


class InternvlLikeImageProcessorKwargs(ImagesKwargs, total=False):
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


@auto_docstring
class InternvlLikeImageProcessor(TorchvisionBackend):
    valid_kwargs = InternvlLikeImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
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

    def __init__(self, **kwargs: Unpack[InternvlLikeImageProcessorKwargs]):
        super().__init__(**kwargs)

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


@auto_docstring
class InternvlLikeImageProcessorPil(PilBackend):
    valid_kwargs = InternvlLikeImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = IMAGENET_DEFAULT_MEAN
    image_std = IMAGENET_DEFAULT_STD
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

    def __init__(self, **kwargs: Unpack[InternvlLikeImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _preprocess(
        self,
        images: list[np.ndarray],
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
        self, image: np.ndarray, size: SizeDict, min_tiles: int, max_tiles: int, use_thumbnail: bool, resample
    ) -> list[np.ndarray]:
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


def _as_list(values) -> list:
    return values.tolist() if hasattr(values, "tolist") else list(values)


def pixel_shuffle(image_features: torch.Tensor, factor: int) -> torch.Tensor:
    """(views, side * side, channels) features of square grids -> (views, (side / factor)^2, channels * factor^2):
    each `factor` x `factor` block of neighbouring features becomes one feature, channels in the order of InternVL's,
    Aya Vision's and Idefics3's pixel shuffle."""
    views, tokens, channels = image_features.shape
    side = int(tokens**0.5)
    image_features = image_features.reshape(views, side, side // factor, channels * factor)
    image_features = image_features.permute(0, 2, 1, 3)
    image_features = image_features.reshape(views, side // factor, side // factor, channels * factor * factor)
    image_features = image_features.permute(0, 2, 1, 3)
    return image_features.reshape(views, -1, channels * factor * factor)


class InternvlLikeMultiModalProjector(nn.Module):
    """Maps the selected vision features (vision hidden size times the number of feature layers) to the text
    hidden size: `pixel_shuffle` merges each 2x2 block of features, a LayerNorm normalises, then `mlp2x_gelu` maps."""

    def __init__(self, config: InternvlLikeConfig):
        super().__init__()
        num_feature_layers = 1 if isinstance(config.vision_feature_layer, int) else len(config.vision_feature_layer)
        in_features = config.vision_config.hidden_size * num_feature_layers
        out_features = config.text_config.hidden_size
        self.merge_factor = config.projector_merge_factor
        in_features *= self.merge_factor**2
        self.layer_norm = nn.LayerNorm(in_features, eps=config.projector_layer_norm_eps)
        self.linear_1 = nn.Linear(in_features, out_features, bias=config.multimodal_projector_bias)
        self.act = ACT2FN[config.projector_hidden_act]
        self.linear_2 = nn.Linear(out_features, out_features, bias=config.multimodal_projector_bias)

    def forward(self, image_features):
        image_features = pixel_shuffle(image_features, self.merge_factor)
        image_features = self.layer_norm(image_features)
        return self.linear_2(self.act(self.linear_1(image_features)))


@auto_docstring
class InternvlLikePreTrainedModel(PreTrainedModel):
    config: InternvlLikeConfig
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
@auto_docstring(custom_intro="Base class for InternvlLike outputs, with hidden states and attentions.")
class InternvlLikeModelOutputWithPast(BaseModelOutputWithPast):
    r"""
    image_hidden_states (`torch.Tensor`, *optional*):
        Projected image features of shape `(num_image_features, hidden_size)`, the rows that replaced the image tokens.
    """

    image_hidden_states: torch.Tensor | None = None


@dataclass
@auto_docstring(custom_intro="Base class for InternvlLike causal language model (or autoregressive) outputs.")
class InternvlLikeCausalLMOutputWithPast(ModelOutput):
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
    custom_intro="The InternvlLike model: a vision tower, a multimodal projector and a language model, without a language modeling head."
)
class InternvlLikeModel(InternvlLikePreTrainedModel):
    def __init__(self, config: InternvlLikeConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.multi_modal_projector = InternvlLikeMultiModalProjector(config)
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
        num_patches: torch.Tensor | list[int] | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        r"""
        num_patches (`torch.Tensor` of shape `(num_images,)`, *optional*):
            Number of views (tiles, then the thumbnail) of each image in `pixel_values`, as the processor returns them.
        """
        views = [pixel_values.shape[0]] if num_patches is None else [int(count) for count in _as_list(num_patches)]
        if pixel_values.dim() != 4 or sum(views) != pixel_values.shape[0]:
            raise ValueError(
                f"num_patches {views} add up to {sum(views)} views but pixel_values has shape {tuple(pixel_values.shape)}"
            )
        image_outputs = self.vision_tower(pixel_values, return_dict=True, **kwargs)
        layers = [vision_feature_layer] if isinstance(vision_feature_layer, int) else vision_feature_layer
        selected = [image_outputs.hidden_states[layer] for layer in layers]
        if vision_feature_select_strategy == "default":
            selected = [hidden_state[:, 1:] for hidden_state in selected]  # drop the CLS token
        image_outputs.pooler_output = self.multi_modal_projector(torch.cat(selected, dim=-1))
        # One tensor per image: the features of its tiles in order, thumbnail last.
        image_outputs.pooler_output = tuple(
            features.reshape(-1, features.shape[-1]) for features in image_outputs.pooler_output.split(views)
        )
        return image_outputs

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
        num_patches: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | InternvlLikeModelOutputWithPast:
        r"""
        num_patches (`torch.Tensor` of shape `(num_images,)`, *optional*):
            Number of views (tiles, then the thumbnail) of each image in `pixel_values`, as the processor returns them.
        """
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
                num_patches=num_patches,
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
        return InternvlLikeModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=image_features,
        )


@auto_docstring(custom_intro="The InternvlLike model with a language modeling head.")
class InternvlLikeForConditionalGeneration(InternvlLikePreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: InternvlLikeConfig):
        super().__init__(config)
        self.model = InternvlLikeModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @auto_docstring
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        num_patches: torch.Tensor | list[int] | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        r"""
        num_patches (`torch.Tensor` of shape `(num_images,)`, *optional*):
            Number of views (tiles, then the thumbnail) of each image in `pixel_values`, as the processor returns them.
        """
        return self.model.get_image_features(
            pixel_values=pixel_values,
            num_patches=num_patches,
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
        num_patches: torch.Tensor | None = None,
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
    ) -> tuple | InternvlLikeCausalLMOutputWithPast:
        r"""
        num_patches (`torch.Tensor` of shape `(num_images,)`, *optional*):
            Number of views (tiles, then the thumbnail) of each image in `pixel_values`, as the processor returns them.
        """
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
            num_patches=num_patches,
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

        return InternvlLikeCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=outputs.image_hidden_states,
        )


__all__ = [
    "InternvlLikeConfig",
    "InternvlLikeImageProcessor",
    "InternvlLikeImageProcessorPil",
    "InternvlLikeProcessor",
    "InternvlLikePreTrainedModel",
    "InternvlLikeModel",
    "InternvlLikeForConditionalGeneration",
]
