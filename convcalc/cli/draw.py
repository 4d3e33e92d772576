"""`convcalc draw`: the network as an SVG figure."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from convcalc.builtins import open_spec
from convcalc.cli.common import (
    EXIT_DESIGN_ERROR,
    complete_spec,
    echo_diagnostics,
    override,
    spec_options,
)
from convcalc.cli.memory import draw_memory
from convcalc.cli.output import output_file, write_output
from convcalc.cli.streams import echo_data
from convcalc.engine.analyze import analyze
from convcalc.engine.graph import reads
from convcalc.fold import fold
from convcalc.render.inert import inert
from convcalc.render.svg import render_readable, render_svg


@click.command(short_help="Draw SPEC as an SVG figure of its volumes.")
@click.argument("spec", shell_complete=complete_spec)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the SVG to FILE (- for standard output, the default).",
)
@spec_options
@click.option("--depth", type=click.IntRange(1), help="Draw layers nested deeper than N as one volume per block.")
@click.option("--full", is_flag=True, help="Draw every layer, however large the figure (no folding by default).")
@click.option("--memory", is_flag=True, help="Draw live memory across a training step instead, with its peak.")
@click.option("--inference", is_flag=True, help="With --memory: an inference pass instead of a training step.")
@click.option(
    "--optimizer",
    type=click.Choice(["sgd", "momentum", "adam", "adamw"]),
    help="With --memory: the optimizer whose step is drawn (default adam; momentum: SGD with momentum).",
)
@click.option("--foreach", is_flag=True, help="With --memory: the optimizer's foreach path (CUDA's default).")
def draw(  # noqa: PLR0913, PLR0917 - click passes each option
    spec: str,
    output: Path | None,
    batch: int | None,
    dtype: str | None,
    input_: str | None,
    rounding: str | None,
    depth: int | None,
    full: bool,  # noqa: FBT001 - a click flag
    **memory: Any,
) -> None:
    """Draw SPEC as an SVG figure: each layer's output volume as a box, branches side by side.

    Box heights follow the spatial size and thicknesses the channels, on a log scale; the totals
    are in the caption. A figure over 4,000 px is folded (as --depth does) as deep as fits about
    1,500 px, and the caption says so; --depth or --full choose. Exits 1 when the design has an
    error, after drawing what was computed.
    """
    loaded = override(open_spec(spec), batch=batch, dtype=dtype, input_=input_, rounding=rounding)
    report = analyze(loaded)
    if memory.pop("memory"):
        draw_memory(loaded, report, output, **{**memory, "optimizer": memory["optimizer"] or "adam"})
        return
    if any(memory.values()):
        raise click.UsageError("--inference, --optimizer and --foreach go with --memory")
    read = reads(loaded)  # a general graph's layers: what each reads (`from:`)
    if depth is not None:
        drawing = render_svg(fold(report, depth), reads=read)
    elif full:
        drawing = render_svg(report, reads=read)
    else:
        drawing = render_readable(report, reads=read)
    if (output := output_file(output)) is None:
        echo_data(drawing.svg, "xml", nl=False)
    else:
        write_output(output, drawing.svg)
        click.echo(inert(f"wrote {output} ({drawing.volumes} volumes)"), err=True)
    echo_diagnostics(report)
    if not report.ok:
        sys.exit(EXIT_DESIGN_ERROR)
