"""convcalc: conv-net arithmetic from a YAML spec, exactly and without a framework.

    >>> import convcalc
    >>> report = convcalc.analyze("vgg16", batch=8)
    >>> report.totals.params
    138357544

`analyze` takes a built-in name, a path, YAML text, a dict or a Spec (docs/api.md); a Report
displays as its table in Jupyter and `to_dict()` gives `convcalc show --format json`'s document.

The names below are imported when first used (PEP 562), so that `import convcalc.cli` does not
load the whole library before it knows which command runs.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from convcalc.api import analyze
    from convcalc.errors import ConvcalcError, Location, SpecError
    from convcalc.picture import memory_picture
    from convcalc.report import Diagnostic, LayerRow, Report, Severity, Totals
    from convcalc.spec.loader import load_spec
    from convcalc.spec.model import LayerSpec, Spec
    from convcalc.volume import Volume

from convcalc.views import VIEWS

__version__ = "0.1.0"

# What a Report looks like (convcalc.views): the renderers, imported when a report is first shown.
VIEWS.update(
    {
        "document": ("convcalc.render.json", "document"),
        "repr": ("convcalc.render.html", "report_repr"),
        "html": ("convcalc.render.html", "report_html"),
        "rich": ("convcalc.render.html", "RichReport"),
    }
)

_WHERE = {
    "analyze": "convcalc.api",
    "ConvcalcError": "convcalc.errors",
    "Location": "convcalc.errors",
    "SpecError": "convcalc.errors",
    "Diagnostic": "convcalc.report",
    "LayerRow": "convcalc.report",
    "Report": "convcalc.report",
    "Severity": "convcalc.report",
    "Totals": "convcalc.report",
    "load_spec": "convcalc.spec.loader",
    "memory_picture": "convcalc.picture",
    "LayerSpec": "convcalc.spec.model",
    "Spec": "convcalc.spec.model",
    "Volume": "convcalc.volume",
}

__all__ = [
    "ConvcalcError",
    "Diagnostic",
    "LayerRow",
    "LayerSpec",
    "Location",
    "Report",
    "Severity",
    "Spec",
    "SpecError",
    "Totals",
    "Volume",
    "__version__",
    "analyze",
    "load_spec",
    "memory_picture",
]


def __dir__() -> list[str]:
    """The public API (what completion in a notebook offers), and the submodules loaded so far."""
    loaded = [name for name, value in globals().items() if isinstance(value, ModuleType) and name != "importlib"]
    return sorted({*__all__, *loaded})


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(_WHERE[name]), name)
    msg = f"module 'convcalc' has no attribute {name!r}"
    raise AttributeError(msg)
