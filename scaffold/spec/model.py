"""The typed spec: the single source of truth for every value that reaches generated code.

pydantic checks shapes and types (unknown keys are rejected); `cross_field_problems` checks the combinations
that transformers would otherwise only reject at run time.
"""

from __future__ import annotations

import keyword
import math
import re
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from scaffold.components import decoder as decoder_component
from scaffold.components import tower as tower_component
from scaffold.components.connector import Connector
from scaffold.components.hf_models import UnknownModelType, config_key_problems, model_facts
from scaffold.components.tokens import tokens_per_view
from scaffold.components.tower import NATIVE_LAYOUT_KEYS, TRAITS, Traits, tower_model_type
from scaffold.spec.names import model_type_problem, name_problem
from scaffold.transformers_api import (
    BACKEND_RESERVED_NAMES,
    IMAGES_KWARGS_KEYS,
    NAMED_STATS,
    RESIZABLE_FORMS,
    SIZE_FORMS,
)

KeyPath = tuple[str | int, ...]

# Spec names of transformers' mean/std constants -> (constant, values).
_STAT_PREFIXES = {
    "openai_clip": "OPENAI_CLIP",
    "imagenet_standard": "IMAGENET_STANDARD",
    "imagenet_default": "IMAGENET_DEFAULT",
}
NAMED_MEANS: dict[str, tuple[str, list[float]]] = {
    key: (f"{prefix}_MEAN", list(NAMED_STATS[f"{prefix}_MEAN"])) for key, prefix in _STAT_PREFIXES.items()
}
NAMED_STDS: dict[str, tuple[str, list[float]]] = {
    key: (f"{prefix}_STD", list(NAMED_STATS[f"{prefix}_STD"])) for key, prefix in _STAT_PREFIXES.items()
}

RESERVED_NAMES = frozenset(IMAGES_KWARGS_KEYS) | BACKEND_RESERVED_NAMES

CUSTOM_KWARG_TYPES: dict[str, Any] = {
    "int": int,
    "float": float,
    "bool": bool,
    "str": str,
    "list[int]": (list, int),
    "list[float]": (list, float),
}

IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class _Strict(BaseModel):
    # Non-finite floats (.nan, .inf) have no Python literal and no meaning in a config: refused for every field.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False, allow_inf_nan=False)


def _parse_fraction(value: Any) -> Any:
    """Accept `1/255` (the idiom of image-processor configs) as well as plain numbers."""
    if isinstance(value, str) and "/" in value:
        num, _, den = value.partition("/")
        try:
            return float(Fraction(int(num.strip()), int(den.strip())))
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"expected a number or a fraction like 1/255, got {value!r}") from None
    return value


def _size_dict(value: Any) -> Any:
    """Keep explicit size dicts; an int stays an int (resolved against default_to_square later)."""
    if isinstance(value, bool):
        raise ValueError("expected a size dict or an integer, got a boolean")
    if isinstance(value, dict):
        keys = tuple(sorted(value))
        forms = {tuple(sorted(f)): f for f in SIZE_FORMS}
        if keys not in forms:
            allowed = " | ".join("{" + ", ".join(f) + "}" for f in SIZE_FORMS)
            raise ValueError(f"keys {sorted(value)} are not a size form transformers accepts; use one of {allowed}")
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"{k} must be a positive integer, got {v!r}")
        return {k: value[k] for k in forms[keys]}  # canonical key order
    if isinstance(value, int):
        if value <= 0:
            raise ValueError(f"must be positive, got {value}")
        return value
    raise ValueError(f"expected a size dict such as {{height: 336, width: 336}} or an integer, got {value!r}")


SizeValue = Annotated[dict[str, int] | int, BeforeValidator(_size_dict)]


class ModelSpec(_Strict):
    name: str = Field(description="CamelCase class prefix, e.g. TinyVlm -> TinyVlmImageProcessor.")
    model_type: str = Field(description="snake_case module name and config model_type, e.g. tiny_vlm.")

    @field_validator("name")
    @classmethod
    def _camel(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Za-z0-9]*", v):
            raise ValueError(f"must be a CamelCase identifier starting with an upper-case letter, got {v!r}")
        if problem := name_problem(v):
            raise ValueError(problem)
        return v

    @field_validator("model_type")
    @classmethod
    def _snake(cls, v: str) -> str:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", v) or keyword.iskeyword(v):
            raise ValueError(f"must be a snake_case identifier (lower-case letters, digits, _), got {v!r}")
        if problem := model_type_problem(v):
            raise ValueError(problem)
        return v


class CustomKwarg(_Strict):
    name: str = Field(description="Keyword name; becomes a Kwargs field and a class attribute on both backends.")
    type: Literal["int", "float", "bool", "str", "list[int]", "list[float]"]
    default: Any = Field(description="Class-attribute default, of the declared type.")
    doc: str = Field(min_length=1, description="One-sentence description for the docstring.")

    @field_validator("name")
    @classmethod
    def _ident(cls, v: str) -> str:
        if not IDENT.fullmatch(v) or keyword.iskeyword(v) or v.startswith("_"):
            raise ValueError(f"must be a public Python identifier, got {v!r}")
        if v in RESERVED_NAMES:
            raise ValueError(f"{v!r} is already a standard image-processor kwarg or attribute")
        return v

    @field_validator("doc")
    @classmethod
    def _one_paragraph(cls, v: str) -> str:
        # The doc lands inside a raw docstring: keep it to one paragraph that cannot close or escape it.
        if '"""' in v or "\\" in v:
            raise ValueError("must not contain triple quotes or backslashes")
        v = " ".join(v.split())
        if not v.isprintable():
            raise ValueError("must contain printable characters only")
        return v


def check_custom_default(kwarg: CustomKwarg) -> str | None:
    """Return a message when the default does not have the declared type (bools are not ints here)."""
    expected = CUSTOM_KWARG_TYPES[kwarg.type]
    value = kwarg.default

    def is_scalar(v: Any, t: type) -> bool:
        if t is float:
            return isinstance(v, (int, float)) and not isinstance(v, bool) and (isinstance(v, int) or math.isfinite(v))
        return isinstance(v, t) and (t is bool or not isinstance(v, bool))

    ok = (
        isinstance(value, list) and all(is_scalar(v, expected[1]) for v in value)
        if isinstance(expected, tuple)
        else is_scalar(value, expected)
    )
    if ok:
        return None
    if any(isinstance(v, float) and not math.isfinite(v) for v in (value if isinstance(value, list) else [value])):
        return f"default {value!r} is not a finite number"
    return f"default {value!r} is not of type {kwarg.type}"


class FixedLayout(_Strict):
    kind: Literal["fixed"] = Field(
        description="One tower input per image: resized (and cropped, or padded to a square) to vision.image_size."
    )


def _pinpoint(value: Any) -> Any:
    if not isinstance(value, list) or len(value) != 2:
        raise ValueError(f"a pinpoint is [height, width], got {value!r}")
    for v in value:
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"a pinpoint is two positive integers [height, width], got {value!r}")
    return value


Pinpoint = Annotated[list[int], BeforeValidator(_pinpoint)]


class GridLayout(_Strict):
    kind: Literal["grid"] = Field(
        description="LLaVA-NeXT any-resolution: a base view of the whole image, then the tiles of the best of "
        "grid_pinpoints; the model packs the base features, the tiles' feature grid without its letterbox padding "
        "and a learned newline after every feature row."
    )
    grid_pinpoints: list[Pinpoint] = Field(
        min_length=1,
        description="Canvas sizes [height, width] an image may be fitted into (multiples of the tile size, which "
        "is crop_size, else size, and must equal vision.image_size). The base view is `size`.",
    )


class TilesLayout(_Strict):
    kind: Literal["tiles"] = Field(
        description="InternVL dynamic tiles: the image is resized to the canvas of columns x rows tiles of `size` "
        "whose aspect ratio is closest to it, cut into tiles, and a thumbnail of the whole image follows; the model "
        "uses every tile's features in order, thumbnail last."
    )
    min_tiles: int = Field(1, ge=1, description="Fewest tiles per image.")
    max_tiles: int = Field(12, ge=1, description="Most tiles per image; 1 resizes the whole image to one tile.")
    use_thumbnail: bool = Field(
        True, description="Add a thumbnail of the whole image when there is more than one tile."
    )


class NativeLayout(_Strict):
    kind: Literal["native"] = Field(
        description="Qwen2-VL native resolution: each image is resized to multiples of patch_size x merge_size with "
        "its area within [min_pixels, max_pixels] (smart_resize), cut into patch_size patches (repeated "
        "temporal_patch_size times) and flattened; pixel_values holds every image's patches, image_grid_thw each "
        "image's (temporal, rows, columns) patch grid."
    )
    min_pixels: int = Field(
        56 * 56, gt=0, description="Fewest pixels of a resized image; becomes size.shortest_edge, as in Qwen2-VL."
    )
    max_pixels: int = Field(
        28 * 28 * 1280, gt=0, description="Most pixels of a resized image; becomes size.longest_edge, as in Qwen2-VL."
    )
    patch_size: int = Field(14, gt=0, description="Side of one patch of the vision tower.")
    merge_size: int = Field(
        2,
        gt=0,
        description="Side of the block of patches merged into one token; sides are multiples of patch x merge.",
    )
    temporal_patch_size: int = Field(
        2, gt=0, description="Frames per patch of the tower; an image's patch is repeated this many times."
    )

    @property
    def size(self) -> dict[str, int]:
        """The image processors' `size`: transformers' Qwen2-VL keeps min_pixels and max_pixels in it."""
        return {"shortest_edge": self.min_pixels, "longest_edge": self.max_pixels}


Layout = Annotated[FixedLayout | GridLayout | TilesLayout | NativeLayout, Field(discriminator="kind")]


class ImageProcessorSpec(_Strict):
    kwargs_mode: Literal["import", "copy"] = Field(
        "import",
        description="import: the PIL file imports the Kwargs class; copy: it holds a marked identical copy.",
    )
    resample: Literal["nearest", "bilinear", "bicubic", "lanczos", "box", "hamming"] | None = "bicubic"
    image_mean: Literal["openai_clip", "imagenet_standard", "imagenet_default"] | list[float] | None = None
    image_std: Literal["openai_clip", "imagenet_standard", "imagenet_default"] | list[float] | None = None
    size: SizeValue | None = None
    default_to_square: bool = True
    crop_size: SizeValue | None = None
    do_resize: bool = True
    do_center_crop: bool = False
    do_rescale: bool = True
    rescale_factor: Annotated[float, BeforeValidator(_parse_fraction)] = 1 / 255
    do_normalize: bool = True
    do_convert_rgb: bool = True
    do_pad: bool = False
    pad_size: SizeValue | None = None
    model_input_names: list[str] = Field(default_factory=lambda: ["pixel_values"], min_length=1)
    custom_kwargs: list[CustomKwarg] = Field(default_factory=list)
    pad_to_square: bool | None = Field(
        None,
        description="LLaVA's `image_aspect_ratio: pad`: pad to a square of the longer side with the mean colour "
        "before resizing. Adds a `pad_to_square` kwarg (this value is its default) to both backends; "
        "leave unset for processors without the kwarg.",
    )
    layout: Layout = Field(
        default_factory=lambda: FixedLayout(kind="fixed"),
        description="How an image becomes tower inputs: fixed (one view; with pad_to_square for LLaVA's padding), "
        "grid (LLaVA-NeXT any-resolution), tiles (InternVL dynamic tiles) or native (Qwen2-VL native resolution).",
    )

    # Resolved views used by the templates -------------------------------------------------------------

    def resolved_size(self) -> dict[str, int] | None:
        if self.layout.kind == "native":
            return self.layout.size
        if isinstance(self.size, int):
            key = ("height", "width") if self.default_to_square else ("shortest_edge",)
            return {k: self.size for k in key}
        return self.size

    def resolved_crop_size(self) -> dict[str, int] | None:
        if isinstance(self.crop_size, int):
            return {"height": self.crop_size, "width": self.crop_size}
        return self.crop_size

    def resolved_pad_size(self) -> dict[str, int] | None:
        if isinstance(self.pad_size, int):
            return {"height": self.pad_size, "width": self.pad_size}
        return self.pad_size

    @staticmethod
    def _stat(value: Any, table: dict[str, tuple[str, list[float]]]) -> list[float] | None:
        return table[value][1] if isinstance(value, str) else value

    def mean_values(self) -> list[float] | None:
        return self._stat(self.image_mean, NAMED_MEANS)

    def std_values(self) -> list[float] | None:
        return self._stat(self.image_std, NAMED_STDS)


PROJECTOR_TYPE = re.compile(r"^(linear|identity|swiglu|mlp([1-9][0-9]*)x_gelu)$")


def _model_type_name(value: str) -> str:
    if not re.fullmatch(r"[a-z][a-z0-9_]*", value):
        raise ValueError(f"must be a transformers model type (lower-case letters, digits, _), got {value!r}")
    return value


class VisionSpec(_Strict):
    family: str = Field(
        description="Vision tower: clip, siglip, siglip2 (fixed size), internvl_vision, qwen2_vl, qwen2_5_vl (the "
        "native layout's towers, with their patch merger), or any vision model type of the installed transformers "
        "that AutoModel builds (its config class checks the keys)."
    )
    cls_token: bool | None = Field(
        None,
        description="Whether the tower's hidden states start with a CLS token. Known for clip (yes), siglip, siglip2 "
        "(no) and internvl_vision (yes); required for other towers.",
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Further fields of the tower's config class, passed through; unknown fields and wrong types "
        "are errors.",
    )
    image_size: int | None = Field(
        None,
        gt=0,
        description="Input resolution of the tower (square). Required, except with the native layout (each image "
        "at its own resolution).",
    )
    patch_size: int | None = Field(
        None, gt=0, description="Required, except with the native layout (image_processor.layout.patch_size)."
    )
    hidden_size: int = Field(gt=0)
    intermediate_size: int | None = Field(
        None,
        gt=0,
        description="Unset: the tower's default (a tower without it, e.g. DINOv2, sizes its MLP otherwise).",
    )
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_channels: int = Field(3, gt=0)
    hidden_act: str | None = Field(None, description="Activation; unset keeps the family default.")
    layer_norm_eps: float | None = Field(None, gt=0)
    feature_layer: int | list[int] = Field(
        -2, description="Hidden-state index fed to the projector, or a list of indices to concatenate."
    )
    feature_select: Literal["patch", "cls_patch"] = Field(
        "patch", description="patch: drop the CLS token (CLIP); cls_patch: keep it. SigLIP has no CLS token."
    )

    @field_validator("feature_layer")
    @classmethod
    def _non_empty(cls, v: int | list[int]) -> int | list[int]:
        if isinstance(v, list) and not v:
            raise ValueError("must name at least one layer")
        return v

    _family = field_validator("family")(_model_type_name)

    @property
    def model_type(self) -> str:
        return tower_model_type(self.family)

    @property
    def has_cls(self) -> bool:
        if self.cls_token is not None:
            return self.cls_token
        traits = TRAITS.get(self.model_type)
        return traits is not None and traits.has_cls

    @property
    def feature_layers(self) -> list[int]:
        return [self.feature_layer] if isinstance(self.feature_layer, int) else list(self.feature_layer)

    @property
    def select_strategy(self) -> str:
        """LLaVA's strategies: "default" drops the first token (CLIP's CLS), "full" keeps every token (SigLIP has no
        CLS token, so its patch features are all of its tokens)."""
        return "default" if self.has_cls and self.feature_select == "patch" else "full"

    def features_per_view(self, merge_factor: int = 1) -> int:
        """Tokens per view of the tower's input size after feature selection (and a connector's merge)."""
        side = self.image_size
        return tokens_per_view(
            side, side, self.patch_size, 1 if self.has_cls else 0, self.select_strategy, merge_factor
        )


class MergeSpec(_Strict):
    kind: Literal["pixel_shuffle", "patch_merge"] = Field(
        description="pixel_shuffle: each factor x factor block of features becomes one feature of factor^2 times the "
        "width (InternVL, Aya Vision, Idefics3); patch_merge: the same blocks unfolded channel-major and mapped back "
        "to the vision width by a learned linear layer (Mistral3's patch merger)."
    )
    factor: int = Field(2, ge=2, description="Side of the merged block: features per view divide by factor^2.")


class ProjectorSpec(_Strict):
    type: str = Field(
        description="linear | mlpNx_gelu (N >= 1 linear layers with GELU between) | identity | swiglu (a linear "
        "layer to intermediate_size, SiLU-gated halves, a linear layer to the text width)."
    )
    bias: bool = True
    merge: MergeSpec | None = Field(None, description="Merge neighbouring features before the MLP.")
    layer_norm: bool = Field(False, description="A LayerNorm over the MLP's input (after the merge).")
    layer_norm_eps: float = Field(1e-5, gt=0)
    intermediate_size: int | None = Field(
        None, gt=0, description="swiglu: width of the gated layer (default text.hidden_size); must be even."
    )

    @field_validator("type")
    @classmethod
    def _known(cls, v: str) -> str:
        if not PROJECTOR_TYPE.fullmatch(v):
            raise ValueError(
                f"must be linear, identity, swiglu or mlpNx_gelu with N >= 1 (e.g. mlp2x_gelu), got {v!r}"
            )
        return v


class TextSpec(_Strict):
    family: str = Field(
        description="Language model: the model type of any decoder of the installed transformers with a causal-LM "
        "class, e.g. llama, qwen2, qwen3, mistral, gemma2, cohere2 (its config class checks the keys); with the "
        "native layout also the M-RoPE decoders qwen2_vl_text and qwen2_5_vl_text (config.rope_parameters."
        "mrope_section)."
    )
    config: dict[str, Any] = Field(
        default_factory=dict,
        description="Further fields of the decoder's config class (e.g. head_dim), passed through; unknown fields "
        "and wrong types are errors.",
    )
    vocab_size: int = Field(gt=0)
    hidden_size: int = Field(gt=0)
    intermediate_size: int = Field(gt=0)
    num_hidden_layers: int = Field(gt=0)
    num_attention_heads: int = Field(gt=0)
    num_key_value_heads: int | None = Field(None, gt=0, description="Unset: same as num_attention_heads.")
    max_position_embeddings: int = Field(2048, gt=0)
    hidden_act: str | None = None
    rms_norm_eps: float | None = Field(None, gt=0)
    tie_word_embeddings: bool = False
    bos_token_id: int | None = Field(None, ge=0)
    eos_token_id: int | None = Field(None, ge=0)
    pad_token_id: int | None = Field(None, ge=0)

    _family = field_validator("family")(_model_type_name)


def _token_text(v: str) -> str:
    if v != v.strip() or any(ch.isspace() for ch in v):
        raise ValueError("must not contain whitespace")
    return v


class DelimitersSpec(_Strict):
    start: str = Field(min_length=1, description="Text token before each image's image tokens (InternVL's <img>).")
    start_id: int = Field(ge=0)
    end: str = Field(min_length=1, description="Text token after them (InternVL's </img>).")
    end_id: int = Field(ge=0)

    _no_space = field_validator("start", "end")(_token_text)


class TileMarkersSpec(_Strict):
    around: str = Field(
        "<fake_token_around_image>",
        min_length=1,
        description="Text token before each tile's marker and before and after the global image (Idefics3's).",
    )
    around_id: int = Field(ge=0)
    global_image: str = Field(
        "<global-img>", min_length=1, description="Text token before the thumbnail's image tokens (Idefics3's)."
    )
    global_image_id: int = Field(ge=0)

    _no_space = field_validator("around", "global_image")(_token_text)


class ProcessorSpec(_Strict):
    image_token: str = Field("<image>", min_length=1, description="Placeholder string for one image in prompts.")
    image_token_id: int = Field(ge=0, description="Token id of image_token; must be below text.vocab_size.")
    image_delimiters: DelimitersSpec | None = Field(
        None, description="Text tokens around each image's image tokens; they are text, not image features."
    )
    tile_markers: TileMarkersSpec | None = Field(
        None,
        description="Idefics3-style markers for the tiles layout: each tile's image tokens follow the around token "
        "and `<row_r_col_c>`, rows end with a newline, the thumbnail's follow the around and global-image tokens.",
    )
    chat_template: str | None = Field(None, description="Jinja chat template saved with the processor.")

    _no_space = field_validator("image_token")(_token_text)


VLM_SECTIONS = ("vision", "projector", "text", "processor")


class OriginalCheckpointSpec(_Strict):
    """The model restates a checkpoint saved in a training repository's own layout (not transformers'): the output
    then includes `convert_<model_type>_weights_to_hf.py`, which converts such a folder into one the generated model
    loads."""

    layout: Literal["llava"] = Field(
        description="`llava`: the original LLaVA repository's layout (`model.mm_projector.*`, "
        "`model.vision_tower.vision_tower.*`, `mm_*` keys in config.json, no image token in the tokenizer)."
    )


class Spec(_Strict):
    """A scaffold spec. Top-level sections; see README 'Spec reference'."""

    model_config = ConfigDict(extra="forbid", frozen=True, title="scaffold spec")

    model: ModelSpec
    image_processor: ImageProcessorSpec
    vision: VisionSpec | None = Field(None, description="Vision tower; with projector, text and processor.")
    projector: ProjectorSpec | None = None
    text: TextSpec | None = None
    processor: ProcessorSpec | None = None
    vllm: bool = Field(
        False,
        description="Also generate a vLLM implementation (vllm_<model_type>.py), its plugin entry point in a "
        "pyproject.toml and its tests. Needs the model sections. vLLM's CPU attention needs text heads of at "
        "least 32 (hidden_size / num_attention_heads) for its engine test.",
    )
    checkpoint_key_renames: dict[str, str] | None = Field(
        None,
        description="Weights of an existing checkpoint whose names differ from the generated model's: an ordered "
        "mapping of regular expressions (anchored with ^, matched against saved weight names) to their "
        "replacements. The generated model registers them with transformers' weight conversion, so "
        "from_pretrained renames them on load and save_pretrained back on save. `scaffold spec-from` writes them.",
    )
    original_checkpoint: OriginalCheckpointSpec | None = Field(
        None,
        description="The model restates a checkpoint in a training repository's layout: also generate "
        "convert_<model_type>_weights_to_hf.py. `scaffold spec-from` writes it for such folders.",
    )

    @property
    def is_vlm(self) -> bool:
        return all(getattr(self, key) is not None for key in VLM_SECTIONS)

    @property
    def processor_only(self) -> bool:
        """A processor section without the model sections (the native layout): image processors and processor."""
        return self.processor is not None and not self.is_vlm


def cross_field_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Combinations transformers rejects at run time, reported at the key the user should change."""
    ip = spec.image_processor
    base: KeyPath = ("image_processor",)
    out: list[tuple[KeyPath, str]] = []
    if ip.do_resize:
        if ip.resolved_size() is None:
            out.append((base + ("do_resize",), "do_resize is true but no size is given"))
        elif tuple(ip.resolved_size()) not in RESIZABLE_FORMS:
            out.append(
                (
                    base + ("size",),
                    f"the backends' resize cannot handle {sorted(ip.resolved_size())}; "
                    "use {height, width}, {shortest_edge}, {shortest_edge, longest_edge} or {max_height, max_width}",
                )
            )
        if ip.resample is None:
            out.append((base + ("resample",), "do_resize is true but resample is null"))
    if ip.do_center_crop:
        crop = ip.resolved_crop_size()
        if crop is None:
            out.append((base + ("do_center_crop",), "do_center_crop is true but no crop_size is given"))
        elif tuple(crop) != ("height", "width"):
            out.append((base + ("crop_size",), "crop_size must be {height, width} (or an integer)"))
    if ip.do_pad and ip.pad_size is not None and tuple(ip.resolved_pad_size()) != ("height", "width"):
        out.append((base + ("pad_size",), "pad_size must be {height, width} (or an integer)"))
    if ip.do_rescale and ip.rescale_factor <= 0:
        out.append((base + ("rescale_factor",), f"must be positive, got {ip.rescale_factor}"))
    if ip.do_normalize:
        for key in ("image_mean", "image_std"):
            if getattr(ip, key) is None:
                out.append((base + ("do_normalize",), f"do_normalize is true but {key} is not given"))
    mean, std = ip.mean_values(), ip.std_values()
    channels = 3 if ip.do_convert_rgb else None
    for key, values in (("image_mean", mean), ("image_std", std)):
        if values is None:
            continue
        if channels and len(values) != channels:
            out.append((base + (key,), f"needs {channels} values (one per RGB channel), got {len(values)}"))
        elif len(values) not in (1, 3, 4):
            out.append((base + (key,), f"needs 1, 3 or 4 values, got {len(values)}"))
    if mean and std and len(mean) != len(std):
        out.append((base + ("image_std",), f"has {len(std)} values but image_mean has {len(mean)}"))
    if std and any(v <= 0 for v in std):
        out.append((base + ("image_std",), "every value must be positive"))
    if "pixel_values" not in ip.model_input_names:
        out.append((base + ("model_input_names",), "must include 'pixel_values', the key the backends return"))
    for i, name in enumerate(ip.model_input_names):
        if not IDENT.fullmatch(name):
            out.append((base + ("model_input_names", i), f"{name!r} is not an identifier"))
    seen: set[str] = set()
    for i, kw in enumerate(ip.custom_kwargs):
        if kw.name in seen:
            out.append((base + ("custom_kwargs", i, "name"), f"duplicate custom kwarg {kw.name!r}"))
        seen.add(kw.name)
        if message := check_custom_default(kw):
            out.append((base + ("custom_kwargs", i, "default"), message))
        if kw.name == "pad_to_square" and ip.pad_to_square is not None:
            out.append(
                (base + ("custom_kwargs", i, "name"), "pad_to_square is already set by image_processor.pad_to_square")
            )
    out.extend(layout_problems(ip))
    out.extend(vlm_problems(spec))
    out.extend(checkpoint_problems(spec))
    out.extend(original_checkpoint_problems(spec))
    if spec.vllm and not spec.is_vlm:
        out.append((("vllm",), f"vllm: true needs the model sections {', '.join(VLM_SECTIONS)}"))
    return out


def checkpoint_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Key renames are regular expressions that transformers can reverse on save: anchored, without groups."""
    renames = spec.checkpoint_key_renames
    if renames is None:
        return []
    out: list[tuple[KeyPath, str]] = []
    if not spec.is_vlm:
        out.append((("checkpoint_key_renames",), f"renames weights of a model: needs {', '.join(VLM_SECTIONS)}"))
    if spec.vllm:
        out.append(
            (
                ("checkpoint_key_renames",),
                "the vLLM model loads the generated model's own weight names, not the checkpoint's: set vllm: false",
            )
        )
    for source, target in renames.items():
        where: KeyPath = ("checkpoint_key_renames", source)
        try:
            compiled = re.compile(source)
        except re.error as exc:
            out.append((where, f"is not a regular expression: {exc}"))
            continue
        if not source.startswith("^"):
            out.append((where, "must be anchored with ^ (a rename applies to the start of a weight name)"))
        if compiled.groups or "(" in target or "\\" in target:
            out.append((where, "groups and back-references cannot be reversed on save: name the weights literally"))
        if not target or not re.fullmatch(r"[A-Za-z0-9_.]+", target):
            out.append(
                (where, f"the replacement {target!r} must be a plain weight-name prefix (letters, digits, _ .)")
            )
    return out


def original_checkpoint_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """The conversion script maps LLaVA's original layout onto a fixed-layout model with an MLP projector."""
    original = spec.original_checkpoint
    if original is None:
        return []
    where: KeyPath = ("original_checkpoint", "layout")
    if not spec.is_vlm:
        return [(where, f"converts weights of a model: needs {', '.join(VLM_SECTIONS)}")]
    out: list[tuple[KeyPath, str]] = []
    projector = spec.projector
    if not (projector.type == "linear" or re.fullmatch(r"mlp[1-9][0-9]*x_gelu", projector.type)):
        out.append((where, f"LLaVA's mm_projector is linear or mlpNx_gelu, not projector.type {projector.type!r}"))
    if projector.merge is not None or projector.layer_norm:
        out.append((where, "LLaVA's mm_projector has no merge and no layer norm"))
    if spec.image_processor.layout.kind != "fixed":
        out.append((where, "the conversion handles the fixed layout only (image_aspect_ratio pad or square)"))
    if spec.vllm:
        out.append((where, "not with vllm: true (the conversion writes the generated model's folder)"))
    return out


# Kwargs each layout adds to both backends (and to their Kwargs class).
LAYOUT_KWARGS = {
    "fixed": (),
    "grid": ("image_grid_pinpoints",),
    "tiles": ("min_tiles", "max_tiles", "use_thumbnail"),
    "native": ("patch_size", "temporal_patch_size", "merge_size"),
}


def grid_tile_size(ip: ImageProcessorSpec) -> int | None:
    """Side of one grid tile: crop_size when given (LLaVA-NeXT reads it even without center crop), else size."""
    crop = ip.resolved_crop_size()
    if crop is not None:
        return crop["height"] if tuple(crop) == ("height", "width") else None
    size = ip.resolved_size() or {}
    if tuple(size) == ("shortest_edge",):
        return size["shortest_edge"]
    return size["height"] if tuple(size) == ("height", "width") else None


def layout_problems(ip: ImageProcessorSpec) -> list[tuple[KeyPath, str]]:
    """What the grid and tiles layouts need from the rest of the image processor."""
    layout = ip.layout
    if layout.kind == "fixed":
        return []
    base: KeyPath = ("image_processor",)
    where: KeyPath = base + ("layout",)
    out: list[tuple[KeyPath, str]] = []
    if ip.pad_to_square is not None:
        out.append((base + ("pad_to_square",), f"the {layout.kind} layout has no pad_to_square; leave it unset"))
    for i, kw in enumerate(ip.custom_kwargs):
        if kw.name in LAYOUT_KWARGS[layout.kind]:
            out.append(
                (base + ("custom_kwargs", i, "name"), f"{kw.name!r} is already a kwarg of the {layout.kind} layout")
            )
    if not ip.do_resize:
        out.append((base + ("do_resize",), f"the {layout.kind} layout resizes every view: set do_resize: true"))
    size = ip.resolved_size()
    if layout.kind == "native":
        return out + native_layout_problems(ip)
    if layout.kind == "grid":
        crop = ip.resolved_crop_size()
        if crop is not None and (tuple(crop) != ("height", "width") or crop["height"] != crop["width"]):
            out.append((base + ("crop_size",), "the grid layout cuts square tiles of crop_size: make it square"))
        tile = grid_tile_size(ip)
        square = size is not None and (
            tuple(size) == ("shortest_edge",)
            or (tuple(size) == ("height", "width") and size["height"] == size["width"])
        )
        if not square:
            out.append((base + ("size",), "the grid layout needs size {shortest_edge: N} or a square {height, width}"))
        elif tile is not None and (size.get("shortest_edge") or size["height"]) != tile:
            out.append((base + ("size",), f"must equal the tile size {tile} (crop_size) in the grid layout"))
        if tile is not None:
            for i, (height, width) in enumerate(layout.grid_pinpoints):
                if height % tile or width % tile:
                    out.append(
                        (
                            where + ("grid_pinpoints", i),
                            f"[{height}, {width}] is not a multiple of the tile size {tile} in both sides",
                        )
                    )
        if not ip.do_pad:
            out.append(
                (
                    base + ("do_pad",),
                    "the grid layout pads each image's views to the batch's most so that pixel_values stack: "
                    "set do_pad: true",
                )
            )
        if ip.pad_size is not None:
            out.append((base + ("pad_size",), "the grid layout pads the views axis, not the pixels: remove pad_size"))
    else:
        if size is None or tuple(size) != ("height", "width"):
            out.append((base + ("size",), "the tiles layout needs the tile size as size {height, width}"))
        if layout.min_tiles > layout.max_tiles:
            out.append((where + ("min_tiles",), f"must not exceed max_tiles {layout.max_tiles}"))
        if ip.do_center_crop:
            out.append((base + ("do_center_crop",), "the tiles layout does not crop: set do_center_crop: false"))
        if ip.do_pad:
            out.append((base + ("do_pad",), "the tiles layout does not pad: set do_pad: false"))
    return out


def native_layout_problems(ip: ImageProcessorSpec) -> list[tuple[KeyPath, str]]:
    """The native layout owns the resize target (min_pixels, max_pixels) and makes no crops, pads or tiles."""
    layout = ip.layout
    assert isinstance(layout, NativeLayout)
    base: KeyPath = ("image_processor",)
    where: KeyPath = base + ("layout",)
    out: list[tuple[KeyPath, str]] = []
    if ip.size is not None:
        out.append(
            (
                base + ("size",),
                "the native layout's size is {shortest_edge: min_pixels, longest_edge: max_pixels}, as in "
                "Qwen2-VL: remove size and set image_processor.layout.min_pixels / max_pixels",
            )
        )
    if layout.min_pixels > layout.max_pixels:
        out.append((where + ("min_pixels",), f"must not exceed max_pixels {layout.max_pixels}"))
    factor = layout.patch_size * layout.merge_size
    if layout.max_pixels < factor * factor:
        out.append(
            (
                where + ("max_pixels",),
                f"must be at least {factor * factor}: smart_resize never makes a side shorter than patch_size x "
                f"merge_size = {factor}",
            )
        )
    if ip.do_center_crop:
        out.append((base + ("do_center_crop",), "the native layout does not crop: set do_center_crop: false"))
    if ip.do_pad:
        out.append((base + ("do_pad",), "the native layout does not pad: set do_pad: false"))
    return out


def _processor_output_size(ip: ImageProcessorSpec) -> tuple[KeyPath, tuple[int, int] | None]:
    """Where the final (height, width) of the image processor comes from, and its value when fixed."""
    if ip.do_center_crop and ip.resolved_crop_size() and tuple(ip.resolved_crop_size()) == ("height", "width"):
        crop = ip.resolved_crop_size()
        return ("crop_size",), (crop["height"], crop["width"])
    size = ip.resolved_size()
    if ip.do_resize and size and tuple(size) == ("height", "width"):
        return ("size",), (size["height"], size["width"])
    return ("size",), None


def text_token_problems(
    proc: ProcessorSpec, text: TextSpec | None, key: str, sides: tuple[str, ...]
) -> list[tuple[KeyPath, str]]:
    """The text tokens of the image-token scheme (delimiters, tile markers: `processor.<key>.<side>` and its `_id`)
    are vocabulary entries of their own: below text.vocab_size (with a decoder), no other token's id, not the image
    token's text, not each other's text."""
    section = getattr(proc, key)
    where: KeyPath = ("processor", key)
    taken = {proc.image_token_id: "processor.image_token_id"}
    if text is not None:
        taken.update({getattr(text, k): f"text.{k}" for k in ("bos_token_id", "eos_token_id", "pad_token_id")})
    texts: dict[str, str] = {}
    out: list[tuple[KeyPath, str]] = []
    for side in sides:
        token, token_id = getattr(section, side), getattr(section, f"{side}_id")
        if text is not None and token_id >= text.vocab_size:
            out.append(((*where, f"{side}_id"), f"must be below text.vocab_size {text.vocab_size}"))
        elif token_id in taken:
            out.append(((*where, f"{side}_id"), f"{token_id} is {taken[token_id]}"))
        taken[token_id] = f"processor.{key}.{side}_id"
        if token == proc.image_token:
            out.append(((*where, side), "must differ from processor.image_token"))
        elif token in texts:
            out.append(((*where, side), f"must differ from {texts[token]}"))
        texts[token] = side
    return out


def delimiter_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Delimiter tokens are ordinary vocabulary entries of their own."""
    proc = spec.processor
    assert proc
    if proc.image_delimiters is None:
        return []
    return text_token_problems(proc, spec.text, "image_delimiters", ("start", "end"))


def tile_marker_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """Tile markers describe the tiles of the tiles layout and its thumbnail; their tokens are vocabulary entries of
    their own."""
    proc, text, layout = spec.processor, spec.text, spec.image_processor.layout
    assert proc and text
    markers = proc.tile_markers
    if markers is None:
        return []
    where = ("processor", "tile_markers")
    out: list[tuple[KeyPath, str]] = []
    if layout.kind != "tiles":
        out.append((where, f"tile markers describe the tiles of the tiles layout, not the {layout.kind} layout"))
    elif not layout.use_thumbnail or layout.max_tiles < 2:
        out.append(
            (where, "tile markers end with the global image: set layout.use_thumbnail: true and max_tiles >= 2")
        )
    if proc.image_delimiters is not None:
        out.append((where, "an image has tile markers or delimiters, not both"))
    out += text_token_problems(proc, text, "tile_markers", ("around", "global_image"))
    return out


def connector_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """What a merge, a LayerNorm or a SwiGLU projector needs of the rest of the spec."""
    vision, projector, text = spec.vision, spec.projector, spec.text
    assert vision and projector and text
    out: list[tuple[KeyPath, str]] = []
    plain = Connector.from_spec(projector, text.hidden_size).plain
    if not plain and projector.type not in ("linear", "identity", "mlp2x_gelu", "swiglu"):
        out.append(
            (
                ("projector", "type"),
                "with merge, layer_norm or swiglu it must be linear, mlp2x_gelu, swiglu or identity",
            )
        )
    if projector.type == "swiglu":
        width = projector.intermediate_size or text.hidden_size
        if width % 2:
            key = "intermediate_size" if projector.intermediate_size else "type"
            out.append((("projector", key), f"swiglu splits its {width}-wide layer in two halves: it must be even"))
    elif projector.intermediate_size is not None:
        out.append((("projector", "intermediate_size"), "only swiglu has an intermediate layer"))
    merge = projector.merge
    if merge is None:
        return out
    side = vision.image_size // vision.patch_size
    if side % merge.factor:
        out.append(
            (
                ("projector", "merge", "factor"),
                f"must divide the {side}x{side} feature grid of one view (image_size / patch_size)",
            )
        )
    if vision.feature_select == "cls_patch":
        out.append(
            (("vision", "feature_select"), "a merge works on the square grid of patches: the CLS token cannot be kept")
        )
    if spec.image_processor.layout.kind == "grid":
        out.append(
            (
                ("projector", "merge"),
                "the grid layout unpads each image's feature grid patch by patch: use fixed or tiles",
            )
        )
    return out


def tower_problems(vision: VisionSpec) -> list[tuple[KeyPath, str]]:
    """The tower must be a vision model of transformers that scaffold can call, with the keys its config has."""
    try:
        facts = model_facts(vision.model_type)
    except UnknownModelType as exc:
        return [(("vision", "family"), str(exc))]
    traits = TRAITS.get(vision.model_type)
    if facts.model_class is None and (traits is None or traits.model_class is None):
        return [(("vision", "family"), f"AutoModel builds no model from {facts.config_class}")]
    if facts.causal_lm_class is not None:
        return [(("vision", "family"), f"{vision.family} is a language model, not a vision tower")]
    out: list[tuple[KeyPath, str]] = []
    if traits is None and vision.cls_token is None:
        out.append(
            (
                ("vision", "family"),
                f"scaffold does not know whether {vision.model_type}'s hidden states start with a CLS token: "
                "set vision.cls_token",
            )
        )
    if traits is not None and traits.inputs == "native":
        return out + native_tower_key_problems(vision, traits)
    by_patches = traits is not None and traits.size_key == "num_patches"
    typed = {
        key: getattr(vision, key)
        for key in tower_component.TYPED_KEYS
        if (key in vision.model_fields_set or getattr(vision, key) is not None)
        and not (by_patches and key == "image_size")
        and not (key == "num_channels" and key not in vision.model_fields_set)
    }
    return out + config_key_problems("vision", facts, typed, vision.config)


def native_tower_key_problems(vision: VisionSpec, traits: Traits) -> list[tuple[KeyPath, str]]:
    """A native tower's config names the typed keys otherwise (`Traits.key_map`), and takes its patch sizes from the
    layout and its merger's width from the decoder: its `config` mapping may set none of those."""
    facts = model_facts(vision.model_type)
    fields = facts.field_types
    out: list[tuple[KeyPath, str]] = []
    set_by: dict[str, str] = {}
    for key in tower_component.TYPED_KEYS:
        name = traits.key_map.get(key, key)
        set_by[name] = f"vision.{key}"
        given = key in vision.model_fields_set and getattr(vision, key) is not None
        if given and key not in ("image_size", "patch_size") and name not in fields:
            out.append((("vision", key), f"{facts.config_class} has no {name}: {vision.family} has no such setting"))
    set_by.update({name: f"image_processor.layout.{key}" for key, name in NATIVE_LAYOUT_KEYS.items()})
    set_by[traits.merger_width] = "text.hidden_size (the width of the patch merger's output)"
    return out + config_key_problems("vision", facts, {}, vision.config, set_by)


def mrope_problems(text: TextSpec) -> list[tuple[KeyPath, str]]:
    """An M-RoPE decoder splits the rotary half-dimensions of each head among the temporal, height and width
    positions: `config.rope_parameters.mrope_section` has three sizes that add up to head_dim / 2."""
    head_dim = text.config.get("head_dim") or text.hidden_size // text.num_attention_heads
    rope = text.config.get("rope_parameters")
    section = rope.get("mrope_section") if isinstance(rope, dict) else None
    if section is None:
        where: KeyPath = ("text", "config", "rope_parameters") if rope is not None else ("text", "family")
        return [
            (
                where,
                f"{text.family} needs config.rope_parameters.mrope_section: three sizes (temporal, height, width) "
                f"adding up to head_dim / 2 = {head_dim / 2:g}",
            )
        ]
    where = ("text", "config", "rope_parameters", "mrope_section")
    if (
        not isinstance(section, list)
        or len(section) != 3
        or any(isinstance(v, bool) or not isinstance(v, int) or v <= 0 for v in section)
    ):
        return [(where, f"must be three positive integers (temporal, height, width), got {section!r}")]
    if sum(section) * 2 != head_dim:
        return [
            (
                where,
                f"adds up to {sum(section)} but must add up to head_dim / 2 = {head_dim / 2:g} (the rotary "
                "half-dimensions of a head)",
            )
        ]
    return []


def decoder_problems(text: TextSpec, native: bool = False) -> list[tuple[KeyPath, str]]:
    """The decoder must be a causal LM of transformers (or, with the native layout, an M-RoPE decoder), with the keys
    its config has."""
    try:
        facts = model_facts(text.family)
    except UnknownModelType as exc:
        return [(("text", "family"), str(exc))]
    mrope = text.family in decoder_component.MROPE_DECODERS
    if mrope and not native:
        return [
            (
                ("text", "family"),
                f"{text.family} places image tokens by their patch grid (M-RoPE): it needs the native layout",
            )
        ]
    if facts.model_class is None or (facts.causal_lm_class is None and not mrope):
        return [(("text", "family"), f"{text.family} is not a decoder: transformers has no causal-LM class for it")]
    typed = {
        key: getattr(text, key)
        for key, _ in decoder_component.TYPED_KEYS
        if key in text.model_fields_set
        and getattr(text, key) is not None
        # Tying is the VLM config's too: a text config without the field (Qwen2-VL's) leaves it there.
        and not (key == "tie_word_embeddings" and key not in facts.field_types)
    }
    out = config_key_problems("text", facts, typed, text.config)
    if mrope and not out:
        out += mrope_problems(text)
    return out


def vllm_model_problems(text: TextSpec, native: bool = False) -> list[tuple[KeyPath, str]]:
    """The generated vLLM model builds the decoder from vLLM's registry (the tower is vLLM's own class where it has one
    with transformers' weight names, else transformers' own module: any tower). The native layout's vLLM model also
    takes the M-RoPE decoders (vLLM's Qwen2 with M-RoPE positions)."""
    out: list[tuple[KeyPath, str]] = []
    decoders = set(decoder_component.VLLM_DECODERS)
    if native:
        decoders |= set(decoder_component.VLLM_MROPE_DECODERS)
    if text.family not in decoders:
        served = ", ".join(sorted(decoders))
        out.append((("text", "family"), f"the vLLM model is tested with the {served} decoders only: set vllm: false"))
    return out


def native_model_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """The native layout's model: a native tower (its patch merger is the connector, so the projector is identity),
    its patch sizes stated once (in the layout), and no feature selection (the merger reads the last layer)."""
    vision, projector = spec.vision, spec.projector
    assert vision and projector
    traits = TRAITS.get(vision.model_type)
    if traits is None or traits.inputs != "native":
        native = ", ".join(sorted(family for family, t in TRAITS.items() if t.inputs == "native"))
        return [
            (
                ("vision", "family"),
                f"the native layout needs a tower that takes each image at its own resolution ({native}), "
                f"not {vision.family}",
            )
        ]
    out: list[tuple[KeyPath, str]] = []
    if vision.image_size is not None:
        out.append((("vision", "image_size"), "each image keeps its own resolution in the native layout: remove it"))
    if vision.patch_size is not None:
        out.append(
            (
                ("vision", "patch_size"),
                "the native layout states it once, as image_processor.layout.patch_size: remove it",
            )
        )
    for key in ("feature_layer", "feature_select", "cls_token"):
        if key in vision.model_fields_set:
            out.append(
                (
                    ("vision", key),
                    f"{vision.family}'s patch merger reads its last layer, without a CLS token: remove it",
                )
            )
    if projector.type != "identity":
        out.append(
            (
                ("projector", "type"),
                f"{vision.family}'s patch merger is the connector (its output has text.hidden_size): it must be "
                f"identity, got {projector.type!r}",
            )
        )
    for key in ("bias", "merge", "layer_norm", "layer_norm_eps", "intermediate_size"):
        if key in projector.model_fields_set:
            out.append((("projector", key), f"{vision.family}'s patch merger is the connector: remove it"))
    ratio = traits.key_map.get("intermediate_size") == "mlp_ratio"
    if ratio and vision.intermediate_size is not None and vision.intermediate_size % vision.hidden_size:
        out.append(
            (
                ("vision", "intermediate_size"),
                f"{model_facts(vision.model_type).config_class} sizes its MLP as an integer mlp_ratio x hidden_size: "
                f"must be a multiple of hidden_size {vision.hidden_size}",
            )
        )
    return out


def _token_id_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """The processor's tokens and the decoder's special tokens are distinct entries of the vocabulary."""
    text, proc = spec.text, spec.processor
    assert text and proc
    out: list[tuple[KeyPath, str]] = []
    if text.vocab_size < 16:
        out.append((("text", "vocab_size"), "must be at least 16 (the generated tests need ordinary tokens too)"))
    if proc.image_token_id >= text.vocab_size:
        out.append((("processor", "image_token_id"), f"must be below text.vocab_size {text.vocab_size}"))
    for key in ("bos_token_id", "eos_token_id", "pad_token_id"):
        value = getattr(text, key)
        if value is None:
            continue
        if value >= text.vocab_size:
            out.append((("text", key), f"must be below vocab_size {text.vocab_size}"))
        elif value == proc.image_token_id:
            out.append((("text", key), f"{value} is processor.image_token_id"))
    return out + delimiter_problems(spec) + tile_marker_problems(spec)


def vlm_problems(spec: Spec) -> list[tuple[KeyPath, str]]:
    """The model sections: all four together, and the shapes they must agree on."""
    present = [key for key in VLM_SECTIONS if getattr(spec, key) is not None]
    if not present:
        return []
    native = spec.image_processor.layout.kind == "native"
    if native and present == ["processor"]:  # the image processors and the processor, without a model
        return delimiter_problems(spec)
    out: list[tuple[KeyPath, str]] = []
    if len(present) != len(VLM_SECTIONS):
        missing = [key for key in VLM_SECTIONS if key not in present]
        out.append(
            ((present[0],), f"a model spec needs all of {', '.join(VLM_SECTIONS)}; missing {', '.join(missing)}")
        )
        return out
    vision, projector, text, proc = spec.vision, spec.projector, spec.text, spec.processor
    assert vision and projector and text and proc
    models = tower_problems(vision) + decoder_problems(text, native)
    if models:  # the rest reads the tower's traits and the configs' keys
        return out + models
    if native:
        out += native_model_problems(spec)
    elif (traits := TRAITS.get(vision.model_type)) is not None and traits.inputs == "native":
        return out + [
            (
                ("vision", "family"),
                f"{vision.family} takes each image at its own resolution: it needs the native layout",
            )
        ]
    else:
        missing = [key for key in ("image_size", "patch_size") if getattr(vision, key) is None]
        for key in missing:
            out.append((("vision", key), f"required by the {spec.image_processor.layout.kind} layout"))
        if missing:
            return out
        if vision.image_size % vision.patch_size:
            out.append((("vision", "patch_size"), f"must divide image_size {vision.image_size}"))
    if spec.vllm:
        out += vllm_model_problems(text, native)
    for section, cfg in (("vision", vision), ("text", text)):
        if cfg.hidden_size % cfg.num_attention_heads:
            out.append(((section, "num_attention_heads"), f"must divide hidden_size {cfg.hidden_size}"))
    if text.num_key_value_heads is not None and text.num_attention_heads % text.num_key_value_heads:
        out.append((("text", "num_key_value_heads"), f"must divide num_attention_heads {text.num_attention_heads}"))
    out += _token_id_problems(spec)
    if spec.image_processor.do_convert_rgb and vision.num_channels != 3:
        out.append((("vision", "num_channels"), "must be 3 when image_processor.do_convert_rgb is true"))
    if native:
        return out
    # hidden_states has num_hidden_layers + 1 entries (the embeddings first).
    n_states = vision.num_hidden_layers + 1
    for i, layer in enumerate(vision.feature_layers):
        if not -n_states <= layer < n_states:
            where = ("vision", "feature_layer") + ((i,) if isinstance(vision.feature_layer, list) else ())
            out.append(
                (
                    where,
                    f"{layer} is out of range: the tower has {n_states} hidden states (-{n_states}..{n_states - 1})",
                )
            )
    if vision.feature_select == "cls_patch" and not vision.has_cls:
        out.append((("vision", "feature_select"), f"{vision.family} has no CLS token; use patch"))
    out += connector_problems(spec)
    if projector.type == "identity":
        selected = vision.hidden_size * len(vision.feature_layers)
        width = Connector.from_spec(projector, text.hidden_size).mlp_input_width(selected)
        if width != text.hidden_size:
            detail = f"vision.hidden_size {vision.hidden_size}"
            if len(vision.feature_layers) > 1:
                detail += f" x {len(vision.feature_layers)} feature layers"
            if width != selected:
                detail += f" x {width // selected} (the merge)"
            out.append(
                (
                    ("projector", "type"),
                    f"identity needs {detail} = {width} to equal text.hidden_size {text.hidden_size}",
                )
            )
    ip = spec.image_processor
    layout = ip.layout
    if layout.kind == "grid":
        tile = grid_tile_size(ip)
        if tile is not None and tile != vision.image_size:
            key = "crop_size" if ip.crop_size is not None else "size"
            out.append(
                (("image_processor", key), f"gives {tile}x{tile} tiles but vision.image_size is {vision.image_size}")
            )
        if vision.feature_select == "cls_patch":
            out.append(
                (
                    ("vision", "feature_select"),
                    "the grid layout arranges each view's features as a square grid of patches: use patch",
                )
            )
    elif layout.kind == "tiles":
        size = ip.resolved_size()
        if (
            size is not None
            and tuple(size) == ("height", "width")
            and size
            != {
                "height": vision.image_size,
                "width": vision.image_size,
            }
        ):
            out.append(
                (
                    ("image_processor", "size"),
                    f"gives {size['height']}x{size['width']} tiles but vision.image_size is {vision.image_size}",
                )
            )
    if layout.kind != "fixed":
        key, hw = ("size",), (vision.image_size, vision.image_size)
    else:
        key, hw = _processor_output_size(ip)
    if hw is None:
        out.append(
            (
                ("image_processor", key[0]),
                f"the model needs {vision.image_size}x{vision.image_size} images: set image_processor.size "
                "to {height, width} or center-crop to crop_size {height, width}",
            )
        )
    elif hw != (vision.image_size, vision.image_size):
        out.append(
            (
                ("image_processor",) + key,
                f"gives {hw[0]}x{hw[1]} images but vision.image_size is {vision.image_size}",
            )
        )
    if ip.pad_to_square and not ip.do_resize:
        out.append((("image_processor", "pad_to_square"), "padding to a square needs do_resize to reach image_size"))
    if ip.pad_to_square is not None and ip.image_mean is None:
        out.append((("image_processor", "pad_to_square"), "the padding colour is image_mean, which is not given"))
    return out
