"""`convcalc show` and `convcalc list`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convcalc import __version__
from convcalc.builtins import builtin_names, open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, complete_spec, console, echo_diagnostics, override, spec_options
from convcalc.cli.streams import echo_data
from convcalc.engine.analyze import analyze
from convcalc.fold import fold

if TYPE_CHECKING:
    from convcalc.report import Report

FORMATS = ("table", "json", "csv", "markdown")


@click.command(short_help="Every layer of SPEC: volume, params, memory, MACs, RF.")
@click.argument("spec", shell_complete=complete_spec)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@spec_options
@click.option("--binary", is_flag=True, help="Print memory in KiB/MiB/GiB instead of kB/MB/GB.")
@click.option("--depth", type=click.IntRange(1), help="Fold layers nested deeper than N into one row per block.")
@click.option("--explain", is_flag=True, help="Show the worked arithmetic under each row (table format).")
def show(  # noqa: PLR0913, PLR0917 - click passes each option
    spec: str,
    fmt: str,
    batch: int | None,
    dtype: str | None,
    input_: str | None,
    rounding: str | None,
    binary: bool,  # noqa: FBT001
    depth: int | None,
    explain: bool,  # noqa: FBT001
) -> None:
    """Compute and show every layer of SPEC (a file, - for stdin, or a built-in name such as vgg16).

    Exits 1 when the design has an error (a stride that does not fit, say) or an expectation
    fails; the table is still shown, with the failing row flagged.
    """
    loaded = override(open_spec(spec), batch=batch, dtype=dtype, input_=input_, rounding=rounding)
    if loaded.symbols:  # a symbolic input: formulas (its `example:` serves `check`)
        from convcalc.cli.symbolic import show_closed  # noqa: PLC0415 - only symbolic specs need it

        show_closed(loaded, fmt)
        return
    report = analyze(loaded)
    if depth is not None:
        report = fold(report, depth)
    if fmt == "table":
        from convcalc.render.table import render_table  # noqa: PLC0415 - rich only for tables

        render_table(report, console(), binary=binary, explain=explain)
    elif fmt == "json":
        echo_data(_render_text(report, fmt, binary=binary), "json", nl=False)
        echo_diagnostics(report)
    else:
        click.echo(_render_text(report, fmt, binary=binary), nl=False)
        echo_diagnostics(report)
    if not report.ok:
        sys.exit(EXIT_DESIGN_ERROR)


def _render_text(report: Report, fmt: str, *, binary: bool) -> str:
    if fmt == "json":
        from convcalc.render.json import render_json  # noqa: PLC0415

        return render_json(report, __version__)
    if fmt == "csv":
        from convcalc.render.csv import render_csv  # noqa: PLC0415

        return render_csv(report)
    from convcalc.render.markdown import render_markdown  # noqa: PLC0415

    return render_markdown(report, binary=binary)


@click.command(name="list")
def list_() -> None:
    """List the built-in specs with their input, params and MACs."""
    from rich.cells import cell_len  # noqa: PLC0415 - rich only for tables
    from rich.table import Table  # noqa: PLC0415

    from convcalc.render import numbers  # noqa: PLC0415

    rows: list[tuple[str, str, str, str]] = []
    descriptions: list[str] = []
    for name in builtin_names():
        report = analyze(open_spec(name))
        totals = report.totals
        rows.append(
            (name, numbers.volume(report.rows[0].output), numbers.precise(totals.params), numbers.precise(totals.macs))
        )
        descriptions.append(report.description)
    out = console()
    table = Table(show_edge=False, pad_edge=False)
    left = out.width
    for i, title in enumerate(("Name", "Input", "Params", "MACs")):
        width = max(cell_len(title), *(cell_len(r[i]) for r in rows))
        table.add_column(title, justify="left" if i < 2 else "right", no_wrap=True, width=width)  # noqa: PLR2004
        left -= width + 3
    # The other columns keep their width; the description gives way on a narrow terminal.
    table.add_column("Description", no_wrap=True, overflow="ellipsis", max_width=max(left, 10))
    for row, description in zip(rows, descriptions, strict=True):
        table.add_row(*row, description)
    out.print(table)
