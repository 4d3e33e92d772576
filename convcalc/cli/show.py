"""`convcalc show` and `convcalc list`."""

from __future__ import annotations

import re
import sys
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import click

from convcalc import __version__
from convcalc.api import FORMATS, ShowOptions, show_report
from convcalc.builtins import builtin_names, open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, complete_spec, console, echo_diagnostics, override, spec_options
from convcalc.cli.fitmemory import figure, none_fits, search, show_fit
from convcalc.cli.streams import echo_data
from convcalc.engine.analyze import analyze
from convcalc.engine.training import Device, Optimizer, Precision
from convcalc.errors import UnknownColumnError
from convcalc.render.columns import CSV_DEFAULT, DEFAULT, Column, parse
from convcalc.render.fitmemory import fit_dict
from convcalc.render.peak import peak_dict, peak_lines, peak_markdown, print_peak
from convcalc.spec.expect import BYTE_UNITS

if TYPE_CHECKING:
    from convcalc.engine.timeline import Peak
    from convcalc.report import Report
    from convcalc.spec.model import Spec

_SIZE = re.compile(r"\s*(\d[\d,_]*(?:\.\d+)?)\s*([A-Za-z]*)\s*")
# --max-batch's ceiling: 1,000 TB, past the memory of any machine a batch is planned for; beyond
# it the sizes printed would be floats' artefacts (99999999999999996863366107917975552.00 TB).
MAX_LIMIT = 10**15


def _columns(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[Column, ...] | None:
    del ctx, param
    if value is None:
        return None
    try:
        return parse(value)
    except UnknownColumnError as exc:
        raise click.BadParameter(exc.message) from None


def _bytes(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """16GB, 24GiB, 1.5TB or 1000000 as bytes (kB/MB/GB powers of 1000, KiB/MiB/GiB of 1024)."""
    del ctx, param
    if value is None:
        return None
    match = _SIZE.fullmatch(value)
    if match is None or match.group(2) not in BYTE_UNITS:
        units = ", ".join(u for u in BYTE_UNITS if u)
        msg = f"cannot read {value!r} as a size: write a number and a unit ({units}), e.g. 16GB or 24GiB"
        raise click.BadParameter(msg)
    number = Decimal(match.group(1).replace(",", "").replace("_", ""))  # the pattern's digits always read
    size = number * BYTE_UNITS[match.group(2)]
    if size != size.to_integral_value():
        msg = f"{value!r} is {size.normalize():f} bytes: a size is a whole number of bytes"
    elif size == 0:
        msg = f"{value!r} is 0 bytes, in which no batch fits: give a size from 1 B to 1,000 TB"
    elif size > MAX_LIMIT:
        msg = f"{value!r} is over 1,000 TB ({MAX_LIMIT:,} B), the most --max-batch plans for"
    else:
        return int(size)
    raise click.BadParameter(msg)


@click.command(short_help="Every layer of SPEC: volume, params, memory, MACs, RF.")
@click.argument("spec", shell_complete=complete_spec)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@spec_options
@click.option("--binary", is_flag=True, help="Print memory in KiB/MiB/GiB instead of kB/MB/GB.")
@click.option("--depth", type=click.IntRange(1), help="Fold layers nested deeper than N into one row per block.")
@click.option("--explain", is_flag=True, help="Show the worked arithmetic under each row (table format).")
@click.option(
    "--columns",
    callback=_columns,
    metavar="A,B,...",
    help=f"The per-row columns, in order (table, Markdown, CSV): {', '.join(c.value for c in Column)}.",
)
@click.option("--train", is_flag=True, help="Add the memory training takes: weights, gradients, optimizer, saved.")
@click.option(
    "--optimizer",
    type=click.Choice([o.value for o in Optimizer]),
    help="The optimizer whose state training keeps (implies --train; default sgd).",
)
@click.option(
    "--precision",
    type=click.Choice([p.value for p in Precision]),
    help="Training precision (implies --train; default fp32): fp16-mixed is ZeRO's, amp torch.amp autocast's.",
)
@click.option(
    "--device", type=click.Choice([d.value for d in Device]), help="Where training runs (implies --train; default cpu)."
)
@click.option(
    "--max-batch",
    "limit",
    callback=_bytes,
    metavar="SIZE",
    help="The largest batch whose training total fits in SIZE, e.g. 16GB (implies --train).",
)
@click.option(
    "--foreach/--no-foreach",
    default=None,
    help="The optimizer's foreach path in the step's peak (implies --train; default: PyTorch's for --device).",
)
@click.option("--peak", is_flag=True, help="Add one inference pass's peak memory and its layer.")
@click.option(
    "--fit-memory",
    "fit",
    callback=_bytes,
    metavar="SIZE",
    help="The fewest checkpointed blocks (least recompute) under which the step fits in SIZE (implies --train).",
)
def show(spec: str, **given: Any) -> None:
    """Compute and show every layer of SPEC (a file, - for stdin, or a built-in name such as vgg16).

    Exits 1 when the design has an error (a stride that does not fit, say) or an expectation
    fails; the table is still shown, with the failing row flagged.
    """
    overrides = {name: given.pop(name) for name in ("batch", "dtype", "input_", "rounding")}
    peak, fit = given.pop("peak"), given.pop("fit")
    given["train"] = given["train"] or fit is not None
    options = ShowOptions(**given)  # click has checked each; the rules of how they combine are the API's
    loaded = override(open_spec(spec), **overrides)
    if (peak or fit) and (loaded.symbols or options.fmt == "csv"):
        why = "a symbolic input has no bytes" if loaded.symbols else "CSV has the rows only"
        flag = "--peak" if peak else "--fit-memory"
        msg = f"{flag}: {why}; show the peak of a numeric spec as table, markdown or json"
        raise click.UsageError(msg)
    if loaded.symbols:  # a symbolic input: formulas (its `example:` size checks its answers)
        from convcalc.cli.symbolic import show_closed  # noqa: PLC0415 - only symbolic specs need it

        show_closed(loaded, options)
        return
    report = analyze(loaded)
    timeline = _timeline(loaded, report) if peak else None  # on the rows unfolded (before --depth)
    found = search(loaded, report, fit, options) if fit and report.totals.output is not None else None
    report = show_report(loaded, report, options)
    fmt, binary, limit = options.fmt, options.binary, options.limit
    lines = [] if timeline is None else peak_lines(timeline, report, binary=binary)
    if fmt == "table":
        from convcalc.render.table import render_table  # noqa: PLC0415 - rich only for tables

        shown = options.columns or DEFAULT
        render_table(report, console(), binary=binary, explain=options.explain, columns=shown, max_batch=limit)
        if lines:
            print_peak(lines, console())
    elif fmt == "json":
        if peak or found:
            from convcalc.render.json import dumps, report_dict  # noqa: PLC0415

            data = report_dict(report, __version__, limit=limit)
            data |= {"peak": peak_dict(timeline)} if peak else {}
            data |= {"fit_memory": fit_dict(found, figure(options, report))} if found else {}
            echo_data(dumps(data, rows="layers"), "json", nl=False)
        else:
            echo_data(_render_text(report, fmt, binary=binary, limit=limit), "json", nl=False)
        echo_diagnostics(report)
    else:
        text = _render_text(report, fmt, binary=binary, columns=options.columns, limit=limit)
        click.echo(text + (peak_markdown(lines) if lines else ""), nl=False)
        echo_diagnostics(report)
    if found:
        show_fit(found, fmt, options, report)
    if not report.ok or (found and found.blocks is None):
        if found and found.blocks is None:
            click.echo(none_fits(found), err=True)
        sys.exit(EXIT_DESIGN_ERROR)


def _timeline(spec: Spec, report: Report) -> Peak | None:
    from convcalc.engine.timeline import timeline  # noqa: PLC0415 - only --peak walks the program

    return timeline(spec, report)


def _render_text(
    report: Report, fmt: str, *, binary: bool, columns: tuple[Column, ...] | None = None, limit: int | None = None
) -> str:
    if fmt == "json":
        from convcalc.render.json import render_json  # noqa: PLC0415

        return render_json(report, __version__, limit=limit)
    if fmt == "csv":
        from convcalc.render.csv import render_csv  # noqa: PLC0415

        return render_csv(report, columns or CSV_DEFAULT)
    from convcalc.render.markdown import render_markdown  # noqa: PLC0415

    return render_markdown(report, binary=binary, columns=columns or DEFAULT, limit=limit)


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
