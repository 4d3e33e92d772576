"""A report where people look at it beside code: Jupyter's HTML, a rich console, a short repr.

The table is `convcalc show`'s own (convcalc.render.table): in a notebook it is that table as
HTML (rich's export, styles inline), in a rich console the same table at the console's width.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from convcalc.render.inert import inert

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from convcalc.report import Report

# Jupyter's output area shows about 80 columns before it scrolls (issue 23): the table is laid out
# at that width, its name column giving way as in a narrow terminal.
HTML_WIDTH = 80
# Jupyter's own monospace stack; white-space: pre keeps the table's columns.
_PRE = (
    '<pre style="white-space:pre;overflow-x:auto;line-height:1.25;'
    "font-family:var(--jp-code-font-family,Menlo,'DejaVu Sans Mono',Consolas,monospace)\">"
    "<code>{code}</code></pre>"
)


def _recording(width: int, color_system: str | None = "truecolor") -> Console:
    from rich.console import Console  # noqa: PLC0415 - rich only when a table is shown

    return Console(
        file=io.StringIO(), record=True, width=width, color_system=color_system,  # type: ignore[arg-type]
        force_terminal=color_system is not None, highlight=False, markup=False, emoji=False,
        legacy_windows=False, _environ={}, force_jupyter=False,
    )  # fmt: skip
    # force_jupyter=False: in a kernel rich would otherwise display what it records, and every
    # report would show twice (a display_data, then Out[n]).


def report_html(report: Report) -> str:
    """The report's table as an HTML fragment (Jupyter's `_repr_html_`)."""
    from convcalc.render.table import render_table  # noqa: PLC0415

    console = _recording(HTML_WIDTH)
    render_table(report, console)
    return console.export_html(inline_styles=True, code_format=_PRE)


class RichReport:
    """The report's table at a rich console's width (what `Report.__rich__` gives)."""

    def __init__(self, report: Report) -> None:
        self.report = report

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.text import Text  # noqa: PLC0415

        from convcalc.render.table import render_table  # noqa: PLC0415

        inner = _recording(options.max_width, console.color_system)
        render_table(self.report, inner)
        yield Text.from_ansi(inner.file.getvalue(), no_wrap=True, end="")  # type: ignore[attr-defined]


REPR_WIDTH = 80  # the output area, as for the table
_SHORTEST_NAME = 12


def report_repr(report: Report) -> str:
    """`<Report VGG16: 38 rows, 138,357,544 params, 15,470,264,320 MACs, ok>`, within REPR_WIDTH.

    A long name is cut (…); where the numbers alone pass the width, they go on lines of their own.
    """
    t = report.totals
    state = "ok" if report.ok else "not ok: see .diagnostics and .checks"
    fields = [f"{len(report.rows):,} rows", f"{t.params:,} params", f"{t.macs:,} MACs"]
    fields += [f"batch {report.batch:,}"] * (report.batch != 1) + [state]
    name = inert(report.name)
    rest = ": " + ", ".join(fields) + ">"
    room = REPR_WIDTH - len("<Report ") - len(rest)
    if len(name) > room:  # cut to fit the line, or, when the numbers alone pass it, the first line
        keep = room if room >= _SHORTEST_NAME else REPR_WIDTH - len("<Report :")
        name = name if len(name) <= keep else name[: keep - 1] + "…"
    lines = [f"<Report {name}:"]
    for i, item in enumerate(fields):
        text = f" {item}{',' if i < len(fields) - 1 else '>'}"
        if len(lines[-1]) + len(text) > REPR_WIDTH:
            lines.append(" ")
        lines[-1] += text
    return "\n".join(lines)
