"""The connector between the vision tower and the decoder: an optional merge of neighbouring features, an optional
LayerNorm, then an MLP. The component owns its config fields, its template blocks and its token factor."""

from __future__ import annotations

from dataclasses import dataclass

MERGE_DOCS = {
    "pixel_shuffle": "each `factor` x `factor` block of the square feature grid becomes one feature of `factor`^2 "
    "times the width, in the channel order of InternVL's, Aya Vision's and Idefics3's pixel shuffle",
    "patch_merge": "each `factor` x `factor` block of the square feature grid is unfolded channel-major and mapped "
    "back to the vision width by a learned linear layer, as Mistral3's patch merger does",
}


@dataclass(frozen=True)
class ConfigField:
    """One attribute of the generated config class, documented in its docstring."""

    name: str
    annotation: str
    value: object  # rendered with the `py` filter
    doc: str


@dataclass(frozen=True)
class Connector:
    mlp: str  # linear | identity | mlpNx_gelu | swiglu
    bias: bool
    merge: str | None = None  # pixel_shuffle | patch_merge
    factor: int = 1  # side of the merged block; 1 without a merge
    layer_norm: bool = False
    layer_norm_eps: float = 1e-5
    intermediate_size: int | None = None  # swiglu's gated width

    @classmethod
    def from_spec(cls, projector, text_hidden_size: int) -> Connector:
        merge = projector.merge
        return cls(
            mlp=projector.type,
            bias=projector.bias,
            merge=None if merge is None else merge.kind,
            factor=1 if merge is None else merge.factor,
            layer_norm=projector.layer_norm,
            layer_norm_eps=projector.layer_norm_eps,
            intermediate_size=(projector.intermediate_size or text_hidden_size)
            if projector.type == "swiglu"
            else None,
        )

    @property
    def plain(self) -> bool:
        """LLaVA's projector (an MLP and nothing else): rendered by the block it always had."""
        return self.merge is None and not self.layer_norm and self.mlp != "swiglu"

    @property
    def block(self) -> str:
        return "blocks/connectors/mlp.py.jinja" if self.plain else "blocks/connectors/projector.py.jinja"

    @property
    def merge_block(self) -> str | None:
        """The module-level merge function and the lines the projector needs for it."""
        return None if self.merge is None else f"blocks/connectors/{self.merge}.py.jinja"

    def mlp_input_width(self, vision_width: int) -> int:
        """Width of the features the MLP sees: a pixel shuffle stacks factor^2 of them, a patch merge maps back."""
        return vision_width * self.factor**2 if self.merge == "pixel_shuffle" else vision_width

    @property
    def swiglu(self) -> bool:
        return self.mlp == "swiglu"

    @property
    def depth(self) -> int:
        """Linear layers of the MLP (swiglu has two)."""
        return {"identity": 0, "linear": 1}.get(self.mlp, 2)

    @property
    def config_fields(self) -> list[ConfigField]:
        if self.plain:
            return []
        merge_doc = MERGE_DOCS[self.merge] if self.merge else "no merge"
        return [
            ConfigField(
                "projector_merge",
                'Literal["pixel_shuffle", "patch_merge"] | None',
                self.merge,
                f"How neighbouring vision features are merged before the projector's MLP: {merge_doc}.",
            ),
            ConfigField(
                "projector_merge_factor",
                "int",
                self.factor,
                "Side of the block of features merged into one; features per view divide by its square.",
            ),
            ConfigField(
                "projector_layer_norm", "bool", self.layer_norm, "Whether a LayerNorm normalises the MLP's input."
            ),
            ConfigField("projector_layer_norm_eps", "float", self.layer_norm_eps, "Epsilon of that LayerNorm."),
            ConfigField(
                "projector_intermediate_size",
                "int | None",
                self.intermediate_size,
                "Width of the SwiGLU projector's gated layer, split into value and gate halves.",
            ),
        ]
