"""The modular split (scaffold/generate/modular.py) on small inline modular files: which class lands in which file,
where helpers go, which imports each file gets, the Kwargs copy, guarded imports and the absolute-import rewrite.
Its agreement with transformers' own converter on the real templates is checked by tests/test_intree.py's goldens."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from scaffold.generate.modular import SplitOptions, absolute_imports, file_of_class, split_modular
from scaffold.generate.pipeline import render_spec
from scaffold.spec import Names, load_spec

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"

MODULAR = textwrap.dedent(
    """\
    # Copyright line

    import re

    import torch

    from ...configuration_utils import PreTrainedConfig
    from ...image_processing_backends import PilBackend, TorchvisionBackend
    from ...modeling_utils import PreTrainedModel
    from ...processing_utils import ImagesKwargs, ProcessorMixin
    from ...utils import is_torch_available


    if is_torch_available():
        import numpy as np

    PATTERN = re.compile("x")


    def depth(name):
        return 1 if PATTERN.fullmatch(name) else 0


    class TinyConfig(PreTrainedConfig):
        model_type = "tiny"


    class TinyImageProcessorKwargs(ImagesKwargs, total=False):
        flag: bool


    class TinyImageProcessor(TorchvisionBackend):
        valid_kwargs = TinyImageProcessorKwargs


    class TinyImageProcessorPil(PilBackend):
        valid_kwargs = TinyImageProcessorKwargs

        def zeros(self):
            return np.zeros(1)


    class TinyProcessor(ProcessorMixin):
        pass


    class TinyModel(PreTrainedModel):
        config: TinyConfig

        def forward(self, x):
            return torch.ones(depth("x"))


    __all__ = ["TinyConfig", "TinyImageProcessor", "TinyImageProcessorPil", "TinyProcessor", "TinyModel"]
    """
)


def split(**options):
    return split_modular(MODULAR, SplitOptions(prefix="Tiny", model_type="tiny", **options))


def top_level(source: str) -> list[str]:
    names = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.append(node.targets[0].id)
    return names


def test_file_of_class_follows_the_converter_suffix_rule():
    assert file_of_class("TinyConfig", "Tiny") == "configuration"
    assert file_of_class("TinyImageProcessor", "Tiny") == "image_processing"
    assert file_of_class("TinyImageProcessorPil", "Tiny") == "image_processing_pil"
    assert file_of_class("TinyImageProcessorKwargs", "Tiny") == "image_processing"
    assert file_of_class("TinyProcessor", "Tiny") == "processing"
    assert file_of_class("TinyMultiModalProjector", "Tiny") == "modeling"


def test_classes_helpers_and_all_per_file():
    files = split()
    assert set(files) == {"configuration", "modeling", "processing", "image_processing", "image_processing_pil"}
    assert top_level(files["modeling"]) == ["PATTERN", "depth", "TinyModel", "__all__"]
    assert top_level(files["configuration"]) == ["TinyConfig", "__all__"]
    assert top_level(files["image_processing"]) == ["TinyImageProcessorKwargs", "TinyImageProcessor", "__all__"]
    assert '__all__ = ["TinyModel"]' in files["modeling"]
    assert files["configuration"].startswith("# Copyright line\n")


def test_each_file_imports_only_what_it_uses_and_siblings_relatively():
    files = split()
    modeling = files["modeling"]
    assert "from .configuration_tiny import TinyConfig" in modeling
    assert "import re" in modeling and "import torch" in modeling
    assert "ProcessorMixin" not in modeling and "PilBackend" not in modeling
    assert "import torch" not in files["configuration"]


def test_kwargs_class_is_copied_into_the_pil_file_in_tree_and_imported_otherwise():
    copied = split(copy_kwargs=True)["image_processing_pil"]
    assert top_level(copied)[:2] == ["TinyImageProcessorKwargs", "TinyImageProcessorPil"]
    assert "from .image_processing_tiny import" not in copied
    imported = split(copy_kwargs=False)["image_processing_pil"]
    assert "from .image_processing_tiny import TinyImageProcessorKwargs" in imported
    marked = split(copy_kwargs=True, adapted_from="tiny.image_processing_tiny")["image_processing_pil"]
    assert "# Adapted from tiny.image_processing_tiny.TinyImageProcessorKwargs" in marked


def test_guarded_import_travels_with_its_guard():
    pil = split()["image_processing_pil"]
    assert "if is_torch_available():\n    import numpy as np" in pil
    assert "from ...utils import is_torch_available" in pil
    assert "is_torch_available" not in split()["configuration"]


def test_converter_header_and_leading_blank_lines():
    files = split(header="# HEADER\n")
    assert files["modeling"].startswith("# HEADER\n# Copyright line\n")


def test_absolute_imports_rewrites_transformers_relative_imports_only():
    source = "from ...utils import x\nfrom ..auto import AutoModel\nfrom .sibling import y\ntry:\n    from ...a import b\nexcept ImportError:\n    b = None\n"
    assert absolute_imports(source) == (
        "from transformers.utils import x\nfrom transformers.models.auto import AutoModel\nfrom .sibling import y\n"
        "try:\n    from transformers.a import b\nexcept ImportError:\n    b = None\n"
    )


def test_a_helper_used_in_two_files_is_copied_into_each_as_the_converter_does():
    source = MODULAR.replace(
        "class TinyProcessor(ProcessorMixin):\n    pass",
        'class TinyProcessor(ProcessorMixin):\n    def count(self):\n        return depth("y")',
    )
    files = split_modular(source, SplitOptions(prefix="Tiny", model_type="tiny"))
    assert top_level(files["processing"]) == ["PATTERN", "depth", "TinyProcessor", "__all__"]
    assert top_level(files["modeling"]) == ["PATTERN", "depth", "TinyModel", "__all__"]
    assert "import depth" not in files["modeling"] and "import re" in files["processing"]


def test_file_of_class_strips_the_model_prefix_only_at_the_start():
    # Model names that are also class-name suffixes (or part of them): only the leading prefix is the model's.
    assert file_of_class("PilImageProcessorPil", "Pil") == "image_processing_pil"
    assert file_of_class("PilImageProcessor", "Pil") == "image_processing"
    assert file_of_class("ImageImageProcessor", "Image") == "image_processing"
    assert file_of_class("ImageProcessor", "Image") == "processing"
    assert file_of_class("ConfigConfig", "Config") == "configuration"
    assert file_of_class("ProcessorImageProcessor", "Processor") == "image_processing"
    assert file_of_class("ProcessorImageProcessorKwargs", "Processor") == "image_processing"
    assert file_of_class("ProcessorProcessor", "Processor") == "processing"
    assert file_of_class("ConfigModel", "Config") == "modeling"


@pytest.mark.parametrize("name", ["Pil", "Image", "Config", "Processor"])
def test_a_model_named_like_a_suffix_splits_into_the_right_files(tmp_path, name):
    source = (EXAMPLES_DIR / "llava_clip_llama.yaml").read_text()
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(
        source.replace("name: LlavaClipLlama", f"name: {name}").replace(
            "model_type: llava_clip_llama", "model_type: odd_vlm"
        )
    )
    names = Names.from_parts(name, "odd_vlm")
    files = render_spec(load_spec(spec_path))
    expected = {
        names.config_class: names.configuration_module,
        names.image_processor: names.image_processing_module,
        names.kwargs_class: names.image_processing_module,
        names.image_processor_pil: names.image_processing_pil_module,
        names.processor_class: names.processing_module,
        names.projector_class: names.modeling_module,
        names.pretrained_model_class: names.modeling_module,
        names.model_class: names.modeling_module,
        names.for_conditional_generation_class: names.modeling_module,
    }
    defined_in: dict[str, list[str]] = {}
    for path, text in files.items():
        if path.endswith(".py") and "/tests/" not in path:
            for node in ast.parse(text).body:
                if isinstance(node, ast.ClassDef):
                    defined_in.setdefault(node.name, []).append(path.rsplit("/", 1)[-1].removesuffix(".py"))
    assert {cls: defined_in.get(cls) for cls in expected} == {cls: [module] for cls, module in expected.items()}
