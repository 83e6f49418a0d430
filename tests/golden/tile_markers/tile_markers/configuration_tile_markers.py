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

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from huggingface_hub.dataclasses import strict

from transformers.configuration_utils import PreTrainedConfig
from transformers.models.auto import CONFIG_MAPPING, AutoConfig
from transformers.utils import auto_docstring


try:
    from transformers.configuration_utils import SubConfigSpec
except ImportError:  # transformers < 5.20 (e.g. the one vLLM pins): sub-configs are a plain mapping there
    SubConfigSpec = None

# Never run. transformers' remote code ships a module with the modules it imports relatively; every module of the model
# imports this one, so any of them loaded from a saved folder comes with these and can save them again (the modeling
# module, which needs torch, comes with the model).
if TYPE_CHECKING:
    from .image_processing_pil_tile_markers import TileMarkersImageProcessorPil  # noqa: F401
    from .image_processing_tile_markers import TileMarkersImageProcessor  # noqa: F401
    from .processing_tile_markers import TileMarkersProcessor  # noqa: F401


# Defaults of the sub-configs: `TileMarkersConfig()` builds the model of the spec.
VISION_CONFIG_DEFAULTS = {
    "hidden_size": 32,
    "intermediate_size": 64,
    "num_hidden_layers": 2,
    "num_attention_heads": 2,
    "num_channels": 3,
    "image_size": 112,
    "patch_size": 14,
    "vision_use_head": False,
}


TEXT_CONFIG_DEFAULTS = {
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
}


# The `auto_map` of a saved folder (transformers' remote code): each Auto class and the class, in a module of this
# package, that it loads. The image processor names both backends; `backend=` picks one.
AUTO_MAP = {
    "AutoConfig": "configuration_tile_markers.TileMarkersConfig",
    "AutoModel": "modeling_tile_markers.TileMarkersModel",
    "AutoModelForImageTextToText": "modeling_tile_markers.TileMarkersForConditionalGeneration",
    "AutoProcessor": "processing_tile_markers.TileMarkersProcessor",
    "AutoImageProcessor": {
        "pil": "image_processing_pil_tile_markers.TileMarkersImageProcessorPil",
        "torchvision": "image_processing_tile_markers.TileMarkersImageProcessor",
    },
}


@auto_docstring(checkpoint="your-org/tile_markers")
@strict
class TileMarkersConfig(PreTrainedConfig):
    r"""
    projector_type (`str`, *optional*, defaults to `'linear'`):
        Projector from vision features to the text hidden size: `linear`, `mlp{N}x_gelu` (N linear layers with the
        activation between them) or `identity`.
    projector_merge (`Literal["pixel_shuffle", "patch_merge"] | None`, *optional*, defaults to `'pixel_shuffle'`):
        How neighbouring vision features are merged before the projector's MLP: each `factor` x `factor` block of the square feature grid becomes one feature of `factor`^2 times the width, in the channel order of InternVL's, Aya Vision's and Idefics3's pixel shuffle.
    projector_merge_factor (`int`, *optional*, defaults to `2`):
        Side of the block of features merged into one; features per view divide by its square.
    projector_layer_norm (`bool`, *optional*, defaults to `False`):
        Whether a LayerNorm normalises the MLP's input.
    projector_layer_norm_eps (`float`, *optional*, defaults to `1e-05`):
        Epsilon of that LayerNorm.
    projector_intermediate_size (`int | None`, *optional*, defaults to `None`):
        Width of the SwiGLU projector's gated layer, split into value and gate halves.

    Example:

    ```python
    >>> from transformers import TileMarkersConfig, TileMarkersForConditionalGeneration

    >>> # Initializing a configuration with the defaults the model was generated with
    >>> configuration = TileMarkersConfig()

    >>> # Initializing a model (with random weights) from that configuration
    >>> model = TileMarkersForConditionalGeneration(configuration)

    >>> # Accessing the model configuration
    >>> configuration = model.config
    ```"""

    model_type = "tile_markers"
    attribute_map = {"image_token_id": "image_token_index"}
    if SubConfigSpec is not None:
        sub_configs_defaults = {
            "vision_config": SubConfigSpec(
                config_class=AutoConfig, model_type="siglip_vision_model", init_kwargs=VISION_CONFIG_DEFAULTS
            ),
            "text_config": SubConfigSpec(
                config_class=AutoConfig, model_type="llama", init_kwargs=TEXT_CONFIG_DEFAULTS
            ),
        }
    else:
        sub_configs = {"vision_config": AutoConfig, "text_config": AutoConfig}

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    image_token_index: int = 127
    image_seq_length: int = 16
    projector_type: str = "linear"
    projector_hidden_act: str = "gelu"
    vision_feature_select_strategy: Literal["default", "full"] = "full"
    vision_feature_layer: int | list[int] = -1
    multimodal_projector_bias: bool = False
    projector_merge: Literal["pixel_shuffle", "patch_merge"] | None = "pixel_shuffle"
    projector_merge_factor: int = 2
    projector_layer_norm: bool = False
    projector_layer_norm_eps: float = 1e-05
    projector_intermediate_size: int | None = None
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        if SubConfigSpec is None:  # what `sub_configs_defaults` does in transformers >= 5.20
            for key, model_type, defaults in (
                ("vision_config", "siglip_vision_model", VISION_CONFIG_DEFAULTS),
                ("text_config", "llama", TEXT_CONFIG_DEFAULTS),
            ):
                value = getattr(self, key)
                value = defaults if value is None else value
                if isinstance(value, dict):
                    setattr(self, key, CONFIG_MAPPING[value.get("model_type", model_type)](**value))
        super().__post_init__(**kwargs)
        # Checkpoints may record tying on the text config only.
        if not self.tie_word_embeddings and self.text_config.tie_word_embeddings:
            self.tie_word_embeddings = self.text_config.tie_word_embeddings

    def save_pretrained(self, save_directory, *args, **kwargs):
        """Save as transformers does, with the code of the model: the modules of `AUTO_MAP` found beside this one are
        copied into `save_directory`, and `auto_map` names each class whose module is there. The folder then loads
        with `trust_remote_code=True`, without this package."""
        folder = Path(save_directory)
        folder.mkdir(parents=True, exist_ok=True)
        auto_map = {
            key: value for key, value in (getattr(self, "auto_map", None) or {}).items() if key not in AUTO_MAP
        }
        for auto_class, references in AUTO_MAP.items():
            references_list = references.values() if isinstance(references, dict) else [references]
            modules = [f"{reference.split('.')[0]}.py" for reference in references_list]
            for module in modules:
                source, target = Path(__file__).with_name(module), folder / module
                if source.is_file() and not (target.is_file() and target.samefile(source)):
                    shutil.copyfile(source, target)
            if all((folder / module).is_file() for module in modules):
                auto_map[auto_class] = references
        self.auto_map = auto_map
        super().save_pretrained(save_directory, *args, **kwargs)


TileMarkersConfig.register_for_auto_class()


__all__ = ["TileMarkersConfig"]
