"""Map a checkpoint (or an installed model type's defaults) to spec data: the tower, the connector, the layout, the
token scheme, the decoder and the image processor, each with a comment saying where it came from.

Configs and image processors are instantiated through their transformers classes (folders store only the keys that
differ from the defaults), then read back. A value scaffold cannot express is a problem naming the file, the key and
the value; all problems are reported at once.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any

from scaffold.components.decoder import TYPED_KEYS as TEXT_TYPED_KEYS
from scaffold.components.hf_models import BASE_CONFIG_FIELDS, UnknownModelType, model_facts
from scaffold.components.tower import ALIASES, TRAITS
from scaffold.components.tower import TYPED_KEYS as VISION_TYPED_KEYS
from scaffold.specfrom.read import CheckpointError, Folder
from scaffold.transformers_api import NAMED_STATS

SUPPORTED = ("llava", "llava_next", "internvl", "aya_vision")

# Keys every saved config may carry that describe the file, not the model.
FILE_KEYS = BASE_CONFIG_FIELDS | {"model_type", "_name_or_path", "torch_dtype", "auto_map"}

# Top-level config keys each model type's mapping reads (besides the two sub-configs).
TOP_KEYS = {
    "llava": {
        "image_token_index",
        "image_token_id",
        "projector_hidden_act",
        "vision_feature_select_strategy",
        "vision_feature_layer",
        "image_seq_length",
        "multimodal_projector_bias",
        "tie_word_embeddings",
    },
}
TOP_KEYS["llava_next"] = TOP_KEYS["llava"] | {"image_grid_pinpoints"}
TOP_KEYS["internvl"] = TOP_KEYS["llava"] - {"multimodal_projector_bias"} | {"downsample_ratio"}
TOP_KEYS["aya_vision"] = TOP_KEYS["llava"] - {"multimodal_projector_bias", "projector_hidden_act"} | {
    "downsample_factor",
    "adapter_layer_norm_eps",
    "alignment_intermediate_size",
}

# The image processors each model type's checkpoints use, as their classes are named (a Pil or Fast suffix aside).
IMAGE_PROCESSORS = {
    "llava": ("LlavaImageProcessor", "CLIPImageProcessor", "SiglipImageProcessor"),
    "llava_next": ("LlavaNextImageProcessor",),
    "internvl": ("GotOcr2ImageProcessor",),
    "aya_vision": ("GotOcr2ImageProcessor",),
}
DEFAULT_IMAGE_PROCESSOR = {key: names[0] for key, names in IMAGE_PROCESSORS.items()}
PROCESSORS = {
    "llava": "LlavaProcessor",
    "llava_next": "LlavaNextProcessor",
    "internvl": "InternVLProcessor",
    "aya_vision": "AyaVisionProcessor",
}

# Image-processor settings the spec has a key for (with the spec key they go to).
IMAGE_KEYS = {
    "do_resize": "do_resize",
    "size": "size",
    "resample": "resample",
    "do_center_crop": "do_center_crop",
    "crop_size": "crop_size",
    "do_rescale": "do_rescale",
    "rescale_factor": "rescale_factor",
    "do_normalize": "do_normalize",
    "image_mean": "image_mean",
    "image_std": "image_std",
    "do_convert_rgb": "do_convert_rgb",
}
# Settings of the image processor that are the layout's (read separately) or describe the file.
IMAGE_LAYOUT_KEYS = {"do_pad", "image_grid_pinpoints", "crop_to_patches", "min_patches", "max_patches"}
IMAGE_FILE_KEYS = {"image_processor_type", "processor_class", "auto_map", "_processor_class"}

RESAMPLE = {0: "nearest", 1: "lanczos", 2: "bilinear", 3: "bicubic", 4: "box", 5: "hamming"}

# The projector's weights upstream -> in the generated model, per model type.
PROJECTOR_WEIGHTS = {
    "llava": {"linear_1": "layers.0", "linear_2": "layers.2"},
    "llava_next": {"linear_1": "layers.0", "linear_2": "layers.2"},
    "internvl": {"layer_norm": "layer_norm", "linear_1": "linear_1", "linear_2": "linear_2"},
    "aya_vision": {"layernorm": "layer_norm", "linear_1": "linear_1", "linear_2": "linear_2"},
}


@dataclass
class Draft:
    """Spec data in key order, with end-of-line comments by key path, a header and notes for the closing report."""

    data: dict[str, Any] = field(default_factory=dict)
    comments: dict[tuple[str, ...], str] = field(default_factory=dict)
    header: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def put(self, path: tuple[str, ...], value: Any, comment: str | None = None) -> None:
        node = self.data
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
        if comment:
            self.comments[path] = comment


@dataclass
class Source:
    """What the mapping reads, from a folder or from a model type's defaults."""

    model_type: str
    config: Any  # the instantiated config
    config_data: dict[str, Any]  # the keys as stored (the defaults' to_dict for --like)
    config_file: str
    image_processor: dict[str, Any]  # effective settings (to_dict of the instantiated class)
    image_processor_class: str
    image_processor_file: str
    processor: dict[str, Any]  # the processor's kwargs, its signature's defaults filled in
    processor_file: str
    tokens: dict[str, int] | None  # None: no tokenizer (defaults); ids then come from the config
    tokenizer_config: dict[str, Any]
    tokenizer_file: str
    weight_names: list[str]
    chat_template: str | None
    origin: str  # for the header
    original: dict[str, Any] | None = None  # the original LLaVA layout's settings (see original.py)


class Problems(list):
    def add(self, where: str, key: str, value: Any, why: str) -> None:
        self.append(f"{where}: {key}: {value!r}: {why}")


# ---- sources ---------------------------------------------------------------------------------------------------


def source_from_folder(folder: Folder) -> Source:
    model_type = folder.config.get("model_type")
    config_file = folder.where("config.json")
    if not isinstance(model_type, str):
        raise CheckpointError([f"{config_file}: model_type: missing; spec-from needs it to know the model"])
    if model_type not in SUPPORTED:
        raise CheckpointError(
            [
                f"{config_file}: model_type: {model_type!r}: scaffold can start a spec from "
                f"{', '.join(SUPPORTED)} checkpoints only (LLaVA's original training layout: see README)"
            ]
        )
    config = _instantiate_config(model_type, folder.config, config_file)
    if folder.image_processor is None:
        raise CheckpointError(
            [
                f"{folder.where('processor_config.json')}: missing (nor preprocessor_config.json): spec-from reads "
                "the image processor's settings from it"
            ]
        )
    if not folder.tokens:
        raise CheckpointError(
            [
                f"{folder.where('tokenizer.json')}: missing (nor added tokens in tokenizer_config.json): spec-from "
                "reads the image token's id from it"
            ]
        )
    ip_file = folder.where(folder.image_processor_file)
    ip_class, ip_settings = _instantiate_image_processor(model_type, folder.image_processor, ip_file)
    processor = {**_signature_defaults(PROCESSORS[model_type]), **folder.processor}
    return Source(
        model_type=model_type,
        config=config,
        config_data=folder.config,
        config_file=config_file,
        image_processor=ip_settings,
        image_processor_class=ip_class,
        image_processor_file=ip_file,
        processor=processor,
        processor_file=folder.where(folder.processor_file),
        tokens=folder.tokens,
        tokenizer_config=folder.tokenizer_config,
        tokenizer_file=folder.where("tokenizer_config.json"),
        weight_names=folder.weight_names,
        chat_template=folder.chat_template,
        origin=f"the checkpoint {folder.path} ({', '.join(folder.config.get('architectures') or [model_type])})",
    )


def source_from_defaults(model_type: str) -> Source:
    """An installed model type's defaults: its config class and default image processor, built in memory."""
    if model_type not in SUPPORTED:
        raise CheckpointError([f"--like: {model_type!r}: scaffold can start a spec from {', '.join(SUPPORTED)} only"])
    import transformers
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    config_class = CONFIG_MAPPING[model_type]
    config = config_class()
    # The image processor's class defaults need not fit the model's (LlavaNextImageProcessor's 224 px views for
    # LlavaNextConfig's 336 px tower): its views are made the tower's size, in the form the class uses.
    ip_name = DEFAULT_IMAGE_PROCESSOR[model_type]
    side = config.vision_config.image_size
    side = side[0] if isinstance(side, (list, tuple)) else side
    size_settings = _sized(getattr(transformers, ip_name)().to_dict(), side)
    ip_class, ip_settings = _instantiate_image_processor(model_type, size_settings, f"{ip_name}()")
    return Source(
        model_type=model_type,
        config=config,
        config_data=config.to_dict(),
        config_file=f"{config_class.__name__}()",
        image_processor=ip_settings,
        image_processor_class=ip_class,
        image_processor_file=f"{ip_class}()",
        processor=_signature_defaults(PROCESSORS[model_type]),
        processor_file=f"{PROCESSORS[model_type]}()",
        tokens=None,
        tokenizer_config={},
        tokenizer_file="(no tokenizer)",
        weight_names=[],
        chat_template=None,
        origin=f"the defaults of transformers' {config_class.__name__} and {ip_class}",
    )


def _sized(settings: dict[str, Any], side: int) -> dict[str, Any]:
    """`size` and `crop_size` of an image processor's settings made `side` pixels, keeping their forms."""
    out: dict[str, Any] = {}
    for key in ("size", "crop_size"):
        value = settings.get(key)
        if isinstance(value, dict):
            out[key] = {k: side for k in value if k in ("height", "width", "shortest_edge")} or value
    return out


def _instantiate_config(model_type: str, data: dict[str, Any], where: str) -> Any:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    config_class = CONFIG_MAPPING[model_type]
    try:
        return config_class.from_dict(dict(data))
    except Exception as exc:  # transformers raises many kinds for a config it cannot build
        raise CheckpointError([f"{where}: {config_class.__name__} cannot be built from it: {exc}"]) from None


def _instantiate_image_processor(model_type: str, data: dict[str, Any], where: str) -> tuple[str, dict[str, Any]]:
    import transformers

    stored = data.get("image_processor_type") or DEFAULT_IMAGE_PROCESSOR[model_type]
    name = re.sub(r"(Pil|Fast)$", "", str(stored))
    if name not in IMAGE_PROCESSORS[model_type]:
        raise CheckpointError(
            [
                f"{where}: image_processor_type: {stored!r}: scaffold restates "
                f"{', '.join(IMAGE_PROCESSORS[model_type])} for {model_type} checkpoints"
            ]
        )
    cls = getattr(transformers, name)
    settings = {key: value for key, value in data.items() if key not in IMAGE_FILE_KEYS}
    try:
        processor = cls(**settings)
    except Exception as exc:  # the class rejects a setting
        raise CheckpointError([f"{where}: {name} cannot be built from it: {exc}"]) from None
    effective = processor.to_dict()
    effective["default_to_square"] = getattr(processor, "default_to_square", True)
    defaults = cls().to_dict()
    for key, value in settings.items():
        if key in IMAGE_KEYS or key in IMAGE_LAYOUT_KEYS or key in IMAGE_FILE_KEYS:
            continue
        if key in defaults and _plain(defaults[key]) == _plain(value):
            continue
        raise CheckpointError(
            [f"{where}: {key}: {value!r}: scaffold's image processor has no such setting (spec reference: README)"]
        )
    return name, effective


def _signature_defaults(class_name: str) -> dict[str, Any]:
    import transformers

    params = inspect.signature(getattr(transformers, class_name).__init__).parameters
    return {
        name: p.default
        for name, p in params.items()
        if p.default is not inspect.Parameter.empty and name not in ("image_processor", "tokenizer", "chat_template")
    }


def _plain(value: Any) -> Any:
    """JSON-like form of a setting (tuples as lists, enums as their values)."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "value") and not isinstance(value, (int, float, str, bool)):
        return value.value
    return int(value) if type(value).__name__ == "Resampling" else value


# ---- the mapping -----------------------------------------------------------------------------------------------


def draft_spec(source: Source, name: str, spec_model_type: str) -> Draft:
    problems = Problems()
    draft = Draft()
    draft.header = [
        f"Started by `scaffold spec-from` from {source.origin}.",
        "Given the checkpoint's weights, the generated model computes what transformers' own class computes; each",
        "comment names the setting a value was read from.",
    ]
    if source.tokens is None:
        draft.header.append(
            "No folder: the image processor's views are made the tower's size and the image tokens' ids come from "
            "the config; set them to your tokenizer's."
        )
    mt, config = source.model_type, source.config
    _check_top_keys(source, problems)
    draft.put(("model", "name"), name)
    draft.put(("model", "model_type"), spec_model_type)
    layout = _image_processor_section(source, draft, problems)
    has_cls = _vision_section(source, draft, problems)
    _projector_section(source, draft, problems)
    _text_section(source, draft, problems)
    _processor_section(source, draft, problems, has_cls, layout)
    renames = key_renames(mt, source.weight_names)
    draft.put(
        ("checkpoint_key_renames",),
        renames,
        "saved weight names (transformers' legacy layout) -> the generated model's",
    )
    if problems:
        raise CheckpointError(list(problems))
    del config
    return draft


def _check_top_keys(source: Source, problems: Problems) -> None:
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING

    known = TOP_KEYS[source.model_type] | {"vision_config", "text_config"} | FILE_KEYS
    default = CONFIG_MAPPING[source.model_type]()
    for key, value in source.config_data.items():
        if key in known:
            continue
        if hasattr(default, key) and _plain(getattr(default, key)) == _plain(value):
            continue  # a default value written out: nothing to express
        problems.add(source.config_file, key, value, "scaffold's spec has no setting for it")


def _feature_select(source: Source, has_cls: bool, problems: Problems) -> str:
    strategy = source.config.vision_feature_select_strategy
    if strategy == "default":
        if not has_cls:
            problems.add(
                source.config_file,
                "vision_feature_select_strategy",
                strategy,
                "drops the first patch of a tower without a CLS token; scaffold drops CLS tokens only",
            )
        return "patch"
    if strategy == "full":
        return "cls_patch" if has_cls else "patch"
    problems.add(source.config_file, "vision_feature_select_strategy", strategy, "expected 'default' or 'full'")
    return "patch"


def _vision_section(source: Source, draft: Draft, problems: Problems) -> bool:
    vision = source.config.vision_config
    where = f"{source.config_file}: vision_config"
    tower_type = vision.model_type
    family = {v: k for k, v in ALIASES.items()}.get(tower_type, tower_type)
    traits = TRAITS.get(tower_type)
    draft.put(("vision", "family"), family, f"vision_config.model_type {tower_type}")
    values = vision.to_dict()
    if traits is None:
        problems.add(
            where,
            "model_type",
            tower_type,
            "scaffold does not know whether its hidden states start with "
            "a CLS token (towers it restates: " + ", ".join(sorted(TRAITS)) + ")",
        )
        return False
    typed: dict[str, Any] = {}
    for key in VISION_TYPED_KEYS:
        if key not in values:
            continue
        value = values[key]
        if key in ("image_size", "patch_size") and isinstance(value, (list, tuple)):
            if len(value) != 2 or value[0] != value[1]:
                problems.add(where, key, value, "scaffold's towers take square views")
                continue
            value = value[0]
        typed[key] = value
    if traits.size_key == "num_patches":
        side = math.isqrt(values["num_patches"])
        if side * side != values["num_patches"]:
            problems.add(where, "num_patches", values["num_patches"], "scaffold's SigLIP2 takes square views")
        typed["image_size"] = side * values["patch_size"]
    for key in ("image_size", "patch_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                "num_attention_heads"):  # fmt: skip
        if key in typed:
            draft.put(("vision", key), typed[key])
    if typed.get("num_channels", 3) != 3:
        draft.put(("vision", "num_channels"), typed["num_channels"])
    for key in ("hidden_act", "layer_norm_eps"):
        if typed.get(key) is not None:
            draft.put(("vision", key), typed[key])
    config_kwargs = {key: value for key, value in typed.items() if value is not None}
    if traits.size_key == "num_patches":
        config_kwargs["num_patches"] = values["num_patches"]
        config_kwargs.pop("image_size", None)
    config_kwargs.update(traits.fixed)
    extras = _extras(vision, config_kwargs, set(VISION_TYPED_KEYS) | {"num_patches"})
    if extras:
        draft.put(("vision", "config"), extras, "vision_config keys that differ from the tower's defaults")
    feature_layer = source.config.vision_feature_layer
    draft.put(("vision", "feature_layer"), list(feature_layer) if isinstance(feature_layer, (list, tuple)) else
              feature_layer, "vision_feature_layer")  # fmt: skip
    select = _feature_select(source, traits.has_cls, problems)
    draft.put(
        ("vision", "feature_select"),
        select,
        f"vision_feature_select_strategy {source.config.vision_feature_select_strategy!r}"
        + (" on a tower with a CLS token" if traits.has_cls else " on a tower without a CLS token"),
    )
    return traits.has_cls


def _extras(config: Any, kwargs: dict[str, Any], typed: set[str]) -> dict[str, Any]:
    """The keys of `config` that differ from its class built with `kwargs` (what scaffold's config builds)."""
    import dataclasses

    built = type(config)(**kwargs).to_dict()
    values = config.to_dict()
    skip = FILE_KEYS | typed
    # Only the class's own fields: a saved config may carry stray attributes (LLaVA's default CLIP config a
    # vocab_size) that no model reads.
    declared = {f.name for f in dataclasses.fields(type(config))} if dataclasses.is_dataclass(config) else set(values)
    return {
        key: _plain(value)
        for key, value in values.items()
        if key in declared and key not in skip and not key.startswith("_") and _plain(built.get(key)) != _plain(value)
    }


def _projector_section(source: Source, draft: Draft, problems: Problems) -> None:
    mt, config, where = source.model_type, source.config, source.config_file
    if mt in ("llava", "llava_next", "internvl"):
        act = config.projector_hidden_act
        if act != "gelu":
            problems.add(where, "projector_hidden_act", act, "scaffold's MLP projectors use GELU (mlpNx_gelu)")
        draft.put(("projector", "type"), "mlp2x_gelu", "linear_1, projector_hidden_act 'gelu', linear_2")
    if mt in ("llava", "llava_next"):
        draft.put(("projector", "bias"), bool(config.multimodal_projector_bias), "multimodal_projector_bias")
    if mt == "internvl":
        ratio = config.downsample_ratio
        factor = round(1 / ratio) if ratio else 0
        if ratio != 1 and (factor < 2 or abs(1 / factor - ratio) > 1e-9 or factor & (factor - 1)):
            problems.add(where, "downsample_ratio", ratio, "scaffold's pixel shuffle needs 1/ratio a power of two")
        elif ratio != 1:
            draft.put(("projector", "merge"), {"kind": "pixel_shuffle", "factor": factor}, f"downsample_ratio {ratio}")
        draft.put(("projector", "layer_norm"), True, "InternVL's projector normalises its input (eps 1e-5)")
    if mt == "aya_vision":
        draft.put(("projector", "type"), "swiglu", "linear_1, SiLU-gated halves, linear_2")
        factor = config.downsample_factor
        if factor != 1:
            draft.put(("projector", "merge"), {"kind": "pixel_shuffle", "factor": factor}, "downsample_factor")
        draft.put(("projector", "layer_norm"), True, "Aya Vision's `layernorm` (renamed below)")
        draft.put(("projector", "layer_norm_eps"), config.adapter_layer_norm_eps, "adapter_layer_norm_eps")
        width = getattr(config, "alignment_intermediate_size", config.text_config.hidden_size)
        draft.put(("projector", "intermediate_size"), width, "alignment_intermediate_size (default: the text width)")


def _text_section(source: Source, draft: Draft, problems: Problems) -> None:
    text = source.config.text_config
    where = f"{source.config_file}: text_config"
    family = text.model_type
    try:
        fields = model_facts(family).field_types
    except UnknownModelType as exc:
        problems.add(where, "model_type", family, str(exc))
        return
    draft.put(("text", "family"), family, "text_config.model_type")
    values = text.to_dict()
    tie = bool(source.config.tie_word_embeddings)
    kwargs: dict[str, Any] = {}
    for key, _ in TEXT_TYPED_KEYS:
        if key == "tie_word_embeddings":
            kwargs[key] = tie
            draft.put(("text", key), tie, "the model's tie_word_embeddings (top level)")
            continue
        if key not in values or key not in fields:
            continue
        value = values[key]
        if key.endswith("_token_id"):
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if value is None:
                kwargs[key] = None
                continue
            if not isinstance(value, int):
                problems.add(where, key, value, "scaffold's spec takes one token id")
                continue
            if value >= values["vocab_size"] and source.tokens is not None:
                problems.add(where, key, value, f"is not below vocab_size {values['vocab_size']}")
                continue
        if value is None:
            continue
        kwargs[key] = value
        draft.put(("text", key), value)
    image_token_id = source.config.image_token_id
    if source.tokens is None and image_token_id >= values["vocab_size"]:
        # transformers' LLaVA defaults put the image token just past the vocabulary (checkpoints resize it).
        draft.put(
            ("text", "vocab_size"),
            image_token_id + 1,
            f"default {values['vocab_size']} does not hold image_token_id {image_token_id}: one more row for it",
        )
    extras = _extras(text, kwargs, {key for key, _ in TEXT_TYPED_KEYS})
    if extras:
        draft.put(("text", "config"), extras, "text_config keys that differ from the decoder's defaults")


def _named_stat(values: Any, kind: str) -> Any:
    values = [float(v) for v in values]
    for key in ("openai_clip", "imagenet_standard", "imagenet_default"):
        named = NAMED_STATS[f"{key.upper()}_{kind}"]
        if len(named) == len(values) and all(abs(a - b) < 1e-9 for a, b in zip(named, values, strict=True)):
            return key
    return values


def _image_processor_section(source: Source, draft: Draft, problems: Problems) -> str:
    """The image processor's settings and its layout; returns the layout kind."""
    ip, where, cls = source.image_processor, source.image_processor_file, source.image_processor_class
    section = ("image_processor",)
    resample = _plain(ip.get("resample"))
    if resample is not None:
        draft.put(section + ("resample",), RESAMPLE.get(resample, resample), f"resample {resample}")
    for key in ("image_mean", "image_std"):
        if ip.get(key) is not None:
            draft.put(section + (key,), _named_stat(ip[key], key.split("_")[1].upper()))
    if ip.get("size") is not None:
        draft.put(section + ("size",), dict(_plain(ip["size"])))
    draft.put(section + ("default_to_square",), bool(ip["default_to_square"]))
    if ip.get("crop_size") is not None:
        draft.put(section + ("crop_size",), dict(_plain(ip["crop_size"])))
    for key in ("do_resize", "do_center_crop", "do_rescale", "do_normalize", "do_convert_rgb"):
        if key in ip:
            draft.put(section + (key,), bool(ip[key]))
    if "rescale_factor" in ip:
        factor = float(ip["rescale_factor"])
        draft.put(section + ("rescale_factor",), "1/255" if abs(factor - 1 / 255) < 1e-15 else factor)
    if cls == "LlavaImageProcessor":
        draft.put(section + ("pad_to_square",), bool(ip.get("do_pad")), f"{cls} do_pad (pad to a square, mean colour)")
    if cls == "LlavaNextImageProcessor":
        pinpoints = [list(p) for p in _plain(ip["image_grid_pinpoints"])]
        config_pinpoints = [list(p) for p in _plain(getattr(source.config, "image_grid_pinpoints", pinpoints))]
        if pinpoints != config_pinpoints:
            problems.add(where, "image_grid_pinpoints", pinpoints, f"differs from config.json's {config_pinpoints}")
        draft.put(section + ("do_pad",), bool(ip.get("do_pad")))
        draft.put(section + ("layout",), {"kind": "grid", "grid_pinpoints": pinpoints}, "image_grid_pinpoints")
        return "grid"
    if cls == "GotOcr2ImageProcessor":
        if ip.get("crop_to_patches"):
            draft.put(
                section + ("layout",),
                {
                    "kind": "tiles",
                    "min_tiles": ip["min_patches"],
                    "max_tiles": ip["max_patches"],
                    "use_thumbnail": True,
                },
                "crop_to_patches, min_patches, max_patches (GotOcr2 adds a thumbnail to several tiles)",
            )
            return "tiles"
        return "fixed"
    return "fixed"


def _token_id(source: Source, token: str, fallback: int | None, problems: Problems, what: str) -> int | None:
    if source.tokens is None:
        return fallback
    if token not in source.tokens:
        problems.add(f"{source.processor_file}", what, token, "is not a token of the folder's tokenizer")
        return None
    return source.tokens[token]


def _processor_section(source: Source, draft: Draft, problems: Problems, has_cls: bool, layout: str) -> None:
    mt, config, proc = source.model_type, source.config, source.processor
    image_token_id = config.image_token_id
    section = ("processor",)
    vision = draft.data.get("vision", {})
    if mt in ("llava", "llava_next"):
        token = proc.get("image_token") or "<image>"
        token_id = _token_id(source, token, image_token_id, problems, "image_token")
        if token_id is not None and token_id != image_token_id:
            problems.add(
                source.processor_file,
                "image_token",
                token,
                f"has id {token_id}, config.json image_token_index {image_token_id}",
            )
        draft.put(section + ("image_token",), token)
        draft.put(section + ("image_token_id",), image_token_id, "image_token_index")
        if source.tokens is not None:  # the processor's own arithmetic must be the tower's
            patch = proc.get("patch_size")
            if patch is not None and patch != vision.get("patch_size"):
                problems.add(
                    source.processor_file, "patch_size", patch, f"differs from the tower's {vision.get('patch_size')}"
                )
            extra = proc.get("num_additional_image_tokens", 0)
            if extra != (1 if has_cls else 0):
                problems.add(
                    source.processor_file,
                    "num_additional_image_tokens",
                    extra,
                    f"scaffold counts the tower's own tokens: {1 if has_cls else 0} for {vision.get('family')}",
                )
            strategy = proc.get("vision_feature_select_strategy")
            if strategy is not None and strategy != config.vision_feature_select_strategy:
                problems.add(
                    source.processor_file,
                    "vision_feature_select_strategy",
                    strategy,
                    f"differs from config.json's {config.vision_feature_select_strategy!r}",
                )
    elif mt == "internvl":
        tok = source.tokenizer_config
        extra = tok.get("extra_special_tokens") if isinstance(tok.get("extra_special_tokens"), dict) else {}
        names = {
            key: tok.get(key) or extra.get(key)
            for key in ("context_image_token", "start_image_token", "end_image_token")
        }
        defaults = {"context_image_token": "<IMG_CONTEXT>", "start_image_token": "<img>", "end_image_token": "</img>"}
        if source.tokens is None:
            names = defaults
        for key, value in names.items():
            if not value:
                problems.add(source.tokenizer_file, key, None, "InternVL's tokenizer names it")
        if all(names.values()):
            token_id = _token_id(source, names["context_image_token"], image_token_id, problems, "context_image_token")
            if token_id is not None and token_id != image_token_id:
                problems.add(source.tokenizer_file, "context_image_token", names["context_image_token"],
                             f"has id {token_id}, config.json image_token_id {image_token_id}")  # fmt: skip
            start_id = _token_id(source, names["start_image_token"], image_token_id - 2, problems, "start_image_token")
            end_id = _token_id(source, names["end_image_token"], image_token_id - 1, problems, "end_image_token")
            draft.put(section + ("image_token",), names["context_image_token"], "tokenizer context_image_token")
            draft.put(section + ("image_token_id",), image_token_id, "image_token_id")
            draft.put(
                section + ("image_delimiters",),
                {
                    "start": names["start_image_token"],
                    "start_id": start_id,
                    "end": names["end_image_token"],
                    "end_id": end_id,
                },
                "tokenizer start_image_token, end_image_token"
                + (" (ids are placeholders: set your tokenizer's)" if source.tokens is None else ""),
            )
        seq = proc.get("image_seq_length")
        features = _features_per_tile(draft)
        if source.tokens is not None and seq is not None and features is not None and seq != features:
            problems.add(source.processor_file, "image_seq_length", seq,
                         f"the tower and pixel shuffle give {features} features per tile")  # fmt: skip
    elif mt == "aya_vision":
        patch_token = proc.get("img_patch_token", "<|IMG_PATCH|>")
        start, end = proc.get("start_of_img_token"), proc.get("end_of_img_token")
        token_id = _token_id(source, patch_token, image_token_id, problems, "img_patch_token")
        if token_id is not None and token_id != image_token_id:
            problems.add(source.processor_file, "img_patch_token", patch_token,
                         f"has id {token_id}, config.json image_token_index {image_token_id}")  # fmt: skip
        start_id = _token_id(source, start, image_token_id - 2, problems, "start_of_img_token")
        end_id = _token_id(source, end, image_token_id - 1, problems, "end_of_img_token")
        draft.put(section + ("image_token",), patch_token, "img_patch_token (Aya's prompts say <image>; see the note)")
        draft.put(section + ("image_token_id",), image_token_id, "image_token_index")
        draft.put(section + ("image_delimiters",), {"start": start, "start_id": start_id, "end": end, "end_id": end_id},
                  "start_of_img_token, end_of_img_token")  # fmt: skip
        note = (
            "Aya Vision's processor writes per-tile markers (TILE_1 ... TILE_GLOBAL) between an image's patch tokens "
            "and takes `<image>` as the prompt placeholder; the spec cannot express either: the generated processor "
            f"expands {patch_token} in prompts to the same number of {patch_token} tokens between "
            f"{start} and {end}, without the tile markers. Pixel values and the model are the same; input_ids differ."
        )
        draft.notes.append(note)
        draft.header.append("Note: " + note)
    if source.chat_template:
        draft.put(section + ("chat_template",), source.chat_template, "the folder's chat template")


def _features_per_tile(draft: Draft) -> int | None:
    vision, projector = draft.data.get("vision", {}), draft.data.get("projector", {})
    if "image_size" not in vision or "patch_size" not in vision:
        return None
    factor = (projector.get("merge") or {}).get("factor", 1)
    return (vision["image_size"] // vision["patch_size"]) ** 2 // factor**2


def key_renames(model_type: str, weight_names: list[str]) -> dict[str, str]:
    """Anchored renames from the weight names transformers' class saves (its legacy layout, or the v5 one) to the
    generated model's; only those some weight of the folder needs (all of the legacy ones without weights)."""
    rules: dict[str, str] = {
        r"^language_model\.lm_head\.": "lm_head.",
        r"^language_model\.model\.": "model.language_model.",
        r"^vision_tower\.": "model.vision_tower.",
    }
    for upstream, ours in PROJECTOR_WEIGHTS[model_type].items():
        rules[rf"^multi_modal_projector\.{upstream}\."] = f"model.multi_modal_projector.{ours}."
        if upstream != ours:
            rules[rf"^model\.multi_modal_projector\.{upstream}\."] = f"model.multi_modal_projector.{ours}."
    if model_type == "llava_next":
        rules[r"^image_newline"] = "model.image_newline"
    if not weight_names:
        return {source: target for source, target in rules.items() if not source.startswith(r"^model\.")}
    return {
        source: target for source, target in rules.items() if any(re.search(source, name) for name in weight_names)
    }
