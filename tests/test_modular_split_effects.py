"""The modular split's placement rules for what only an out-of-tree modular file holds: statements that bind no name
(`Cls.register_for_auto_class()`) and `if TYPE_CHECKING:` blocks."""

from __future__ import annotations

import textwrap

import pytest

from scaffold.generate.modular import SplitOptions, split_modular

OPTIONS = SplitOptions(prefix="Tiny", model_type="tiny", copy_kwargs=False)

MODULAR = textwrap.dedent(
    """\
    from typing import TYPE_CHECKING

    from ...configuration_utils import PreTrainedConfig
    from ...modeling_utils import PreTrainedModel
    from ...processing_utils import ProcessorMixin

    # Why the block is here.
    if TYPE_CHECKING:
        from .processing_tiny import TinyProcessor  # noqa: F401

    NAMES = {"AutoConfig": "configuration_tiny.TinyConfig"}


    class TinyConfig(PreTrainedConfig):
        names = NAMES


    TinyConfig.register_for_auto_class()


    class TinyProcessor(ProcessorMixin):
        pass


    class TinyModel(PreTrainedModel):
        config: TinyConfig


    class TinyForConditionalGeneration(PreTrainedModel):
        pass


    TinyForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")
    TinyModel.register_for_auto_class("AutoModel")
    TinyProcessor.register_for_auto_class()

    __all__ = ["TinyConfig", "TinyProcessor", "TinyModel", "TinyForConditionalGeneration"]
    """
)


def lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


def test_statements_binding_no_name_follow_the_last_class_they_use():
    files = split_modular(MODULAR, OPTIONS)
    config = lines(files["configuration"])
    assert config.index("TinyConfig.register_for_auto_class()") == config.index("    names = NAMES") + 1
    modeling = lines(files["modeling"])
    model_call = modeling.index('TinyModel.register_for_auto_class("AutoModel")')
    assert modeling.index("class TinyModel(PreTrainedModel):") < model_call
    assert model_call < modeling.index("class TinyForConditionalGeneration(PreTrainedModel):")
    assert modeling[-2] == 'TinyForConditionalGeneration.register_for_auto_class("AutoModelForImageTextToText")'
    assert lines(files["processing"])[-2:] == [
        "TinyProcessor.register_for_auto_class()",
        '__all__ = ["TinyProcessor"]',
    ]
    for text in files.values():  # each call once, in one file
        assert text.count("register_for_auto_class") <= 2


def test_a_statement_using_classes_of_two_files_goes_to_the_later_one_and_imports_the_other():
    source = MODULAR.replace(
        "TinyProcessor.register_for_auto_class()\n",
        "TinyProcessor.register_for_auto_class()\nassert TinyModel is not TinyConfig\n",
    )
    modeling = split_modular(source, OPTIONS)["modeling"]
    assert "assert TinyModel is not TinyConfig" in modeling
    assert "from .configuration_tiny import TinyConfig" in modeling
    assert "assert TinyModel" not in split_modular(source, OPTIONS)["configuration"]


def test_a_statement_using_no_class_is_an_error():
    with pytest.raises(ValueError, match="uses no class"):
        split_modular(MODULAR.replace("TinyProcessor.register_for_auto_class()", "print('hello')"), OPTIONS)


def test_type_checking_block_goes_to_the_imports_of_the_file_of_the_next_class():
    files = split_modular(MODULAR, OPTIONS)
    config = files["configuration"]
    block = "# Why the block is here.\nif TYPE_CHECKING:\n    from .processing_tiny import TinyProcessor  # noqa: F401"
    assert block in config
    assert "from typing import TYPE_CHECKING" in config
    assert config.index(block) < config.index("NAMES = ")  # with the imports, before the code
    for name in ("modeling", "processing"):
        assert "TYPE_CHECKING" not in files[name]
    # The names it imports are not the file's own: no real import of the processor is added to the configuration.
    assert config.count("from .processing_tiny import TinyProcessor") == 1


def test_type_checking_block_without_a_following_class_is_an_error():
    source = MODULAR.replace("__all__ =", "if TYPE_CHECKING:\n    from .modeling_tiny import TinyModel\n\n__all__ =")
    with pytest.raises(ValueError, match="no class follows"):
        split_modular(source, OPTIONS)


def test_guarded_imports_other_than_type_checking_keep_the_use_rule():
    source = MODULAR.replace(
        "NAMES = {",
        "if is_torch_available():\n    import torch\n\nNAMES = {",
    ).replace(
        "class TinyForConditionalGeneration(PreTrainedModel):\n    pass",
        "class TinyForConditionalGeneration(PreTrainedModel):\n    dtype = torch.float32",
    )
    source = source.replace(
        "from ...processing_utils", "from ...utils import is_torch_available\nfrom ...processing_utils"
    )
    files = split_modular(source, OPTIONS)
    assert "if is_torch_available():\n    import torch" in files["modeling"]
    assert "import torch" not in files["configuration"]
