"""Facts about the transformers 5.23 image-processor API that both pipelines need, in one place.

Plain data with no imports, so rendering never imports transformers and the checker stays cheap;
tests/test_transformers_api.py checks every value against the installed package.
"""

# transformers.utils.constants (re-exported by transformers.image_utils).
NAMED_STATS: dict[str, tuple[float, ...]] = {
    "IMAGENET_DEFAULT_MEAN": (0.485, 0.456, 0.406),
    "IMAGENET_DEFAULT_STD": (0.229, 0.224, 0.225),
    "IMAGENET_STANDARD_MEAN": (0.5, 0.5, 0.5),
    "IMAGENET_STANDARD_STD": (0.5, 0.5, 0.5),
    "OPENAI_CLIP_MEAN": (0.48145466, 0.4578275, 0.40821073),
    "OPENAI_CLIP_STD": (0.26862954, 0.26130258, 0.27577711),
}

# PIL.Image.Resampling members (transformers' PILImageResampling is an alias of it).
RESAMPLE_VALUES: dict[str, int] = {"NEAREST": 0, "LANCZOS": 1, "BILINEAR": 2, "BICUBIC": 3, "BOX": 4, "HAMMING": 5}

# The fields of transformers.processing_utils.ImagesKwargs.
IMAGES_KWARGS_KEYS: tuple[str, ...] = (
    "do_convert_rgb", "do_resize", "size", "default_to_square", "crop_size", "resample", "do_rescale",
    "rescale_factor", "do_normalize", "image_mean", "image_std", "do_pad", "pad_size", "do_center_crop",
    "data_format", "input_data_format", "device", "return_tensors", "disable_grouping", "image_seq_length",
)  # fmt: skip

# Class attributes BaseImageProcessor itself sets; a subclass needs no attribute for these values.
BASE_IMAGE_PROCESSOR_DEFAULTS: dict[str, object] = {
    "default_to_square": True,
    "rescale_factor": 1 / 255,
    "model_input_names": ["pixel_values"],
}
