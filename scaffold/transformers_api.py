"""Facts about the transformers 5.23 image-processor API, in one place: every pipeline and rule imports them from here.

Plain data with no imports, so rendering never imports transformers and the checker stays cheap;
tests/test_transformers_api.py checks every value against the installed package, and the checker's facts cache key
includes this file.
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
# The checker's canonical form of those constants (a sequence of floats).
KNOWN_CONSTANTS: dict[str, object] = {name: ("seq", values) for name, values in NAMED_STATS.items()}

# PIL.Image.Resampling members (transformers' PILImageResampling is an alias of it).
RESAMPLE_VALUES: dict[str, int] = {"NEAREST": 0, "LANCZOS": 1, "BILINEAR": 2, "BICUBIC": 3, "BOX": 4, "HAMMING": 5}
# Where those members are spelled: transformers.image_utils.PILImageResampling, PIL.Image.Resampling, PIL.Image.
RESAMPLING_OWNERS: tuple[str, ...] = ("PILImageResampling", "Resampling", "Image")
# transformers.image_utils.pil_torch_interpolation_mapping read backwards: the PIL value each torchvision
# InterpolationMode member stands for (PIL's NEAREST is NEAREST_EXACT; InterpolationMode.NEAREST has no PIL twin).
INTERPOLATION_MODE_VALUES: dict[str, int] = {
    "NEAREST_EXACT": 0, "LANCZOS": 1, "BILINEAR": 2, "BICUBIC": 3, "BOX": 4, "HAMMING": 5,
}  # fmt: skip

# transformers.image_utils.ChannelDimension member -> value.
CHANNEL_DIMENSION: dict[str, str] = {"FIRST": "channels_first", "LAST": "channels_last"}

# The fields of transformers.processing_utils.ImagesKwargs.
IMAGES_KWARGS_KEYS: tuple[str, ...] = (
    "do_convert_rgb", "do_resize", "size", "default_to_square", "crop_size", "resample", "do_rescale",
    "rescale_factor", "do_normalize", "image_mean", "image_std", "do_pad", "pad_size", "do_center_crop",
    "data_format", "input_data_format", "device", "return_tensors", "disable_grouping", "image_seq_length",
)  # fmt: skip

# transformers.processing_utils.ImagesKwargs: (bases, class keywords); its fields are IMAGES_KWARGS_KEYS. Described
# here like the base classes below, so the 150 kB processing_utils.py is never parsed.
IMAGES_KWARGS_CLASS: tuple[tuple[str, ...], dict[str, str]] = (("TypedDict",), {"total": "False"})

# Class attributes BaseImageProcessor itself sets; a subclass needs no attribute for these values.
BASE_IMAGE_PROCESSOR_DEFAULTS: dict[str, object] = {
    "default_to_square": True,
    "rescale_factor": 1 / 255,
    "model_input_names": ["pixel_values"],
}
# Their source text (what --fix writes when the torchvision side inherits one), and valid_kwargs' default.
BASE_IMAGE_PROCESSOR_SOURCES: dict[str, str] = {
    "default_to_square": "True",
    "rescale_factor": "1 / 255",
    "model_input_names": '["pixel_values"]',
    "valid_kwargs": "ImagesKwargs",
}
BASE_VALID_KWARGS = "ImagesKwargs"

# transformers' image-processor base classes (image_processing_base.py, image_processing_utils.py,
# image_processing_backends.py): class -> (bases, the methods it defines; ImageProcessingMixin's include push_to_hub
# from transformers.utils.hub.PushToHubMixin, which is left out of the bases). The checker describes these classes from here
# and never parses their modules.
BASE_CLASSES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ImageProcessingMixin": (
        (),
        (
            "__init__", "from_pretrained", "save_pretrained", "get_image_processor_dict", "from_dict", "to_dict",
            "from_json_file", "to_json_string", "to_json_file", "register_for_auto_class", "fetch_images",
            "push_to_hub",
        ),
    ),
    "BaseImageProcessor": (
        ("ImageProcessingMixin",),
        (
            "__init__", "__call__", "preprocess", "_preprocess", "_preprocess_image_like_inputs", "_set_attributes",
            "center_crop", "normalize", "process_image", "rescale", "to_dict", "_further_process_kwargs",
            "_prepare_image_like_inputs", "_prepare_images_structure", "_standardize_kwargs",
            "_validate_preprocess_kwargs",
        ),
    ),
    "TorchvisionBackend": (
        ("BaseImageProcessor",),
        (
            "__init__", "backend", "process_image", "convert_to_rgb", "pad", "resize", "rescale", "normalize",
            "center_crop", "_preprocess", "fetch_images", "rescale_and_normalize",
            "_fuse_mean_std_and_rescale_factor", "_compile_friendly_resize",
        ),
    ),
    "PilBackend": (
        ("BaseImageProcessor",),
        (
            "__init__", "backend", "process_image", "convert_to_rgb", "pad", "resize", "rescale", "normalize",
            "center_crop", "_preprocess", "to_dict",
        ),
    ),
}  # fmt: skip
# The backend each base class stands for.
BACKEND_OF: dict[str, str] = {"TorchvisionBackend": "torchvision", "PilBackend": "pil"}
# Parameters only one backend can honour (torchvision runs on devices and groups images by shape): ImagesKwargs
# fields that TorchvisionBackend's methods take and PilBackend's do not.
BACKEND_ONLY_PARAMS: frozenset[str] = frozenset({"device", "disable_grouping"})
# What the backends' own _preprocess reads (its parameters other than images/kwargs and the backend-only ones).
BASE_PREPROCESS_READS: frozenset[str] = frozenset(
    {
        "do_resize", "size", "resample", "do_center_crop", "crop_size", "do_rescale", "rescale_factor",
        "do_normalize", "image_mean", "image_std", "do_pad", "pad_size", "return_tensors",
    }
)  # fmt: skip
# Read for every processor: by BaseImageProcessor._standardize_kwargs, or by both backends' process_image/_preprocess.
ALWAYS_READ: frozenset[str] = frozenset(
    {"do_convert_rgb", "input_data_format", "data_format", "default_to_square", "return_tensors"}
)

# Attributes and methods of the backends (and keys their saved dict holds) that a custom kwarg must not shadow,
# besides the ImagesKwargs fields.
BACKEND_RESERVED_NAMES: frozenset[str] = frozenset(
    {
        "backend", "center_crop", "convert_to_rgb", "fetch_images", "model_input_names", "normalize", "pad",
        "preprocess", "process_image", "resize", "rescale", "rescale_and_normalize", "to_dict", "to_json_string",
        "valid_kwargs", "image_processor_type", "processor_class", "auto_map",
    }
)  # fmt: skip

# Size-dict key sets that transformers' get_size_dict accepts (image_processing_utils.VALID_SIZE_DICT_KEYS), and the
# ones the backends' default resize handles.
SIZE_FORMS: tuple[tuple[str, ...], ...] = (
    ("height", "width"),
    ("shortest_edge",),
    ("shortest_edge", "longest_edge"),
    ("longest_edge",),
    ("max_height", "max_width"),
    ("min_pixels", "max_pixels"),
)
RESIZABLE_FORMS: frozenset[tuple[str, ...]] = frozenset(
    {("height", "width"), ("shortest_edge",), ("shortest_edge", "longest_edge"), ("max_height", "max_width")}
)
