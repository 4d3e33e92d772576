"""A report where people look at it beside code: Jupyter's HTML, a rich console, a short repr.

The table is `convcalc show`'s own (convcalc.render.table): in a notebook it is that table as
HTML (rich's export, styles inline), in a rich console the same table at the console's width.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderResult

    from convcalc.report import Report

# Wide enough for every column of the table with the longest built-in names (DenseNet's).
HTML_WIDTH = 140
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
        legacy_windows=False, _environ={},
    )  # fmt: skip


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


def report_repr(report: Report) -> str:
    """One line: `<Report VGG16: 38 rows, 138,357,544 params, 15,470,264,320 MACs, ok>`."""
    t = report.totals
    state = "ok" if report.ok else "not ok: see .diagnostics and .checks"
    batch = f", batch {report.batch}" if report.batch != 1 else ""
    return f"<Report {report.name}: {len(report.rows)} rows, {t.params:,} params, {t.macs:,} MACs{batch}, {state}>"
