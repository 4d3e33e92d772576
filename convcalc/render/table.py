"""The rich table of `convcalc show`: one row per layer, diagnostics beneath their rows, totals.

rich has no cells spanning columns, so a diagnostic between two rows ends one table and the
next rows continue in another with the same fixed column widths: it reads as one table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from convcalc.render import numbers
from convcalc.report import Diagnostic, LayerRow, Report, Severity

if TYPE_CHECKING:
    from rich.console import Console

_HEADERS = ("#", "Layer", "Output", "Activations", "Params", "MACs", "RF")
_RIGHT = {0, 3, 4, 5, 6}
_PAD = 1  # spaces either side of a cell
_MIN_NAME = 8
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "dim"}
_MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.NOTE: "·"}


def _cells(row: LayerRow) -> tuple[str, ...]:
    return (
        str(row.index),
        numbers.display_name(row),
        numbers.volume(row.output),
        numbers.compact(row.activations),
        numbers.grouped(row.params),
        numbers.compact(row.macs),
        numbers.per_dim(row.rf),
    )


def _widths(rows: list[tuple[str, ...]], width: int) -> list[int]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    overflow = sum(widths) + 2 * _PAD * len(widths) - width
    if overflow > 0:  # narrow terminal: the name column gives way first
        widths[1] = max(_MIN_NAME, widths[1] - overflow)
    return widths


def _segment(widths: list[int], *, header: bool) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_header=header, show_edge=False, pad_edge=False, padding=(0, _PAD))
    for i, (title, w) in enumerate(zip(_HEADERS, widths, strict=True)):
        table.add_column(title, width=w, no_wrap=True, overflow="ellipsis", justify="right" if i in _RIGHT else "left")
    return table


def _diagnostic_text(d: Diagnostic) -> Text:
    where = ":".join(str(p) for p in (d.file, d.line, d.column) if p is not None)
    return Text(f"{_MARK[d.severity]} {where}: {d.severity.value}: {d.message}", style=_STYLE[d.severity])


def render_table(report: Report, console: Console, *, binary: bool = False, notes: bool = False) -> None:
    """Print the report as a table on `console`."""
    title = Text(report.name, style="bold")
    if report.description:
        title.append(f" — {report.description}", style="")
    console.print(title)
    console.print(f"batch {report.batch} · {report.dtype} ({report.bytes_per_value} B per value)", style="dim")
    cells = [_cells(r) for r in report.rows]
    widths = _widths(cells, console.width)
    indent = len(cells[-1][0]) + 2 * _PAD
    table = _segment(widths, header=True)
    for row, row_cells in zip(report.rows, cells, strict=True):
        shown = [d for d in row.diagnostics if notes or d.severity is not Severity.NOTE]
        worst = min((d.severity for d in row.diagnostics), key=list(Severity).index, default=None)
        table.add_row(*row_cells, style=_STYLE[worst] if worst and worst is not Severity.NOTE else None)
        if shown:
            console.print(table)
            for d in shown:
                console.print(Padding(_diagnostic_text(d), (0, 0, 0, indent)))
            table = _segment(widths, header=False)
    if table.rows:
        console.print(table)
    console.print()
    console.print(_totals(report, binary=binary))
    hidden = sum(1 for d in report.diagnostics if d.severity is Severity.NOTE)
    if hidden and not notes:
        console.print(f"{hidden} note{'s' * (hidden > 1)} not shown (see --format json)", style="dim")


def _totals(report: Report, *, binary: bool) -> Table:
    t = report.totals
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    grid.add_row(
        "Params",
        f"{numbers.grouped(t.params)} ({numbers.precise(t.params)}) = "
        f"{numbers.grouped(t.weights)} weights + {numbers.grouped(t.biases)} biases",
    )
    if t.buffers:
        grid.add_row("Buffers", f"{numbers.grouped(t.buffers)} non-trainable (BatchNorm running statistics)")
    grid.add_row("Activations", f"{numbers.grouped(t.activations)} values per image, input included")
    grid.add_row(
        "Memory",
        f"forward {numbers.size(t.forward_bytes, binary=binary)}, "
        f"backward ≈ {numbers.size(t.backward_bytes, binary=binary)} (×2), "
        f"params {numbers.size(t.params_bytes, binary=binary)}",
    )
    grid.add_row("MACs", f"{numbers.grouped(t.macs)} ({numbers.precise(t.macs)}), FLOPs {numbers.precise(t.flops)}")
    grid.add_row("Output", numbers.volume(t.output))
    errors = sum(1 for d in report.diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in report.diagnostics if d.severity is Severity.WARNING)
    if errors or warnings:
        verdict = Text(f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}")
        verdict.stylize("bold red" if errors else "yellow")
        grid.add_row("Checks", verdict)
    return grid
