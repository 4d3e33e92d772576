"""`show --fit-memory SIZE`: the search for the blocks to checkpoint, printed under the report."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from convcalc.cli.common import console

if TYPE_CHECKING:
    from convcalc.api import ShowOptions
    from convcalc.engine.fitmemory import Fit
    from convcalc.report import Report
    from convcalc.spec.model import Spec


def figure(options: ShowOptions, report: Report) -> str:
    """What the search compares with the limit: the step's peak in float32 (convcalc.engine.steptime), else the sum.

    The sum too for a kind the timeline does not follow to the byte (convcalc.engine.stepscope).
    """
    from convcalc.engine.stepscope import unmodelled  # noqa: PLC0415 - only --fit-memory

    exact = options.precision in {None, "fp32"} and not unmodelled(report)
    return "the step's peak" if exact else "the training total"


def search(spec: Spec, report: Report, limit: int, options: ShowOptions) -> Fit:
    """The cheapest checkpointed blocks under which the step fits in `limit` bytes."""
    from convcalc.engine.fitmemory import fit_memory, step_peak, sum_of_parts  # noqa: PLC0415 - only --fit-memory
    from convcalc.engine.training import Device, Optimizer, Precision  # noqa: PLC0415

    if figure(options, report) == "the step's peak":
        peak_of, cost_of = step_peak(
            report, options.optimizer or "sgd", foreach=options.foreach, device=options.device or "cpu"
        )
    else:
        peak_of, cost_of = sum_of_parts(
            report,
            optimizer=Optimizer(options.optimizer or "sgd"),
            precision=Precision(options.precision or "fp32"),
            device=Device(options.device or "cpu"),
        )
    return fit_memory(spec, limit, peak_of, cost_of)


def show_fit(fit: Fit, fmt: str, options: ShowOptions, report: Report) -> None:
    """The answer under the table or the Markdown (JSON carries it as `fit_memory`)."""
    from convcalc.render.fitmemory import fit_lines  # noqa: PLC0415
    from convcalc.render.peak import peak_markdown, print_peak  # noqa: PLC0415

    lines = fit_lines(fit, figure(options, report), binary=options.binary)
    if fmt == "table":
        print_peak(lines, console())
    elif fmt == "markdown":
        click.echo(peak_markdown(lines), nl=False)


def none_fits(fit: Fit) -> str:
    """The one-line message of a search that found nothing, for stderr."""
    from convcalc.render import numbers  # noqa: PLC0415

    return (
        f"error: --fit-memory {numbers.size(fit.limit)}: no choice of checkpointed blocks fits "
        f"(the lowest, {numbers.size(fit.peak)}, is over it)"
    )
