"""The source of convcalc's own modules (bridges/modules.py) an exported file needs, read as text (no torch)."""

from __future__ import annotations

import ast
import os
from functools import cache

_FILE = os.path.join(os.path.dirname(os.path.realpath(__file__)), "modules.py")  # noqa: PTH118, PTH120 - as builtins.py


@cache
def _classes() -> dict[str, str]:
    """Each class of modules.py by name, its source as written there."""
    with open(_FILE, encoding="utf-8") as f:  # noqa: PTH123
        text = f.read()
    tree = ast.parse(text)
    return {n.name: ast.get_source_segment(text, n) or "" for n in tree.body if isinstance(n, ast.ClassDef)}


def class_lines(names: list[str]) -> list[str]:
    """The classes' source lines, in modules.py's order, each followed by two blank lines."""
    lines: list[str] = []
    for name, source in _classes().items():
        if name in names:
            lines += [*source.splitlines(), "", ""]
    return lines
