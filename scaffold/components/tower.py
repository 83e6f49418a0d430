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
ALIASES = {"clip": "clip_vision_model", "siglip": "siglip_vision_model", "siglip2": "siglip2_vision_model"}


@dataclass(frozen=True)
class Traits:
    has_cls: bool  # hidden states start with a CLS token
    # How the tower takes one square view of `image_size` pixels: "pixels" (channels, height, width) or "patches"
    # (SigLIP2: the flattened patches of the view with their grid shape and an attention mask).
    inputs: str = "pixels"
    # How the config holds the view size: "image_size" (the int it is given), "image_size_pair" (a pair it makes of
    # the int: InternViT, which does the same with patch_size), or "num_patches" (SigLIP2: patches per view, its
    # position embeddings' count).
    size_key: str = "image_size"
    fixed: dict[str, Any] = field(default_factory=dict)  # config values the model needs whatever the spec says
    vllm: tuple[str, str] | None = None  # vLLM's own implementation: (module under vllm.model_executor.models, class)


# The pooling heads of SigLIP towers are dead weight in a VLM, which reads hidden states.
TRAITS: dict[str, Traits] = {
    "clip_vision_model": Traits(has_cls=True, vllm=("clip", "CLIPVisionModel")),
    "siglip_vision_model": Traits(
        has_cls=False, fixed={"vision_use_head": False}, vllm=("siglip", "SiglipVisionModel")
    ),
    "siglip2_vision_model": Traits(
        has_cls=False, inputs="patches", size_key="num_patches", fixed={"vision_use_head": False}
    ),
    "internvl_vision": Traits(has_cls=True, size_key="image_size_pair"),
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
    def from_spec(cls, vision, facts: ModelFacts) -> Tower:
        model_type = tower_model_type(vision.family)
        known = TRAITS.get(model_type)
        traits = known or Traits(has_cls=bool(vision.cls_token))
        if vision.cls_token is not None and known is not None:
            traits = Traits(**{**traits.__dict__, "has_cls": vision.cls_token})
        return cls(vision.family, model_type, facts, traits, _config_kwargs(vision, traits, facts))

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
