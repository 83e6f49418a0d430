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
