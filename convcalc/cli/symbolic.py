"""`convcalc show` for a symbolic input (HxWx3): every figure as a formula of the symbols."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convcalc import __version__
from convcalc.api import NOT_CHECKED, symbolic_checks, symbolic_diagnostics
from convcalc.cli.common import EXIT_DESIGN_ERROR, console
from convcalc.cli.streams import echo_data
from convcalc.engine.symbolic import analyze_closed
from convcalc.errors import Location
from convcalc.render import closed as render
from convcalc.render.checks import message
from convcalc.render.inert import inert
from convcalc.render.sizes import axis_report

if TYPE_CHECKING:
    from convcalc.api import ShowOptions
    from convcalc.report import Report
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
    numeric = symbolic_checks(spec)
    checks = () if numeric is None else numeric.checks
    diagnostics = symbolic_diagnostics(spec, report)
    if fmt == "json":
        axes = {a: e for a, e in axis_report(report, spec).items() if e["symbol"]}
        parts = {"spec": spec, "version": __version__, "checks": checks, "diagnostics": diagnostics}
        text = render.render_json(report, axes, **parts)
        echo_data(text, "json", nl=False)
    else:
        render.render_table(report, console())
    for note in (d for d in diagnostics if d.code == NOT_CHECKED):
        click.echo(f"{Location(note.file, note.line, note.column)}: note: {note.message}", err=True)
    failed = 0 if numeric is None else _echo_failed(numeric)
    if report.failure is not None:
        click.echo(f"error: {report.failure.name}: {report.failure.message}", err=True)
        sys.exit(EXIT_DESIGN_ERROR)
    for limit in report.never:  # a stride that does not fit on a size the spec gives as a number
        where = f"{spec.source}:{limit.line}:{limit.column}" if limit.line else spec.source
        click.echo(f"{where}: error: {limit.name}: {limit.condition.text()} is false: no size fits", err=True)
    if report.never or failed:
        sys.exit(EXIT_DESIGN_ERROR)


def _echo_failed(numeric: Report) -> int:
    """The answers wrong at the example size, on stderr (that size's report words their arithmetic)."""
    failed = [c for c in numeric.checks if not c.ok]
    for c in failed:
        where = Location(c.file, c.line, c.column)
        click.echo(inert(f"{where}: error: check failed at the example size: {message(c, numeric)}"), err=True)
    return len(failed)
