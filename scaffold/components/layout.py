"""The layout: how an image becomes tower inputs (one view, a grid of tiles, dynamic tiles, or native-resolution
patches). The component owns the layout's image-processor kwargs and their docs, the input it adds to the processor's
output, the image_utils names the generated files need for it, the token arithmetic it emits and its template
fragments: `templates/layouts/<kind>/<hook>.py.jinja` (or the shared default in `templates/layouts/common/`), which the
shared templates include by hook name."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from scaffold.components import tokens
from scaffold.components.connector import ConfigField

# The tile side of the in-tree image-processing tests of the grid layout (a tiny square tile keeps them fast).
TINY_GRID_TILE = 16

KWARG_DOCS = {
    "image_grid_pinpoints": (
        "list[list[int]]",
        "Canvas sizes (height, width) an image may be fitted into before it is cut into tiles of the tower's input "
        "size; the one that keeps most of the image's resolution with the least padding is chosen.",
    ),
    "min_tiles": ("int", "Fewest tiles an image is cut into."),
    "max_tiles": ("int", "Most tiles an image is cut into; 1 resizes the whole image to one tile."),
    "use_thumbnail": (
        "bool",
        "Whether a thumbnail of the whole image follows the tiles when there is more than one tile.",
    ),
    "patch_size": ("int", "The spatial patch size of the vision encoder."),
    "temporal_patch_size": (
        "int",
        "The temporal patch size of the vision encoder; each image patch is repeated this many times.",
    ),
    "merge_size": (
        "int",
        "Side of the block of patches merged into one image token; resized sides are multiples of "
        "`patch_size * merge_size`.",
    ),
}


@dataclass(frozen=True)
class LayoutInput:
    """What the processor returns besides `pixel_values` and the model takes with them."""

    name: str
    annotation: str  # in `forward`
    features_annotation: str  # in `get_image_features`, which also takes a plain list
    # Its docstring entry in the methods that take it; None where auto_docstring documents the name itself.
    doc: str | None = None


@dataclass(frozen=True)
class Layout:
    kind: str
    kwargs: dict[str, Any] = field(default_factory=dict)  # image-processor kwargs and their defaults, in order
    input: LayoutInput | None = None
    image_utils_imports: tuple[str, ...] = ()  # what the modular file needs of transformers.image_utils for it
    processor_image_utils_imports: tuple[str, ...] = ()  # and what its processor needs of it (model specs)
    token_functions: tuple = ()  # emitted besides `tokens_per_view`
    # Whether transformers' own models of this layout take `input` too (LLaVA-NeXT's `image_sizes`); InternVL's count
    # an image's tiles from the prompt instead of `num_patches`.
    upstream_takes_input: bool = True
    # Fields of the VLM config (list defaults: the config class gives each a default factory).
    config_fields: tuple[ConfigField, ...] = ()
    # Module-level functions of its own (templates/layouts/<kind>/layout_functions.py.jinja) besides token arithmetic.
    has_functions: bool = False
    # Whether an image becomes views of the tower's input size (fixed, grid, tiles); the native layout keeps each
    # image's own size, and its processor (templates/layouts/native/processor_class.py.jinja) needs no tower.
    tower_sized_views: bool = True

    @classmethod
    def from_spec(cls, layout) -> Layout:
        kind = layout.kind
        if kind == "grid":
            pinpoints = [list(p) for p in layout.grid_pinpoints]
            packs = (
                "Canvas sizes (height, width) an image may be fitted into before it is cut into tiles of the tower's "
                "input\nsize; the model packs the tiles' features by the same choice as the image processor."
            )
            return cls(
                kind,
                {"image_grid_pinpoints": pinpoints},
                LayoutInput("image_sizes", "torch.Tensor | None", "torch.Tensor | list[list[int]] | None"),
                ("ChannelDimension", "SizeDict"),
                config_fields=(ConfigField("image_grid_pinpoints", "list[list[int]]", pinpoints, packs),),
                has_functions=True,
            )
        if kind == "tiles":
            doc = (
                "num_patches (`torch.Tensor` of shape `(num_images,)`, *optional*):\n"
                "    Number of views (tiles, then the thumbnail) of each image in `pixel_values`, as the processor "
                "returns them."
            )
            return cls(
                kind,
                {"min_tiles": layout.min_tiles, "max_tiles": layout.max_tiles, "use_thumbnail": layout.use_thumbnail},
                LayoutInput("num_patches", "torch.Tensor | None", "torch.Tensor | list[int] | None", doc),
                ("SizeDict",),
                upstream_takes_input=False,
                has_functions=True,
            )
        if kind == "native":  # min_pixels and max_pixels are `size`, as in transformers' Qwen2-VL
            return cls(
                kind,
                {
                    "patch_size": layout.patch_size,
                    "temporal_patch_size": layout.temporal_patch_size,
                    "merge_size": layout.merge_size,
                },
                LayoutInput("image_grid_thw", "torch.LongTensor | None", "torch.LongTensor | None"),
                ("SizeDict",),
                token_functions=(tokens.smart_resize, tokens.native_patch_grid, tokens.native_num_tokens),
                tower_sized_views=False,
            )
        # One view of the tower's input size: the processor counts tokens from an image's size as it finds it.
        return cls(kind, processor_image_utils_imports=("get_image_size", "to_numpy_array"))

    @property
    def blocks(self) -> str:
        """The folder of this layout's template fragments under templates/."""
        return f"layouts/{self.kind}"

    def fragment(self, hook: str) -> list[str]:
        """What `{% include layout.fragment(hook) %}` renders: this layout's own fragment for the hook, else the one
        the layouts share (templates/layouts/common/<hook>.py.jinja); Jinja takes the first that exists."""
        return [f"{self.blocks}/{hook}.py.jinja", f"layouts/common/{hook}.py.jinja"]

    @property
    def input_names(self) -> list[str]:
        return [self.input.name] if self.input else []

    @property
    def count_follows_size(self) -> bool:
        """An image's token count follows its size (every layout but fixed, whose one view is square)."""
        return not self.one_view

    @property
    def one_view(self) -> bool:
        """One view per image, of a fixed token count: the model's features are one tensor, not one per image."""
        return self.input is None

    @property
    def kwarg_docs(self) -> list[tuple[str, str, str, Any]]:
        """(name, type, doc, default) of each kwarg, for the Kwargs class docstring."""
        return [(name, *KWARG_DOCS[name], value) for name, value in self.kwargs.items()]

    def in_tree_test_context(self, layout, vision, merge_factor: int, scheme, size: dict | None) -> dict[str, Any]:
        """What the in-tree tests need of this layout (its spec section `layout`, with the spec's `vision`, the
        connector's merge factor, the token scheme and the image processor's resolved `size`): `blocks`, the folder
        of its test blocks under templates/ (the tester methods and test overrides that follow its views per image);
        `tester_kwargs`, image-processing tester settings it needs; `max_image_tokens`, the most placeholder tokens
        one image can expand to, delimiters included (the processing tests pad to lengths that leave room for it)."""
        out: dict[str, Any] = {"blocks": f"layout_tests/{self.kind}", "tester_kwargs": {}, "max_image_tokens": None}
        if self.kind == "native":  # no views: the largest image `max_pixels` allows, one token per merged block
            factor = layout.patch_size * layout.merge_size
            per_view = layout.max_pixels // factor**2
            out["max_image_tokens"] = per_view
            # Pixel bounds (the `size` of the native layout) of 2 x 2 to 4 x 4 merged blocks: a few patches per image.
            out["tester_kwargs"] = {"size": {"shortest_edge": (2 * factor) ** 2, "longest_edge": (4 * factor) ** 2}}
        else:
            tile, patch, per_view = vision.image_size, vision.patch_size, vision.features_per_view(merge_factor)
        if self.kind == "grid":
            tiny = TINY_GRID_TILE
            out["tester_kwargs"] = {
                "size": {"shortest_edge": tiny}
                if "shortest_edge" in (size or {})
                else {"height": tiny, "width": tiny},
                "crop_size": {"height": tiny, "width": tiny},
                "image_grid_pinpoints": [[h * tiny // tile, w * tiny // tile] for h, w in layout.grid_pinpoints],
            }
            # The base view, then a pinpoint's feature grid with a newline per feature row (before unpadding).
            out["max_image_tokens"] = per_view + max(
                (h // patch) * (w // patch) + h // patch for h, w in layout.grid_pinpoints
            )
        elif self.kind == "tiles":
            thumbnail = 1 if layout.use_thumbnail and layout.max_tiles > 1 else 0
            out["max_image_tokens"] = (layout.max_tiles + thumbnail) * per_view
        if scheme.delimited:  # the placeholder of one image holds its delimiters too
            out["max_image_tokens"] = (out["max_image_tokens"] or per_view) + scheme.num_delimiters
        if scheme.tile_markers:  # and its markers, the most for the widest grid of tiles
            out["max_image_tokens"] += max(
                tokens.tile_marker_tokens(rows, layout.max_tiles // rows) for rows in range(1, layout.max_tiles + 1)
            )
        return out
