"""`convcalc layer INPUT LAYER...`: the lecture's exercises, worked out step by step.

`p?` or `s?` in place of a value lists the values that make the stride fit, and marks the pad
that keeps the size (the lecture's "F = 5, S = 2, P = ?").
"""

from __future__ import annotations

import re
import sys
from typing import TYPE_CHECKING

import click

from convcalc.cli.common import EXIT_DESIGN_ERROR
from convcalc.engine.analyze import analyze
from convcalc.engine.checks import unfit
from convcalc.errors import Location, SpecError
from convcalc.kinds.base import LayerFailure
from convcalc.kinds.registry import KINDS
from convcalc.options import DType, Rounding
from convcalc.render.explain import explain
from convcalc.render.inert import inert
from convcalc.report import Report, Severity
from convcalc.spec.composite import NodeReader
from convcalc.spec.loader import parse_input
from convcalc.spec.model import Spec

if TYPE_CHECKING:
    from convcalc.volume import Volume

_UNKNOWN = re.compile(r"(?<!\S)([ps])\?(?!\S)")


def _analyze(volume: Volume, text: str, where: str, rounding: Rounding) -> Report:
    node = NodeReader("<command line>").node(text, Location(where), "1")
    return analyze(Spec("layer", "", "<command line>", volume, 1, DType.FLOAT32, rounding, (node,)))


def _candidates(volume: Volume, text: str, letter: str, where: str) -> list[tuple[int, Report]] | str:
    """Every value of P (below the window) or S (up to the input) that makes the stride fit.

    A message instead when no value can: the layer cannot slide over this input at all.
    """
    probe = _analyze(volume, _UNKNOWN.sub(f"{letter}0" if letter == "p" else f"{letter}1", text), where, Rounding.FLOOR)
    layer = probe.rows[1]
    kind = KINDS.get(layer.kind)
    try:
        ws = kind.windows(layer.config, volume) if kind is not None else None
    except LayerFailure as failure:
        return failure.message
    if ws is None:
        msg = f"'{letter}?' needs a layer with a sliding window (conv or pool), not {layer.label}"
        raise SpecError(msg, Location(where))
    if not volume.spatial:
        return f"{layer.label} needs a volume with spatial dims, but its input is the vector {volume}"
    limit = max(w.kernel for w in ws) if letter == "p" else max(w.size + 2 * w.pad_lo for w in ws)
    found = []
    for value in range(0 if letter == "p" else 1, limit):
        report = _analyze(volume, _UNKNOWN.sub(f"{letter}{value}", text), where, Rounding.STRICT)
        if report.ok:
            found.append((value, report))
    return found


def _say(line: str) -> None:
    """A line of the answer; text from the command line or the spec made inert."""
    click.echo(inert(line))


def _search(volume: Volume, text: str, letter: str, where: str) -> Report | None:
    name = {"p": "P", "s": "S"}[letter]
    _say(f"{text} on {volume}: {name} = ?")
    found = _candidates(volume, text, letter, where)
    if isinstance(found, str):
        _say(f"  error: {found}")
        return None
    if not found:
        _say(f"  no {name} makes the stride fit")
        return None
    keeps = None
    for value, report in found:
        row = report.rows[1]
        assert row.output is not None  # noqa: S101 - a report that is ok has its output
        same = row.output.spatial == volume.spatial
        keeps = keeps if keeps is not None or not same else (value, report)
        formula = explain(row, Rounding.STRICT, 4, 1)[0]
        mark = "   ← keeps the size" if same else ""
        _say(f"  {name} = {value} → {row.output}   ({formula}){mark}")
    chosen = keeps or found[0]
    return chosen[1]


_OPTION = re.compile(r"(s|p|d|g|op)(\d+(x\d+)*|\?|same|valid|dw)|floor|ceil|strict")


def _check_quoting(layers: tuple[str, ...]) -> None:
    """Catch `convcalc layer 32x32x3 conv5-10 s1 p2`: options given as layers of their own."""
    for i, text in enumerate(layers, start=1):
        if i > 1 and _OPTION.fullmatch(text.strip().lower()):
            end = i
            while end < len(layers) and _OPTION.fullmatch(layers[end].strip().lower()):
                end += 1
            whole = " ".join(layers[i - 2 : end])
            msg = f"'{text}' is an option of the layer before it: quote each layer whole, e.g. \"{whole}\""
            raise SpecError(msg, Location(f"LAYER {i}"))
        if len(_UNKNOWN.findall(text)) > 1:
            msg = f"'{text}' asks for two values at once: ask for one (p? or s?) and give the other"
            raise SpecError(msg, Location(f"LAYER {i}"))


@click.command(short_help="Work out layers on an input volume, step by step.")
@click.argument("input_", metavar="INPUT")
@click.argument("layers", nargs=-1, required=True)
@click.option(
    "--rounding",
    type=click.Choice([r.value for r in Rounding]),
    default="strict",
    show_default=True,
    help="strict: a stride that does not fit is an error; floor or ceil: round as frameworks do.",
)
@click.option(
    "--explain/--brief",
    default=True,
    show_default=True,
    help="Work out each layer's arithmetic, or print only its output volume.",
)
def layer(input_: str, layers: tuple[str, ...], rounding: str, *, explain: bool) -> None:
    """Work out LAYERs (shorthand, e.g. "conv5-10 s1 p2") on an INPUT volume (e.g. 32x32x3), step by step.

    Each layer's output is the next one's input. Write p? or s? to list the pads or strides that
    make the stride fit. Exits 1 when a stride does not fit.
    """
    volume = parse_input(input_, Location("INPUT"))
    _check_quoting(layers)
    failed = False
    for i, text in enumerate(layers, start=1):
        where = f"LAYER {i}"
        unknown = _UNKNOWN.search(text)
        if unknown:
            report = _search(volume, text, unknown.group(1), where)
            if report is None:
                failed = True
                break
        else:
            report = _analyze(volume, text, where, Rounding(rounding))
            _print(report, worked=explain)
        row = report.rows[-1]
        if row.output is None:
            failed = True
            break
        failed = failed or not report.ok
        volume = row.output
        if i < len(layers) and unknown:
            _say(f"  (continuing with {row.label} → {row.output})")
    if failed:
        sys.exit(EXIT_DESIGN_ERROR)


def _print(report: Report, *, worked: bool = True) -> None:
    row = report.rows[1]
    # A stride that does not fit has no output under strict: floor's size is only a stand-in.
    output = "no output, the stride does not fit" if unfit(row) else row.output or "?"
    _say(f"{row.label}: {row.input} → {output}")
    for line in explain(row, Rounding(report.rounding), report.bytes_per_value, report.batch) if worked else []:
        _say(f"  {line}")
    for d in row.diagnostics:
        if d.severity is not Severity.NOTE:
            _say(f"  {d.severity.value}: {d.message}")
