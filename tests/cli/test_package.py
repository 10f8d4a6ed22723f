"""The ``cli`` package as a whole: its modules import one another without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path

import udemy360.cli

PACKAGE = "udemy360.cli"


def _imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules that the file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            candidates = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        else:
            continue
        found.update(c for c in candidates if c in modules)
    return found


def test_no_import_cycle_between_cli_modules() -> None:
    """No module of ``udemy360.cli`` imports (even lazily) a module that imports it back."""
    root = Path(udemy360.cli.__file__).parent
    files = {f"{PACKAGE}.{p.stem}": p for p in root.glob("*.py") if p.stem != "__init__"}
    graph = {name: _imports(path, set(files)) - {name} for name, path in files.items()}

    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), [start]
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(graph[current])
        return False

    assert "udemy360.cli._jobs" in graph["udemy360.cli.main"]  # the scan sees lazy imports too
    cycles = sorted((a, b) for a, targets in graph.items() for b in targets if reaches(b, a))
    assert cycles == []
