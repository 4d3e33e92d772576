"""What a check says: expected, true value, and the arithmetic behind the true value."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convcalc.options import Rounding
from convcalc.render import numbers
from convcalc.render.explain import explain

if TYPE_CHECKING:
    from convcalc.report import Check, Exact, LayerRow, Report

_SIZES = ("H2", "W2", "L2", "T2")  # the spatial sizes' lines: where a stride fits or not
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
    if key == "fits":
        return "true (the stride fits)" if actual else "false (the stride does not fit)"
    if isinstance(actual, tuple):
        return numbers.per_dim(actual) if key == "rf" else "x".join(numbers.fraction(v) for v in actual)
    if key == "memory":
        return f"{numbers.grouped(actual)} B ({numbers.size(actual)})"
    if actual >= 10_000:  # noqa: PLR2004
        return f"{numbers.grouped(actual)} ({numbers.precise(actual)})"
    return numbers.grouped(actual)


def subject(check: Check, report: Report) -> str:
    """What the check is about: 'CONV1 params', 'VGG16 memory'."""
    return f"{check.name or subject_name(check.path, report)} {check.key}"


def subject_name(path: str, report: Report) -> str:
    """A row's or a composite's name ('CONV1', 'layer1.0'), the network's for ""."""
    if path == "":
        return report.name
    group = next((g for g in report.groups if g.path == path), None)
    row = next((r for r in report.rows if r.path == path), None)
    return group.name if group else row.name if row else path


def cause_text(check: Check, report: Report) -> str:
    """Why a check failed beyond its value: a knock-on error of an earlier stride that does not fit."""
    if not check.knock_on:
        return ""
    return f"a knock-on error: it follows from {subject_name(check.cause, report)}, whose stride does not fit"


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
    if check.key == "fits":
        return [line for line in explain(row, Rounding(report.rounding), 1, 1) if line.startswith(_SIZES)]
    prefixes = _PREFIX.get(check.key, ())
    lines = explain(row, Rounding(report.rounding), report.bytes_per_value, report.batch)
    return [line for line in lines if line.startswith(prefixes)]


def message(check: Check, report: Report) -> str:
    """A failed check in one line."""
    if check.cause and check.cause == check.path:  # this layer's stride does not fit: no size to give
        text = f"{subject(check, report)}: expected {check.expected}, but there is none (answer `fits: false`)"
        work = arithmetic(replace(check, key="output"), report)  # the size that does not exist, worked out
        return f"{text}: {work[0]}" if work else text
    work = arithmetic(check, report)
    text = f"{subject(check, report)}: expected {check.expected}, got {value_text(check.key, check.actual)}"
    text = f"{text} ({'; '.join(work)})" if work else text
    cause = cause_text(check, report)
    return f"{text}; {cause}" if cause else text
