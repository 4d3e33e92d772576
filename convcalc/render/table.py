"""The table of `convcalc show`: one row per layer, diagnostics beneath their rows, totals.

Columns have fixed widths (from the longest cell, the name giving way on a narrow terminal), so
a diagnostic can be printed between two rows and the rows after it still line up. It prints on a
`Terminal` (convcalc.render.terminal), not a rich console: see that module for why.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.options import Rounding
from convcalc.render import numbers
from convcalc.render.checks import message
from convcalc.render.explain import explain as explain_row
from convcalc.render.terminal import COLUMN_GAP, Terminal, cell_len, columns, wrap
from convcalc.report import Check, Diagnostic, LayerRow, Report, Severity

if TYPE_CHECKING:
    from collections.abc import Iterable

Styled = tuple[str, str]  # text, and a style such as "bold red" ("" for none)

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
    widths = [max(cell_len(h), *(cell_len(r[i]) for r in rows)) for i, h in enumerate(_HEADERS)]
    overflow = sum(widths) + 2 * _PAD * len(widths) - width
    if overflow > 0:  # narrow terminal: the name column gives way first
        widths[1] = max(_MIN_NAME, widths[1] - overflow)
    return widths


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return columns(cells, widths, _RIGHT)


def _diagnostic_text(d: Diagnostic) -> Styled:
    where = ":".join(str(p) for p in (d.file, d.line, d.column) if p is not None)
    return f"{_MARK[d.severity]} {where}: {d.severity.value}: {d.message}", _STYLE[d.severity]


def _beneath(
    row: LayerRow, report: Report, checks: dict[str, list[Check]], *, notes: bool, explain: bool
) -> list[Styled]:
    """What is printed under a row: its diagnostics, its failed checks, its arithmetic."""
    lines = [_diagnostic_text(d) for d in row.diagnostics if notes or d.severity is not Severity.NOTE]
    lines += [_check_text(c, report) for c in checks.pop(row.path, [])]
    if explain:
        worked = explain_row(row, Rounding(report.rounding), report.bytes_per_value, report.batch)
        lines += [(line, "dim") for line in worked]
    return lines


def _check_text(c: Check, report: Report) -> Styled:
    where = ":".join(str(p) for p in (c.file, c.line, c.column) if p is not None)
    return f"✗ {where}: check failed: {message(c, report)}", "bold red"


def _failed_checks(report: Report) -> dict[str, list[Check]]:
    failed: dict[str, list[Check]] = {}
    for c in report.checks:
        if not c.ok:
            failed.setdefault(c.path, []).append(c)
    return failed


def _rows(report: Report, out: Terminal, failed: dict[str, list[Check]], *, notes: bool, explain: bool) -> None:
    """The header, a rule, and a line per row with what belongs beneath it."""
    cells = [_cells(r) for r in report.rows]
    widths = _widths(cells, out.width)
    indent = len(cells[-1][0]) + 2 * _PAD
    rule = "─" * (sum(widths) + len(COLUMN_GAP) * (len(widths) - 1))
    lines: list[Styled] = [(_line(_HEADERS, widths), "bold"), (rule, "")]  # printed together: fewer writes
    for row, row_cells in zip(report.rows, cells, strict=True):
        worst = min((d.severity for d in row.diagnostics), key=list(Severity).index, default=None)
        flagged = (worst and worst is not Severity.NOTE) or row.path in failed
        lines.append((_line(row_cells, widths), _STYLE[worst or Severity.ERROR] if flagged else ""))
        beneath = _beneath(row, report, failed, notes=notes, explain=explain)
        if beneath:
            out.print_lines(lines)
            lines = []
            for text, style in beneath:
                out.print(text, style, indent=indent)  # wrapped lines keep the indent
    out.print_lines(lines)


def render_table(
    report: Report, out: Terminal, *, binary: bool = False, notes: bool = False, explain: bool = False
) -> None:
    """Print the report as a table on `out`."""
    description = report.description.strip()
    out.print_parts([(report.name, "bold"), (f" — {description}" if description else "", "")])
    out.print(f"batch {report.batch} · {report.dtype} ({report.bytes_per_value} B per value)", "dim")
    failed = _failed_checks(report)
    _rows(report, out, failed, notes=notes, explain=explain)
    out.print()
    _print_totals(out, _totals(report, binary=binary))
    for left in failed.values():  # the whole spec's checks, and those of repeats and blocks
        for c in left:
            out.print(*_check_text(c, report))
    hidden = sum(1 for d in report.diagnostics if d.severity is Severity.NOTE)
    if hidden and not notes:
        out.print(f"{hidden} note{'s' * (hidden > 1)} not shown (see --format json)", "dim")


def _totals(report: Report, *, binary: bool) -> list[tuple[str, Styled]]:
    t = report.totals
    rows = [
        (
            "Params",
            (
                f"{numbers.grouped(t.params)} ({numbers.precise(t.params)}) = "
                f"{numbers.grouped(t.weights)} weights + {numbers.grouped(t.biases)} biases"
            ),
        )
    ]
    if t.buffers:
        rows.append(("Buffers", f"{numbers.grouped(t.buffers)} non-trainable (BatchNorm running statistics)"))
    rows.append(("Activations", f"{numbers.grouped(t.activations)} values per image, input included"))
    rows.append(
        (
            "Memory",
            (
                f"forward {numbers.size(t.forward_bytes, binary=binary)}, "
                f"backward ≈ {numbers.size(t.backward_bytes, binary=binary)} (×2), "
                f"params {numbers.size(t.params_bytes, binary=binary)}"
            ),
        )
    )
    rows.append(("MACs", f"{numbers.grouped(t.macs)} ({numbers.precise(t.macs)}), FLOPs {numbers.precise(t.flops)}"))
    rows.append(("Output", numbers.volume(t.output)))
    texts = [(label, (value, "")) for label, value in rows]
    errors = sum(1 for d in report.diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in report.diagnostics if d.severity is Severity.WARNING)
    if errors or warnings:
        verdict = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
        texts.append(("Problems", (verdict, "bold red" if errors else "yellow")))
    if report.checks:
        passed = sum(1 for c in report.checks if c.ok)
        failed = len(report.checks) - passed
        verdict = f"{len(report.checks)} expectations: {passed} hold, {failed} fail"
        texts.append(("Checks", (verdict, "bold red" if failed else "green")))
    return texts


def _print_totals(out: Terminal, totals: Iterable[tuple[str, Styled]]) -> None:
    """Labels in bold, values beside them; a long value wraps under itself, not under the label."""
    totals = list(totals)
    indent = max(len(label) for label, _ in totals) + 2
    for label, (value, style) in totals:
        for i, line in enumerate(wrap(value, max(out.width - indent, 20))):
            head = out.style(label.ljust(indent), "bold") if i == 0 else " " * indent
            out.file.write(f"{head}{out.style(line, style)}\n")
