"""The training step's peak (convcalc.engine.steptime) in `show --train`'s block, and in JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.render import numbers

if TYPE_CHECKING:
    from convcalc.engine.steptime import Fit, Step
    from convcalc.engine.tape import Parts
    from convcalc.report import Report

# What the timeline follows, shown and in the JSON.
MODE = (
    "one steady-state step: model(x).sum().backward() with every .grad None, then optimizer.step() with its state"
    " there; eager PyTorch's ops on CPU, float32, as convcalc.pytorch builds the model"
)


def where(step: Step, report: Report) -> str:
    """The phase, row and op of the peak: `in backward at row 12.layers.2 (relu), ReluBackward0`."""
    names = {r.path: r.name for r in report.rows}
    row = f" at row {step.row} ({names.get(step.row, step.row)})" if step.row else ""
    return f"in {step.phase.value}{row}, {step.op}"


def step_lines(step: Step, report: Report, *, binary: bool) -> list[tuple[str, str]]:
    """The peak's lines: where it is, what the step is, what is live at it."""

    def size(n: int) -> str:
        return numbers.size(n, binary=binary)

    t = report.training
    assert t is not None  # noqa: S101 - a step is part of a training block
    top = max(step.events, key=lambda e: e.high)
    path = "foreach" if step.foreach else "per parameter"
    live = top.at_high
    parts = [
        f"weights and buffers {size(live.weights)}",
        f"gradients {size(live.gradients)}",
        f"optimizer {size(live.state)}",
        f"saved {size(live.saved)}",
        f"activations, their gradients and temporaries {size(live.activations)}",
    ]
    setup = f"{t.precision}, {t.optimizer} ({path}), {t.device}, batch {t.batch}"
    return [
        ("Training", f"{size(step.peak)} at the peak, {where(step, report)} ({setup})"),
        ("  step", MODE),
        ("  at the peak", ", ".join(parts)),
        ("  sum", f"{size(t.total)} in all, the sum of the parts below (a breakdown, not the peak)"),
    ]


def fit_text(f: Fit, *, binary: bool) -> str:
    """The largest batch whose step's peak fits, with the peaks at it and one more."""
    fits = numbers.size(f.limit, binary=binary)
    if f.batch == 0:
        return f"none: at batch 1 the peak is {numbers.size(f.at, binary=binary)}, over {fits}"
    return (
        f"{f.batch:,} fits in {fits} (peak {numbers.size(f.at, binary=binary)}; "
        f"{f.batch + 1:,} would peak at {numbers.size(f.above, binary=binary)})"
    )


def _parts(p: Parts) -> dict[str, int]:
    return {
        "weights": p.weights,
        "gradients": p.gradients,
        "state": p.state,
        "saved": p.saved,
        "activations": p.activations,
    }


def step_dict(step: Step) -> dict[str, Any]:
    """JSON's `training.step`: the peak, where, and every event with its live bytes by part."""
    return {
        "mode": MODE,
        "optimizer": step.optimizer,
        "foreach": step.foreach,
        "batch": step.batch,
        "peak": step.peak,
        "phase": step.phase.value,
        "row": step.row,
        "op": step.op,
        "events": [
            {"phase": e.phase.value, "row": e.row, "op": e.op, "live": e.live.total, "high": e.high, **_parts(e.live)}
            for e in step.events
        ],
    }


def fit_dict(f: Fit) -> dict[str, Any]:
    """JSON's `training.max_batch` from the peak."""
    return {"limit": f.limit, "batch": f.batch, "peak": f.at, "peak_above": f.above, "from": "peak"}
