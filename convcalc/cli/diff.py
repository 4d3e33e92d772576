"""`convcalc diff A B`: what changed from one network to another, and budgets on it for CI."""

from __future__ import annotations

import sys

import click

from convcalc import __version__
from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, complete_spec, console, echo_diagnostics
from convcalc.cli.streams import echo_data
from convcalc.diff import Budget, BudgetError, compare, parse_budgets
from convcalc.engine.analyze import analyze
from convcalc.fold import fold

FORMATS = ("table", "json", "markdown")


def _budgets(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[Budget, ...]:
    del ctx
    try:
        return parse_budgets(value)
    except BudgetError as exc:
        raise click.BadParameter(exc.message, param=param) from None


@click.command(short_help="What changed from network A to B; budgets for CI.")
@click.argument("a", shell_complete=complete_spec)
@click.argument("b", shell_complete=complete_spec)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True, help="Output format.")
@click.option(
    "--fail-on",
    "budgets",
    multiple=True,
    callback=_budgets,
    metavar="BUDGET",
    help="Exit 1 when B's change from A breaks BUDGET, e.g. params>+5%, macs>+1.5G, memory>+1MB, params<-10%. "
    "Repeat it, or separate budgets with commas.",
)
@click.option("--all", "everything", is_flag=True, help="Show the rows that did not change as well.")
@click.option("--binary", is_flag=True, help="Print memory in KiB/MiB/GiB instead of kB/MB/GB.")
@click.option(
    "--depth", type=click.IntRange(1), help="Fold layers nested deeper than N into one row per block, then compare."
)
def diff(  # noqa: PLR0913, PLR0917 - click passes each option
    a: str,
    b: str,
    fmt: str,
    budgets: tuple[Budget, ...],
    everything: bool,  # noqa: FBT001
    binary: bool,  # noqa: FBT001
    depth: int | None,
) -> None:
    """Compare network A with network B (each a file, - for stdin, or a built-in name such as vgg16).

    Rows are aligned by kind and name, so that a layer added or removed shows as one row; a
    changed layer shows its hyperparameters, volume, params and MACs in A → B; then every total,
    with its change in absolute terms and in percent. Exits 0 whatever differs, and 1 only when
    a --fail-on budget is broken (or cannot be judged: a design error stops A or B before its
    output). A design error is reported on stderr, and the diff goes on with what was computed.
    """
    if a == "-" and b == "-":
        msg = "only one of A and B can be - (standard input)"
        raise click.UsageError(msg)
    report_a, report_b = analyze(open_spec(a)), analyze(open_spec(b))
    for report in (report_a, report_b):
        echo_diagnostics(report)
    if depth is not None:  # as `show --depth`: a block's rows summed into one; the totals do not change
        report_a, report_b = fold(report_a, depth), fold(report_b, depth)
    result = compare(report_a, report_b, budgets)
    if fmt == "table":
        from convcalc.render.diff_table import render_table  # noqa: PLC0415 - rich only for tables

        render_table(result, console(), everything=everything, binary=binary)
    elif fmt == "json":
        from convcalc.render.diff_json import render_json  # noqa: PLC0415

        echo_data(render_json(result, __version__), "json", nl=False)
    else:
        from convcalc.render.diff import render_markdown  # noqa: PLC0415

        click.echo(render_markdown(result, everything=everything, binary=binary), nl=False)
    if result.broken:
        sys.exit(EXIT_DESIGN_ERROR)
