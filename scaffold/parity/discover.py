"""Find ``image_processing_<m>.py`` / ``image_processing_pil_<m>.py`` pairs under the given paths.

Given a single file of a pair, its partner (in the same directory) is checked too, so pre-commit can pass just the
changed files.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from scaffold.errors import UsageError

_TORCH_RE = re.compile(r"^image_processing_(?!pil_)(\w+)\.py$")
_PIL_RE = re.compile(r"^image_processing_pil_(\w+)\.py$")
_SKIP_DIRS = {"__pycache__", "node_modules", ".git", ".hg", ".tox", ".nox", ".mypy_cache", ".ruff_cache"}


@dataclass(frozen=True)
class Pair:
    model: str
    directory: str
    torch_path: str | None
    pil_path: str | None

    @property
    def is_lone(self) -> bool:
        return self.torch_path is None or self.pil_path is None


def classify(filename: str) -> tuple[str, str] | None:
    """("torch"|"pil", model) for an image-processing module name, else None."""
    m = _PIL_RE.match(filename)
    if m:
        return "pil", m.group(1)
    m = _TORCH_RE.match(filename)
    if m:
        return "torch", m.group(1)
    return None


def classify_in(directory: str, filename: str) -> tuple[str, str] | None:
    """``classify``, reading ``image_processing_pil_<x>.py`` as the torchvision file of model ``pil_<x>`` when its PIL
    twin ``image_processing_pil_pil_<x>.py`` is beside it (and no ``image_processing_<x>.py`` claims it)."""
    found = classify(filename)
    if found is not None and found[0] == "pil":
        model = found[1]
        twin = os.path.join(directory, f"image_processing_pil_pil_{model}.py")
        if os.path.lexists(twin) and not os.path.lexists(os.path.join(directory, f"image_processing_{model}.py")):
            return "torch", f"pil_{model}"
    return found


def _walk(root: str):
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if d not in _SKIP_DIRS
            and not d.startswith(".")
            and not os.path.exists(os.path.join(dirpath, d, "pyvenv.cfg"))
        )
        for name in sorted(filenames):
            if classify(name) is not None:
                yield os.path.join(dirpath, name)


def discover(paths: list[str]) -> list[Pair]:
    """All pairs (and lone files) under ``paths``, sorted by directory and model name."""
    if not paths:
        paths = ["."]
    candidates: set[str] = set()
    for raw in paths:
        if not os.path.exists(raw):
            raise UsageError(f"{raw}: no such file or directory")
        if os.path.isdir(raw):
            candidates.update(_walk(raw))
        else:
            if classify(os.path.basename(raw)) is not None:
                candidates.add(raw)
    # complete pairs from partners on disk
    groups: dict[tuple[str, str], dict[str, str]] = {}
    for path in candidates:
        path = os.path.normpath(path)
        directory, name = os.path.split(path)
        kind, model = classify_in(directory, name)
        groups.setdefault((directory, model), {})[kind] = path
        partner = f"image_processing_{model}.py" if kind == "pil" else f"image_processing_pil_{model}.py"
        partner_path = os.path.join(directory, partner)
        other = "torch" if kind == "pil" else "pil"
        if os.path.lexists(partner_path):  # any kind of file: a FIFO is reported (and skipped) by the loader
            groups[(directory, model)][other] = partner_path
    pairs = [
        Pair(model=model, directory=directory, torch_path=kinds.get("torch"), pil_path=kinds.get("pil"))
        for (directory, model), kinds in groups.items()
    ]
    pairs.sort(key=lambda p: (p.directory, p.model))
    return pairs
