"""Every name derived from the spec, computed here and nowhere else."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import PurePosixPath

NAME_MAX = 255  # bytes in one file name (Linux, macOS and Windows file systems)
# What Python and pytest put after a module's name in __pycache__, e.g. `.cpython-313-pytest-8.4.2.pyc`, with room.
BYTECODE_SUFFIX_ROOM = 40

# CamelCase names the generated modules import or define themselves (besides the spec's own classes). A class
# derived from `model.name` must not be one of them: it would shadow the import or redefine the class.
# tests/test_hostile_inputs.py derives this set from rendered examples, so it cannot drift from the templates.
GENERATED_CODE_NAMES = frozenset({
    "AddedToken", "AutoConfig", "ChannelDimension", "SizeDict", "BaseModelOutputWithPast", "BaseModelOutputWithPooling", "Cache", "GenerationMixin",
    "ModelOutput", "PreTrainedModel", "TransformersKwargs", "AutoImageProcessor", "AutoModel", "AutoModelForImageTextToText", "AutoProcessor",
    "AutoTokenizer", "AutoWeightsLoader", "BaseDummyInputsBuilder", "BaseMultiModalProcessor", "BaseProcessingInfo",
    "BatchFeature", "CLIPVisionModel", "EngineArgs", "FreshInterpreter", "Image", "ImageSize", "ImagesKwargs",
    "IntermediateTensors", "Iterable", "Literal", "LlavaConfig", "LlavaForConditionalGeneration", "LlavaModel",
    "LlavaPreTrainedModel", "LlavaProcessor", "Mapping", "ModelRegistry", "MultiModalData", "MultiModalDataDict",
    "MultiModalDataItems", "MultiModalDummyOptions", "MultiModalEmbeddings", "MultiModalFieldConfig",
    "MultiModalKwargsItems", "ParityConfig", "Path", "PilBackend", "PreTrainedConfig", "PreTrainedTokenizerFast",
    "PILImageResampling", "ProcessorMixin", "PromptReplacement", "PromptUpdate", "PromptUpdateDetails", "QuantizationConfig",
    "Qwen2VisionTransformerPretrainedModel",
    "ReplicatedLinear", "Sequence", "SiglipVisionModel", "SubConfigSpec", "SupportsMultiModal", "Tokenizer",
    "TorchvisionBackend", "Unpack", "VllmConfig", "VllmModel", "WeightsMapper",
})  # fmt: skip

# Top-level modules the package name must not shadow (besides the standard library): what the generated code and
# scaffold import, and transformers' own top-level modules. Guarded by tests/test_hostile_inputs.py.
DEPENDENCY_MODULES = frozenset({
    "PIL", "accelerate", "click", "filelock", "huggingface_hub", "jinja2", "libcst", "numpy", "packaging",
    "pydantic", "pydantic_core", "pytest", "regex", "requests", "ruamel", "ruff", "safetensors", "scaffold",
    "tokenizers", "torch", "torchvision", "tqdm", "transformers", "vllm", "yaml",
})  # fmt: skip
TRANSFORMERS_MODULES = frozenset({
    "activations", "audio_utils", "backbone_utils", "cache_utils", "cli", "configuration_utils",
    "conversion_mapping", "convert_slow_tokenizer", "convert_slow_tokenizers_checkpoints_to_fast",
    "core_model_loading", "data", "debug_utils", "decision", "dependency_versions_check",
    "dependency_versions_table", "distributed", "dynamic_module_utils", "exporters",
    "feature_extraction_sequence_utils", "feature_extraction_utils", "file_utils", "fusion_mapping", "generation",
    "hf_argparser", "hyperparameter_search", "image_processing_backends", "image_processing_base",
    "image_processing_outputs", "image_processing_utils", "image_transforms", "image_utils", "initialization",
    "integrations", "loss", "masking_utils", "model_debugging_utils", "modelcard", "modeling_attn_mask_utils",
    "modeling_flash_attention_utils", "modeling_gguf_pytorch_utils", "modeling_layers", "modeling_outputs",
    "modeling_rope_utils", "modeling_utils", "models", "monkey_patching", "optimization", "pipelines",
    "processing_utils", "pytorch_utils", "quantizers", "safetensors_conversion", "testing_utils",
    "time_series_utils", "tokenization_mistral_common", "tokenization_python", "tokenization_utils_base",
    "tokenization_utils_sentencepiece", "tokenization_utils_tokenizers", "trainer", "trainer_callback",
    "trainer_jit_checkpoint", "trainer_optimizer", "trainer_pt_utils", "trainer_seq2seq", "trainer_utils",
    "training_args", "training_args_seq2seq", "utils", "video_processing_utils", "video_utils", "vision_utils",
})  # fmt: skip


def name_problem(name: str) -> str | None:
    """Why `model.name` cannot be used: a class derived from it collides with a name the generated code uses."""
    clashes = sorted(set(Names.from_parts(name, "m").class_names()) & GENERATED_CODE_NAMES)
    if clashes:
        return f"{name!r} would define {', '.join(clashes)}, which the generated code imports or defines itself"
    return None


def _longest_file_stem() -> str:
    """The longest file-name stem the model_type is put into (`test_image_processing_`)."""
    empty = Names.from_parts("M", "")
    stems = [
        PurePosixPath(getattr(empty, attr)).name.removesuffix(".py")
        for attr in dir(Names)
        if attr.endswith(("_module", "_file"))
    ]
    return max(stems, key=lambda stem: len(stem.encode()))


def max_model_type_length() -> int:
    """The longest model_type whose generated file names (and their bytecode caches) fit in NAME_MAX bytes."""
    return NAME_MAX - len(_longest_file_stem().encode()) - BYTECODE_SUFFIX_ROOM


def model_type_problem(model_type: str) -> str | None:
    """Why `model.model_type` cannot be the package name: too long for its file names, or it would shadow a module
    the code imports."""
    if (length := len(model_type.encode())) > (limit := max_model_type_length()):
        return (
            f"is {length} characters long; at most {limit} fit in the file names generated from it "
            f"({_longest_file_stem()}<model_type>.py and its bytecode cache must stay within {NAME_MAX} bytes)"
        )
    if model_type in sys.stdlib_module_names:
        return f"{model_type!r} would shadow the standard-library module {model_type}"
    if model_type.lower() in {m.lower() for m in DEPENDENCY_MODULES}:
        return f"{model_type!r} would shadow the module {model_type} that the generated code or scaffold imports"
    if model_type in TRANSFORMERS_MODULES:
        return f"{model_type!r} is the name of a transformers module (transformers.{model_type})"
    return None


@dataclass(frozen=True)
class Names:
    prefix: str  # CamelCase, e.g. TinyVlm
    model_type: str  # snake_case, e.g. tiny_vlm

    @classmethod
    def from_parts(cls, name: str, model_type: str) -> Names:
        return cls(prefix=name, model_type=model_type)

    def class_names(self) -> list[str]:
        """Every class name the generated code defines."""
        return [
            getattr(self, attr)
            for attr in dir(type(self))
            if attr.endswith("_class") or attr in ("image_processor", "image_processor_pil")
        ]

    # classes
    @property
    def image_processor(self) -> str:
        return f"{self.prefix}ImageProcessor"

    @property
    def image_processor_pil(self) -> str:
        return f"{self.prefix}ImageProcessorPil"

    @property
    def kwargs_class(self) -> str:
        return f"{self.prefix}ImageProcessorKwargs"

    @property
    def config_class(self) -> str:
        return f"{self.prefix}Config"

    @property
    def model_output_class(self) -> str:
        return f"{self.prefix}ModelOutputWithPast"

    @property
    def causal_lm_output_class(self) -> str:
        return f"{self.prefix}CausalLMOutputWithPast"

    @property
    def projector_class(self) -> str:
        return f"{self.prefix}MultiModalProjector"

    @property
    def pretrained_model_class(self) -> str:
        return f"{self.prefix}PreTrainedModel"

    @property
    def model_class(self) -> str:
        return f"{self.prefix}Model"

    @property
    def for_conditional_generation_class(self) -> str:
        return f"{self.prefix}ForConditionalGeneration"

    @property
    def processor_class(self) -> str:
        return f"{self.prefix}Processor"

    # modules (inside the generated package) and files
    @property
    def package(self) -> str:
        return self.model_type

    @property
    def image_processing_module(self) -> str:
        return f"image_processing_{self.model_type}"

    @property
    def image_processing_pil_module(self) -> str:
        return f"image_processing_pil_{self.model_type}"

    @property
    def configuration_module(self) -> str:
        return f"configuration_{self.model_type}"

    @property
    def modeling_module(self) -> str:
        return f"modeling_{self.model_type}"

    @property
    def processing_module(self) -> str:
        return f"processing_{self.model_type}"

    @property
    def modular_module(self) -> str:
        return f"modular_{self.model_type}"

    @property
    def image_processing_test_file(self) -> str:
        return f"tests/test_image_processing_{self.model_type}.py"

    @property
    def modeling_test_file(self) -> str:
        return f"tests/test_modeling_{self.model_type}.py"

    # vLLM integration (spec `vllm: true`)
    @property
    def vllm_module(self) -> str:
        return f"vllm_{self.model_type}"

    @property
    def vllm_processing_info_class(self) -> str:
        return f"{self.prefix}ProcessingInfo"

    @property
    def vllm_dummy_inputs_class(self) -> str:
        return f"{self.prefix}DummyInputsBuilder"

    @property
    def vllm_multimodal_processor_class(self) -> str:
        return f"{self.prefix}MultiModalProcessor"

    @property
    def vllm_plugin_module(self) -> str:
        return f"vllm_plugin_{self.model_type}"

    @property
    def vllm_test_file(self) -> str:
        return f"tests/test_vllm_{self.model_type}.py"
