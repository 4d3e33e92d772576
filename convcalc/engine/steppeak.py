"""The training block with the step's timeline: its peak, and the largest batch that fits (`show --train`)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convcalc.engine.stepscope import unmodelled
from convcalc.engine.steptime import fit, step_timeline
from convcalc.engine.training import Device, Optimizer, Precision

if TYPE_CHECKING:
    from convcalc.report import Report
    from convcalc.spec.model import Spec


def with_step(spec: Spec, report: Report, *, foreach: bool | None = None, limit: int | None = None) -> Report:
    """The report whose training block has `step` (and `fit` with a limit); unchanged outside float32.

    A report with a kind the timeline does not follow (convcalc.engine.stepscope) gets
    `step_unavailable` instead.
    """
    t = report.training
    if t is None or t.precision != Precision.FP32.value:
        return report
    missing = unmodelled(report)
    if missing:  # no figure rather than a wrong one: the block keeps the sum of the parts
        return replace(report, training=replace(t, step_unavailable=missing))
    optimizer, device = Optimizer(t.optimizer), Device(t.device)
    step = step_timeline(spec, report, optimizer, foreach=foreach, device=device)
    fits = None if limit is None else fit(spec, report, limit, optimizer, foreach=foreach, device=device)
    return replace(report, training=replace(t, step=step, fit=fits))
