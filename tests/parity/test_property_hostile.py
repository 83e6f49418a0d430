"""Property: check-parity over mutated real transformers pairs and odd files never crashes.

For every input: exit 0 or 1 with no traceback, the JSON output parses, every file the run could not check (not a
regular file, unreadable, unparseable) is named by a finding, and a known-bad control pair beside it is still
reported. Inputs: a real pair from the installed transformers tree, one or both files mutated (random line
deletions/duplications, deep nesting, binary and non-UTF-8 bytes, BOMs, NULs, empty files, huge lines, syntax
errors, FIFOs, symlinks). Profiles: tests/hypothesis_profiles.py (`ci` when $CI is set: derandomized, small;
`--hypothesis-profile dev` for a long local run).
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
transformers = pytest.importorskip("transformers")

from hypothesis import event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from parity.pairs import PIL, TORCH, write_pair  # noqa: E402

MODELS = Path(transformers.__file__).parent / "models"
REAL_PAIRS = sorted(p.parent.name for p in MODELS.glob("*/image_processing_pil_*.py"))
CONTROL_PIL = PIL.replace("    patch_size = 14\n", "    patch_size = 16\n")  # one PAR020


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


@st.composite
def mutation(draw, data: bytes):
    """(kind, new bytes or a special marker) for one file's content."""
    kind = draw(
        st.sampled_from(
            [
                "keep", "delete_lines", "duplicate_lines", "deep_nesting", "binary", "latin1", "bom", "nul",
                "empty", "huge_line", "syntax_error", "fifo", "symlink_partner", "symlink_dangling",
            ]
        )
    )  # fmt: skip
    lines = _lines(data)
    if kind == "delete_lines":
        drop = draw(st.sets(st.integers(0, len(lines) - 1), min_size=1, max_size=8))
        return kind, b"".join(x for i, x in enumerate(lines) if i not in drop)
    if kind == "duplicate_lines":
        i = draw(st.integers(0, len(lines) - 1))
        n = draw(st.integers(1, 4))
        return kind, b"".join(lines[: i + 1] + lines[i : i + n] + lines[i + 1 :])
    if kind == "deep_nesting":
        depth = draw(st.sampled_from([500, 2000, 6000, 100_000]))
        form = draw(st.sampled_from(["-{}1", "not {}x", "1{}", "a if b else {}a"]))
        expr = {"-{}1": "-" * depth + "1", "not {}x": "not " * depth + "x", "1{}": "+".join(["1"] * depth)}.get(
            form, "a if b else " * depth + "a"
        )
        where = draw(st.sampled_from(["module", "class"]))
        if where == "class" and b"    model_input_names" in data:
            return kind, data.replace(
                b"    model_input_names", f"    deep = {expr}\n    model_input_names".encode(), 1
            )
        return kind, data + f"\nDEEP = {expr}\n".encode()
    if kind == "binary":
        return kind, draw(st.binary(min_size=1, max_size=300))
    if kind == "latin1":
        i = draw(st.integers(0, len(lines) - 1))
        return kind, b"".join(lines[:i] + [b"# caf\xe9 \xff\n"] + lines[i:])
    if kind == "bom":
        return kind, b"\xef\xbb\xbf" + data
    if kind == "nul":
        i = draw(st.integers(0, len(data)))
        return kind, data[:i] + b"\x00" + data[i:]
    if kind == "empty":
        return kind, b""
    if kind == "huge_line":
        return kind, b"X = '" + b"a" * draw(st.sampled_from([10_000, 1_000_000])) + b"'\n" + data
    if kind == "syntax_error":
        i = draw(st.integers(0, len(lines) - 1))
        return kind, b"".join(lines[:i] + [b"def broken(:\n"] + lines[i:])
    return kind, data  # keep, fifo and symlinks are applied on disk


def _place(path: Path, kind: str, data: bytes, partner: Path) -> None:
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink_partner":
        os.symlink(partner.name, path)
    elif kind == "symlink_dangling":
        os.symlink(path.parent / "missing.py", path)
    else:
        path.write_bytes(data)


def _parses(path: Path) -> bool:
    """Whether Python can parse the file's text (the reference for 'checked'; decoded as check-parity decodes)."""
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        ast.parse(text.removeprefix("\ufeff"))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


@st.composite
def scenario(draw):
    model = draw(st.sampled_from(REAL_PAIRS))
    torch = (MODELS / model / f"image_processing_{model}.py").read_bytes()
    pil = (MODELS / model / f"image_processing_pil_{model}.py").read_bytes()
    which = draw(st.sampled_from(["torch", "pil", "both"]))
    tm = draw(mutation(torch)) if which in ("torch", "both") else ("keep", torch)
    pm = draw(mutation(pil)) if which in ("pil", "both") else ("keep", pil)
    if tm[0].startswith("symlink_partner") and pm[0] not in ("keep", "delete_lines", "duplicate_lines"):
        tm = ("keep", torch)  # a link to a partner that is itself odd: keep it simple
    if pm[0] == "symlink_partner" and tm[0] != "keep":
        pm = ("keep", pil)
    return model, tm, pm


# each example runs check-parity in a fresh process (~0.15-0.7 s): the default local profile is capped unless a
# profile is chosen explicitly (--hypothesis-profile dev, or SCAFFOLD_HYPOTHESIS_PROFILE)
_EXPLICIT = bool(os.environ.get("CI") or os.environ.get("SCAFFOLD_HYPOTHESIS_PROFILE"))


@settings(max_examples=settings().max_examples if _EXPLICIT else 60)
@given(scenario())
def test_check_parity_never_crashes(case):
    model, (tkind, tdata), (pkind, pdata) = case
    event(f"torchvision file: {tkind}")
    event(f"PIL file: {pkind}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        d = root / model
        d.mkdir()
        tpath, ppath = d / f"image_processing_{model}.py", d / f"image_processing_pil_{model}.py"
        _place(tpath, tkind, tdata, ppath)
        _place(ppath, pkind, pdata, tpath)
        write_pair(root, TORCH, CONTROL_PIL, model="zz_control")
        proc = subprocess.run(
            [sys.executable, "-m", "scaffold", "check-parity", "--format", "json", "--no-cache", str(root)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        event(f"exit {proc.returncode}")
        assert proc.returncode in (0, 1), proc.stderr
        assert "Traceback" not in proc.stderr, proc.stderr
        doc = json.loads(proc.stdout)
        named = {}
        for f in doc["findings"]:
            named.setdefault(os.path.basename(f["path"]), set()).add(f["code"])
        assert "PAR020" in named.get("image_processing_pil_zz_control.py", set())  # the other files are checked
        for path, kind in ((tpath, tkind), (ppath, pkind)):
            codes = named.get(path.name, set())
            if kind == "fifo":
                assert "PAR005" in codes
            elif kind == "symlink_dangling":
                assert "PAR006" in codes
            elif not _parses(path):
                assert "PAR000" in codes
            for code in codes & {"PAR000", "PAR005", "PAR006"}:
                event(f"finding {code}")
