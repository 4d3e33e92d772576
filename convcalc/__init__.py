"""convcalc: conv-net arithmetic from a YAML spec, exactly and without a framework.

>>> from convcalc import load_spec, analyze
>>> report = analyze(load_spec("specs/vgg16.yaml"))
>>> report.totals.params
138357544
"""

from __future__ import annotations

from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError, Location, SpecError
from convcalc.report import Diagnostic, LayerRow, Report, Severity, Totals
from convcalc.spec.loader import load_spec
from convcalc.spec.model import LayerSpec, Spec
from convcalc.volume import Volume

__version__ = "0.1.0"

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
]
