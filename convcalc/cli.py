"""The command line: parse options, call the library, map errors to exit codes (DESIGN §5).

Exit codes: 0 all good; 1 the design has an error; 2 the command or the spec could not be read.
rich is imported only by the commands that draw tables, so `--format json` starts fast.
"""

from __future__ import annotations

import dataclasses
import sys
from typing import TYPE_CHECKING, Any

import click

from convcalc import __version__
from convcalc.builtins import builtin_names, open_spec
from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError, Location
from convcalc.fold import fold
from convcalc.options import DType, Rounding
from convcalc.report import Report, Severity
from convcalc.spec.loader import parse_input

if TYPE_CHECKING:
    from rich.console import Console

EXIT_DESIGN_ERROR = 1
EXIT_UNREADABLE = 2
FORMATS = ("table", "json", "csv", "markdown")


class _Group(click.Group):
    """Turns every ConvcalcError into `FILE:LINE:COLUMN: error: message` and exit code 2."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConvcalcError as exc:
            click.echo(str(exc), err=True)
            sys.exit(EXIT_UNREADABLE)


def _console() -> Console:
    from rich.console import Console  # noqa: PLC0415 - only the table commands need rich

    return Console(highlight=False)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcalc")
def main() -> None:
    """Conv-net arithmetic from a YAML spec: volumes, params, memory, MACs, receptive fields.

    Exact (no floating point, no framework), instant, and it says when a stride does not fit.
    """


@main.command()
@click.argument("spec")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.option("--batch", type=click.IntRange(1, 1_000_000), help="Images per batch (memory and MACs scale with it).")
@click.option("--dtype", type=click.Choice([d.value for d in DType]), help="Value type (bytes per value).")
@click.option("--input", "input_", metavar="HxWxD", help="Override the spec's input volume, e.g. 224x224x3.")
@click.option("--rounding", type=click.Choice([r.value for r in Rounding]), help="Override the spec's rounding.")
@click.option("--binary", is_flag=True, help="Print memory in KiB/MiB/GiB instead of kB/MB/GB.")
@click.option("--depth", type=click.IntRange(1), help="Fold layers nested deeper than N into one row per block.")
def show(
    spec: str,
    fmt: str,
    batch: int | None,
    dtype: str | None,
    input_: str | None,
    rounding: str | None,
    binary: bool,  # noqa: FBT001 - a click flag
    depth: int | None,
) -> None:
    """Compute and show every layer of SPEC (a file, - for stdin, or a built-in name such as vgg16).

    Exits 1 when the design has an error (a stride that does not fit, say); the table is still
    shown, with the failing row flagged.
    """
    loaded = open_spec(spec)
    changes: dict[str, Any] = {}
    if batch is not None:
        changes["batch"] = batch
    if dtype is not None:
        changes["dtype"] = DType(dtype)
    if rounding is not None:
        changes["rounding"] = Rounding(rounding)
    if input_ is not None:
        changes["input"] = parse_input(input_, Location("--input"))
    report = analyze(dataclasses.replace(loaded, **changes))
    if depth is not None:
        report = fold(report, depth)
    if fmt == "table":
        from convcalc.render.table import render_table  # noqa: PLC0415

        render_table(report, _console(), binary=binary)
    else:
        click.echo(_render_text(report, fmt, binary=binary), nl=False)
        _echo_diagnostics(report)
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


def _echo_diagnostics(report: Report) -> None:
    """Errors and warnings on stderr in the compilers' form, for logs and editors."""
    for d in report.diagnostics:
        if d.severity is not Severity.NOTE:
            where = Location(d.file, d.line, d.column)
            click.echo(f"{where}: {d.severity.value}: {d.message}", err=True)


@main.command(name="list")
def list_() -> None:
    """List the built-in specs with their input, params and MACs."""
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
    console = _console()
    table = Table(show_edge=False, pad_edge=False)
    left = console.width
    for i, title in enumerate(("Name", "Input", "Params", "MACs")):
        width = max(len(title), *(len(r[i]) for r in rows))
        table.add_column(title, justify="left" if i < 2 else "right", no_wrap=True, width=width)  # noqa: PLR2004
        left -= width + 3
    # The other columns keep their width; the description gives way on a narrow terminal.
    table.add_column("Description", no_wrap=True, overflow="ellipsis", max_width=max(left, 10))
    for row, description in zip(rows, descriptions, strict=True):
        table.add_row(*row, description)
    console.print(table)
