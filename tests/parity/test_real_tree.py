"""Run the checker over the installed transformers models/ tree and pin what it finds.

The classified list is docs/transformers-5.23-findings.md (regenerate with benchmarks/real_tree_findings.py).
"""

import collections
import os

import pytest

transformers = pytest.importorskip("transformers")

MODELS = os.path.join(os.path.dirname(transformers.__file__), "models")
EXPECTED_ERRORS = 4
EXPECTED_BY_CODE = {"PAR030": 1, "PAR033": 28, "PAR035": 2, "PAR041": 1, "PAR042": 9, "PAR050": 6}


@pytest.mark.skipif(transformers.__version__ != "5.23.0", reason="findings are pinned for transformers 5.23.0")
def test_transformers_tree(tmp_path):
    from scaffold.parity.api import check_paths

    result = check_paths([MODELS], cache_dir=tmp_path / "cache")
    assert len([p for p in result.pairs if not p.is_lone]) == 92
    assert result.files_checked == 184
    assert result.errors == EXPECTED_ERRORS
    assert dict(collections.Counter(f.code for f in result.findings)) == EXPECTED_BY_CODE
    assert not any(f.code == "PAR000" for f in result.findings)
