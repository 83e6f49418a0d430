"""docs/parity-rules.md documents exactly the registered rules, with their severities."""

import re
from pathlib import Path

from scaffold.parity.rules import RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "parity-rules.md"


def test_rules_doc_matches_registry():
    documented = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            for code, severity in re.findall(r"(PAR\d{3}) \((error|warning)\b", line):
                documented[code] = severity
    assert documented == {code: r.severity for code, r in RULES.items()}
