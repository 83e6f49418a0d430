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
"""LlavaVllm for vLLM: the CLIPVisionModel tower, the projector and the llama language model as vLLM
modules, and the multimodal processing vLLM needs to serve it (each image token expanded to the image's features).

vLLM finds this class through `vllm_plugin_llava_vllm.register`, the package's `vllm.general_plugins` entry
point; it loads checkpoints saved by `LlavaVllmForConditionalGeneration.save_pretrained` (transformers 5.x).
"""

import re
from collections.abc import Iterable, Mapping, Sequence

import torch
from torch import nn
from vllm.config import VllmConfig
from vllm.config.multimodal import MultiModalDummyOptions
from vllm.inputs import MultiModalDataDict
from vllm.model_executor.layers.activation import get_act_fn
from vllm.model_executor.layers.linear import ReplicatedLinear
from vllm.model_executor.layers.quantization import QuantizationConfig
from vllm.model_executor.models.clip import CLIPVisionModel
from vllm.model_executor.models.interfaces import MultiModalEmbeddings, SupportsMultiModal
from vllm.model_executor.models.utils import (
    AutoWeightsLoader,
    WeightsMapper,
    get_layer_index,
    init_vllm_registered_model,
    maybe_prefix,
)
from vllm.multimodal import MULTIMODAL_REGISTRY
from vllm.multimodal.inputs import MultiModalFieldConfig, MultiModalKwargsItems
from vllm.multimodal.parse import ImageSize, MultiModalDataItems
from vllm.multimodal.processing import (
    BaseDummyInputsBuilder,
    BaseMultiModalProcessor,
    BaseProcessingInfo,
    PromptReplacement,
    PromptUpdate,
    PromptUpdateDetails,
)
from vllm.sequence import IntermediateTensors

from transformers import BatchFeature

from .configuration_llava_vllm import LlavaVllmConfig
from .modeling_llava_vllm import projector_depth
from .processing_llava_vllm import LlavaVllmProcessor
from .vllm_plugin_llava_vllm import num_image_tokens


IMAGE_PLACEHOLDER = "<image>"


class LlavaVllmProcessingInfo(BaseProcessingInfo):
    def get_hf_config(self) -> LlavaVllmConfig:
        return self.ctx.get_hf_config(LlavaVllmConfig)

    def get_hf_processor(self, **kwargs: object) -> LlavaVllmProcessor:
        return self.ctx.get_hf_processor(LlavaVllmProcessor, **kwargs)

    def get_supported_mm_limits(self) -> Mapping[str, int | None]:
        return {"image": None}

    def get_num_image_tokens(self, *, image_width: int, image_height: int) -> int:
        # Every image is resized/cropped to the tower's square input, so the count does not depend on its size.
        return num_image_tokens(self.get_hf_config())

    def get_image_size_with_most_features(self) -> ImageSize:
        size = self.get_hf_config().vision_config.image_size
        return ImageSize(width=size, height=size)

    def get_mm_max_tokens_per_item(self, seq_len: int, mm_counts: Mapping[str, int]) -> Mapping[str, int]:
        return {"image": num_image_tokens(self.get_hf_config())}


class LlavaVllmDummyInputsBuilder(BaseDummyInputsBuilder[LlavaVllmProcessingInfo]):
    def get_dummy_text(self, mm_counts: Mapping[str, int]) -> str:
        return self.info.get_hf_processor().image_token * mm_counts.get("image", 0)

    def get_dummy_mm_data(
        self,
        seq_len: int,
        mm_counts: Mapping[str, int],
        mm_options: MultiModalDummyOptions,
    ) -> MultiModalDataDict:
        size = self.info.get_image_size_with_most_features()
        images = self._get_dummy_images(
            width=size.width,
            height=size.height,
            num_images=mm_counts.get("image", 0),
            overrides=mm_options.get("image"),
        )
        return {"image": images}


class LlavaVllmMultiModalProcessor(BaseMultiModalProcessor[LlavaVllmProcessingInfo]):
    def _get_mm_fields_config(
        self, hf_inputs: BatchFeature, hf_processor_mm_kwargs: Mapping[str, object]
    ) -> Mapping[str, MultiModalFieldConfig]:
        return {"pixel_values": MultiModalFieldConfig.batched("image")}

    def _get_prompt_updates(
        self,
        mm_items: MultiModalDataItems,
        hf_processor_mm_kwargs: Mapping[str, object],
        out_mm_kwargs: MultiModalKwargsItems,
    ) -> Sequence[PromptUpdate]:
        hf_config = self.info.get_hf_config()
        image_token_id = hf_config.image_token_index
        # Each image token becomes one placeholder per image feature, as the transformers processor expands it; the
        # count is the same for every image (see num_image_tokens).
        features = [image_token_id] * num_image_tokens(hf_config)

        return [
            PromptReplacement(
                modality="image",
                target=[image_token_id],
                replacement=lambda item_idx: PromptUpdateDetails.select_token_id(features, image_token_id),
            )
        ]


class LlavaVllmMultiModalProjector(nn.Module):
    """The projector of the transformers model with vLLM layers; `layers.{i}` match its parameter names."""

    def __init__(self, config: LlavaVllmConfig, quant_config: QuantizationConfig | None = None, prefix: str = ""):
        super().__init__()
        feature_layers = config.vision_feature_layer
        num_feature_layers = 1 if isinstance(feature_layers, int) else len(feature_layers)
        in_features = config.vision_config.hidden_size * num_feature_layers
        out_features = config.text_config.hidden_size
        layers: list[nn.Module] = []
        for index in range(projector_depth(config.projector_type)):
            if index:
                layers.append(get_act_fn(config.projector_hidden_act))
            layers.append(
                ReplicatedLinear(
                    in_features if index == 0 else out_features,
                    out_features,
                    bias=config.multimodal_projector_bias,
                    quant_config=quant_config,
                    prefix=f"{prefix}.layers.{len(layers)}",
                )
            )
        self.layers = nn.ModuleList(layers)

    def forward(self, image_features: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            image_features = layer(image_features)
            if isinstance(image_features, tuple):  # vLLM linear layers return (output, output bias)
                image_features = image_features[0]
        return image_features


@MULTIMODAL_REGISTRY.register_processor(
    LlavaVllmMultiModalProcessor, info=LlavaVllmProcessingInfo, dummy_inputs=LlavaVllmDummyInputsBuilder
)
class LlavaVllmForConditionalGeneration(nn.Module, SupportsMultiModal):
    # Checkpoints saved by transformers 5.x; the vision tower's keys may or may not carry `vision_model.`.
    hf_to_vllm_mapper = WeightsMapper(
        orig_to_new_regex={re.compile(r"^model\.vision_tower\.(vision_model\.)?"): "vision_tower.vision_model."},
        orig_to_new_prefix={
            "model.multi_modal_projector.": "multi_modal_projector.",
            "model.language_model.": "language_model.model.",
            "lm_head.": "language_model.lm_head.",
        },
    )

    @classmethod
    def get_placeholder_str(cls, modality: str, i: int) -> str | None:
        if modality.startswith("image"):
            return IMAGE_PLACEHOLDER
        raise ValueError(f"LlavaVllm takes images only, not {modality}")

    def __init__(self, *, vllm_config: VllmConfig, prefix: str = "") -> None:
        super().__init__()
        config: LlavaVllmConfig = vllm_config.model_config.hf_config
        quant_config = vllm_config.quant_config
        self.config = config
        self.configure_mm_token_handling(
            vocab_size=config.text_config.vocab_size, mm_token_ids=[config.image_token_index]
        )

        feature_layers = config.vision_feature_layer
        num_layers = config.vision_config.num_hidden_layers
        if isinstance(feature_layers, int):
            self.select_layers = None
            needed_layers = get_layer_index(feature_layers, num_layers)
        else:
            self.select_layers = list(feature_layers)
            needed_layers = max(get_layer_index(layer, num_layers) for layer in feature_layers)

        with self._mark_tower_model(vllm_config, "image"):
            # Only the layers up to the deepest feature layer, and no post-layernorm: the transformers model
            # reads the hidden states before it.
            self.vision_tower = CLIPVisionModel(
                config.vision_config,
                quant_config=quant_config,
                num_hidden_layers_override=needed_layers,
                require_post_norm=False,
                prefix=maybe_prefix(prefix, "vision_tower"),
            )
            self.multi_modal_projector = LlavaVllmMultiModalProjector(
                config, quant_config=quant_config, prefix=maybe_prefix(prefix, "multi_modal_projector")
            )

        with self._mark_language_model(vllm_config):
            self.language_model = init_vllm_registered_model(
                vllm_config=vllm_config,
                hf_config=config.text_config,
                prefix=maybe_prefix(prefix, "language_model"),
            )

    def _tower_features(self, pixel_values: torch.Tensor) -> torch.Tensor:
        """(views, features, vision hidden x feature layers): the tower's hidden states of the feature layers, without
        the CLS token under the "default" strategy, as the transformers model selects them."""
        return self.vision_tower(
            pixel_values.to(self.vision_tower.vision_model.dtype),
            select_layers=self.select_layers,
            feature_select_strategy=self.config.vision_feature_select_strategy,
        )

    def _pixel_values(self, **kwargs: object) -> torch.Tensor | None:
        pixel_values = kwargs.pop("pixel_values", None)
        if pixel_values is None:
            return None
        if isinstance(pixel_values, (list, tuple)):
            pixel_values = torch.stack(list(pixel_values))
        vision_config = self.config.vision_config
        side = vision_config.image_size
        expected = (vision_config.num_channels, side, side)
        if pixel_values.dim() != 4 or tuple(pixel_values.shape[1:]) != expected:
            raise ValueError(
                f"pixel_values must have shape (images, {', '.join(map(str, expected))}), got {tuple(pixel_values.shape)}"
            )
        return pixel_values

    def embed_multimodal(self, **kwargs: object) -> MultiModalEmbeddings:
        pixel_values = self._pixel_values(**kwargs)
        if pixel_values is None:
            return []
        features = self._tower_features(pixel_values)
        return list(self.multi_modal_projector(features))

    def forward(
        self,
        input_ids: torch.Tensor | None,
        positions: torch.Tensor,
        intermediate_tensors: IntermediateTensors | None = None,
        inputs_embeds: torch.Tensor | None = None,
        **kwargs: object,
    ) -> torch.Tensor | IntermediateTensors:
        if intermediate_tensors is not None:
            inputs_embeds = None
        return self.language_model.model(input_ids, positions, intermediate_tensors, inputs_embeds=inputs_embeds)

    def compute_logits(self, hidden_states: torch.Tensor) -> torch.Tensor | None:
        return self.language_model.compute_logits(hidden_states)

    def load_weights(self, weights: Iterable[tuple[str, torch.Tensor]]) -> set[str]:
        return AutoWeightsLoader(self).load_weights(weights, mapper=self.hf_to_vllm_mapper)
