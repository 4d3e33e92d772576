"""What a check says: expected, true value, and the arithmetic behind the true value."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.options import Rounding
from convcalc.render import numbers
from convcalc.render.explain import explain

if TYPE_CHECKING:
    from convcalc.report import Check, Exact, LayerRow, Report

_PREFIX = {
    "output": ("H2", "W2", "L2", "T2", "D2", "output"),
    "params": ("params",),
    "weights": ("params",),
    "biases": ("params",),
    "buffers": ("buffers",),
    "memory": ("memory",),
    "activations": ("memory",),
    "macs": ("MACs",),
    "flops": ("MACs",),
}


def value_text(key: str, actual: int | tuple[Exact, ...] | None) -> str:
    """A true value as a check shows it: 760, 138,357,544 (138.36 M), 60,950,432 B (60.95 MB), 55x55x96."""
    if actual is None:
        return "nothing (the layer could not be computed)"
    if isinstance(actual, tuple):
        return numbers.per_dim(actual) if key == "rf" else "x".join(numbers.fraction(v) for v in actual)
    if key == "memory":
        return f"{numbers.grouped(actual)} B ({numbers.size(actual)})"
    if actual >= 10_000:  # noqa: PLR2004
        return f"{numbers.grouped(actual)} ({numbers.precise(actual)})"
    return numbers.grouped(actual)


def subject(check: Check, report: Report) -> str:
    """What the check is about: 'CONV1 params', 'VGG16 memory'."""
    if check.path == "":
        return f"{report.name} {check.key}"
    row = next((r for r in report.rows if r.path == check.path), None)
    group = next((g for g in report.groups if g.path == check.path), None)
    name = group.name if group else row.name if row else check.path
    return f"{name} {check.key}"


def arithmetic(check: Check, report: Report) -> list[str]:
    """The worked formula behind a check's true value, where there is one."""
    t = report.totals
    if check.path == "":
        return {
            "memory": [f"{numbers.grouped(t.activations)} values × {report.bytes_per_value} B × {report.batch}"],
            "params": [f"{numbers.grouped(t.weights)} weights + {numbers.grouped(t.biases)} biases"],
        }.get(check.key, [])
    row: LayerRow | None = next((r for r in report.rows if r.path == check.path and r.config), None)
    if row is None:
        return []
    prefixes = _PREFIX.get(check.key, ())
    lines = explain(row, Rounding(report.rounding), report.bytes_per_value, report.batch)
    return [line for line in lines if line.startswith(prefixes)]


def message(check: Check, report: Report) -> str:
    """A failed check in one line."""
    text = f"{subject(check, report)}: expected {check.expected}, got {value_text(check.key, check.actual)}"
    work = arithmetic(check, report)
    return f"{text} ({'; '.join(work)})" if work else text
