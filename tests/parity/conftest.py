import os

import pytest
from parity.pairs import PIL, TORCH, write_pair

try:  # the shared ci/dev profiles (hypothesis is in the test extra)
    import hypothesis_profiles  # noqa: F401
except ModuleNotFoundError:
    hypothesis_profiles = None


def pytest_configure(config):
    # hypothesis_profiles loads a profile when imported, after hypothesis' own option was applied: re-apply it
    profile = config.getoption("hypothesis_profile", None)
    if profile and hypothesis_profiles is not None:
        from hypothesis import settings

        settings.load_profile(profile)
        os.environ["SCAFFOLD_HYPOTHESIS_PROFILE"] = profile  # an explicit choice: no per-test caps


@pytest.fixture
def pair_dir(tmp_path):
    def make(torch_src=TORCH, pil_src=PIL, model="toy"):
        return write_pair(tmp_path, torch_src, pil_src, model)

    return make
