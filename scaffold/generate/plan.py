"""Decide what to write: one `PlannedFile` per output path, with the template and the context it needs."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scaffold.codegen.literals import PyExpr, py_literal
from scaffold.components import tokens
from scaffold.components.connector import Connector
from scaffold.components.decoder import VLLM_MROPE_DECODERS, Decoder
from scaffold.components.hf_models import model_facts
from scaffold.components.token_scheme import TokenScheme
from scaffold.components.tower import Tower
from scaffold.generate.modular import SplitOptions, tree_header
from scaffold.spec.model import NAMED_MEANS, NAMED_STDS, Spec
from scaffold.spec.names import Names
from scaffold.testgen import parity_test_context
from scaffold.transformers_api import BASE_IMAGE_PROCESSOR_DEFAULTS as BASE_DEFAULTS


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the output directory, POSIX separators
    template: str
    context: dict[str, Any]
    formatted: bool = True  # Python files: `ruff check --fix` then `ruff format` (scaffold.codegen.format)


def _isort_key(name: str) -> tuple[int, str]:
    """isort's 'order by type': CONSTANTS, then Classes, then functions."""
    if name.isupper():
        return (0, name)
    return (1 if name[:1].isupper() else 2, name)


def image_processor_attributes(spec: Spec) -> tuple[list[tuple[str, Any]], list[str]]:
    """Class attributes shared verbatim by both backends, and the transformers.image_utils names they use."""
    ip = spec.image_processor
    attrs: list[tuple[str, Any]] = []
    imports: set[str] = set()
    if ip.resample is not None:
        attrs.append(("resample", PyExpr(f"PILImageResampling.{ip.resample.upper()}")))
        imports.add("PILImageResampling")
    for key, table in (("image_mean", NAMED_MEANS), ("image_std", NAMED_STDS)):
        value = getattr(ip, key)
        if isinstance(value, str):
            constant = table[value][0]
            attrs.append((key, PyExpr(constant)))
            imports.add(constant)
        elif value is not None:
            attrs.append((key, list(value)))
    standard = {
        "size": ip.resolved_size(),
        "default_to_square": ip.default_to_square,
        "crop_size": ip.resolved_crop_size(),
        "do_resize": ip.do_resize,
        "do_center_crop": ip.do_center_crop,
        "do_rescale": ip.do_rescale,
        "rescale_factor": ip.rescale_factor,
        "do_normalize": ip.do_normalize,
        "do_convert_rgb": ip.do_convert_rgb,
        "do_pad": ip.do_pad,
        "pad_size": ip.resolved_pad_size(),
        "model_input_names": list(ip.model_input_names)
        + [name for name in LAYOUT_INPUT_NAMES[ip.layout.kind] if name not in ip.model_input_names],
    }
    for key, value in standard.items():
        if value is None or (key in BASE_DEFAULTS and value == BASE_DEFAULTS[key]):
            continue
        attrs.append((key, value))
    if ip.pad_to_square is not None:
        attrs.append(("pad_to_square", ip.pad_to_square))
    for name, value in layout_kwarg_defaults(spec).items():
        attrs.append((name, value))
    for kw in ip.custom_kwargs:
        attrs.append((kw.name, kw.default))
    return attrs, sorted(imports, key=_isort_key)


# What the processor returns besides pixel_values, per layout.
LAYOUT_INPUT_NAMES = {"fixed": [], "grid": ["image_sizes"], "tiles": ["num_patches"], "native": ["image_grid_thw"]}
LAYOUT_KWARG_DOCS = {
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


def layout_kwarg_defaults(spec: Spec) -> dict[str, Any]:
    """The layout's kwargs (a Kwargs field and a class attribute on both backends) and their defaults."""
    layout = spec.image_processor.layout
    if layout.kind == "grid":
        return {"image_grid_pinpoints": [list(p) for p in layout.grid_pinpoints]}
    if layout.kind == "tiles":
        return {"min_tiles": layout.min_tiles, "max_tiles": layout.max_tiles, "use_thumbnail": layout.use_thumbnail}
    if layout.kind == "native":  # min_pixels and max_pixels are `size`, as in transformers' Qwen2-VL
        return {
            "patch_size": layout.patch_size,
            "temporal_patch_size": layout.temporal_patch_size,
            "merge_size": layout.merge_size,
        }
    return {}


def layout_context(spec: Spec) -> dict[str, Any]:
    layout = spec.image_processor.layout
    return {"kind": layout.kind, **layout_kwarg_defaults(spec)}


# The tile side of the in-tree image-processing tests of the grid layout (a tiny square tile keeps them fast).
TINY_GRID_TILE = 16


def layout_test_context(spec: Spec) -> dict[str, Any]:
    """What the in-tree tests need of the spec's layout: `blocks`, the folder of its test blocks under templates/
    (the tester methods and test overrides that follow its views per image); `tester_kwargs`, image-processing
    tester settings it needs; `max_image_tokens`, the most placeholder tokens one image can expand to, delimiters
    included (the processing tests pad to lengths that leave room for it)."""
    ip, vision = spec.image_processor, spec.vision
    layout = ip.layout
    out: dict[str, Any] = {"blocks": f"layout_tests/{layout.kind}", "tester_kwargs": {}, "max_image_tokens": None}
    if vision is None:
        return out
    if layout.kind == "native":  # no views: the largest image `max_pixels` allows, one token per merged block
        factor = layout.patch_size * layout.merge_size
        per_view = layout.max_pixels // factor**2
        out["max_image_tokens"] = per_view
        # Pixel bounds (the `size` of the native layout) of 2 x 2 to 4 x 4 merged blocks: a few patches per image.
        out["tester_kwargs"] = {"size": {"shortest_edge": (2 * factor) ** 2, "longest_edge": (4 * factor) ** 2}}
    else:
        merge_factor = Connector.from_spec(spec.projector, spec.text.hidden_size).factor if spec.is_vlm else 1
        tile, patch, per_view = vision.image_size, vision.patch_size, vision.features_per_view(merge_factor)
    if layout.kind == "grid":
        size = ip.resolved_size() or {}
        tiny = TINY_GRID_TILE
        out["tester_kwargs"] = {
            "size": {"shortest_edge": tiny} if "shortest_edge" in size else {"height": tiny, "width": tiny},
            "crop_size": {"height": tiny, "width": tiny},
            "image_grid_pinpoints": [[h * tiny // tile, w * tiny // tile] for h, w in layout.grid_pinpoints],
        }
        # The base view, then a pinpoint's feature grid with a newline per feature row (before unpadding).
        out["max_image_tokens"] = per_view + max(
            (h // patch) * (w // patch) + h // patch for h, w in layout.grid_pinpoints
        )
    elif layout.kind == "tiles":
        thumbnail = 1 if layout.use_thumbnail and layout.max_tiles > 1 else 0
        out["max_image_tokens"] = (layout.max_tiles + thumbnail) * per_view
    scheme = TokenScheme.from_spec(spec.processor, layout) if spec.processor else None
    if scheme is not None and scheme.delimited:  # the placeholder of one image holds its delimiters too
        out["max_image_tokens"] = (out["max_image_tokens"] or per_view) + scheme.num_delimiters
    if scheme is not None and scheme.tile_markers:  # and its markers, the most for the widest grid of tiles
        out["max_image_tokens"] += max(
            tokens.tile_marker_tokens(rows, layout.max_tiles // rows) for rows in range(1, layout.max_tiles + 1)
        )
    return out


PAD_TO_SQUARE_DOC = (
    "Whether to pad the image to a square of its longer side, centred, with the mean colour "
    "(`image_mean` scaled to 0-255) before resizing, as LLaVA's `image_aspect_ratio='pad'` does."
)


def image_processor_context(spec: Spec, names: Names) -> dict[str, Any]:
    ip = spec.image_processor
    attributes, image_utils_imports = image_processor_attributes(spec)
    has_pad_to_square = ip.pad_to_square is not None
    kwarg_docs = [
        {"name": kw.name, "type": kw.type, "doc": kw.doc, "default_code": py_literal(kw.default)}
        for kw in ip.custom_kwargs
    ]
    if has_pad_to_square:
        pad = {
            "name": "pad_to_square",
            "type": "bool",
            "doc": PAD_TO_SQUARE_DOC,
            "default_code": py_literal(ip.pad_to_square),
        }
        kwarg_docs.insert(0, pad)
    layout_docs = [
        {
            "name": name,
            "type": LAYOUT_KWARG_DOCS[name][0],
            "doc": LAYOUT_KWARG_DOCS[name][1],
            "default_code": py_literal(value),
        }
        for name, value in layout_kwarg_defaults(spec).items()
    ]
    kwarg_docs = layout_docs + kwarg_docs
    has_kwargs_class = bool(kwarg_docs)
    return {
        "names": names,
        "attributes": attributes,
        "image_utils_imports": image_utils_imports,
        "has_kwargs_class": has_kwargs_class,
        "kwargs_mode": ip.kwargs_mode,
        "kwargs_type": names.kwargs_class if has_kwargs_class else "ImagesKwargs",
        "custom_kwargs": kwarg_docs,
        "has_pad_to_square": has_pad_to_square,
        "layout": layout_context(spec),
    }


# The license header's holder: transformers' own convention for models contributed to it.
COPYRIGHT_HOLDER = "The HuggingFace Team"


def vlm_context(spec: Spec, names: Names) -> dict[str, Any]:
    """Everything the config, modeling, processing, modular and model-test templates need."""
    vision, projector, text, proc = spec.vision, spec.projector, spec.text, spec.processor
    assert vision is not None and projector is not None and text is not None and proc is not None
    connector = Connector.from_spec(projector, text.hidden_size)
    layout = spec.image_processor.layout
    tower = Tower.from_spec(vision, model_facts(vision.model_type), layout, text.hidden_size)
    decoder = Decoder.from_spec(text, model_facts(text.family))
    native = layout.kind == "native"
    return {
        "names": names,
        "tower": tower,
        "decoder": decoder,
        "vision_family": vision.family,
        "text_family": text.family,
        "vision_model_type": tower.model_type,
        "text_model_type": decoder.model_type,
        "vision_config_class": tower.facts.config_class,
        "text_config_class": decoder.facts.config_class,
        "vision_kwargs": tower.config_kwargs,
        "text_kwargs": decoder.config_kwargs,
        "image_token": proc.image_token,
        "image_token_id": proc.image_token_id,
        "chat_template": proc.chat_template,
        "projector_type": projector.type,
        "projector_bias": projector.bias,
        "feature_layer": vision.feature_layer,
        "feature_select": vision.feature_select,
        "select_strategy": vision.select_strategy,
        "connector": connector,
        "scheme": TokenScheme.from_spec(proc, spec.image_processor.layout),
        "patch_size": layout.patch_size if native else vision.patch_size,
        "image_size": vision.image_size,
        # Tokens the vision tower adds besides patches (CLIP's CLS); the processor counts them when kept.
        "num_additional_image_tokens": 1 if vision.has_cls else 0,
        "num_image_features": None if native else vision.features_per_view(connector.factor),
        "tie_word_embeddings": text.tie_word_embeddings,
        "vocab_size": text.vocab_size,
        "checkpoint_key_renames": spec.checkpoint_key_renames,
        "checkpoint_saved_prefixes": saved_prefixes(spec.checkpoint_key_renames or {}),
        "layout": layout_context(spec),
        "layout_tests": layout_test_context(spec),
        "test_imports": sorted(
            [
                names.config_class,
                names.for_conditional_generation_class,
                names.image_processor,
                names.image_processor_pil,
                names.processor_class,
            ],
            key=_isort_key,
        ),
        "modeling_imports": sorted(
            [
                names.pretrained_model_class,
                names.model_class,
                names.for_conditional_generation_class,
            ]
            + ([] if native else [names.projector_class]),
            key=_isort_key,
        ),
    }


def processor_context(spec: Spec, names: Names) -> dict[str, Any]:
    """What the processor block needs of a processor-only spec (the native layout: no model sections)."""
    proc = spec.processor
    assert proc is not None
    return {
        "names": names,
        "image_token": proc.image_token,
        "image_token_id": proc.image_token_id,
        "chat_template": proc.chat_template,
        "scheme": TokenScheme.from_spec(proc),
        "layout": layout_context(spec),
    }


def saved_prefixes(renames: dict[str, str]) -> dict[str, str]:
    """What save_pretrained writes for each renamed prefix of the model: the checkpoint's literal prefix (the last
    rename to a prefix wins, as transformers applies the reversed renames last first)."""
    return {target: source.removeprefix("^").replace("\\.", ".") for source, target in renames.items()}


def vllm_context(vlm: dict[str, Any], names: Names) -> dict[str, Any]:
    """What the vLLM module, its plugin module, its tests and the package metadata need, on top of the model's."""
    # vLLM's own tower class where it has one, else transformers' tower module (None, None).
    module, cls = vlm["tower"].vllm or (None, None)
    return {
        **vlm,
        "vllm_vision_module": module,
        "vllm_vision_class": cls,
        "vllm_model_class_path": f"{names.package}.{names.vllm_module}:{names.for_conditional_generation_class}",
        "distribution_name": names.package.replace("_", "-"),
        # The vLLM causal LM that serves an M-RoPE decoder (None for a 1-D decoder: vLLM's registry finds it).
        "vllm_mrope_architecture": VLLM_MROPE_DECODERS.get(vlm["decoder"].family),
    }


@dataclass(frozen=True)
class Target:
    """Where the output goes: an out-of-tree package under -o, or a transformers tree (`--transformers PATH`)."""

    kind: str  # "package" or "tree"
    root: Path | None = None  # the transformers tree, for "tree"

    @property
    def in_tree(self) -> bool:
        return self.kind == "tree"


PACKAGE = Target("package")


@dataclass(frozen=True)
class ModularPlan:
    """The modular file: rendered once, then split into the model files (see generate/modular.py)."""

    context: dict[str, Any]
    modular_path: str | None  # written in-tree only; out of tree it is only the source of the split
    derived_paths: dict[str, str]  # file type (configuration, modeling, ...) -> output path
    split: SplitOptions


@dataclass(frozen=True)
class Plan:
    templates: list[PlannedFile]
    modular: ModularPlan


def copyright_year() -> int:
    """This year, or the year of SOURCE_DATE_EPOCH (reproducible output, as in reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is not None and epoch.isdigit():
        return datetime.datetime.fromtimestamp(int(epoch), datetime.timezone.utc).year
    return datetime.date.today().year


def modular_context(
    spec: Spec, names: Names, target: Target, ip_ctx: dict, vlm: dict | None, year: int, processor: dict | None = None
) -> dict[str, Any]:
    exported = [names.config_class] if vlm else []
    exported += [names.image_processor, names.image_processor_pil]
    if ip_ctx["has_kwargs_class"] and not target.in_tree:
        exported.append(names.kwargs_class)  # public API of the package's torchvision module
    if processor and not vlm:
        exported.append(names.processor_class)
    if vlm:
        exported += [
            names.processor_class,
            names.pretrained_model_class,
            names.model_class,
            names.for_conditional_generation_class,
        ]
    image_utils = list(ip_ctx["image_utils_imports"])
    kind = spec.image_processor.layout.kind
    if vlm and kind == "fixed":
        image_utils += ["get_image_size", "to_numpy_array"]
    if vlm:
        image_utils += [name for name in vlm["scheme"].image_utils_imports if name not in image_utils]
    if kind == "grid":
        image_utils.append("ChannelDimension")
    if kind != "fixed":
        image_utils.append("SizeDict")
    return {
        **ip_ctx,
        **(processor or {}),
        **(vlm or {}),
        **tower_reference(vlm, target),
        "image_utils_all": sorted(image_utils, key=_isort_key),
        "vlm": vlm is not None,
        "processor_only": processor is not None and vlm is None,
        "target": target.kind,
        "tokens_source": tokens.emitted_source(token_functions(kind, vlm)),
        "year": year,
        "copyright_holder": COPYRIGHT_HOLDER,
        "checkpoint": f"your-org/{names.model_type}",
        "exported": exported,
    }


def tower_reference(vlm: dict | None, target: Target) -> dict[str, str | None]:
    """How the modular file reaches a tower class that `AutoModel` does not map (Qwen2-VL's): `tower_import`, its
    import line, and `tower_class`, the expression that names the class (both None for an `AutoModel` tower). A
    package imports the class. In a tree the modular file imports the module: transformers' converter treats a class
    imported from another model's modeling file as one to copy (it drops the import, and copies the class only when
    a class of the modular file inherits from it), while a module import is kept as written."""
    model_class = vlm["tower"].model_class if vlm else None
    if model_class is None:
        return {"tower_import": None, "tower_class": None}
    module, cls = model_class
    if not target.in_tree:
        return {"tower_import": f"from ..{module} import {cls}", "tower_class": cls}
    package, _, leaf = module.rpartition(".")
    return {"tower_import": f"from ..{package} import {leaf}", "tower_class": f"{leaf}.{cls}"}


def token_functions(layout_kind: str, vlm: dict | None) -> list:
    """The token arithmetic the package carries: tokens per view, the native layout's resize and counts, and what
    its token scheme adds (the split keeps only what each file uses)."""
    functions = [tokens.tokens_per_view]
    if layout_kind == "native":
        functions += [tokens.smart_resize, tokens.native_patch_grid, tokens.native_num_tokens]
    if vlm:
        functions += vlm["scheme"].token_functions
    if vlm and vlm["decoder"].mrope:
        functions.append(tokens.mrope_positions)
    return functions


def plan(spec: Spec, target: Target = PACKAGE, *, year: int | None = None) -> Plan:
    """Every file `new-vlm` writes for this spec, in a stable order; `year` (default: `copyright_year()`) goes into
    the license headers."""

    names = Names.from_parts(spec.model.name, spec.model.model_type)
    ip_ctx = image_processor_context(spec, names)
    vlm = vlm_context(spec, names) if spec.is_vlm else None
    processor = processor_context(spec, names) if spec.processor_only else None
    m = names.model_type
    if target.in_tree:
        src, tests = f"src/transformers/models/{m}", f"tests/models/{m}"
        split = SplitOptions(prefix=names.prefix, model_type=m, copy_kwargs=True, header=tree_header(m))
    else:
        src, tests = names.package, f"{names.package}/tests"
        split = SplitOptions(
            prefix=names.prefix,
            model_type=m,
            copy_kwargs=ip_ctx["kwargs_mode"] == "copy",
            # A PIL module in copy mode imports nothing from the torchvision one, helpers included.
            copy_helpers=ip_ctx["kwargs_mode"] == "copy",
            adapted_from=f"{names.package}.{names.image_processing_module}",
        )
    derived = {
        "configuration": f"{src}/{names.configuration_module}.py",
        "modeling": f"{src}/{names.modeling_module}.py",
        "processing": f"{src}/{names.processing_module}.py",
        "image_processing": f"{src}/{names.image_processing_module}.py",
        "image_processing_pil": f"{src}/{names.image_processing_pil_module}.py",
    }
    modular = ModularPlan(
        context=modular_context(
            spec, names, target, ip_ctx, vlm, copyright_year() if year is None else year, processor
        ),
        modular_path=f"{src}/{names.modular_module}.py" if target.in_tree else None,
        derived_paths=derived
        if vlm
        else {
            k: v
            for k, v in derived.items()
            if k.startswith("image_processing") or (processor is not None and k == "processing")
        },
        split=split,
    )
    license_ctx = {"year": modular.context["year"], "copyright_holder": COPYRIGHT_HOLDER}
    init_ctx = {**ip_ctx, **license_ctx, "vlm": vlm, "processor_only": processor is not None}
    # A checkpoint in a training repository's own layout: its conversion script, where transformers keeps them.
    conversion = (
        [
            PlannedFile(
                f"{src}/convert_{m}_weights_to_hf.py",
                "convert_weights.py.jinja",
                {**vlm, **license_ctx, "target": target.kind},
            )
        ]
        if vlm is not None and spec.original_checkpoint is not None
        else []
    )
    if target.in_tree:
        tree_ctx = {**modular.context, "names": names}
        files = [
            PlannedFile(f"{src}/__init__.py", "tree_init.py.jinja", tree_ctx),
            *conversion,
            PlannedFile(f"{tests}/__init__.py", "empty.py.jinja", {}),
            PlannedFile(f"{tests}/test_image_processing_{m}.py", "tree_test_image_processing.py.jinja", tree_ctx),
            PlannedFile(f"{tests}/test_processing_{m}.py", "tree_test_processing.py.jinja", tree_ctx),
            PlannedFile(f"{tests}/test_modeling_{m}.py", "tree_test_modeling.py.jinja", tree_ctx),
        ]
        return Plan(files, modular)
    files = [
        PlannedFile(f"{src}/__init__.py", "package_init.py.jinja", init_ctx),
        PlannedFile(f"{tests}/__init__.py", "empty.py.jinja", {}),
        PlannedFile(
            f"{src}/{names.image_processing_test_file}",
            "test_image_processing.py.jinja",
            parity_test_context(names),
        ),
    ]
    if vlm is not None:
        files.append(
            PlannedFile(f"{src}/{names.modeling_test_file}", "test_modeling.py.jinja", {**vlm, **license_ctx})
        )
    files += conversion
    if vlm is not None and spec.vllm:
        vllm = {**vllm_context(vlm, names), **license_ctx}
        # The native layout's model (its tower's own merger, flattened patches, M-RoPE) shares little with the others'.
        vllm_template = "vllm_native.py.jinja" if vlm["tower"].native else "vllm.py.jinja"
        files += [
            PlannedFile(f"{src}/{names.vllm_plugin_module}.py", "vllm_plugin.py.jinja", vllm),
            PlannedFile(f"{src}/{names.vllm_module}.py", vllm_template, vllm),
            PlannedFile(f"{src}/{names.vllm_test_file}", "test_vllm.py.jinja", vllm),
            PlannedFile("pyproject.toml", "pyproject.toml.jinja", vllm, formatted=False),
        ]
    return Plan(files, modular)
