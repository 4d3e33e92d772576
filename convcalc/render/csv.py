"""One CSV line per layer (exact integers, shapes as 224x224x64), then a TOTAL line.

Text cells (path, name, kind, label, diagnostics) come from the spec: their control characters
are written out (convcalc.render.inert), and one that begins as a formula does (`=HYPERLINK(…)`,
`+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, which spreadsheets take as "this is
text" (OWASP, "CSV Injection"). Numbers are written as numbers, never quoted.
"""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING

from convcalc.render import numbers
from convcalc.render.columns import CSV_DEFAULT, Column, csv_cell
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from convcalc.report import Report

# Before the chosen columns (convcalc.render.columns; `show --columns`), and after them.
LEADING = ("index", "path", "name", "kind", "label")
TRAILING = ("depth", "diagnostics")
COLUMNS = (*LEADING, *(c.value for c in CSV_DEFAULT), *TRAILING)  # the default header


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def text(value: str) -> str:
    """A text cell: inert, and never read as a formula by a spreadsheet."""
    cell = inert(value)
    return f"'{cell}" if value.startswith(_FORMULA) else cell


def render_csv(report: Report, columns: tuple[Column, ...] = CSV_DEFAULT) -> str:
    """The report as CSV text: the chosen columns between the row's names and its diagnostics."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*LEADING, *(c.value for c in columns), *TRAILING])
    for r in report.rows:
        writer.writerow([
            r.index, text(r.path), text(r.name), text(r.kind), text(r.label),
            *(csv_cell(c, r) for c in columns),
            r.depth, text("; ".join(f"{d.severity.value}: {d.message}" for d in r.diagnostics)),
        ])  # fmt: skip
    t = report.totals
    totals: dict[Column, str | int] = {
        Column.OUTPUT: numbers.volume(t.output), Column.ACTIVATIONS: t.activations, Column.MEMORY: t.forward_bytes,
        Column.PARAMS: t.params, Column.WEIGHTS: t.weights, Column.BIASES: t.biases, Column.BUFFERS: t.buffers,
        Column.MACS: t.macs, Column.FLOPS: t.flops,
    }  # fmt: skip
    if all(r.saved is not None for r in report.rows):
        totals[Column.SAVED] = sum(r.saved or 0 for r in report.rows)
    writer.writerow(["", "total", "TOTAL", "", "", *(totals.get(c, "") for c in columns), "", ""])
    return out.getvalue()
