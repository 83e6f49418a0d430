"""Every name derived from the spec, computed here and nowhere else."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Names:
    prefix: str  # CamelCase, e.g. TinyVlm
    model_type: str  # snake_case, e.g. tiny_vlm

    @classmethod
    def from_parts(cls, name: str, model_type: str) -> Names:
        return cls(prefix=name, model_type=model_type)

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
    def vllm_plugin_module(self) -> str:
        return f"vllm_plugin_{self.model_type}"

    @property
    def vllm_test_file(self) -> str:
        return f"tests/test_vllm_{self.model_type}.py"
