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
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from convcalc.report import Report

COLUMNS = (
    "index", "path", "name", "kind", "label", "output", "activations", "memory",
    "params", "weights", "biases", "buffers", "macs", "flops", "rf", "jump", "depth", "diagnostics",
)  # fmt: skip


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def text(value: str) -> str:
    """A text cell: inert, and never read as a formula by a spreadsheet."""
    cell = inert(value)
    return f"'{cell}" if value.startswith(_FORMULA) else cell


def render_csv(report: Report) -> str:
    """The report as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in report.rows:
        writer.writerow([
            r.index, text(r.path), text(r.name), text(r.kind), text(r.label), numbers.volume(r.output),
            r.activations, r.memory, r.params, r.weights, r.biases, r.buffers, r.macs, r.flops,
            numbers.per_dim(r.rf), numbers.per_dim(r.jump), r.depth,
            text("; ".join(f"{d.severity.value}: {d.message}" for d in r.diagnostics)),
        ])  # fmt: skip
    t = report.totals
    writer.writerow([
        "", "total", "TOTAL", "", "", numbers.volume(t.output), t.activations, t.forward_bytes,
        t.params, t.weights, t.biases, t.buffers, t.macs, t.flops, "", "", "", "",
    ])  # fmt: skip
    return out.getvalue()
