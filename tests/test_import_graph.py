"""The import graph of convcalc: the values and the kinds import nothing above them, and nothing imports in a circle.

Every `import` and `from … import` of a convcalc module is read from the source (those inside
functions too, which run when called; not those under `if TYPE_CHECKING:`, which never run).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parent.parent / "convcalc"
# The bottom layer (DESIGN §1): values, the algebra of sizes, the kinds' rules.
BOTTOM = (
    "convcalc.kinds",
    "convcalc.algebra",
    "convcalc.report",
    "convcalc.volume",
    "convcalc.views",
    "convcalc.errors",
)
# What the bottom may not reach: the walk, the renderers, the bridges, the shells.
ABOVE = ("convcalc.engine", "convcalc.render", "convcalc.bridges", "convcalc.cli", "convcalc.diff", "convcalc.web")


def _name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in PACKAGE.rglob("*.py")}


class _Imports(ast.NodeVisitor):
    def __init__(self) -> None:
        self.found: set[str] = set()

    def visit_If(self, node: ast.If) -> None:
        if isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module and node.module.split(".")[0] == "convcalc":
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                self.found.add(full if full in MODULES else node.module)

    def visit_Import(self, node: ast.Import) -> None:
        self.found |= {a.name for a in node.names if a.name.split(".")[0] == "convcalc"}


def imports(module: str) -> set[str]:
    """The convcalc modules `module` imports, anywhere in it."""
    visitor = _Imports()
    visitor.visit(ast.parse(MODULES[module].read_text(encoding="utf-8")))
    return {m for m in visitor.found if m in MODULES}


def in_circles(graph: dict[str, set[str]]) -> list[str]:
    """The modules that reach themselves through their imports."""

    def reaches(start: str) -> set[str]:
        seen: set[str] = set()
        todo = list(graph[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(graph[node])
        return seen

    return sorted(m for m in graph if m in reaches(m))


def test_the_bottom_layer_imports_nothing_above_it() -> None:
    bottom = [m for m in MODULES if m.startswith(BOTTOM)]
    assert "convcalc.kinds.registry" in bottom
    assert "convcalc.report" in bottom
    assert "convcalc.algebra.expr" in bottom
    wrong = {m: sorted(i for i in imports(m) if i.startswith(ABOVE) or i == "convcalc") for m in bottom}
    assert {m: found for m, found in wrong.items() if found} == {}


@pytest.mark.slow
def test_no_module_imports_in_a_circle() -> None:
    graph = {m: imports(m) for m in MODULES}
    assert in_circles(graph) == []
    assert in_circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c"]  # the check can fail


def test_importing_the_values_loads_no_renderer() -> None:
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import convcalc.report"],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = [line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines() if "|" in line]
    assert "convcalc.report" in loaded
    assert [m for m in loaded if m.startswith(ABOVE)] == []
