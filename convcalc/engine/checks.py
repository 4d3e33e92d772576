"""Expectations against the report: each becomes a Check that holds or not (DESIGN §2.4)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.fold import fold_rows
from convcalc.report import Check, Exact, LayerRow, Report

if TYPE_CHECKING:
    from convcalc.spec.expect import Expectation


def _whole(report: Report, key: str) -> int | tuple[Exact, ...] | None:
    t = report.totals
    if key == "output":
        return None if t.output is None else tuple(t.output.as_list())
    if key == "memory":
        return t.forward_bytes
    if key == "rf":
        return report.rows[-1].rf if t.output is not None else None
    value: int = getattr(t, key)
    return value


def _of_row(row: LayerRow, key: str) -> int | tuple[Exact, ...] | None:
    if row.output is None:
        return None
    if key == "output":
        return tuple(row.output.as_list())
    if key == "rf":
        return row.rf
    value: int = getattr(row, key)
    return value


def evaluate(expectations: tuple[Expectation, ...], report: Report) -> tuple[Check, ...]:
    """Check every expectation; a layer's is about its row, or its rows folded when composite."""
    by_path = {r.path: r for r in report.rows}
    groups = {g.path: g for g in report.groups}
    # The rows under each composite that has an expectation, found in one pass over the rows.
    wanted = {e.path for e in expectations if e.path in groups}
    under: dict[str, list[LayerRow]] = {path: [] for path in wanted}
    if wanted:
        for r in report.rows:
            parts = r.path.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix in wanted:
                    under[prefix].append(r)
    checks = []
    for e in expectations:
        if e.path == "":
            actual = _whole(report, e.key)
        else:
            row: LayerRow | None = (
                fold_rows(groups[e.path], under[e.path]) if under.get(e.path) else by_path.get(e.path)
            )
            actual = None if row is None else _of_row(row, e.key)
        ok = actual is not None and e.holds(actual)
        checks.append(Check(e.path, e.key, e.text, actual, ok, e.at.file, e.at.line, e.at.column))
    return tuple(checks)
