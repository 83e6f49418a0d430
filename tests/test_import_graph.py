"""The scaffold packages form a layered graph: no import cycle between them, and codegen at the bottom.

Imports are read with `ast` from every module, function-local ones included (a lazy import still ties the two
packages together). A node is a subpackage (`scaffold.generate`) or a top-level module (`scaffold.cli`); the
package `scaffold` itself (its `__init__`) is a node of its own.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import scaffold

PACKAGE_DIR = Path(scaffold.__file__).resolve().parent
LOW_LEVEL = "scaffold.codegen"


def _module_name(path: Path, package_dir: Path) -> str:
    parts = list(path.relative_to(package_dir.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _node(module: str) -> str:
    """The graph node of a scaffold module: its first two dotted components."""
    return ".".join(module.split(".")[:2])


def _imported_modules(path: Path, package_dir: Path) -> set[str]:
    module = _module_name(path, package_dir)
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for stmt in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(stmt, ast.Import):
            found.update(alias.name for alias in stmt.names)
        elif isinstance(stmt, ast.ImportFrom):
            if stmt.level:  # relative: resolve against this module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                base_parts = package[: len(package) - (stmt.level - 1)]
                base = ".".join(base_parts + ([stmt.module] if stmt.module else []))
            else:
                base = stmt.module or ""
            found.add(base)
            # `from scaffold import cli` imports the module scaffold.cli, not just the package.
            found.update(f"{base}.{alias.name}" for alias in stmt.names)
    return found


def _is_module(name: str, package_dir: Path) -> bool:
    rel = Path(*name.split(".")[1:])
    return (package_dir / rel).with_suffix(".py").is_file() or (package_dir / rel / "__init__.py").is_file()


def dependency_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in sorted(package_dir.rglob("*.py")):
        source = _node(_module_name(path, package_dir))
        targets = graph.setdefault(source, set())
        for name in _imported_modules(path, package_dir):
            if (name == "scaffold" or name.startswith("scaffold.")) and _is_module(name, package_dir):
                target = _node(name)
                if target != source:
                    targets.add(target)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a path [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_the_packages():
    graph = dependency_graph()
    assert {"scaffold.codegen", "scaffold.generate", "scaffold.testgen", "scaffold.intree", "scaffold.parity"} <= set(
        graph
    )
    # Lazy (function-local) imports count: pipeline imports the registry only inside generate().
    assert "scaffold.intree" in graph["scaffold.generate"]
    assert "scaffold.testgen" in graph["scaffold.generate"]


def test_no_import_cycle_between_scaffold_packages():
    assert find_cycle(dependency_graph()) is None


def test_codegen_imports_no_other_scaffold_package():
    assert dependency_graph()[LOW_LEVEL] <= {"scaffold.errors"}


@pytest.mark.parametrize("lazy", [False, True])
def test_a_cycle_is_found(tmp_path, lazy):
    """The checker itself: two packages importing each other (at module level or inside a function)."""
    root = tmp_path / "scaffold"
    for pkg in ("a", "b"):
        (root / pkg).mkdir(parents=True)
        (root / pkg / "__init__.py").write_text("")
    (root / "__init__.py").write_text("")
    (root / "a" / "x.py").write_text("from scaffold.b import y\n")
    indent = "def f():\n    " if lazy else ""
    (root / "b" / "y.py").write_text(f"{indent}from ..a import x\n")
    graph = dependency_graph(root)
    assert graph["scaffold.a"] == {"scaffold.b"}
    assert find_cycle(graph) in (
        ["scaffold.a", "scaffold.b", "scaffold.a"],
        ["scaffold.b", "scaffold.a", "scaffold.b"],
    )
