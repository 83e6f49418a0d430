"""Decide what to write: one `PlannedFile` per output path, with the template and the context it needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scaffold.generate.literals import PyExpr, py_literal
from scaffold.spec.model import NAMED_MEANS, NAMED_STDS, Spec
from scaffold.spec.names import Names

# Base-class values (BaseImageProcessor in transformers 5.23) that need no class attribute of their own.
BASE_DEFAULTS: dict[str, Any] = {
    "default_to_square": True,
    "rescale_factor": 1 / 255,
    "model_input_names": ["pixel_values"],
}


@dataclass(frozen=True)
class PlannedFile:
    path: str  # relative to the output directory, POSIX separators
    template: str
    context: dict[str, Any]
    formatted: bool = True  # run black on it (Python files)


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
        "model_input_names": list(ip.model_input_names),
    }
    for key, value in standard.items():
        if value is None or (key in BASE_DEFAULTS and value == BASE_DEFAULTS[key]):
            continue
        attrs.append((key, value))
    for kw in ip.custom_kwargs:
        attrs.append((kw.name, kw.default))
    return attrs, sorted(imports, key=_isort_key)


def image_processor_context(spec: Spec, names: Names, spec_name: str) -> dict[str, Any]:
    ip = spec.image_processor
    attributes, image_utils_imports = image_processor_attributes(spec)
    has_kwargs_class = bool(ip.custom_kwargs)
    return {
        "spec_name": spec_name,
        "names": names,
        "attributes": attributes,
        "image_utils_imports": image_utils_imports,
        "has_kwargs_class": has_kwargs_class,
        "kwargs_mode": ip.kwargs_mode,
        "kwargs_type": names.kwargs_class if has_kwargs_class else "ImagesKwargs",
        "custom_kwargs": [
            {"name": kw.name, "type": kw.type, "doc": kw.doc, "default_code": py_literal(kw.default)}
            for kw in ip.custom_kwargs
        ],
        # The Kwargs class is public API of the torchvision module, as in transformers.
        "exported_torchvision": [names.image_processor] + ([names.kwargs_class] if has_kwargs_class else []),
        "exported_pil": [names.image_processor_pil],
    }


def plan(spec: Spec, spec_name: str) -> list[PlannedFile]:
    """Every file `new-vlm` writes for this spec, in a stable order."""
    from scaffold.testgen import parity_test_context  # local: testgen is a sibling step, not a dependency cycle

    names = Names.from_parts(spec.model.name, spec.model.model_type)
    pkg = names.package
    ip_ctx = image_processor_context(spec, names, spec_name)
    return [
        PlannedFile(f"{pkg}/__init__.py", "package_init.py.jinja", ip_ctx),
        PlannedFile(f"{pkg}/{names.image_processing_module}.py", "image_processing.py.jinja", ip_ctx),
        PlannedFile(f"{pkg}/{names.image_processing_pil_module}.py", "image_processing_pil.py.jinja", ip_ctx),
        PlannedFile(f"{pkg}/tests/__init__.py", "empty.py.jinja", {}),
        PlannedFile(
            f"{pkg}/{names.image_processing_test_file}",
            "test_image_processing.py.jinja",
            parity_test_context(spec, names, spec_name),
        ),
    ]
