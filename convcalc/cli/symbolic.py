"""`convcalc show` for a symbolic input (HxWx3): every figure as a formula of the symbols."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convcalc.cli.common import EXIT_DESIGN_ERROR, console
from convcalc.cli.streams import echo_data
from convcalc.engine.symbolic import analyze_closed
from convcalc.render import closed as render
from convcalc.render.sizes import axis_report

if TYPE_CHECKING:
    from convcalc.spec.model import Spec


def show_closed(spec: Spec, fmt: str, options: list[str]) -> None:
    """The symbolic report as a table, JSON, or (for CSV and Markdown, and `options`) a clear refusal."""
    if options:
        what = " and ".join(options)
        msg = f"{what} {'has' if len(options) == 1 else 'have'} no symbolic form: give numbers with --input 224x224x3"
        raise click.UsageError(msg)
    report = analyze_closed(spec)
    axes = {a: e for a, e in axis_report(report, spec).items() if e["symbol"]}
    if fmt == "json":
        echo_data(render.render_json(report, axes), "json", nl=False)
    elif fmt == "table":
        render.render_table(report, console())
    else:
        msg = f"--format {fmt} has no symbolic form; use table or json, or give numbers with --input 224x224x3"
        raise click.UsageError(msg)
    if report.failure is not None:
        click.echo(f"error: {report.failure.name}: {report.failure.message}", err=True)
        sys.exit(EXIT_DESIGN_ERROR)
    for limit in report.never:  # a stride that does not fit on a size the spec gives as a number
        where = f"{spec.source}:{limit.line}:{limit.column}" if limit.line else spec.source
        click.echo(f"{where}: error: {limit.name}: {limit.condition.text()} is false: no size fits", err=True)
    if report.never:
        sys.exit(EXIT_DESIGN_ERROR)
