"""The language model: any decoder of transformers with a base model (AutoModel) and a causal-LM head class. The
component owns its model type and config keys, and what the head does to the logits besides the linear layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scaffold.components.hf_models import ModelFacts, config_value

# The spec's typed text keys, in the order they reach the config; (key, always written).
TYPED_KEYS = (
    ("vocab_size", True),
    ("hidden_size", True),
    ("intermediate_size", True),
    ("num_hidden_layers", True),
    ("num_attention_heads", True),
    ("num_key_value_heads", True),
    ("max_position_embeddings", True),
    ("hidden_act", False),
    ("rms_norm_eps", False),
    ("tie_word_embeddings", True),
    ("bos_token_id", True),
    ("eos_token_id", True),
    ("pad_token_id", True),
)

# Decoders the generated vLLM model is tested with (vLLM builds them from its own registry, by the causal-LM class;
# tests/test_vllm.py runs each).
VLLM_DECODERS = frozenset({"llama", "mistral", "qwen2", "qwen3"})

# Decoders with M-RoPE (three rows of positions: temporal, height, width; `rope_parameters.mrope_section` splits the
# rotary half-dimensions among them). transformers has no causal-LM class for them: the VLM's head is its own.
# They need the native layout's image grids.
MROPE_DECODERS = frozenset({"qwen2_vl_text", "qwen2_5_vl_text"})

# The M-RoPE decoders the native layout's vLLM model serves, each as the vLLM registry's causal LM of the same layers
# (its rotary embedding takes `mrope_section` from the text config's `rope_parameters`).
VLLM_MROPE_DECODERS = {"qwen2_vl_text": "Qwen2ForCausalLM", "qwen2_5_vl_text": "Qwen2ForCausalLM"}


@dataclass(frozen=True)
class Decoder:
    family: str  # as the spec names it: the decoder's model type
    facts: ModelFacts
    config_kwargs: dict[str, Any]

    @classmethod
    def from_spec(cls, text, facts: ModelFacts) -> Decoder:
        return cls(text.family, facts, _config_kwargs(text, facts))

    @property
    def model_type(self) -> str:
        return self.family

    @property
    def mrope(self) -> bool:
        return self.family in MROPE_DECODERS

    @property
    def softcapping(self) -> bool:
        """The causal-LM head caps the logits with tanh (Gemma 2's `final_logit_softcapping`); the VLM's head does
        too, as PaliGemma's does. Cohere's `logit_scale` is not applied, as Aya Vision's and Cohere2-Vision's heads
        do not."""
        return "final_logit_softcapping" in self.facts.field_types


def _config_kwargs(text, facts: ModelFacts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    fields = facts.field_types
    for key, always in TYPED_KEYS:
        value = getattr(text, key)
        if key == "num_key_value_heads" and value is None:
            value = text.num_attention_heads
        if value is None and not always:
            continue
        if key == "tie_word_embeddings" and key not in fields:  # the VLM config's alone (Qwen2-VL's text config)
            continue
        if key in fields or key in text.model_fields_set:  # a key the config lacks is reported by the spec checks
            out[key] = value
    out.update({key: config_value(fields.get(key, ""), value) for key, value in text.config.items()})
    return out
