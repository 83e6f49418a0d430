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
"""The vLLM entry point of LlavaVllm, importable without vLLM: the number of image tokens per image and `register()`.

`register()` is the package's `vllm.general_plugins` entry point: vLLM calls it in every process it starts, so the
model is registered lazily (by name; `vllm_llava_vllm` is imported only when vLLM builds the model).
"""

from .processing_llava_vllm import tokens_per_view


ARCHITECTURE = "LlavaVllmForConditionalGeneration"
MODEL_CLASS = "llava_vllm.vllm_llava_vllm:LlavaVllmForConditionalGeneration"
# Tokens the clip tower adds besides the patches (a CLS token); feature selection may drop it.
NUM_ADDITIONAL_IMAGE_TOKENS = 1


def num_image_tokens(config) -> int:
    """Image features (and so placeholder tokens) per image: every image is resized or cropped to the tower's square
    input, so this is the count of one view of that size (the package's one token formula)."""
    side = config.vision_config.image_size
    return tokens_per_view(
        side, side, config.vision_config.patch_size, NUM_ADDITIONAL_IMAGE_TOKENS, config.vision_feature_select_strategy
    )


def register() -> None:
    """Register the model with vLLM's model registry."""
    from vllm import ModelRegistry

    ModelRegistry.register_model(ARCHITECTURE, MODEL_CLASS)
