"""`convcalc fit SPEC`: per axis, exactly which input sizes fit (docs/symbolic.md); `--list` sweeps."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from itertools import takewhile
from typing import TYPE_CHECKING

import click

from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, complete_spec, override
from convcalc.engine.analyze import first_problem
from convcalc.render.inert import inert
from convcalc.render.sizes import axis_report, describe
from convcalc.report import LayerRow, Severity
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.spec.model import Spec

_NEAREST = 3


def _at(spec: Spec, size: int) -> Spec:
    return replace(spec, input=Volume((size,) * len(spec.input.spatial), spec.input.depth), symbols=(), example=True)


def _why(row: LayerRow) -> str:
    first = next(d for d in row.diagnostics if d.severity is not Severity.NOTE)
    return f"{row.name}: {first.message.split(':')[0]}"


def _say(line: str) -> None:
    """A line of the answer; text from the command line or the spec made inert."""
    click.echo(inert(line))


@click.command(short_help="Exactly which input sizes fit, per axis, with the layer behind each condition.")
@click.argument("spec", shell_complete=complete_spec)
@click.option("--input", "input_", metavar="HxWxD", help="Judge this input instead of the spec's, e.g. 224x224x3.")
@click.option(
    "--rounding",
    type=click.Choice(["strict", "floor", "ceil"]),
    help="Judge under this rounding instead of the spec's.",
)
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("--list", "sweep", is_flag=True, help="List the square sizes from --min to --max that fit instead.")
@click.option("--min", "low", type=click.IntRange(1), default=1, show_default=True, help="With --list: smallest size.")
@click.option(
    "--max", "high", type=click.IntRange(1, 100_000), default=1024, show_default=True, help="With --list: largest size."
)
def fit(spec: str, input_: str | None, rounding: str | None, fmt: str, sweep: bool, low: int, high: int) -> None:  # noqa: FBT001, PLR0913, PLR0917
    """Per spatial axis, the exact set of input sizes for which SPEC gives no error and no warning.

    The answer is a set {min ≤ H ≤ max, H mod M ∈ R}, found at once from each layer's closed form,
    with each condition and the layer that imposes it, then the sizes that fit nearest the spec's
    input. Exits 1 when the spec's own input does not fit. `--list` instead lists the square sizes
    from --min to --max that fit (its JSON is the list), from the set of the square family SxSx3, or
    tried one by one with the numeric engine where a layer has no closed form.
    """
    if sweep and low > high:  # an empty range is no sweep: "0 of 0 sizes fit" would read as an answer
        msg = f"--min {low} is over --max {high}: there is no size to try"
        raise click.UsageError(msg)
    loaded = override(open_spec(spec), input_=input_, rounding=rounding, quiet=True)  # fit never checks answers
    if not loaded.input.spatial:
        _say(f"{loaded.name}'s input {loaded.input} is a vector: there are no strides to fit")
        return
    if sweep:
        _sweep(loaded, low, high, fmt)
        return
    from convcalc.engine.symbolic import analyze_closed  # noqa: PLC0415 - only fit and symbolic show need it

    closed = analyze_closed(loaded, every_axis=True)
    axes = axis_report(closed, loaded)
    own_fits = closed.failure is None and all(a["fits"] for a in axes.values())
    if fmt == "json":
        click.echo(json.dumps(axes, indent=2, ensure_ascii=False))
    else:
        for line in describe(closed, loaded, axes):
            _say(line)
    given = any(a["size"] is not None for a in axes.values())  # 32xWx3 gives its height
    if not own_fits and (loaded.example or given):
        sys.exit(EXIT_DESIGN_ERROR)


def _square_fits(loaded: Spec, low: int, high: int) -> list[int] | None:
    """The square sizes that fit, read off the exact set of the square family SxSx3; None without one."""
    from convcalc.engine.symbolic import analyze_closed  # noqa: PLC0415 - as fit's
    from convcalc.errors import ClosedFormError  # noqa: PLC0415

    rank = len(loaded.input.spatial)
    family = replace(loaded, input=Volume((1,) * rank, loaded.input.depth), symbols=("S",) * rank, example=False)
    try:
        closed = analyze_closed(family)
    except ClosedFormError:  # a layer without a closed form: the sizes are tried one by one
        return None
    if closed.failure is not None or closed.never:
        return []
    return list(takewhile(lambda n: n <= high, closed.sets["S"].ascending(low)))


def _sweep(loaded: Spec, low: int, high: int, fmt: str) -> None:
    sizes = range(low, high + 1)
    fitting = _square_fits(loaded, low, high)
    if fitting is not None:
        pass
    elif sys.stderr.isatty():
        with click.progressbar(sizes, label="trying sizes", file=sys.stderr) as bar:
            fitting = [n for n in bar if first_problem(_at(loaded, n)) is None]
    else:
        fitting = [n for n in sizes if first_problem(_at(loaded, n)) is None]
    if fmt == "json":
        click.echo(json.dumps(fitting))
        return
    own = loaded.input.spatial[0]
    square = len(set(loaded.input.spatial)) == 1
    problem = first_problem(loaded) if loaded.example else None
    nearest = sorted(fitting, key=lambda n: (abs(n - own), n))[:_NEAREST]
    if problem is None and loaded.example:
        _say(f"{loaded.input} fits.")
    elif problem is not None:
        near = ", ".join(map(str, nearest)) or "none"
        _say(f"{loaded.input} does not fit ({_why(problem)}); nearest that fit: {near}")
    if not square:
        _say(f"(sizes below are square, {low} to {high}; the spec's own input is not)")
    _say(f"{len(fitting)} of {len(sizes)} square sizes from {low} to {high} fit:")
    _say("  " + (", ".join(map(str, fitting)) or "none"))
    if problem is not None:
        sys.exit(EXIT_DESIGN_ERROR)
