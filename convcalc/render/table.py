"""The table of `convcalc show`: one row per layer, diagnostics beneath their rows, totals.

Columns have fixed widths (from the longest cell, the name giving way on a narrow console), so a
diagnostic can be printed between two rows and the rows after it still line up. The rows are laid
out by convcalc.render.layout (rich's Table is not linear: see there) and printed on a rich
Console, which decides the width and the colour.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.segment import Segment
from rich.text import Text

from convcalc.engine.checks import causes
from convcalc.options import Rounding
from convcalc.render import numbers
from convcalc.render.caps import Cap
from convcalc.render.checks import message, subject_name
from convcalc.render.columns import DEFAULT, RIGHT, Column, table_cell
from convcalc.render.explain import explain as explain_row
from convcalc.render.layout import (
    NEWLINE,
    Columns,
    Rendered,
    column_widths,
    fit,
    measure,
    shown,
    wrap,
    wrapped,
)
from convcalc.render.training import backward_text, training_lines
from convcalc.report import Check, Diagnostic, LayerRow, Report, Severity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rich.console import Console

Styled = tuple[str, str]  # text, and a style such as "bold red" ("" for none)

_NAME = 1  # the column that gives way on a narrow console
_MIN_NAME = 8
_STYLE = {Severity.ERROR: "bold red", Severity.WARNING: "yellow", Severity.NOTE: "dim"}
_MARK = {Severity.ERROR: "✗", Severity.WARNING: "!", Severity.NOTE: "·"}


def _headers(columns: tuple[Column, ...]) -> tuple[str, ...]:
    return ("#", "Layer", *(c.heading for c in columns))


def _cells(row: LayerRow, show: Callable[[str], str], columns: tuple[Column, ...], *, binary: bool) -> tuple[str, ...]:
    """The row's cells; only the name is text from the spec (and only it may hold · to fall back from)."""
    return (
        str(row.index),
        show(numbers.display_name(row)),
        *(table_cell(c, row, binary=binary) for c in columns),
    )


def _diagnostic_text(d: Diagnostic, root: str | None = None) -> Styled:
    where = ":".join(str(p) for p in (d.file, d.line, d.column) if p is not None)
    then = f" (a knock-on error of {root}: the sizes here are floor's stand-ins)" if root else ""
    return f"{_MARK[d.severity]} {where}: {d.severity.value}: {d.message}{then}", _STYLE[d.severity]


def _knock_on(d: Diagnostic, row: LayerRow, report: Report) -> str | None:
    """The name of the earlier row whose stride error this one follows from, or None."""
    if d.severity is not Severity.ERROR or d.code != "stride-does-not-fit":
        return None
    root = causes(report).get(row.path, row.path)
    return None if root == row.path else subject_name(root, report)


def _knock_ons(report: Report) -> int:
    return sum(1 for path, root in causes(report).items() if path != root)


def _beneath(  # noqa: PLR0913 - what a row needs from the whole table
    row: LayerRow, report: Report, checks: dict[str, list[Check]], cap: Cap, *, notes: bool, explain: bool
) -> list[Styled]:
    """What is printed under a row: its diagnostics (the first of each kind: `cap`), failed checks, arithmetic."""
    shown = (d for d in row.diagnostics if notes or d.severity is not Severity.NOTE)
    lines = [_diagnostic_text(d, _knock_on(d, row, report)) for d in cap.filter(shown)]
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


def _text(show: Callable[[str], str], text: str, style: str = "") -> Text:
    """Text from the spec or the report, shown as it is: no markup, control characters escaped."""
    return Text(show(text), style=style)


def _rows(  # noqa: PLR0913 - the table, and what goes beneath and into its rows
    report: Report,
    console: Console,
    width: int,
    failed: dict[str, list[Check]],
    beneath: Callable[[LayerRow], list[Styled]],
    *,
    show: Callable[[str], str],
    columns: tuple[Column, ...],
    binary: bool,
) -> Iterator[Segment]:
    """The header, a rule, and a line per row with what belongs beneath it."""
    styles = {name: console.get_style(name) for name in ("bold", *_STYLE.values())}
    headers = _headers(columns)
    cells = [_cells(r, show, columns, binary=binary) for r in report.rows]
    sizes = measure(cells)
    ellipsis = show("…")
    right = {0, *(i + 2 for i, c in enumerate(columns) if c in RIGHT)}
    table = Columns(column_widths(headers, sizes, width, give_way=_NAME, minimum=_MIN_NAME), right, ellipsis)
    # Cut each line to the width only when the name cannot give way enough.
    cut = (lambda line: fit(line, width, ellipsis)) if table.width > width else str
    indent = " " * (len(cells[-1][0]) + 2)  # past the widest number of the # column
    yield from (Segment(cut(table.line(headers, measure([headers])[0])), styles["bold"]), NEWLINE)
    yield from (Segment(cut(show("─") * table.width)), NEWLINE)
    for row, row_cells, row_sizes in zip(report.rows, cells, sizes, strict=True):
        worst = min((d.severity for d in row.diagnostics), key=list(Severity).index, default=None)
        flagged = (worst and worst is not Severity.NOTE) or row.path in failed
        style = styles[_STYLE[worst or Severity.ERROR]] if flagged else None
        yield from (Segment(cut(table.line(row_cells, row_sizes)), style), NEWLINE)
        for text, text_style in beneath(row):
            yield from wrapped(console, _text(show, text, text_style), width, indent)  # wrapped under the indent


def render_table(  # noqa: PLR0913 - the options of `show` that shape the table
    report: Report,
    console: Console,
    *,
    binary: bool = False,
    notes: bool = False,
    explain: bool = False,
    columns: tuple[Column, ...] = DEFAULT,
    max_batch: int | None = None,
) -> None:
    """Print the report as a table on the console (with its training block when it has one)."""

    def render(console: Console, width: int) -> Iterator[Segment]:
        show = shown(console)
        description = " ".join(report.description.split())  # its line breaks are the YAML's, not the text's
        title = Text.assemble((show(report.name), "bold"), show(f" — {description}" if description else ""))
        yield from wrapped(console, title, width)
        batch = f"batch {report.batch} · {report.dtype} ({report.bytes_per_value} B per value)"
        yield from wrapped(console, _text(show, batch, "dim"), width)
        failed = _failed_checks(report)
        cap = Cap()

        def beneath(row: LayerRow) -> list[Styled]:
            return _beneath(row, report, failed, cap, notes=notes, explain=explain)

        yield from _rows(report, console, width, failed, beneath, show=show, columns=columns, binary=binary)
        for more in cap.more():
            yield from wrapped(console, _text(show, more, "dim"), width)
        yield NEWLINE
        shown_totals = _totals_shown(report, binary=binary)
        if report.training is not None:
            shown_totals += [
                (label, (value, "")) for label, value in training_lines(report, binary=binary, limit=max_batch)
            ]
        yield from _totals(console, width, shown_totals, show)
        for left in failed.values():  # the whole spec's checks, and those of repeats and blocks
            for c in left:
                yield from wrapped(console, _text(show, *_check_text(c, report)), width)
        hidden = sum(1 for d in report.diagnostics if d.severity is Severity.NOTE)
        if hidden and not notes:
            hint = f"{hidden} note{'s' * (hidden > 1)} not shown (see --format json)"
            yield from wrapped(console, _text(show, hint, "dim"), width)

    # Every line is already cut or wrapped to the width: rich need not crop them again.
    console.print(Rendered(render), crop=False)


def _totals_shown(report: Report, *, binary: bool) -> list[tuple[str, Styled]]:
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
                f"params {numbers.size(t.params_bytes, binary=binary)}"
            ),
        )
    )
    rows.append(("", backward_text(report, binary=binary)))
    rows.append(("MACs", f"{numbers.grouped(t.macs)} ({numbers.precise(t.macs)}), FLOPs {numbers.precise(t.flops)}"))
    rows.append(("Output", numbers.volume(t.output)))
    texts = [(label, (value, "")) for label, value in rows]
    errors = sum(1 for d in report.diagnostics if d.severity is Severity.ERROR)
    warnings = sum(1 for d in report.diagnostics if d.severity is Severity.WARNING)
    if errors or warnings:
        knock = _knock_ons(report) if errors > 1 else 0
        also = f" ({knock} of them knock-on)" if knock else ""
        verdict = f"{errors} error{'s' * (errors != 1)}{also}, {warnings} warning{'s' * (warnings != 1)}"
        texts.append(("Problems", (verdict, "bold red" if errors else "yellow")))
    if report.checks:
        passed = sum(1 for c in report.checks if c.ok)
        failed = len(report.checks) - passed
        n = len(report.checks)
        held, missed = f"{passed} hold{'s' * (passed == 1)}", f"{failed} fail{'s' * (failed == 1)}"
        verdict = f"{n} expectation{'s' * (n != 1)}: {held}, {missed}"
        texts.append(("Checks", (verdict, "bold red" if failed else "green")))
    return texts


def _totals(
    console: Console, width: int, totals: list[tuple[str, Styled]], show: Callable[[str], str]
) -> Iterator[Segment]:
    """Labels in bold, values beside them; a long value wraps under itself, not under the label."""
    indent = max(len(label) for label, _ in totals) + 2
    bold = console.get_style("bold")
    for label, (value, style) in totals:
        for i, line in enumerate(wrap(console, Text(show(value), style=style), width - indent)):
            yield Segment(label.ljust(indent), bold) if i == 0 else Segment(" " * indent)
            yield from line.render(console)
            yield NEWLINE
