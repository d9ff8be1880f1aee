"""The architecture's one-way data flow, checked on the imports of the source."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "striate"


def _imports(package: str) -> set[tuple[str, str]]:
    found = set()
    for path in (SRC / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                found.add((str(path.relative_to(SRC)), node.module))
            elif isinstance(node, ast.Import):
                found.update((str(path.relative_to(SRC)), a.name) for a in node.names)
    return found


def test_layers_import_nothing_else_from_striate():
    bad = [(f, m) for f, m in _imports("layers")
           if m.startswith("striate.") and not m.startswith("striate.layers")]
    assert bad == []


def test_arith_never_imports_train():
    bad = [(f, m) for f, m in _imports("arith") if m.startswith("striate.train")]
    assert bad == []
