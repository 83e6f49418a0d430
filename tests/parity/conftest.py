import pytest
from parity.pairs import PIL, TORCH, write_pair


@pytest.fixture
def pair_dir(tmp_path):
    def make(torch_src=TORCH, pil_src=PIL, model="toy"):
        return write_pair(tmp_path, torch_src, pil_src, model)

    return make
