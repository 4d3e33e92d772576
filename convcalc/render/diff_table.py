"""The rich table of `convcalc diff`: the rows that differ, then every total in A, in B, and the change.

What changed in a layer (`11x11/4 → 7x7/2, pad 0 → 1`) is printed beneath its row, as `show`
prints diagnostics, so that the table fits 80 columns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from convcalc.diff import Status
from convcalc.render import numbers
from convcalc.render.diff import (
    CHANGE,
    HEADERS,
    TITLES,
    amount,
    budget_line,
    cells,
    change,
    notes,
    origin,
    shown_rows,
    sides,
    summary,
    title,
    totals_shown,
)
from convcalc.render.layout import (
    COLUMN_GAP,
    NEWLINE,
    Columns,
    Rendered,
    column_widths,
    fit,
    measure,
    shown,
    wrapped,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from rich.console import Console

    from convcalc.diff import Diff

_HEADERS = HEADERS[:CHANGE] + HEADERS[CHANGE + 1 :]
_RIGHT = {1, 4, 5}
_NAME = 2  # the column that gives way on a narrow console
_MIN_NAME = 8
_STYLE = {Status.ADDED: "green", Status.REMOVED: "red", Status.CHANGED: "yellow", Status.SAME: "dim"}


def _rows(diff: Diff, console: Console, width: int, *, everything: bool) -> Iterator[Segment]:
    """The rows, laid out by convcalc.render.layout rather than by rich's Table (too slow: see there)."""
    rows = shown_rows(diff, everything=everything)
    show = shown(console)
    texts = [tuple(map(show, cells(rd, beneath=True))) for rd in rows]
    table_cells = [t[:CHANGE] + t[CHANGE + 1 :] for t in texts]
    sizes = measure(table_cells)
    widths = column_widths(_HEADERS, sizes, width, give_way=_NAME, minimum=_MIN_NAME)
    ellipsis = show("…")
    table = Columns(widths, _RIGHT, ellipsis)
    # Cut each line to the width only when the name cannot give way enough.
    cut = (lambda line: fit(line, width, ellipsis)) if table.width > width else str
    indent = " " * (sum(widths[:_NAME]) + len(COLUMN_GAP) * _NAME)
    styles = {status: console.get_style(name) for status, name in _STYLE.items()}
    header = table.line(_HEADERS, measure([_HEADERS])[0])
    yield from (Segment(cut(header), console.get_style("bold")), NEWLINE)
    yield from (Segment(cut(show("─") * cell_len(header))), NEWLINE)
    for rd, text, row_cells, row_sizes in zip(rows, texts, table_cells, sizes, strict=True):
        yield from (Segment(cut(table.line(row_cells, row_sizes)), styles[rd.status]), NEWLINE)
        beneath = text[CHANGE]
        if row_sizes[_NAME] > widths[_NAME]:  # the name was cut: in full beneath, with the change
            beneath = f"{row_cells[_NAME]}: {beneath}" if beneath else row_cells[_NAME]
        if beneath:
            yield from wrapped(console, Text(beneath, style=_STYLE[rd.status]), width, indent)


def _totals(diff: Diff, show: Callable[[str], str], *, binary: bool) -> Table:
    name_a, name_b = sides(diff)
    grid = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0))
    grid.add_column("", no_wrap=True)
    for heading in (name_a, name_b, "Change"):
        grid.add_column(Text(show(heading)), justify="right", no_wrap=True, header_style="bold")
    for t in totals_shown(diff):
        a, b = amount(t.metric, t.a, binary=binary), amount(t.metric, t.b, binary=binary)
        grid.add_row(Text(TITLES[t.metric], style="bold"), show(a), show(b), show(change(t, binary=binary)))
    out_a, out_b = numbers.volume(diff.a.totals.output), numbers.volume(diff.b.totals.output)
    grid.add_row(Text("Output", style="bold"), out_a, out_b, "no change" if out_a == out_b else "changed")
    return grid


def render_table(diff: Diff, console: Console, *, everything: bool = False, binary: bool = False) -> None:
    """Print the diff on `console`."""
    show = shown(console)
    console.print(Text(show(title(diff)), style="bold"))
    console.print(Text(show(origin(diff)), style="dim"))
    console.print()
    if shown_rows(diff, everything=everything):
        # Every line is already cut or wrapped to the width: rich need not crop them again.
        console.print(Rendered(lambda c, width: _rows(diff, c, width, everything=everything)), crop=False)
    console.print(Text(show(summary(diff, everything=everything)), style="dim"))
    console.print()
    console.print(_totals(diff, show, binary=binary))
    if diff.budgets:
        console.print()
    for result in diff.budgets:
        console.print(Text(show(budget_line(result, binary=binary)), style="bold red" if result.broken else "green"))
    for note in notes(diff):
        console.print(Text(show(note), style="yellow"))
