"""No import cycles in the local runtime: each module can be read (and changed) after the ones it uses.

Every import counts, wherever it is: at the top, inside a function, or under TYPE_CHECKING.
"""

from __future__ import annotations

import ast
from pathlib import Path

import botlocal

PACKAGE = Path(botlocal.__file__).resolve().parent
Graph = dict[str, set[str]]


def module_of(path: Path, root: Path = PACKAGE) -> str:
    parts = [root.name, *path.relative_to(root).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path = PACKAGE) -> Graph:
    """Module -> the modules of the same package it imports."""
    modules = {module_of(path, root): path for path in root.rglob("*.py")}
    graph: Graph = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                graph[name].update(alias.name for alias in node.names if alias.name in modules)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    base = f"{anchor}.{base}" if base else anchor
                for alias in node.names:
                    # `from botlocal import logs` imports the module botlocal.logs, not the package.
                    target = f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    if target in modules and target != name:
                        graph[name].add(target)
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for successor in sorted(graph.get(node, ())):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in on_stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_local_runtime_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_check_finds_a_cycle_through_a_lazy_import(tmp_path: Path) -> None:
    package = tmp_path / "botlocal"
    (package / "analysis").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "analysis" / "__init__.py").write_text("")
    (package / "analysis" / "photo.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from botlocal.analysis.faces import FaceBox\n"
    )
    (package / "analysis" / "faces.py").write_text("def load():\n    from botlocal.analysis.photo import decode\n")
    (package / "cli.py").write_text("def demo():\n    from botlocal import demo\n")
    (package / "demo.py").write_text("from .cli import render\n")
    assert cycles(import_graph(package)) == [
        ["botlocal.analysis.faces", "botlocal.analysis.photo"],
        ["botlocal.cli", "botlocal.demo"],
    ]
