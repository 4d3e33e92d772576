"""`convcalc draw SPEC --memory`: the step's live memory as an SVG (convcalc.picture)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convcalc.cli.common import EXIT_DESIGN_ERROR, echo_diagnostics
from convcalc.cli.output import output_file, write_output
from convcalc.cli.streams import echo_data
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from pathlib import Path

    from convcalc.report import Report
    from convcalc.spec.model import Spec


def draw_memory(  # noqa: PLR0913 - the spec, its report, and draw's options
    spec: Spec, report: Report, output: Path | None, *, inference: bool, optimizer: str, foreach: bool
) -> None:
    """Write the figure; a row convcalc cannot compute, or a kind the step does not follow, leaves none (exit 1)."""
    if spec.symbols:
        raise click.UsageError("--memory: a symbolic input has no bytes; give sizes (--input 224x224x3)")
    if report.totals.output is None:
        echo_diagnostics(report)
        click.echo("error: --memory: a row could not be computed, so the step has no timeline", err=True)
        sys.exit(EXIT_DESIGN_ERROR)
    from convcalc.engine.stepscope import unmodelled  # noqa: PLC0415 - only --memory walks the step

    if not inference and (missing := unmodelled(report)):
        kinds = ", ".join(missing)
        click.echo(
            f"error: --memory: the step's timeline does not follow {kinds} to the byte (try --inference)", err=True
        )
        sys.exit(EXIT_DESIGN_ERROR)
    from convcalc.picture import picture_of  # noqa: PLC0415

    drawing = picture_of(spec, report, inference=inference, optimizer=optimizer, foreach=foreach)
    if (path := output_file(output)) is None:
        echo_data(drawing.svg, "xml", nl=False)
    else:
        write_output(path, drawing.svg)
        click.echo(inert(f"wrote {path} ({drawing.width:.0f} x {drawing.height:.0f} px)"), err=True)
    echo_diagnostics(report)
    if not report.ok:
        sys.exit(EXIT_DESIGN_ERROR)
