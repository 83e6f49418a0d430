"""Source of a small, correct image-processor pair used across the parity tests."""

import textwrap

TORCH = '''\
from ...image_processing_backends import TorchvisionBackend
from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from ...processing_utils import ImagesKwargs, Unpack


class ToyImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    patch_size (`int`, *optional*, defaults to 14):
        Patch size.
    """

    patch_size: int


class ToyImageProcessor(TorchvisionBackend):
    valid_kwargs = ToyImageProcessorKwargs
    model_input_names = ["pixel_values", "image_sizes"]
    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"height": 224, "width": 224}
    do_resize = True
    patch_size = 14

    def __init__(self, **kwargs: Unpack[ToyImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _preprocess(self, images, do_resize, size, resample, patch_size, disable_grouping, **kwargs):
        return self.resize(images, size=size, resample=resample) if do_resize else images, patch_size

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs=None):
        return height * width


__all__ = ["ToyImageProcessor"]
'''

PIL = '''\
from ...image_processing_backends import PilBackend
from ...image_utils import OPENAI_CLIP_MEAN, OPENAI_CLIP_STD, PILImageResampling
from ...processing_utils import ImagesKwargs, Unpack


# Adapted from transformers.models.toy.image_processing_toy.ToyImageProcessorKwargs
class ToyImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    patch_size (`int`, *optional*, defaults to 14):
        Patch size.
    """

    patch_size: int


class ToyImageProcessorPil(PilBackend):
    valid_kwargs = ToyImageProcessorKwargs
    model_input_names = ["pixel_values", "image_sizes"]
    resample = PILImageResampling.BICUBIC
    image_mean = OPENAI_CLIP_MEAN
    image_std = OPENAI_CLIP_STD
    size = {"height": 224, "width": 224}
    do_resize = True
    patch_size = 14

    def __init__(self, **kwargs: Unpack[ToyImageProcessorKwargs]):
        super().__init__(**kwargs)

    def _preprocess(self, images, do_resize, size, resample, patch_size, **kwargs):
        return [self.resize(i, size=size, resample=resample) for i in images] if do_resize else images, patch_size

    def get_number_of_image_patches(self, height: int, width: int, images_kwargs=None):
        return height * width


__all__ = ["ToyImageProcessorPil"]
'''


def write_pair(root, torch_src=TORCH, pil_src=PIL, model="toy"):
    d = root / model
    d.mkdir(parents=True, exist_ok=True)
    if torch_src is not None:
        (d / f"image_processing_{model}.py").write_text(textwrap.dedent(torch_src))
    if pil_src is not None:
        (d / f"image_processing_pil_{model}.py").write_text(textwrap.dedent(pil_src))
    return d
