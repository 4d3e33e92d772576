"""The rich table of `convcalc diff`: the rows that differ, then every total in A, in B, and the change.

What changed in a layer (`11x11/4 → 7x7/2, pad 0 → 1`) is printed beneath its row, as `show`
prints diagnostics, so that the table fits 80 columns.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

from convcalc.diff import Status
from convcalc.render import numbers
from convcalc.render.diff import (
    ARROW,
    CHANGE,
    HEADERS,
    TITLES,
    amount,
    budget_line,
    cells,
    change,
    notes,
    setting,
    shown_rows,
    sides,
    summary,
    totals_shown,
)
from convcalc.render.terminal import COLUMN_GAP, cell_len, columns

if TYPE_CHECKING:
    from rich.console import Console

    from convcalc.diff import Diff

_HEADERS = HEADERS[:CHANGE] + HEADERS[CHANGE + 1 :]
_RIGHT = {1, 4, 5}
_NAME = 2  # the column that gives way on a narrow terminal
_MIN_NAME = 8
_STYLE = {Status.ADDED: "green", Status.REMOVED: "red", Status.CHANGED: "yellow", Status.SAME: "dim"}


def _line(values: tuple[str, ...], widths: list[int]) -> str:
    return columns(values, widths, _RIGHT)


def _rows(diff: Diff, console: Console, *, everything: bool) -> None:
    """The rows, laid out here rather than by rich.Table: a 100,000-row diff prints in seconds."""
    rows = shown_rows(diff, everything=everything)
    texts = [cells(rd) for rd in rows]
    table_cells = [t[:CHANGE] + t[CHANGE + 1 :] for t in texts]
    widths = [max(cell_len(h), *(cell_len(c[i]) for c in table_cells)) for i, h in enumerate(_HEADERS)]
    overflow = sum(widths) + len(COLUMN_GAP) * (len(widths) - 1) - console.width
    if overflow > 0:
        widths[_NAME] = max(_MIN_NAME, widths[_NAME] - overflow)
    indent = " " * (sum(widths[:_NAME]) + len(COLUMN_GAP) * _NAME)
    room = max(console.width - len(indent), 20)
    header = _line(_HEADERS, widths)
    out = Text(header + "\n", style="bold")
    out.append("─" * len(header) + "\n")
    for rd, text, row_cells in zip(rows, texts, table_cells, strict=True):
        out.append(_line(row_cells, widths) + "\n", style=_STYLE[rd.status])
        beneath = text[CHANGE]
        if cell_len(row_cells[_NAME]) > widths[_NAME]:  # the name was cut: in full beneath, with the change
            beneath = f"{row_cells[_NAME]}: {beneath}" if beneath else row_cells[_NAME]
        for line in textwrap.wrap(beneath, room, break_on_hyphens=False):
            out.append(indent + line + "\n", style=_STYLE[rd.status])
    out.rstrip()
    console.print(out, no_wrap=True, overflow="ellipsis")


def _totals(diff: Diff, *, binary: bool) -> Table:
    name_a, name_b = sides(diff)
    grid = Table(box=None, show_edge=False, pad_edge=False, padding=(0, 2, 0, 0))
    grid.add_column("", no_wrap=True)
    for title in (name_a, name_b, "Change"):
        grid.add_column(title, justify="right", no_wrap=True, header_style="bold")
    for t in totals_shown(diff):
        a, b = amount(t.metric, t.a, binary=binary), amount(t.metric, t.b, binary=binary)
        grid.add_row(Text(TITLES[t.metric], style="bold"), a, b, change(t, binary=binary))
    out_a, out_b = numbers.volume(diff.a.totals.output), numbers.volume(diff.b.totals.output)
    grid.add_row(Text("Output", style="bold"), out_a, out_b, "no change" if out_a == out_b else "changed")
    return grid


def render_table(diff: Diff, console: Console, *, everything: bool = False, binary: bool = False) -> None:
    """Print the diff on `console`."""
    console.print(Text(f"{diff.a.name}{ARROW}{diff.b.name}", style="bold"))
    console.print(f"{diff.a.source}{ARROW}{diff.b.source} · {setting(diff.a, diff.b)}", style="dim")
    console.print()
    if shown_rows(diff, everything=everything):
        _rows(diff, console, everything=everything)
    console.print(summary(diff, everything=everything), style="dim")
    console.print()
    console.print(_totals(diff, binary=binary))
    if diff.budgets:
        console.print()
    for result in diff.budgets:
        console.print(Text(budget_line(result, binary=binary), style="bold red" if result.broken else "green"))
    for note in notes(diff):
        console.print(Text(note, style="yellow"))
