"""Each rule: a bad pair produces its code (at the right place), the good pair does not."""

import pytest
from parity.pairs import PIL, TORCH

from scaffold.parity.api import check_paths
from scaffold.parity.rules import Options


def run(d, **opts):
    return check_paths([str(d)], Options(**opts), use_cache=False)


def codes(result):
    return [f.code for f in result.findings]


def test_clean_pair_has_no_findings(pair_dir):
    result = run(pair_dir())
    assert result.findings == []
    assert result.files_checked == 2


def test_parse_error_is_a_finding(pair_dir):
    d = pair_dir(
        pil_src=PIL.replace("class ToyImageProcessorPil(PilBackend):", "class ToyImageProcessorPil(PilBackend)")
    )
    result = run(d)
    assert codes(result) == ["PAR000"]
    f = result.findings[0]
    assert f.path.endswith("image_processing_pil_toy.py") and f.severity == "error"


def test_missing_counterpart_class(pair_dir):
    extra = TORCH.replace(
        '__all__ = ["ToyImageProcessor"]',
        'class OtherImageProcessor(TorchvisionBackend):\n    pass\n\n\n__all__ = ["ToyImageProcessor", "OtherImageProcessor"]',
    )
    result = run(pair_dir(torch_src=extra))
    assert "PAR001" in codes(result)
    f = next(f for f in result.findings if f.code == "PAR001")
    assert "OtherImageProcessorPil" in f.message and f.path.endswith("image_processing_toy.py")


def test_misnamed_pil_class_is_still_compared(pair_dir):
    pil = PIL.replace("ToyImageProcessorPil", "ToyPilProcessor")
    result = run(pair_dir(pil_src=pil))
    assert "PAR002" in codes(result)
    assert "PAR001" not in codes(result)


def test_bases_must_correspond(pair_dir):
    pil = PIL.replace("class ToyImageProcessorPil(PilBackend):", "class ToyImageProcessorPil(TorchvisionBackend):")
    pil = pil.replace("import PilBackend", "import PilBackend, TorchvisionBackend")
    result = run(pair_dir(pil_src=pil))
    assert "PAR003" in codes(result)


def test_init_signature_difference(pair_dir):
    pil = PIL.replace(
        "def __init__(self, **kwargs: Unpack[ToyImageProcessorKwargs]):",
        "def __init__(self, patch_size: int = 14, **kwargs: Unpack[ToyImageProcessorKwargs]):",
    )
    result = run(pair_dir(pil_src=pil))
    f = next(f for f in result.findings if f.code == "PAR010")
    assert "`patch_size`" in f.message
    # names both places
    assert f.related is not None and f.related.path.endswith("image_processing_toy.py")
    assert str(f.related) in f.message


def test_default_differs_with_position(pair_dir):
    pil = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")
    result = run(pair_dir(pil_src=pil))
    [f] = [f for f in result.findings if f.code == "PAR020"]
    assert (f.line, f.col) == (24, 5)
    assert "16" in f.message and "14" in f.message
    expected_line = TORCH.splitlines().index("    patch_size = 14") + 1
    assert f.related.line == expected_line == 23


@pytest.mark.parametrize(
    "pil_line",
    [
        "    resample = 3\n",
        "    resample = PILImageResampling.BICUBIC\n",
        "    resample = 3  # same value, other spelling\n",
    ],
)
def test_equivalent_spellings_are_equal(pair_dir, pil_line):
    pil = PIL.replace("    resample = PILImageResampling.BICUBIC\n", pil_line)
    pil = pil.replace("    image_mean = OPENAI_CLIP_MEAN\n", "    image_mean = (0.48145466, 0.4578275, 0.40821073)\n")
    pil = pil.replace("    size = {", "    rescale_factor = 0.00392156862745098\n    size = {")
    result = run(pair_dir(pil_src=pil))
    assert result.findings == []


def test_value_equal_to_inherited_is_no_divergence(pair_dir):
    # BaseImageProcessor.default_to_square is True and rescale_factor is 1 / 255
    pil = PIL.replace(
        "    do_resize = True\n", "    do_resize = True\n    default_to_square = True\n    rescale_factor = 1 / 255\n"
    )
    assert run(pair_dir(pil_src=pil)).findings == []
    pil = PIL.replace("    do_resize = True\n", "    do_resize = True\n    default_to_square = False\n")
    result = run(pair_dir(pil_src=pil))
    [f] = result.findings
    assert f.code == "PAR020" and "default_to_square" in f.message and "inherited" in f.message


def test_attribute_on_one_side_only(pair_dir):
    pil = PIL.replace("    do_resize = True\n", "    do_resize = True\n    crop_pct = 0.9\n")
    [f] = run(pair_dir(pil_src=pil)).findings
    assert f.code == "PAR021" and "crop_pct" in f.message


def test_valid_kwarg_without_default_equals_none(pair_dir):
    # _set_attributes gives a valid kwarg without class default the value None
    pil = PIL.replace("    do_resize = True\n", "    do_resize = True\n    crop_size = None\n")
    assert run(pair_dir(pil_src=pil)).findings == []


def test_inheritance_through_parent_in_other_file(tmp_path, pair_dir):
    from parity.pairs import write_pair

    write_pair(tmp_path, TORCH, PIL, model="toy")
    child_t = (
        "from ..toy.image_processing_toy import ToyImageProcessor\n\n\n"
        "class KidImageProcessor(ToyImageProcessor):\n    size = {'height': 336, 'width': 336}\n\n\n"
        '__all__ = ["KidImageProcessor"]\n'
    )
    child_p = (
        "from ..toy.image_processing_pil_toy import ToyImageProcessorPil\n\n\n"
        "class KidImageProcessorPil(ToyImageProcessorPil):\n    patch_size = 14\n\n\n"
        '__all__ = ["KidImageProcessorPil"]\n'
    )
    write_pair(tmp_path, child_t, child_p, model="kid")
    result = run(tmp_path / "kid")
    # patch_size = 14 equals the inherited value; size differs from the inherited one
    [f] = result.findings
    assert f.code == "PAR020" and "size" in f.message and "336" in f.message


def test_model_input_names(pair_dir):
    pil = PIL.replace('model_input_names = ["pixel_values", "image_sizes"]', 'model_input_names = ["pixel_values"]')
    assert "PAR022" in codes(run(pair_dir(pil_src=pil)))


def test_kwargs_copy_differs(pair_dir):
    pil = PIL.replace("    patch_size: int\n", "    patch_size: int | None\n    merge_size: int\n")
    result = run(pair_dir(pil_src=pil))
    msgs = [f.message for f in result.findings if f.code == "PAR031"]
    assert any("merge_size" in m for m in msgs)
    assert any("patch_size" in m and "int | None" in m for m in msgs)


def test_kwargs_docstring_differs(pair_dir):
    pil = PIL.replace("        Patch size.\n", "        The patch size.\n")
    [f] = run(pair_dir(pil_src=pil)).findings
    assert f.code == "PAR031" and "docstring" in f.message


def test_kwargs_copy_without_marker(pair_dir):
    pil = PIL.replace("# Adapted from transformers.models.toy.image_processing_toy.ToyImageProcessorKwargs\n", "")
    result = run(pair_dir(pil_src=pil))
    [f] = result.findings
    assert f.code == "PAR033" and f.severity == "warning"
    assert result.errors == 0


def test_kwargs_named_differently(pair_dir):
    pil = PIL.replace("ToyImageProcessorKwargs", "ToyImageProcessorPilKwargs")
    result = run(pair_dir(pil_src=pil))
    assert "PAR030" in codes(result)
    assert "PAR035" in codes(result)


KW_IMPORT_PIL = PIL.replace(
    '''# Adapted from transformers.models.toy.image_processing_toy.ToyImageProcessorKwargs
class ToyImageProcessorKwargs(ImagesKwargs, total=False):
    r"""
    patch_size (`int`, *optional*, defaults to 14):
        Patch size.
    """

    patch_size: int
''',
    "from .image_processing_toy import ToyImageProcessorKwargs\n",
)


def test_kwargs_import_from_light_module_is_fine(pair_dir):
    assert run(pair_dir(pil_src=KW_IMPORT_PIL)).findings == []
    assert codes(run(pair_dir(pil_src=KW_IMPORT_PIL), kwargs_sharing="copy")) == ["PAR034"]
    assert codes(run(pair_dir(), kwargs_sharing="import")) == ["PAR034"]


def test_kwargs_import_from_torch_module(pair_dir):
    torch_src = "import torch\n" + TORCH
    result = run(pair_dir(torch_src=torch_src, pil_src=KW_IMPORT_PIL))
    [f] = result.findings
    assert f.code == "PAR032" and "torch" in f.message
    assert f.related.path.endswith("image_processing_toy.py") and f.related.line == 1
    guarded = "from ...utils import is_torch_available\n\nif is_torch_available():\n    import torch\n" + TORCH
    assert run(pair_dir(torch_src=guarded, pil_src=KW_IMPORT_PIL)).findings == []


def test_public_method_one_side_only(pair_dir):
    pil = PIL.replace(
        "    def get_number_of_image_patches(",
        "    def extra_api(self, x: int):\n        return x\n\n    def get_number_of_image_patches(",
    )
    [f] = run(pair_dir(pil_src=pil)).findings
    assert f.code == "PAR040" and "extra_api" in f.message


def test_backend_helpers_are_not_errors(pair_dir):
    pil = PIL.replace(
        "    def get_number_of_image_patches(",
        "    def pad_image(self, image: np.ndarray, size):\n        return image\n\n    def get_number_of_image_patches(",
    )
    torch_src = TORCH.replace(
        "    def get_number_of_image_patches(",
        '    def pad_images(self, images: "torch.Tensor", size, device=None):\n        return images\n\n    def get_number_of_image_patches(',
    )
    result = run(pair_dir(torch_src=torch_src, pil_src=pil))
    # one-sided helpers are reported as warnings (PAR042), named as renames when one name extends the other
    assert sorted((f.code, f.severity, f.subject.name) for f in result.findings) == [
        ("PAR042", "warning", "pad_image"),
        ("PAR042", "warning", "pad_images"),
    ]
    assert result.errors == 0 and all("renamed? the other side has" in f.message for f in result.findings)


def test_public_method_signature_differs(pair_dir):
    pil = PIL.replace(
        "def get_number_of_image_patches(self, height: int, width: int, images_kwargs=None)",
        "def get_number_of_image_patches(self, height: int, width: int)",
    )
    [f] = run(pair_dir(pil_src=pil)).findings
    assert f.code == "PAR041" and "images_kwargs" in f.message


def test_backend_only_params_ignored_in_method_signatures(pair_dir):
    torch_src = TORCH.replace("images_kwargs=None)", "images_kwargs=None, device=None)")
    assert run(pair_dir(torch_src=torch_src)).findings == []


def test_kwarg_read_by_one_backend_only(pair_dir):
    pil = PIL.replace(
        "return [self.resize(i, size=size, resample=resample) for i in images] if do_resize else images, patch_size",
        "return [self.resize(i, size=size, resample=resample) for i in images] if do_resize else images",
    )
    [f] = run(pair_dir(pil_src=pil)).findings
    assert f.code == "PAR050" and "patch_size" in f.message and f.severity == "warning"
    assert f.path.endswith("image_processing_toy.py")  # where it is read


def test_missing_from_all(pair_dir):
    pil = PIL.replace('__all__ = ["ToyImageProcessorPil"]', "__all__ = []")
    assert codes(run(pair_dir(pil_src=pil))) == ["PAR060"]
    pil = PIL.replace('__all__ = ["ToyImageProcessorPil"]', "")
    assert codes(run(pair_dir(pil_src=pil))) == ["PAR061"]


def test_unguarded_torch_in_pil_file(pair_dir):
    pil = "import torch\nfrom torchvision.transforms.v2 import functional as tvF\n" + PIL
    result = run(pair_dir(pil_src=pil))
    assert codes(result) == ["PAR070", "PAR070"]
    assert [(f.line, f.col) for f in result.findings] == [(1, 1), (2, 1)]
    guarded = "from ...utils import is_torch_available\n\nif is_torch_available():\n    import torch\n" + PIL
    assert run(pair_dir(pil_src=guarded)).findings == []


def test_lone_file_only_when_asked(pair_dir):
    d = pair_dir(pil_src=None)
    assert run(d).findings == []
    [f] = run(d, report_lone=True).findings
    assert f.code == "PAR004"


def test_single_file_maps_to_its_pair(pair_dir):
    pil = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")
    d = pair_dir(pil_src=pil)
    result = check_paths([str(d / "image_processing_toy.py")], Options(), use_cache=False)
    assert result.files_checked == 2
    assert codes(result) == ["PAR020"]
