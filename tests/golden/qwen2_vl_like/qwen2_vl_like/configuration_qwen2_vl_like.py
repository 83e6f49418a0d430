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
from typing import TYPE_CHECKING

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
    from .image_processing_pil_qwen2_vl_like import Qwen2VlLikeImageProcessorPil  # noqa: F401
    from .image_processing_qwen2_vl_like import Qwen2VlLikeImageProcessor  # noqa: F401
    from .processing_qwen2_vl_like import Qwen2VlLikeProcessor  # noqa: F401


# Defaults of the sub-configs: `Qwen2VlLikeConfig()` builds the model of the spec.
VISION_CONFIG_DEFAULTS = {
    "embed_dim": 32,
    "mlp_ratio": 2,
    "depth": 2,
    "num_heads": 2,
    "in_channels": 3,
    "patch_size": 14,
    "spatial_merge_size": 2,
    "temporal_patch_size": 2,
    "hidden_size": 64,
}


TEXT_CONFIG_DEFAULTS = {
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
}


# The `auto_map` of a saved folder (transformers' remote code): each Auto class and the class, in a module of this
# package, that it loads. The image processor names both backends; `backend=` picks one.
AUTO_MAP = {
    "AutoConfig": "configuration_qwen2_vl_like.Qwen2VlLikeConfig",
    "AutoModel": "modeling_qwen2_vl_like.Qwen2VlLikeModel",
    "AutoModelForImageTextToText": "modeling_qwen2_vl_like.Qwen2VlLikeForConditionalGeneration",
    "AutoProcessor": "processing_qwen2_vl_like.Qwen2VlLikeProcessor",
    "AutoImageProcessor": {
        "pil": "image_processing_pil_qwen2_vl_like.Qwen2VlLikeImageProcessorPil",
        "torchvision": "image_processing_qwen2_vl_like.Qwen2VlLikeImageProcessor",
    },
}


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
    if SubConfigSpec is not None:
        sub_configs_defaults = {
            "vision_config": SubConfigSpec(
                config_class=AutoConfig, model_type="qwen2_vl_vision", init_kwargs=VISION_CONFIG_DEFAULTS
            ),
            "text_config": SubConfigSpec(
                config_class=AutoConfig, model_type="qwen2_vl_text", init_kwargs=TEXT_CONFIG_DEFAULTS
            ),
        }
    else:
        sub_configs = {"vision_config": AutoConfig, "text_config": AutoConfig}

    vision_config: dict | PreTrainedConfig | None = None
    text_config: dict | PreTrainedConfig | None = None
    image_token_index: int = 155
    tie_word_embeddings: bool = False

    def __post_init__(self, **kwargs):
        if SubConfigSpec is None:  # what `sub_configs_defaults` does in transformers >= 5.20
            for key, model_type, defaults in (
                ("vision_config", "qwen2_vl_vision", VISION_CONFIG_DEFAULTS),
                ("text_config", "qwen2_vl_text", TEXT_CONFIG_DEFAULTS),
            ):
                value = getattr(self, key)
                value = defaults if value is None else value
                if isinstance(value, dict):
                    setattr(self, key, CONFIG_MAPPING[value.get("model_type", model_type)](**value))
        super().__post_init__(**kwargs)

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


Qwen2VlLikeConfig.register_for_auto_class()


__all__ = ["Qwen2VlLikeConfig"]
