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
from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling, get_image_size, to_numpy_array
from ...modeling_outputs import BaseModelOutputWithPast, BaseModelOutputWithPooling, ModelOutput
from ...modeling_utils import PreTrainedModel
from ...processing_utils import ImagesKwargs, MultiModalData, ProcessorMixin, Unpack
from ...utils import TransformersKwargs, auto_docstring
from ...utils.generic import can_return_tuple, merge_with_config_defaults
from ...utils.output_capturing import select_hidden_states
from ..auto import AutoConfig, AutoModel


@auto_docstring(checkpoint="your-org/llava_clip_llama")
@strict
class LlavaClipLlamaConfig(PreTrainedConfig):
    r"""
    projector_type (`str`, *optional*, defaults to `'mlp2x_gelu'`):
        Projector from vision features to the text hidden size: `linear`, `mlp{N}x_gelu` (N linear layers with the
        activation between them) or `identity`.

    Example:

    ```python
    >>> from transformers import LlavaClipLlamaConfig, LlavaClipLlamaForConditionalGeneration

    >>> # Initializing a configuration with the defaults the model was generated with
    >>> configuration = LlavaClipLlamaConfig()

    >>> # Initializing a model (with random weights) from that configuration
    >>> model = LlavaClipLlamaForConditionalGeneration(configuration)

    >>> # Accessing the model configuration
    >>> configuration = model.config
    ```"""

    model_type = "llava_clip_llama"
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
                "image_size": 336,
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
                "max_position_embeddings": 1024,
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
    image_seq_length: int = 576
    projector_type: str = "mlp2x_gelu"
    projector_hidden_act: str = "gelu"
    vision_feature_select_strategy: Literal["default", "full"] = "default"
    vision_feature_layer: int | list[int] = -2
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


class LlavaClipLlamaImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    pad_to_square (`bool`, *optional*, defaults to `True`):
        Whether to pad the image to a square of its longer side, centred, with the mean colour (`image_mean` scaled to 0-255) before resizing, as LLaVA's `image_aspect_ratio='pad'` does.
    """

    pad_to_square: bool


@auto_docstring
class LlavaClipLlamaImageProcessor(TorchvisionBackend):
    valid_kwargs = LlavaClipLlamaImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 336}
    default_to_square = False
    crop_size = {"height": 336, "width": 336}
    do_resize = True
    do_center_crop = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = False
    pad_to_square = True

    def __init__(self, **kwargs: Unpack[LlavaClipLlamaImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _preprocess(
        self, images: list[torch.Tensor], pad_to_square: bool = False, image_mean=None, **kwargs
    ) -> BatchFeature:
        if pad_to_square:
            images = [self._pad_to_square(image, image_mean) for image in images]
        return super()._preprocess(images, image_mean=image_mean, **kwargs)

    def _pad_to_square(self, image: torch.Tensor, image_mean: float | list[float] | None) -> torch.Tensor:
        """Pad a (channels, height, width) image to a centred square of its longer side, filled with the mean colour."""
        num_channels, height, width = image.shape[-3:]
        if height == width:
            return image
        side = max(height, width)
        colour = image.new_tensor(self._padding_colour(image_mean, num_channels)).view(num_channels, 1, 1)
        square = colour.repeat(1, side, side)
        top, left = (side - height) // 2, (side - width) // 2
        square[:, top : top + height, left : left + width] = image
        return square

    @staticmethod
    def _padding_colour(image_mean: float | list[float] | None, num_channels: int) -> list[int]:
        """The mean colour in 0-255 levels, one value per channel (cycled when the channel counts differ)."""
        if image_mean is None:
            levels = [0]
        else:
            means = [image_mean] if isinstance(image_mean, (int, float)) else list(image_mean)
            levels = [int(mean * 255) for mean in means]
        return [levels[channel % len(levels)] for channel in range(num_channels)]


@auto_docstring
class LlavaClipLlamaImageProcessorPil(PilBackend):
    valid_kwargs = LlavaClipLlamaImageProcessorKwargs

    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"shortest_edge": 336}
    default_to_square = False
    crop_size = {"height": 336, "width": 336}
    do_resize = True
    do_center_crop = True
    do_rescale = True
    do_normalize = True
    do_convert_rgb = True
    do_pad = False
    pad_to_square = True

    def __init__(self, **kwargs: Unpack[LlavaClipLlamaImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _preprocess(
        self, images: list[np.ndarray], pad_to_square: bool = False, image_mean=None, **kwargs
    ) -> BatchFeature:
        if pad_to_square:
            images = [self._pad_to_square(image, image_mean) for image in images]
        return super()._preprocess(images, image_mean=image_mean, **kwargs)

    def _pad_to_square(self, image: np.ndarray, image_mean: float | list[float] | None) -> np.ndarray:
        """Pad a (channels, height, width) image to a centred square of its longer side, filled with the mean colour."""
        num_channels, height, width = image.shape[-3:]
        if height == width:
            return image
        side = max(height, width)
        colour = np.asarray(self._padding_colour(image_mean, num_channels), dtype=image.dtype).reshape(
            num_channels, 1, 1
        )
        square = np.repeat(np.repeat(colour, side, axis=1), side, axis=2)
        top, left = (side - height) // 2, (side - width) // 2
        square[:, top : top + height, left : left + width] = image
        return square

    @staticmethod
    def _padding_colour(image_mean: float | list[float] | None, num_channels: int) -> list[int]:
        """The mean colour in 0-255 levels, one value per channel (cycled when the channel counts differ)."""
        if image_mean is None:
            levels = [0]
        else:
            means = [image_mean] if isinstance(image_mean, (int, float)) else list(image_mean)
            levels = [int(mean * 255) for mean in means]
        return [levels[channel % len(levels)] for channel in range(num_channels)]


@auto_docstring
class LlavaClipLlamaProcessor(ProcessorMixin):
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

    def num_image_tokens(self, height: int, width: int) -> int:
        """Image features the model produces for an image of this (processed) size."""
        return tokens_per_view(
            height, width, self.patch_size, self.num_additional_image_tokens, self.vision_feature_select_strategy
        )

    def replace_image_token(self, image_inputs: dict, image_idx: int, **kwargs) -> str:
        height, width = get_image_size(to_numpy_array(image_inputs["pixel_values"][image_idx]))
        return self.image_token * self.num_image_tokens(height, width)

    def _get_num_multimodal_tokens(self, image_sizes=None, **kwargs) -> MultiModalData:
        """Placeholder tokens per image for images of the given (height, width) sizes, without processing them.

        Every image is resized (and cropped) to the same size, so the count does not depend on the input size.
        """
        vision_data = {}
        if image_sizes is not None:
            image_processor = self.image_processor
            size = image_processor.crop_size if image_processor.do_center_crop else image_processor.size
            num_image_tokens = self.num_image_tokens(size["height"], size["width"])
            vision_data["num_image_tokens"] = [num_image_tokens] * len(image_sizes)
            vision_data["num_image_patches"] = [1] * len(image_sizes)
        return MultiModalData(**vision_data)


def projector_depth(projector_type: str) -> int:
    """Number of linear layers of a projector type: identity 0, linear 1, mlp{N}x_gelu N."""
    if projector_type == "identity":
        return 0
    if projector_type == "linear":
        return 1
    if match := re.fullmatch(r"mlp([1-9][0-9]*)x_gelu", projector_type):
        return int(match.group(1))
    raise ValueError(f"Unknown projector_type {projector_type!r}: expected linear, identity or mlpNx_gelu")


class LlavaClipLlamaMultiModalProjector(nn.Module):
    """Maps the selected vision features (vision hidden size times the number of feature layers) to the text
    hidden size: `linear`, `mlp{N}x_gelu` (N linear layers, the activation between them) or `identity`."""

    def __init__(self, config: LlavaClipLlamaConfig):
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
class LlavaClipLlamaPreTrainedModel(PreTrainedModel):
    config: LlavaClipLlamaConfig
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
@auto_docstring(custom_intro="Base class for LlavaClipLlama outputs, with hidden states and attentions.")
class LlavaClipLlamaModelOutputWithPast(BaseModelOutputWithPast):
    r"""
    image_hidden_states (`torch.Tensor`, *optional*):
        Projected image features of shape `(num_image_features, hidden_size)`, the rows that replaced the image tokens.
    """

    image_hidden_states: torch.Tensor | None = None


@dataclass
@auto_docstring(custom_intro="Base class for LlavaClipLlama causal language model (or autoregressive) outputs.")
class LlavaClipLlamaCausalLMOutputWithPast(ModelOutput):
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
    custom_intro="The LlavaClipLlama model: a vision tower, a multimodal projector and a language model, without a language modeling head."
)
class LlavaClipLlamaModel(LlavaClipLlamaPreTrainedModel):
    def __init__(self, config: LlavaClipLlamaConfig):
        super().__init__(config)
        self.vision_tower = AutoModel.from_config(config.vision_config)
        self.multi_modal_projector = LlavaClipLlamaMultiModalProjector(config)
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
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        image_outputs = self.vision_tower(pixel_values, return_dict=True, **kwargs)
        layers = [vision_feature_layer] if isinstance(vision_feature_layer, int) else vision_feature_layer
        selected = [image_outputs.hidden_states[layer] for layer in layers]
        if vision_feature_select_strategy == "default":
            selected = [hidden_state[:, 1:] for hidden_state in selected]  # drop the CLS token
        image_outputs.pooler_output = self.multi_modal_projector(torch.cat(selected, dim=-1))
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
                f"(id {self.config.image_token_id}) but the images give {n_image_features} features. Each image needs "
                f"exactly config.image_seq_length={self.config.image_seq_length} image tokens; let the processor "
                "expand one image token per image."
            )
        return special_image_mask.unsqueeze(-1).expand_as(inputs_embeds).to(inputs_embeds.device)

    @can_return_tuple
    @auto_docstring
    def forward(
        self,
        input_ids: torch.LongTensor | None = None,
        pixel_values: torch.Tensor | None = None,
        attention_mask: torch.Tensor | None = None,
        position_ids: torch.LongTensor | None = None,
        past_key_values: Cache | None = None,
        inputs_embeds: torch.Tensor | None = None,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        mm_encoder_outputs: dict[str, BaseModelOutputWithPooling] | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | LlavaClipLlamaModelOutputWithPast:
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
                vision_feature_layer=vision_feature_layer,
                vision_feature_select_strategy=vision_feature_select_strategy,
                return_dict=True,
            )
        image_features = None
        if image_outputs is not None:
            image_features = image_outputs.pooler_output
            image_features = image_features.reshape(-1, image_features.shape[-1])
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
        return LlavaClipLlamaModelOutputWithPast(
            last_hidden_state=outputs.last_hidden_state,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=image_features,
        )


@auto_docstring(custom_intro="The LlavaClipLlama model with a language modeling head.")
class LlavaClipLlamaForConditionalGeneration(LlavaClipLlamaPreTrainedModel, GenerationMixin):
    _tied_weights_keys = {"lm_head.weight": "model.language_model.embed_tokens.weight"}
    _tp_plan = {"lm_head": "colwise_gather_output"}

    def __init__(self, config: LlavaClipLlamaConfig):
        super().__init__(config)
        self.model = LlavaClipLlamaModel(config)
        self.lm_head = nn.Linear(config.text_config.hidden_size, config.text_config.vocab_size, bias=False)
        self.post_init()

    def get_output_embeddings(self) -> nn.Module:
        return self.lm_head

    @auto_docstring
    def get_image_features(
        self,
        pixel_values: torch.Tensor,
        vision_feature_layer: int | list[int] | None = None,
        vision_feature_select_strategy: str | None = None,
        **kwargs: Unpack[TransformersKwargs],
    ) -> tuple | BaseModelOutputWithPooling:
        return self.model.get_image_features(
            pixel_values=pixel_values,
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
    ) -> tuple | LlavaClipLlamaCausalLMOutputWithPast:
        outputs = self.model(
            input_ids=input_ids,
            pixel_values=pixel_values,
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

        return LlavaClipLlamaCausalLMOutputWithPast(
            loss=loss,
            logits=logits,
            past_key_values=outputs.past_key_values,
            hidden_states=outputs.hidden_states,
            attentions=outputs.attentions,
            image_hidden_states=outputs.image_hidden_states,
        )


__all__ = [
    "LlavaClipLlamaConfig",
    "LlavaClipLlamaImageProcessor",
    "LlavaClipLlamaImageProcessorPil",
    "LlavaClipLlamaProcessor",
    "LlavaClipLlamaPreTrainedModel",
    "LlavaClipLlamaModel",
    "LlavaClipLlamaForConditionalGeneration",
]
