"""Two reports → a Diff: rows aligned and compared, every total's change, budgets evaluated."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from convcalc.diff.align import Alignment, align
from convcalc.diff.budget import BudgetResult, Metric, TotalChange

if TYPE_CHECKING:
    from convcalc.diff.budget import Budget
    from convcalc.report import LayerRow, Report


class Status(str, Enum):
    """What became of a row."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    SAME = "same"


@dataclass(frozen=True, slots=True)
class ParamChange:
    """One hyperparameter of a layer in A and in B (None where a side does not have it)."""

    key: str
    a: Any
    b: Any


# What a diff compares of a matched pair beyond its hyperparameters, in the order it lists them.
_FIELDS = ("output", "params", "buffers", "activations", "memory", "macs", "flops")


@dataclass(frozen=True, slots=True)
class RowDiff:
    """A row of A, of B, or of both."""

    status: Status
    a: LayerRow | None
    b: LayerRow | None
    changed: tuple[str, ...] = ()  # name, kind, hyperparameter keys, then _FIELDS that differ
    hyperparameters: tuple[ParamChange, ...] = ()  # those that differ, when the kind is the same

    @property
    def row(self) -> LayerRow:
        """B's row, or A's when it was removed: the one to name it by."""
        row = self.b or self.a
        assert row is not None  # noqa: S101 - a RowDiff has at least one side
        return row


@dataclass(frozen=True, slots=True)
class Diff:
    """What changed from network A to network B."""

    a: Report
    b: Report
    rows: tuple[RowDiff, ...]
    totals: tuple[TotalChange, ...]
    budgets: tuple[BudgetResult, ...]
    alignment: Alignment

    @property
    def broken(self) -> bool:
        """True when a budget is broken, or cannot be judged (the command exits 1)."""
        return any(r.broken or not r.judged for r in self.budgets)

    def count(self, status: Status) -> int:
        """How many rows have this status."""
        return sum(1 for r in self.rows if r.status is status)


def _config(row: LayerRow, report: Report) -> dict[str, Any]:
    """The layer's hyperparameters; a rounding left to the spec is the spec's."""
    config = dict(row.config)
    if "rounding" in config and config["rounding"] is None:
        config["rounding"] = report.rounding
    return config


def _compare(a: LayerRow, b: LayerRow, report_a: Report, report_b: Report) -> RowDiff:
    changed: list[str] = []
    params: list[ParamChange] = []  # when the kinds differ, their hyperparameters do not compare
    if a.name != b.name:
        changed.append("name")
    if a.kind != b.kind:
        changed.append("kind")
    else:
        ca, cb = _config(a, report_a), _config(b, report_b)
        keys = [*ca, *(k for k in cb if k not in ca)]
        params = [ParamChange(k, ca.get(k), cb.get(k)) for k in keys if ca.get(k) != cb.get(k)]
        changed += [p.key for p in params]
    changed += [f for f in _FIELDS if getattr(a, f) != getattr(b, f)]
    if not changed and a.label != b.label:
        changed.append("label")
    return RowDiff(Status.CHANGED if changed else Status.SAME, a, b, tuple(changed), tuple(params))


def compare(a: Report, b: Report, budgets: tuple[Budget, ...] = ()) -> Diff:
    """The diff from A to B, with each budget evaluated."""
    pairs, alignment = align(a, b)
    rows: list[RowDiff] = []
    for i, j in pairs:
        if i is None and j is not None:
            rows.append(RowDiff(Status.ADDED, None, b.rows[j]))
        elif j is None and i is not None:
            rows.append(RowDiff(Status.REMOVED, a.rows[i], None))
        elif i is not None and j is not None:
            rows.append(_compare(a.rows[i], b.rows[j], a, b))
    totals = tuple(TotalChange(m, m.of(a.totals), m.of(b.totals)) for m in Metric)
    by_metric = {t.metric: t for t in totals}
    # A network that stops at a design error has the totals of its first rows: no budget holds on them.
    judged = a.totals.output is not None and b.totals.output is not None
    results = tuple(
        BudgetResult(g, by_metric[g.metric], judged and g.broken(by_metric[g.metric]), judged) for g in budgets
    )
    return Diff(a, b, tuple(rows), totals, results, alignment)
