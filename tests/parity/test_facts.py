"""The one extraction path: facts and positions from one ast parse."""

from scaffold.parity.facts import extract


def test_function_local_imports_are_recorded_as_guarded():
    facts = extract("m.py", "import os\n\n\ndef f():\n    import torch\n    return torch\n")
    assert [(i.names[0][0], i.guarded, i.pos) for i in facts.imports] == [
        ("os", False, (1, 1)),
        ("torch", True, (5, 5)),
    ]
    assert facts.unguarded_backend_imports() == []


def test_positions_are_character_columns():
    source = 'class A:  # é\n    """Dé."""\n\n    x = "é"; y = 2\n\n    def f(self, ä: int = 1):\n        return self.size\n'
    facts = extract("m.py", source)
    cls = facts.classes["A"]
    assert cls.pos == (1, 7) and cls.docstring == "Dé."
    assert cls.attrs["y"].pos == (4, 14) and cls.attrs["x"].value == ("str", "é")
    method = cls.methods["f"]
    assert method.pos == (6, 9) and [p.pos for p in method.params] == [(6, 11), (6, 17)]
    assert method.reads == {"size": (7, 16)}


def test_marker_and_multiline_values_keep_their_source():
    source = "x = 1\n\n\n# Adapted from a.b.C\nclass C:\n    names = [\n        'a',\n    ]\n"
    cls = extract("m.py", source).classes["C"]
    assert cls.marker == "a.b.C"
    assert cls.attrs["names"].value_src == "[\n    'a',\n]"  # continuation lines relative to the statement


def test_syntax_error_and_nul_bytes_are_parse_errors():
    assert extract("m.py", "class A(:\n").parse_error[:2] == (1, 9)
    assert "null bytes" in extract("m.py", "x = 1\0\n").parse_error[2]
