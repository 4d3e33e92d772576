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

from convcalc.options import Rounding
from convcalc.render import numbers
from convcalc.render.checks import message
from convcalc.render.explain import explain as explain_row
from convcalc.report import Check, Diagnostic, LayerRow, Report, Severity

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


def _beneath(
    row: LayerRow, report: Report, checks: dict[str, list[Check]], *, notes: bool, explain: bool
) -> list[Text]:
    """What is printed under a row: its diagnostics, its failed checks, its arithmetic."""
    lines = [_diagnostic_text(d) for d in row.diagnostics if notes or d.severity is not Severity.NOTE]
    lines += [_check_text(c, report) for c in checks.pop(row.path, [])]
    if explain:
        worked = explain_row(row, Rounding(report.rounding), report.bytes_per_value, report.batch)
        lines += [Text(line, style="dim") for line in worked]
    return lines


def _check_text(c: Check, report: Report) -> Text:
    where = ":".join(str(p) for p in (c.file, c.line, c.column) if p is not None)
    return Text(f"✗ {where}: check failed: {message(c, report)}", style="bold red")


def _failed_checks(report: Report) -> dict[str, list[Check]]:
    failed: dict[str, list[Check]] = {}
    for c in report.checks:
        if not c.ok:
            failed.setdefault(c.path, []).append(c)
    return failed


def _rows(report: Report, console: Console, failed: dict[str, list[Check]], *, notes: bool, explain: bool) -> None:
    """The table, broken after each row that has something printed beneath it."""
    cells = [_cells(r) for r in report.rows]
    widths = _widths(cells, console.width)
    indent = len(cells[-1][0]) + 2 * _PAD
    table = _segment(widths, header=True)
    for row, row_cells in zip(report.rows, cells, strict=True):
        worst = min((d.severity for d in row.diagnostics), key=list(Severity).index, default=None)
        flagged = (worst and worst is not Severity.NOTE) or row.path in failed
        table.add_row(*row_cells, style=_STYLE[worst or Severity.ERROR] if flagged else None)
        beneath = _beneath(row, report, failed, notes=notes, explain=explain)
        if beneath:
            console.print(table)
            for line in beneath:
                console.print(Padding(line, (0, 0, 0, indent)))
            table = _segment(widths, header=False)
    if table.rows:
        console.print(table)


def render_table(
    report: Report, console: Console, *, binary: bool = False, notes: bool = False, explain: bool = False
) -> None:
    """Print the report as a table on `console`."""
    title = Text(report.name, style="bold")
    if report.description:
        title.append(f" — {report.description}", style="")
    console.print(title)
    console.print(f"batch {report.batch} · {report.dtype} ({report.bytes_per_value} B per value)", style="dim")
    failed = _failed_checks(report)
    _rows(report, console, failed, notes=notes, explain=explain)
    console.print()
    console.print(_totals(report, binary=binary))
    for left in failed.values():  # the whole spec's checks, and those of repeats and blocks
        for c in left:
            console.print(_check_text(c, report))
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
        grid.add_row("Problems", verdict)
    if report.checks:
        passed = sum(1 for c in report.checks if c.ok)
        failed = len(report.checks) - passed
        verdict = Text(f"{len(report.checks)} expectations: {passed} hold, {failed} fail")
        verdict.stylize("bold red" if failed else "green")
        grid.add_row("Checks", verdict)
    return grid
