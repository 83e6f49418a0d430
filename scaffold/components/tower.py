"""The vision tower: any vision model of transformers (AutoModel builds it from its config). The component owns the
tower's model type and config keys, whether its hidden states start with a CLS token, and how the model calls it.

scaffold knows the traits of the towers it is tested with (`TRAITS`); any other vision model type of the installed
transformers can be named too, with `vision.cls_token` saying what scaffold cannot know about it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scaffold.components.hf_models import ModelFacts, config_value

# Short spec names of the towers' model types.
ALIASES = {
    "clip": "clip_vision_model",
    "siglip": "siglip_vision_model",
    "siglip2": "siglip2_vision_model",
    "qwen2_vl": "qwen2_vl_vision",
    "qwen2_5_vl": "qwen2_5_vl_vision",
}


@dataclass(frozen=True)
class Traits:
    has_cls: bool  # hidden states start with a CLS token
    # How the tower takes one square view of `image_size` pixels: "pixels" (channels, height, width) or "patches"
    # (SigLIP2: the flattened patches of the view with their grid shape and an attention mask); or "native" (Qwen2-VL:
    # every image's flattened patches at its own resolution with `grid_thw`, merged by the tower's own patch merger,
    # which is the connector).
    inputs: str = "pixels"
    # How the config holds the view size: "image_size" (the int it is given), "image_size_pair" (a pair it makes of
    # the int: InternViT, which does the same with patch_size), or "num_patches" (SigLIP2: patches per view, its
    # position embeddings' count).
    size_key: str = "image_size"
    fixed: dict[str, Any] = field(default_factory=dict)  # config values the model needs whatever the spec says
    vllm: tuple[str, str] | None = None  # vLLM's own implementation: (module under vllm.model_executor.models, class)
    vllm_kwargs: dict[str, Any] = field(default_factory=dict)  # what that class takes besides the common arguments
    # Native towers: the config's names of the spec's typed keys, where they differ ("intermediate_size" to
    # "mlp_ratio" gives the ratio to hidden_size, as Qwen2-VL's config holds it) ...
    key_map: dict[str, str] = field(default_factory=dict)
    # ... the config key of the merger's output width (text.hidden_size) ...
    merger_width: str | None = None
    # ... and the class that builds the tower where AutoModel has none: (module under transformers.models, class).
    model_class: tuple[str, str] | None = None


# Qwen2-VL's and Qwen2.5-VL's vision configs name the layers, heads and channels otherwise.
_NATIVE_KEYS = {"num_hidden_layers": "depth", "num_attention_heads": "num_heads", "num_channels": "in_channels"}

# The pooling heads of SigLIP towers are dead weight in a VLM, which reads hidden states.
TRAITS: dict[str, Traits] = {
    "clip_vision_model": Traits(has_cls=True, vllm=("clip", "CLIPVisionModel")),
    "siglip_vision_model": Traits(
        has_cls=False,
        fixed={"vision_use_head": False},
        vllm=("siglip", "SiglipVisionModel"),
        vllm_kwargs={"use_head": False},
    ),
    "siglip2_vision_model": Traits(
        has_cls=False, inputs="patches", size_key="num_patches", fixed={"vision_use_head": False}
    ),
    "internvl_vision": Traits(has_cls=True, size_key="image_size_pair"),
    "qwen2_vl_vision": Traits(
        has_cls=False,
        inputs="native",
        key_map={**_NATIVE_KEYS, "hidden_size": "embed_dim", "intermediate_size": "mlp_ratio"},
        merger_width="hidden_size",
        model_class=("qwen2_vl.modeling_qwen2_vl", "Qwen2VisionTransformerPretrainedModel"),
    ),
    "qwen2_5_vl_vision": Traits(has_cls=False, inputs="native", key_map=_NATIVE_KEYS, merger_width="out_hidden_size"),
}

# The native layout's sizes (image_processor.layout) that the native towers' configs hold too: stated once, there.
NATIVE_LAYOUT_KEYS = {
    "patch_size": "patch_size",
    "merge_size": "spatial_merge_size",
    "temporal_patch_size": "temporal_patch_size",
}


def tower_model_type(family: str) -> str:
    return ALIASES.get(family, family)


@dataclass(frozen=True)
class Tower:
    family: str  # as the spec names it
    model_type: str
    facts: ModelFacts
    traits: Traits
    config_kwargs: dict[str, Any]

    @classmethod
    def from_spec(cls, vision, facts: ModelFacts, layout=None, text_hidden_size: int | None = None) -> Tower:
        """`layout` and `text_hidden_size` (the native towers' patch sizes and merger width) are needed for native
        towers only."""
        model_type = tower_model_type(vision.family)
        known = TRAITS.get(model_type)
        traits = known or Traits(has_cls=bool(vision.cls_token))
        if vision.cls_token is not None and known is not None:
            traits = Traits(**{**traits.__dict__, "has_cls": vision.cls_token})
        kwargs = _config_kwargs(vision, traits, facts)
        if traits.inputs == "native":
            kwargs = native_config_kwargs(kwargs, traits, layout, text_hidden_size)
        return cls(vision.family, model_type, facts, traits, kwargs)

    @property
    def native(self) -> bool:
        """The tower takes every image at its own resolution and merges its patches itself (Qwen2-VL)."""
        return self.traits.inputs == "native"

    @property
    def model_class(self) -> tuple[str, str] | None:
        return self.traits.model_class

    @property
    def has_cls(self) -> bool:
        return self.traits.has_cls

    @property
    def patches(self) -> bool:
        """The model cuts each view into flattened patches before the tower (SigLIP2)."""
        return self.traits.inputs == "patches"

    @property
    def vllm(self) -> tuple[str, str] | None:
        return self.traits.vllm

    @property
    def vllm_kwargs(self) -> dict[str, Any]:
        """Keyword arguments of vLLM's own tower class beyond the common ones (SigLIP's: no pooling head)."""
        return self.traits.vllm_kwargs

    def side(self, config: str) -> str:
        """Python expression of the view side in pixels, read from the tower config named `config`."""
        if self.traits.size_key == "num_patches":
            return f"int({config}.num_patches**0.5) * {self.patch(config)}"
        return f"{config}.image_size{self._first}"

    def patch(self, config: str) -> str:
        """Python expression of the patch side, read from the tower config named `config`."""
        return f"{config}.patch_size{self._first}"

    @property
    def _first(self) -> str:
        return "[0]" if self.traits.size_key == "image_size_pair" else ""


# The spec's typed vision keys, in the order they reach the config.
TYPED_KEYS = (
    "hidden_size",
    "intermediate_size",
    "num_hidden_layers",
    "num_attention_heads",
    "num_channels",
    "image_size",
    "patch_size",
    "hidden_act",
    "layer_norm_eps",
)


def _config_kwargs(vision, traits: Traits, facts: ModelFacts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in TYPED_KEYS:
        value = getattr(vision, key)
        if value is None:
            continue
        if key == "image_size" and traits.size_key == "num_patches":
            out["num_patches"] = (value // vision.patch_size) ** 2
            continue
        out[key] = value
    out.update(traits.fixed)
    types = facts.field_types
    out.update({key: config_value(types.get(key, ""), value) for key, value in vision.config.items()})
    return out


def native_config_kwargs(
    kwargs: dict[str, Any], traits: Traits, layout, text_hidden_size: int | None
) -> dict[str, Any]:
    """A native tower's config values: the typed keys under the config's names, the layout's patch sizes, the
    merger's output width (the text width), then the spec's `config` mapping."""
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if key in TYPED_KEYS:
            name = traits.key_map.get(key, key)
            out[name] = value // kwargs["hidden_size"] if name == "mlp_ratio" else value
    for key, name in NATIVE_LAYOUT_KEYS.items():
        out[name] = getattr(layout, key)
    out[traits.merger_width] = text_hidden_size
    out.update({key: value for key, value in kwargs.items() if key not in TYPED_KEYS})
    return out
