"""`convcalc fit SPEC`: the square input sizes for which every stride of SPEC fits."""

from __future__ import annotations

import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import click

from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, complete_spec, override
from convcalc.engine.analyze import first_problem
from convcalc.render.inert import inert
from convcalc.report import LayerRow, Severity
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.spec.model import Spec

_NEAREST = 3


def _at(spec: Spec, size: int) -> Spec:
    return replace(spec, input=Volume((size,) * len(spec.input.spatial), spec.input.depth))


def _why(row: LayerRow) -> str:
    first = next(d for d in row.diagnostics if d.severity is not Severity.NOTE)
    return f"{row.name}: {first.message.split(':')[0]}"


def _say(line: str) -> None:
    """A line of the answer; text from the command line or the spec made inert."""
    click.echo(inert(line))


@click.command(short_help="The square input sizes for which every stride fits.")
@click.argument("spec", shell_complete=complete_spec)
@click.option("--input", "input_", metavar="HxWxD", help="Judge this input instead of the spec's, e.g. 224x224x3.")
@click.option("--min", "low", type=click.IntRange(1), default=1, show_default=True, help="Smallest size to try.")
@click.option(
    "--max", "high", type=click.IntRange(1, 100_000), default=1024, show_default=True, help="Largest size to try."
)
def fit(spec: str, low: int, high: int, input_: str | None) -> None:
    """List the square input sizes (from --min to --max) for which every stride of SPEC fits.

    A size fits when the spec, at that input, has no error and no warning (its own rounding
    applies). When the spec's own input does not fit, the nearest sizes that do are named, and
    it exits 1.
    """
    loaded = override(open_spec(spec), input_=input_, quiet=True)  # fit never checks answers
    if not loaded.input.spatial:
        _say(f"{loaded.name}'s input {loaded.input} is a vector: there are no strides to fit")
        return
    sizes = range(low, high + 1)
    if sys.stderr.isatty():
        with click.progressbar(sizes, label="trying sizes", file=sys.stderr) as bar:
            fitting = [n for n in bar if first_problem(_at(loaded, n)) is None]
    else:
        fitting = [n for n in sizes if first_problem(_at(loaded, n)) is None]
    own = loaded.input.spatial[0]
    square = len(set(loaded.input.spatial)) == 1
    problem = first_problem(loaded)
    nearest = sorted(fitting, key=lambda n: (abs(n - own), n))[:_NEAREST]
    if problem is None:
        _say(f"{loaded.input} fits.")
    else:
        near = ", ".join(map(str, nearest)) or "none"
        _say(f"{loaded.input} does not fit ({_why(problem)}); nearest that fit: {near}")
    if not square:
        _say(f"(sizes below are square, {low} to {high}; the spec's own input is not)")
    _say(f"{len(fitting)} of {len(sizes)} square sizes from {low} to {high} fit:")
    _say("  " + (", ".join(map(str, fitting)) or "none"))
    if problem is not None:
        sys.exit(EXIT_DESIGN_ERROR)
