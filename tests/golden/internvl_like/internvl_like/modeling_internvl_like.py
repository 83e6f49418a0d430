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

from torch import nn

from transformers.activations import ACT2FN
from transformers.cache_utils import Cache
from transformers.generation import GenerationMixin
from transformers.modeling_outputs import BaseModelOutputWithPast, BaseModelOutputWithPooling, ModelOutput
from transformers.modeling_utils import PreTrainedModel
from transformers.models.auto import AutoModel
from transformers.processing_utils import Unpack
from transformers.utils import TransformersKwargs, auto_docstring, is_torch_available
from transformers.utils.generic import can_return_tuple


if is_torch_available():  # the PIL backend's module imports the Kwargs class from here without torch
    import torch
from .configuration_internvl_like import InternvlLikeConfig


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


def _as_list(values) -> list:
    return values.tolist() if hasattr(values, "tolist") else list(values)


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

    @can_return_tuple
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
        # transformers < 5.20 (vLLM's) has no selective capture: fill the config defaults and capture every layer.
        if vision_feature_layer is None:
            vision_feature_layer = self.config.vision_feature_layer
        if vision_feature_select_strategy is None:
            vision_feature_select_strategy = self.config.vision_feature_select_strategy
        kwargs = {key: value for key, value in kwargs.items() if value is not None}
        kwargs["output_hidden_states"] = True
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


InternvlLikeModel.register_for_auto_class("AutoModel")


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


InternvlLikeForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")


__all__ = ["InternvlLikePreTrainedModel", "InternvlLikeModel", "InternvlLikeForConditionalGeneration"]
