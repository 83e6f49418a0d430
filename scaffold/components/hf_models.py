"""Facts about the transformers models a spec may name as its tower or decoder: the config class, its fields and
their annotations, the base model class and (for decoders) the causal-LM class.

The models scaffold is tested with are plain data here (`KNOWN`), so rendering them never imports transformers
(importing it costs seconds, as it imports torch); tests/test_hf_models.py checks every entry against the installed
package. Any other model type is read from the installed transformers when a spec names it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cache

# Fields every config inherits from PreTrainedConfig: not a model's own settings, never set from a spec.
BASE_CONFIG_FIELDS = frozenset(
    {
        "architectures",
        "chunk_size_feed_forward",
        "dtype",
        "id2label",
        "is_encoder_decoder",
        "label2id",
        "output_hidden_states",
        "problem_type",
        "return_dict",
        "transformers_version",
    }
)


@dataclass(frozen=True)
class ModelFacts:
    config_class: str
    model_class: str | None  # what AutoModel builds from the config
    causal_lm_class: str | None  # what AutoModelForCausalLM builds (decoders)
    fields: tuple[tuple[str, str], ...]  # (name, annotation as transformers writes it), in declaration order

    @property
    def field_types(self) -> dict[str, str]:
        return dict(self.fields)


class UnknownModelType(LookupError):
    """A model type that neither scaffold's facts nor the installed transformers know."""


def _annotation(field: dataclasses.Field) -> str:
    kind = field.type
    if isinstance(kind, str):
        return kind
    return kind.__name__ if isinstance(kind, type) else repr(kind).replace("typing.", "")


def facts_from_transformers(model_type: str) -> ModelFacts:
    """Read the facts from the installed transformers (slow: imports it)."""
    try:
        from transformers.models.auto.configuration_auto import CONFIG_MAPPING
        from transformers.models.auto.modeling_auto import MODEL_FOR_CAUSAL_LM_MAPPING_NAMES, MODEL_MAPPING_NAMES
    except ImportError as exc:  # pragma: no cover - transformers is a dependency of every model spec's use
        raise UnknownModelType(f"needs transformers installed to check {model_type!r} ({exc})") from None
    if model_type not in CONFIG_MAPPING:
        raise UnknownModelType(f"{model_type!r} is not a model type of the installed transformers")
    config_class = CONFIG_MAPPING[model_type]
    fields = tuple(
        (f.name, _annotation(f)) for f in dataclasses.fields(config_class) if f.name not in BASE_CONFIG_FIELDS
    )
    return ModelFacts(
        config_class=config_class.__name__,
        model_class=MODEL_MAPPING_NAMES.get(model_type),
        causal_lm_class=MODEL_FOR_CAUSAL_LM_MAPPING_NAMES.get(model_type),
        fields=fields,
    )


@cache
def model_facts(model_type: str) -> ModelFacts:
    """The facts of a model type: from `KNOWN`, else from the installed transformers."""
    if model_type in KNOWN:
        return KNOWN[model_type]
    return facts_from_transformers(model_type)


# Written by facts_from_transformers for transformers 5.23.0.
KNOWN: dict[str, ModelFacts] = {
    "clip_vision_model": ModelFacts(
        config_class="CLIPVisionConfig",
        model_class="CLIPVisionModel",
        causal_lm_class=None,
        fields=(
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("projection_dim", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_channels", "int"),
            ("image_size", "int | list[int] | tuple[int, int] | None"),
            ("patch_size", "int | list[int] | tuple[int, int] | None"),
            ("hidden_act", "str"),
            ("layer_norm_eps", "float"),
            ("attention_dropout", "int | float | None"),
            ("initializer_range", "float"),
            ("initializer_factor", "float"),
        ),
    ),
    "siglip_vision_model": ModelFacts(
        config_class="SiglipVisionConfig",
        model_class="SiglipVisionModel",
        causal_lm_class=None,
        fields=(
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_channels", "int"),
            ("image_size", "int | list[int] | tuple[int, int]"),
            ("patch_size", "int | list[int] | tuple[int, int]"),
            ("hidden_act", "str"),
            ("layer_norm_eps", "float"),
            ("attention_dropout", "float | int"),
            ("vision_use_head", "bool"),
        ),
    ),
    "siglip2_vision_model": ModelFacts(
        config_class="Siglip2VisionConfig",
        model_class="Siglip2VisionModel",
        causal_lm_class=None,
        fields=(
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_channels", "int"),
            ("patch_size", "int | list[int] | tuple[int, int]"),
            ("hidden_act", "str"),
            ("layer_norm_eps", "float"),
            ("attention_dropout", "float | int"),
            ("vision_use_head", "bool"),
            ("num_patches", "int"),
        ),
    ),
    "internvl_vision": ModelFacts(
        config_class="InternVLVisionConfig",
        model_class="InternVLVisionModel",
        causal_lm_class=None,
        fields=(
            ("hidden_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("attention_bias", "bool"),
            ("use_qk_norm", "bool"),
            ("intermediate_size", "int"),
            ("hidden_act", "str"),
            ("hidden_dropout_prob", "float | int"),
            ("attention_dropout", "float | int"),
            ("projection_dropout", "float | int"),
            ("initializer_range", "float"),
            ("norm_type", "str"),
            ("layer_norm_eps", "float"),
            ("image_size", "int | list[int] | tuple[int, ...]"),
            ("patch_size", "int | list[int] | tuple[int, ...]"),
            ("num_channels", "int"),
            ("use_mask_token", "bool"),
            ("use_absolute_position_embeddings", "bool"),
            ("layer_scale_init_value", "float"),
            ("use_mean_pooling", "bool"),
        ),
    ),
    "llama": ModelFacts(
        config_class="LlamaConfig",
        model_class="LlamaModel",
        causal_lm_class="LlamaForCausalLM",
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int | None"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("pad_token_id", "int | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
            ("pretraining_tp", "int | None"),
            ("tie_word_embeddings", "bool"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("attention_bias", "bool"),
            ("attention_dropout", "int | float | None"),
            ("mlp_bias", "bool"),
            ("head_dim", "int | None"),
        ),
    ),
    "qwen2": ModelFacts(
        config_class="Qwen2Config",
        model_class="Qwen2Model",
        causal_lm_class="Qwen2ForCausalLM",
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int | None"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("tie_word_embeddings", "bool"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("use_sliding_window", "bool"),
            ("sliding_window", "int | None"),
            ("max_window_layers", "int"),
            ("layer_types", "list[str] | None"),
            ("attention_dropout", "float | int"),
            ("pad_token_id", "int | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
        ),
    ),
    "qwen3": ModelFacts(
        config_class="Qwen3Config",
        model_class="Qwen3Model",
        causal_lm_class="Qwen3ForCausalLM",
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int | None"),
            ("head_dim", "int"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("tie_word_embeddings", "bool"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("attention_bias", "bool"),
            ("use_sliding_window", "bool"),
            ("sliding_window", "int | None"),
            ("max_window_layers", "int"),
            ("layer_types", "list[str] | None"),
            ("attention_dropout", "float | int"),
            ("pad_token_id", "int | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
        ),
    ),
    "mistral": ModelFacts(
        config_class="MistralConfig",
        model_class="MistralModel",
        causal_lm_class="MistralForCausalLM",
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int"),
            ("head_dim", "int | None"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("pad_token_id", "int | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
            ("tie_word_embeddings", "bool"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("sliding_window", "int | None"),
            ("attention_dropout", "float | int"),
        ),
    ),
    "gemma2": ModelFacts(
        config_class="Gemma2Config",
        model_class="Gemma2Model",
        causal_lm_class="Gemma2ForCausalLM",
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int"),
            ("head_dim", "int"),
            ("hidden_activation", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("pad_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
            ("bos_token_id", "int | None"),
            ("tie_word_embeddings", "bool"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("attention_bias", "bool"),
            ("attention_dropout", "int | float | None"),
            ("query_pre_attn_scalar", "int"),
            ("sliding_window", "int | None"),
            ("layer_types", "list[str] | None"),
            ("final_logit_softcapping", "float | None"),
            ("attn_logit_softcapping", "float | None"),
            ("use_bidirectional_attention", "bool | None"),
        ),
    ),
    "cohere2": ModelFacts(
        config_class="Cohere2Config",
        model_class="Cohere2Model",
        causal_lm_class="Cohere2ForCausalLM",
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("logit_scale", "float"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int | None"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("layer_norm_eps", "float"),
            ("use_cache", "bool"),
            ("pad_token_id", "int | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
            ("tie_word_embeddings", "bool"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("attention_bias", "bool"),
            ("attention_dropout", "float | int"),
            ("sliding_window", "int | None"),
            ("layer_types", "list[str] | None"),
        ),
    ),
    "qwen2_vl_vision": ModelFacts(
        config_class="Qwen2VLVisionConfig",
        model_class=None,
        causal_lm_class=None,
        fields=(
            ("depth", "int"),
            ("embed_dim", "int"),
            ("hidden_size", "int"),
            ("hidden_act", "str"),
            ("mlp_ratio", "int"),
            ("num_heads", "int"),
            ("in_channels", "int"),
            ("patch_size", "int | list[int] | tuple[int, int]"),
            ("spatial_merge_size", "int"),
            ("temporal_patch_size", "int | list[int] | tuple[int, int]"),
            ("initializer_range", "float"),
            ("rope_parameters", "dict | None"),
        ),
    ),
    "qwen2_5_vl_vision": ModelFacts(
        config_class="Qwen2_5_VLVisionConfig",
        model_class="Qwen2_5_VisionTransformerPretrainedModel",
        causal_lm_class=None,
        fields=(
            ("depth", "int"),
            ("hidden_size", "int"),
            ("hidden_act", "str"),
            ("intermediate_size", "int"),
            ("num_heads", "int"),
            ("in_channels", "int"),
            ("patch_size", "int | list[int] | tuple[int, int]"),
            ("spatial_merge_size", "int"),
            ("temporal_patch_size", "int | list[int] | tuple[int, int]"),
            ("tokens_per_second", "int"),
            ("window_size", "int"),
            ("out_hidden_size", "int"),
            ("fullatt_block_indexes", "list[int] | tuple[int, ...]"),
            ("initializer_range", "float"),
            ("rope_parameters", "dict | None"),
        ),
    ),
    "qwen2_vl_text": ModelFacts(
        config_class="Qwen2VLTextConfig",
        model_class="Qwen2VLTextModel",
        causal_lm_class=None,
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int | None"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("use_sliding_window", "bool | None"),
            ("sliding_window", "int | None"),
            ("max_window_layers", "int | None"),
            ("layer_types", "list[str] | None"),
            ("attention_dropout", "float | int | None"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
            ("pad_token_id", "int | None"),
        ),
    ),
    "qwen2_5_vl_text": ModelFacts(
        config_class="Qwen2_5_VLTextConfig",
        model_class="Qwen2_5_VLTextModel",
        causal_lm_class=None,
        fields=(
            ("vocab_size", "int"),
            ("hidden_size", "int"),
            ("intermediate_size", "int"),
            ("num_hidden_layers", "int"),
            ("num_attention_heads", "int"),
            ("num_key_value_heads", "int | None"),
            ("hidden_act", "str"),
            ("max_position_embeddings", "int"),
            ("initializer_range", "float"),
            ("rms_norm_eps", "float"),
            ("use_cache", "bool"),
            ("use_sliding_window", "bool | None"),
            ("sliding_window", "int | None"),
            ("max_window_layers", "int | None"),
            ("layer_types", "list[str] | None"),
            ("attention_dropout", "float | int | None"),
            ("rope_parameters", "transformers.modeling_rope_utils.RopeParameters | dict | None"),
            ("bos_token_id", "int | None"),
            ("eos_token_id", "int | list[int] | None"),
            ("pad_token_id", "int | None"),
        ),
    ),
}


def _top_level_parts(annotation: str) -> list[str]:
    """`int | list[int] | None` -> ["int", "list[int]", "None"] (a `|` inside brackets stays)."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(annotation):
        depth += ch == "["
        depth -= ch == "]"
        if ch == "|" and depth == 0:
            parts.append(annotation[start:i].strip())
            start = i + 1
    parts.append(annotation[start:].strip())
    return parts


def _matches(part: str, value: object) -> bool:
    head, _, inner = part.partition("[")
    inner = inner[:-1] if inner else ""
    if part == "None":
        return value is None
    if part == "bool":
        return isinstance(value, bool)
    if part == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if part == "float":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if part == "str":
        return isinstance(value, str)
    if head == "dict":
        return isinstance(value, dict)
    if head in ("list", "tuple"):
        if not isinstance(value, list):
            return False
        items = [p.strip() for p in _top_level_parts(inner.replace(",", "|"))] if inner else []
        items = [p for p in items if p != "..."]
        return not items or all(any(_matches(p, v) for p in items) for v in value)
    if head == "Literal":
        return value in [v.strip().strip("'\"") for v in inner.split(",")]
    return True  # a class of transformers' own (RopeParameters, a sub-config): left to the config class


def value_problem(annotation: str, value: object) -> str | None:
    """Why `value` (from YAML) cannot be the value of a config field of this annotation, or None."""
    if any(_matches(part, value) for part in _top_level_parts(annotation)):
        return None
    return f"expected {annotation}, got {value!r}"


def config_value(annotation: str, value: object) -> object:
    """The value as the config class takes it: transformers' strict configs refuse an int for a float-only field."""
    parts = _top_level_parts(annotation)
    if isinstance(value, int) and not isinstance(value, bool) and "float" in parts and "int" not in parts:
        return float(value)
    return value


def config_key_problems(
    section: str,
    facts: ModelFacts,
    typed: dict[str, object],
    extra: dict[str, object],
    set_by: dict[str, str] | None = None,
) -> list[tuple[tuple[str, ...], str]]:
    """Keys of a spec section that the config class lacks or would refuse, at their key paths: `typed` are the
    section's own keys that reach the config, `extra` its `config` mapping (any other field of the class), `set_by`
    the config fields the spec sets elsewhere (field -> that spec key), which `extra` may not set either."""
    fields = facts.field_types
    out: list[tuple[tuple[str, ...], str]] = []
    for key in typed:
        if key not in fields:
            out.append(((section, key), f"{facts.config_class} has no {key}{_did_you_mean(key, fields)}"))
    for key, value in extra.items():
        where = (section, "config", key)
        if key in typed:
            out.append((where, f"set it as {section}.{key}"))
        elif set_by and key in set_by:
            out.append((where, f"set by {set_by[key]}"))
        elif key not in fields:
            out.append((where, f"{facts.config_class} has no {key}{_did_you_mean(key, fields)}"))
        elif problem := value_problem(fields[key], value):
            out.append((where, problem))
    return out


def _did_you_mean(key: str, fields: dict[str, str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, fields, n=1)
    return f" (did you mean {close[0]}?)" if close else ""
