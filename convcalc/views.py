"""How a Report is seen: its JSON document, its repr, its notebook HTML and its rich table.

The values in convcalc.report import nothing above them; the functions that render them live in
convcalc.render, and the package's façade (convcalc/__init__.py) names them here, by module and
attribute, so that each renderer is imported only when a report is first shown.
"""

from __future__ import annotations

import importlib
from typing import Any

# view -> (module, attribute) of a function of the report; filled by convcalc/__init__.py
VIEWS: dict[str, tuple[str, str]] = {}


def view(name: str, report: object) -> Any:
    """The named view of `report`, from the function registered for it."""
    module, attr = VIEWS[name]
    return getattr(importlib.import_module(module), attr)(report)
