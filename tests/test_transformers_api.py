"""scaffold/transformers_api.py copies facts of transformers 5.23 so that rendering never imports it; check them."""

from __future__ import annotations

import typing

from scaffold.spec.model import NAMED_MEANS, NAMED_STDS
from scaffold.transformers_api import BASE_IMAGE_PROCESSOR_DEFAULTS, IMAGES_KWARGS_KEYS, NAMED_STATS, RESAMPLE_VALUES


def test_named_constants_match_transformers():
    from transformers.utils import constants

    for name, values in NAMED_STATS.items():
        assert tuple(getattr(constants, name)) == values
    for table in (NAMED_MEANS, NAMED_STDS):
        for constant, values in table.values():
            assert list(getattr(constants, constant)) == values


def test_resample_values_match_pil():
    from PIL import Image

    for name, value in RESAMPLE_VALUES.items():
        assert Image.Resampling[name] == value


def test_images_kwargs_keys_match_transformers():
    from transformers.processing_utils import ImagesKwargs

    assert set(IMAGES_KWARGS_KEYS) == set(typing.get_type_hints(ImagesKwargs, include_extras=False))


def test_base_defaults_match_transformers():
    from transformers.image_processing_utils import BaseImageProcessor

    for key, value in BASE_IMAGE_PROCESSOR_DEFAULTS.items():
        assert getattr(BaseImageProcessor, key) == value


def test_resample_spellings_match_transformers():
    from PIL import Image
    from transformers.image_utils import PILImageResampling, pil_torch_interpolation_mapping

    from scaffold.transformers_api import INTERPOLATION_MODE_VALUES, RESAMPLING_OWNERS

    owners = {"PILImageResampling": PILImageResampling, "Resampling": Image.Resampling, "Image": Image}
    assert set(RESAMPLING_OWNERS) == set(owners)
    for owner in owners.values():
        for name, value in RESAMPLE_VALUES.items():
            assert getattr(owner, name) == value
    assert INTERPOLATION_MODE_VALUES == {mode.name: int(pil) for pil, mode in pil_torch_interpolation_mapping.items()}


def test_channel_dimension_matches_transformers():
    from transformers.image_utils import ChannelDimension

    from scaffold.transformers_api import CHANNEL_DIMENSION

    assert CHANNEL_DIMENSION == {m.name: m.value for m in ChannelDimension}


def test_base_sources_and_valid_kwargs_match_transformers():
    from transformers.image_processing_utils import BaseImageProcessor

    from scaffold.transformers_api import BASE_IMAGE_PROCESSOR_SOURCES, BASE_VALID_KWARGS, KNOWN_CONSTANTS

    assert (
        BaseImageProcessor.valid_kwargs.__name__ == BASE_VALID_KWARGS == BASE_IMAGE_PROCESSOR_SOURCES["valid_kwargs"]
    )
    for key, value in BASE_IMAGE_PROCESSOR_DEFAULTS.items():
        assert eval(BASE_IMAGE_PROCESSOR_SOURCES[key]) == value  # noqa: S307 - our own constant source text
    assert KNOWN_CONSTANTS == {name: ("seq", values) for name, values in NAMED_STATS.items()}


def _defined_methods(cls) -> set[str]:
    import inspect

    return {
        name
        for name, value in vars(cls).items()
        if (
            (callable(value) and not inspect.isclass(value))
            or isinstance(value, (classmethod, staticmethod, property))
        )
        and (not name.startswith("__") or name in ("__init__", "__call__"))
    }


def test_base_classes_match_transformers():
    from transformers.image_processing_backends import PilBackend, TorchvisionBackend
    from transformers.image_processing_base import ImageProcessingMixin
    from transformers.image_processing_utils import BaseImageProcessor
    from transformers.utils.hub import PushToHubMixin

    from scaffold.transformers_api import BACKEND_OF, BASE_CLASSES

    classes = {c.__name__: c for c in (ImageProcessingMixin, BaseImageProcessor, TorchvisionBackend, PilBackend)}
    assert set(BASE_CLASSES) == set(classes)
    for name, (bases, methods) in BASE_CLASSES.items():
        cls = classes[name]
        assert bases == tuple(b.__name__ for b in cls.__bases__ if b is not PushToHubMixin)
        expected = _defined_methods(cls) | ({"push_to_hub"} if PushToHubMixin in cls.__bases__ else set())
        assert set(methods) == expected, name
    assert {classes[name].__name__ for name in BACKEND_OF} == {"TorchvisionBackend", "PilBackend"}


def test_backend_parameters_match_transformers():
    import inspect

    from transformers.image_processing_backends import PilBackend, TorchvisionBackend
    from transformers.image_processing_utils import BaseImageProcessor

    from scaffold.transformers_api import ALWAYS_READ, BACKEND_ONLY_PARAMS, BASE_PREPROCESS_READS

    def params(cls):
        methods = [getattr(cls, m) for m in _defined_methods(cls)]
        return {p for m in methods if callable(m) for p in inspect.signature(m).parameters}

    assert BACKEND_ONLY_PARAMS == (params(TorchvisionBackend) - params(PilBackend)) & set(IMAGES_KWARGS_KEYS)
    for backend in (TorchvisionBackend, PilBackend):
        taken = set(inspect.signature(backend._preprocess).parameters) - {"self", "images", "kwargs"}
        assert BASE_PREPROCESS_READS == taken - BACKEND_ONLY_PARAMS
    # read for every processor: by the kwargs standardisation, or by both backends' process_image / _preprocess
    everywhere = inspect.getsource(BaseImageProcessor._standardize_kwargs)
    both = [
        inspect.getsource(backend.process_image) + inspect.getsource(backend._preprocess)
        for backend in (TorchvisionBackend, PilBackend)
    ]
    assert ALWAYS_READ <= set(IMAGES_KWARGS_KEYS)
    for name in ALWAYS_READ:
        assert name in everywhere or all(name in source for source in both), name


def test_size_forms_match_transformers():
    import numpy as np
    import torch
    from transformers.image_processing_backends import PilBackend, TorchvisionBackend
    from transformers.image_processing_utils import VALID_SIZE_DICT_KEYS
    from transformers.image_utils import PILImageResampling, SizeDict

    from scaffold.transformers_api import RESIZABLE_FORMS, SIZE_FORMS

    assert [set(f) for f in SIZE_FORMS] == list(VALID_SIZE_DICT_KEYS)
    for backend, image in (
        (PilBackend(), np.zeros((3, 20, 30), np.float32)),
        (TorchvisionBackend(), torch.zeros(3, 20, 30)),
    ):
        for form in SIZE_FORMS:
            size = SizeDict(**{k: {"min_pixels": 256, "max_pixels": 1024}.get(k, 16) for k in form})
            try:
                backend.resize(image, size=size, resample=PILImageResampling.BILINEAR)
                resized = True
            except ValueError:
                resized = False
            assert resized == (form in RESIZABLE_FORMS), (type(backend).__name__, form)


def test_reserved_names_exist_on_a_backend():
    import inspect

    from transformers import dynamic_module_utils, image_processing_base
    from transformers.image_processing_backends import PilBackend, TorchvisionBackend

    from scaffold.transformers_api import BACKEND_RESERVED_NAMES

    # keys of the saved processor dict (the mixin writes the first two, custom-code registration the last)
    saved_keys = {"image_processor_type": image_processing_base, "processor_class": image_processing_base}
    saved_keys["auto_map"] = dynamic_module_utils
    for name in BACKEND_RESERVED_NAMES - set(saved_keys):
        assert hasattr(TorchvisionBackend, name) or hasattr(PilBackend, name), name
    for key, module in saved_keys.items():
        assert f'"{key}"' in inspect.getsource(module), key


def test_images_kwargs_class_matches_transformers():
    import ast
    import inspect

    from transformers import processing_utils

    from scaffold.transformers_api import IMAGES_KWARGS_CLASS

    [cls] = [
        node
        for node in ast.parse(inspect.getsource(processing_utils)).body
        if isinstance(node, ast.ClassDef) and node.name == "ImagesKwargs"
    ]
    bases, keywords = IMAGES_KWARGS_CLASS
    assert tuple(ast.unparse(b) for b in cls.bases) == bases
    assert {k.arg: ast.unparse(k.value) for k in cls.keywords} == keywords
