"""Decide what to write: one `PlannedFile` per output path, with the template and the context it needs."""

from __future__ import annotations

import datetime
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from scaffold.codegen.literals import PyExpr, py_literal
from scaffold.components import tokens
from scaffold.components.connector import Connector
from scaffold.components.decoder import VLLM_MROPE_DECODERS, Decoder
from scaffold.components.hf_models import model_facts
from scaffold.components.layout import Layout
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


def image_processor_attributes(spec: Spec, layout: Layout) -> tuple[list[tuple[str, Any]], list[str]]:
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
        + [name for name in layout.input_names if name not in ip.model_input_names],
    }
    for key, value in standard.items():
        if value is None or (key in BASE_DEFAULTS and value == BASE_DEFAULTS[key]):
            continue
        attrs.append((key, value))
    if ip.pad_to_square is not None:
        attrs.append(("pad_to_square", ip.pad_to_square))
    for name, value in layout.kwargs.items():
        attrs.append((name, value))
    for kw in ip.custom_kwargs:
        attrs.append((kw.name, kw.default))
    return attrs, sorted(imports, key=_isort_key)


PAD_TO_SQUARE_DOC = (
    "Whether to pad the image to a square of its longer side, centred, with the mean colour "
    "(`image_mean` scaled to 0-255) before resizing, as LLaVA's `image_aspect_ratio='pad'` does."
)


@dataclass(frozen=True)
class ImageProcessorPlan:
    """What both image-processor backends and their Kwargs class are made of."""

    names: Names
    layout: Layout
    attributes: list[tuple[str, Any]]  # class attributes both backends share verbatim
    image_utils_imports: list[str]  # what those attributes use of transformers.image_utils
    custom_kwargs: list[dict[str, Any]]  # the Kwargs fields' docs: the layout's, pad_to_square, the spec's own
    has_kwargs_class: bool
    kwargs_mode: str
    kwargs_type: str
    has_pad_to_square: bool


@dataclass(frozen=True)
class ProcessorPlan:
    """What the processor block needs of a processor-only spec (the native layout: no model sections)."""

    names: Names
    layout: Layout
    scheme: TokenScheme
    image_token: str
    image_token_id: int
    chat_template: str | None


@dataclass(frozen=True)
class ModelPlan:
    """The model of a VLM spec as its components (tower, connector, layout, image-token scheme, decoder) and the
    values of the spec the config, modeling, processing, modular and model-test templates read."""

    names: Names
    layout: Layout
    scheme: TokenScheme
    tower: Tower
    connector: Connector
    decoder: Decoder
    layout_tests: dict[str, Any]  # the in-tree tests' layout settings (Layout.in_tree_test_context)
    image_token: str
    image_token_id: int
    chat_template: str | None
    projector_type: str
    projector_bias: bool
    feature_layer: int | list[int]
    feature_select: Any
    select_strategy: str
    patch_size: int
    image_size: int | None
    num_additional_image_tokens: int  # tokens the tower adds besides patches (CLIP's CLS), counted when kept
    num_image_features: int | None  # features per view (None: the native layout's depend on the image)
    tie_word_embeddings: bool
    vocab_size: int
    checkpoint_key_renames: dict[str, str] | None
    checkpoint_saved_prefixes: dict[str, str]
    test_imports: list[str]
    modeling_imports: list[str]


def template_context(*parts: Any, **values: Any) -> dict[str, Any]:
    """One Jinja context: the fields of typed plans, then named values. A name given twice with different values is
    an error, not an override (the plans share `names` and `layout`, which must agree)."""
    context: dict[str, Any] = {}
    for part in (*parts, values):
        items = part.items() if isinstance(part, dict) else ((f.name, getattr(part, f.name)) for f in fields(part))
        for key, value in items:
            if key in context and context[key] != value:
                raise ValueError(f"template context: {key!r} is given twice with different values")
            context[key] = value
    return context


def image_processor_plan(spec: Spec, names: Names, layout: Layout) -> ImageProcessorPlan:
    ip = spec.image_processor
    attributes, image_utils_imports = image_processor_attributes(spec, layout)
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
        {"name": name, "type": type_, "doc": doc, "default_code": py_literal(value)}
        for name, type_, doc, value in layout.kwarg_docs
    ]
    kwarg_docs = layout_docs + kwarg_docs
    has_kwargs_class = bool(kwarg_docs)
    return ImageProcessorPlan(
        names=names,
        layout=layout,
        attributes=attributes,
        image_utils_imports=image_utils_imports,
        custom_kwargs=kwarg_docs,
        has_kwargs_class=has_kwargs_class,
        kwargs_mode=ip.kwargs_mode,
        kwargs_type=names.kwargs_class if has_kwargs_class else "ImagesKwargs",
        has_pad_to_square=has_pad_to_square,
    )


# The license header's holder: transformers' own convention for models contributed to it.
COPYRIGHT_HOLDER = "The HuggingFace Team"


def model_plan(spec: Spec, names: Names, layout: Layout) -> ModelPlan:
    vision, projector, text, proc = spec.vision, spec.projector, spec.text, spec.processor
    assert vision is not None and projector is not None and text is not None and proc is not None
    connector = Connector.from_spec(projector, text.hidden_size)
    layout_spec = spec.image_processor.layout
    tower = Tower.from_spec(vision, model_facts(vision.model_type), layout_spec, text.hidden_size)
    decoder = Decoder.from_spec(text, model_facts(text.family))
    scheme = TokenScheme.from_spec(proc, layout_spec)
    size = spec.image_processor.resolved_size()
    return ModelPlan(
        names=names,
        layout=layout,
        scheme=scheme,
        tower=tower,
        connector=connector,
        decoder=decoder,
        layout_tests=layout.in_tree_test_context(layout_spec, vision, connector.factor, scheme, size),
        image_token=proc.image_token,
        image_token_id=proc.image_token_id,
        chat_template=proc.chat_template,
        projector_type=projector.type,
        projector_bias=projector.bias,
        feature_layer=vision.feature_layer,
        feature_select=vision.feature_select,
        select_strategy=vision.select_strategy,
        patch_size=layout_spec.patch_size if tower.native else vision.patch_size,
        image_size=vision.image_size,
        num_additional_image_tokens=1 if vision.has_cls else 0,
        num_image_features=None if tower.native else vision.features_per_view(connector.factor),
        tie_word_embeddings=text.tie_word_embeddings,
        vocab_size=text.vocab_size,
        checkpoint_key_renames=spec.checkpoint_key_renames,
        checkpoint_saved_prefixes=saved_prefixes(spec.checkpoint_key_renames or {}),
        test_imports=sorted(
            [
                names.config_class,
                names.for_conditional_generation_class,
                names.image_processor,
                names.image_processor_pil,
                names.processor_class,
            ],
            key=_isort_key,
        ),
        modeling_imports=sorted(
            [names.pretrained_model_class, names.model_class, names.for_conditional_generation_class]
            + ([] if tower.native else [names.projector_class]),
            key=_isort_key,
        ),
    )


def processor_plan(spec: Spec, names: Names, layout: Layout) -> ProcessorPlan:
    proc = spec.processor
    assert proc is not None
    return ProcessorPlan(
        names=names,
        layout=layout,
        scheme=TokenScheme.from_spec(proc, spec.image_processor.layout),
        image_token=proc.image_token,
        image_token_id=proc.image_token_id,
        chat_template=proc.chat_template,
    )


def saved_prefixes(renames: dict[str, str]) -> dict[str, str]:
    """What save_pretrained writes for each renamed prefix of the model: the checkpoint's literal prefix (the last
    rename to a prefix wins, as transformers applies the reversed renames last first)."""
    return {target: source.removeprefix("^").replace("\\.", ".") for source, target in renames.items()}


def vllm_context(model: ModelPlan, names: Names) -> dict[str, Any]:
    """What the vLLM module, its plugin module, its tests and the package metadata need, on top of the model's."""
    # vLLM's own tower class where it has one, else transformers' tower module (None, None).
    module, cls = model.tower.vllm or (None, None)
    return template_context(
        model,
        vllm_vision_module=module,
        vllm_vision_class=cls,
        vllm_model_class_path=f"{names.package}.{names.vllm_module}:{names.for_conditional_generation_class}",
        distribution_name=names.package.replace("_", "-"),
        # The vLLM causal LM that serves an M-RoPE decoder (None for a 1-D decoder: vLLM's registry finds it).
        vllm_mrope_architecture=VLLM_MROPE_DECODERS.get(model.decoder.family),
    )


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
    names: Names,
    target: Target,
    image_processor: ImageProcessorPlan,
    model: ModelPlan | None,
    year: int,
    processor: ProcessorPlan | None = None,
) -> dict[str, Any]:
    exported = [names.config_class] if model else []
    exported += [names.image_processor, names.image_processor_pil]
    if image_processor.has_kwargs_class and not target.in_tree:
        exported.append(names.kwargs_class)  # public API of the package's torchvision module
    if processor and not model:
        exported.append(names.processor_class)
    if model:
        exported += [
            names.processor_class,
            names.pretrained_model_class,
            names.model_class,
            names.for_conditional_generation_class,
        ]
    image_utils = list(image_processor.image_utils_imports)
    layout = image_processor.layout
    if model:
        image_utils += list(layout.processor_image_utils_imports)
        image_utils += [name for name in model.scheme.image_utils_imports if name not in image_utils]
    image_utils += list(layout.image_utils_imports)
    return template_context(
        image_processor,
        *(part for part in (processor, model) if part is not None),
        tower_reference(model, target),
        image_utils_all=sorted(image_utils, key=_isort_key),
        vlm=model is not None,
        processor_only=processor is not None and model is None,
        target=target.kind,
        tokens_source=tokens.emitted_source(token_functions(layout, model)),
        year=year,
        copyright_holder=COPYRIGHT_HOLDER,
        checkpoint=f"your-org/{names.model_type}",
        exported=exported,
    )


def tower_reference(model: ModelPlan | None, target: Target) -> dict[str, str | None]:
    """How the modular file reaches a tower class that `AutoModel` does not map (Qwen2-VL's): `tower_import`, its
    import line, and `tower_class`, the expression that names the class (both None for an `AutoModel` tower). A
    package imports the class. In a tree the modular file imports the module: transformers' converter treats a class
    imported from another model's modeling file as one to copy (it drops the import, and copies the class only when
    a class of the modular file inherits from it), while a module import is kept as written."""
    model_class = model.tower.model_class if model else None
    if model_class is None:
        return {"tower_import": None, "tower_class": None}
    module, cls = model_class
    if not target.in_tree:
        return {"tower_import": f"from ..{module} import {cls}", "tower_class": cls}
    package, _, leaf = module.rpartition(".")
    return {"tower_import": f"from ..{package} import {leaf}", "tower_class": f"{leaf}.{cls}"}


def token_functions(layout: Layout, model: ModelPlan | None) -> list:
    """The token arithmetic the package carries: tokens per view, what the layout adds (the native layout's resize
    and counts) and what its token scheme adds (the split keeps only what each file uses)."""
    functions = [tokens.tokens_per_view, *layout.token_functions]
    if model:
        functions += model.scheme.token_functions
    if model and model.decoder.mrope:
        functions.append(tokens.mrope_positions)
    return functions


def plan(spec: Spec, target: Target = PACKAGE, *, year: int | None = None) -> Plan:
    """Every file `new-vlm` writes for this spec, in a stable order; `year` (default: `copyright_year()`) goes into
    the license headers."""

    names = Names.from_parts(spec.model.name, spec.model.model_type)
    layout = Layout.from_spec(spec.image_processor.layout)  # one component, shared by the three plans
    image_processor = image_processor_plan(spec, names, layout)
    model = model_plan(spec, names, layout) if spec.is_vlm else None
    processor = processor_plan(spec, names, layout) if spec.processor_only else None
    m = names.model_type
    if target.in_tree:
        src, tests = f"src/transformers/models/{m}", f"tests/models/{m}"
        split = SplitOptions(prefix=names.prefix, model_type=m, copy_kwargs=True, header=tree_header(m))
    else:
        src, tests = names.package, f"{names.package}/tests"
        split = SplitOptions(
            prefix=names.prefix,
            model_type=m,
            copy_kwargs=image_processor.kwargs_mode == "copy",
            # A PIL module in copy mode imports nothing from the torchvision one, helpers included.
            copy_helpers=image_processor.kwargs_mode == "copy",
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
            names, target, image_processor, model, copyright_year() if year is None else year, processor
        ),
        modular_path=f"{src}/{names.modular_module}.py" if target.in_tree else None,
        derived_paths=derived
        if model
        else {
            k: v
            for k, v in derived.items()
            if k.startswith("image_processing") or (processor is not None and k == "processing")
        },
        split=split,
    )
    license_ctx = {"year": modular.context["year"], "copyright_holder": COPYRIGHT_HOLDER}
    init_ctx = template_context(
        image_processor, license_ctx, vlm=model is not None, model=model, processor_only=processor is not None
    )
    # A checkpoint in a training repository's own layout: its conversion script, where transformers keeps them.
    conversion = (
        [
            PlannedFile(
                f"{src}/convert_{m}_weights_to_hf.py",
                "convert_weights.py.jinja",
                template_context(model, license_ctx, target=target.kind),
            )
        ]
        if model is not None and spec.original_checkpoint is not None
        else []
    )
    if target.in_tree:
        tree_ctx = modular.context
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
    if model is not None:
        files.append(
            PlannedFile(
                f"{src}/{names.modeling_test_file}", "test_modeling.py.jinja", template_context(model, license_ctx)
            )
        )
    files += conversion
    if model is not None and spec.vllm:
        vllm = template_context(vllm_context(model, names), license_ctx)
        files += [
            PlannedFile(f"{src}/{names.vllm_plugin_module}.py", "vllm_plugin.py.jinja", vllm),
            PlannedFile(f"{src}/{names.vllm_module}.py", "vllm.py.jinja", vllm),
            PlannedFile(f"{src}/{names.vllm_test_file}", "test_vllm.py.jinja", vllm),
            PlannedFile("pyproject.toml", "pyproject.toml.jinja", vllm, formatted=False),
        ]
    return Plan(files, modular)
