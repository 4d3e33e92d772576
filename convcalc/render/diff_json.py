"""`convcalc diff --format json`: every row (with its status) and every total, as raw numbers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.diff import Status
from convcalc.render.diff import plain
from convcalc.render.json import dumps

if TYPE_CHECKING:
    from fractions import Fraction

    from convcalc.diff import BudgetResult, Diff, RowDiff, TotalChange
    from convcalc.report import LayerRow, Report

SCHEMA_VERSION = 1


def _percent(value: Fraction | None) -> float | None:
    """A percentage to four decimals (a float: the exact change is there as an int)."""
    return None if value is None else round(float(value), 4)


def _side(report: Report) -> dict[str, Any]:
    return {
        "name": report.name,
        "source": report.source,
        "ok": report.ok,
        "rows": len(report.rows),
        "batch": report.batch,
        "dtype": report.dtype,
        "output": None if report.totals.output is None else report.totals.output.as_list(),
    }


def _layer(row: LayerRow | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "index": row.index,
        "path": row.path,
        "name": row.name,
        "kind": row.kind,
        "label": row.label,
        "output": None if row.output is None else row.output.as_list(),
        "params": row.params,
        "weights": row.weights,
        "biases": row.biases,
        "buffers": row.buffers,
        "activations": row.activations,
        "memory": row.memory,
        "macs": row.macs,
        "flops": row.flops,
        "hyperparameters": {k: plain(v) for k, v in row.config.items()},
    }


def _row(rd: RowDiff) -> dict[str, Any]:
    return {"status": rd.status.value, "a": _layer(rd.a), "b": _layer(rd.b), "changed": list(rd.changed)}


def _total(t: TotalChange) -> dict[str, Any]:
    return {"a": t.a, "b": t.b, "change": t.change, "percent": _percent(t.percent)}


def _budget(r: BudgetResult) -> dict[str, Any]:
    g = r.budget
    limit = g.limit.numerator if g.limit.denominator == 1 else float(g.limit)
    return {
        "budget": g.text,
        "metric": g.metric.value,
        "op": g.op,
        "limit": limit,
        "unit": "%" if g.percent else "",
        "change": r.total.change,
        "percent": _percent(r.total.percent),
        "broken": r.broken,
        "judged": r.judged,
    }


def render_json(diff: Diff, version: str) -> str:
    """The diff as JSON with sorted keys: indented, but one line per row (as `show` writes layers)."""
    data: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "convcalc": version,
        "a": _side(diff.a),
        "b": _side(diff.b),
        "alignment": diff.alignment.value,
        "summary": {s.value: diff.count(s) for s in Status},
        "rows": [_row(r) for r in diff.rows],
        "totals": {t.metric.value: _total(t) for t in diff.totals},
        "fail_on": [_budget(r) for r in diff.budgets],
        "broken": diff.broken,
    }
    return dumps(data, rows="rows")
