"""`convcalc show` for a symbolic input (HxWx3): every figure as a formula of the symbols."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convcalc import __version__
from convcalc.api import symbolic_checks
from convcalc.cli.common import EXIT_DESIGN_ERROR, console
from convcalc.cli.streams import echo_data
from convcalc.engine.symbolic import analyze_closed
from convcalc.render import closed as render
from convcalc.errors import Location
from convcalc.render.checks import message
from convcalc.render.inert import inert
from convcalc.render.sizes import axis_report

if TYPE_CHECKING:
    from convcalc.api import ShowOptions
    from convcalc.spec.model import Spec


def show_closed(spec: Spec, options: ShowOptions) -> None:
    """The symbolic report as a table or JSON, its answers checked at `example:`; else a clear refusal."""
    refused = options.numeric_only()
    if refused:
        what = " and ".join(refused)
        msg = f"{what} {'has' if len(refused) == 1 else 'have'} no symbolic form: give numbers with --input 224x224x3"
        raise click.UsageError(msg)
    fmt = options.fmt
    if fmt not in {"json", "table"}:
        msg = f"--format {fmt} has no symbolic form; use table or json, or give numbers with --input 224x224x3"
        raise click.UsageError(msg)
    report = analyze_closed(spec)
    numeric, notes = symbolic_checks(spec)
    checks = None if numeric is None else numeric.checks
    if fmt == "json":
        axes = {a: e for a, e in axis_report(report, spec).items() if e["symbol"]}
        text = render.render_json(report, axes, spec=spec, version=__version__, checks=checks, notes=notes)
        echo_data(text, "json", nl=False)
    else:
        render.render_table(report, console())
    for note in notes:
        click.echo(f"{Location(note.file, note.line, note.column)}: note: {note.message}", err=True)
    failed = [] if numeric is None else [c for c in numeric.checks if not c.ok]
    for c in failed:  # the example size's own report words the answer's arithmetic
        where = Location(c.file, c.line, c.column)
        click.echo(inert(f"{where}: error: check failed at the example size: {message(c, numeric)}"), err=True)
    if report.failure is not None:
        click.echo(f"error: {report.failure.name}: {report.failure.message}", err=True)
        sys.exit(EXIT_DESIGN_ERROR)
    for limit in report.never:  # a stride that does not fit on a size the spec gives as a number
        where = f"{spec.source}:{limit.line}:{limit.column}" if limit.line else spec.source
        click.echo(f"{where}: error: {limit.name}: {limit.condition.text()} is false: no size fits", err=True)
    if report.never or failed:
        sys.exit(EXIT_DESIGN_ERROR)
