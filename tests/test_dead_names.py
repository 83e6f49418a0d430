"""No dead names: every module-level constant of scaffold is read by scaffold, and every derived name in
scaffold.spec.names.Names is used by the code or the templates (names.py is the one place names are computed)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from scaffold.spec.names import Names

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {path: ast.parse(path.read_text(encoding="utf-8")) for path in sorted((ROOT / "scaffold").rglob("*.py"))}
TEMPLATES = {path: path.read_text(encoding="utf-8") for path in sorted((ROOT / "templates").rglob("*.jinja"))}


def _constants() -> list[tuple[str, str]]:
    found = []
    for path, tree in SOURCES.items():
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and re.fullmatch(r"[A-Z][A-Z0-9_]*", target.id):
                    found.append((path.relative_to(ROOT).as_posix(), target.id))
    return found


def _reads() -> set[str]:
    """Names read anywhere in scaffold: loaded names, attributes, and names imported from another module."""
    reads = set()
    for tree in SOURCES.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                reads.add(node.id)
            elif isinstance(node, ast.Attribute):
                reads.add(node.attr)
            elif isinstance(node, ast.ImportFrom):
                reads.update(alias.name for alias in node.names)
    return reads


def test_every_module_constant_is_read():
    constants = _constants()
    assert ("scaffold/generate/write.py", "STAGING_PREFIX") in constants  # the scan sees constants at all
    reads = _reads()
    dead = [f"{path}: {name}" for path, name in constants if name not in reads]
    assert not dead, "constants nothing reads (remove them):\n" + "\n".join(dead)


def test_every_derived_name_is_used():
    properties = [name for name, value in vars(Names).items() if isinstance(value, property)]
    names_py = ROOT / "scaffold" / "spec" / "names.py"
    texts = [path.read_text(encoding="utf-8") for path in SOURCES if path != names_py] + list(TEMPLATES.values())
    unused = [prop for prop in properties if not any(re.search(rf"\.{prop}\b", text) for text in texts)]
    assert not unused, f"Names properties neither the code nor a template uses: {unused}"
