"""The training block of `show --train`, as (label, text) lines for the table and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.render import numbers
from convcalc.render.steplines import fit_text, step_lines

if TYPE_CHECKING:
    from convcalc.report import Report, Training

_STATE = {
    "sgd": "plain SGD keeps none",
    "momentum": "a momentum buffer per param",
    "adam": "exp_avg and exp_avg_sq per param",
    "adamw": "exp_avg and exp_avg_sq per param",
}

# What each precision counts (convcalc.engine.training; docs/training-memory.md), shown and in the JSON.
PRECISIONS = {
    "fp32": "float32 weights, gradients, optimizer state and activations",
    "bf16": "bfloat16 weights, gradients, optimizer state and activations",
    "fp16-mixed": (
        "ZeRO's mixed precision: float16 weights, gradients and activations; float32 master weights and optimizer state"
    ),
    "amp": (
        "torch.amp autocast: float32 weights, gradients and optimizer state; conv, deconv and fc in 16 bits"
        " (float16 on CUDA, bfloat16 on CPU), keeping 16-bit copies of their inputs and weights;"
        " other ops in their input's type"
    ),
}
_VALUE = {"fp32": "float32", "bf16": "bfloat16", "fp16-mixed": "float16", "amp": "float32"}


def backward_text(report: Report, *, binary: bool) -> str:
    """The lecture's ×2, labelled as its rule of thumb, beside what autograd keeps when computed."""
    rule = f"backward ≈ {numbers.size(report.totals.backward_bytes, binary=binary)}: the lecture's ×2 rule of thumb"
    if report.training is None:
        return rule
    return rule + f"; autograd keeps {numbers.size(report.training.saved, binary=binary)}"


def max_batch_text(t: Training, limit: int, *, binary: bool) -> str:
    """The largest batch whose total fits in `limit` bytes, with the totals at b and b + 1."""
    b = t.max_batch(limit)
    fits = numbers.size(limit, binary=binary)
    if b is None:
        return f"any: nothing grows with the batch, and {numbers.size(t.static, binary=binary)} fits in {fits}"
    if b == 0:
        return f"none: at batch 1 the total is {numbers.size(t.total_at(1), binary=binary)}, over {fits}"
    return (
        f"{b:,} fits in {fits} ({numbers.size(t.total_at(b), binary=binary)}; "
        f"{b + 1:,} would take {numbers.size(t.total_at(b + 1), binary=binary)})"
    )


def training_lines(report: Report, *, binary: bool, limit: int | None = None) -> list[tuple[str, str]]:
    """The block's lines: the sum of the parts and the parts; [] when the report has none."""
    t = report.training
    if t is None:
        return []

    def size(n: int) -> str:
        return numbers.size(n, binary=binary)

    setup = f"{t.precision}, {t.optimizer}, {t.device}, batch {t.batch}"
    if t.step is not None:  # the peak first; the sum of the parts stays as a breakdown
        lines = step_lines(t.step, report, binary=binary)
    else:
        lines = [("Training", f"{size(t.total)} in all, the sum of the parts ({setup})")]
    if t.step_unavailable:
        kinds = ", ".join(t.step_unavailable)
        lines.append(("  step", f"the step's peak is not available: its timeline does not follow {kinds} to the byte"))
    lines += [
        ("  precision", f"{t.precision}: {PRECISIONS[t.precision]}"),
        ("  weights", f"{size(t.weights)} ({_VALUE[t.precision]})"),
    ]
    if t.buffers:
        lines.append(("  buffers", f"{size(t.buffers)} (batchnorm's running statistics)"))
    lines += [
        ("  gradients", f"{size(t.gradients)} ({_VALUE[t.precision]})"),
        ("  optimizer", f"{size(t.optimizer_state)} ({_STATE[t.optimizer]}{_master(t)})"),
        ("  saved", f"{size(t.saved)} kept by autograd for backward"),
    ]
    if t.checkpointed:
        lines.append(("  recompute", recompute_text(t)))
    if t.fit is not None:
        lines.append(("  max batch", fit_text(t.fit, binary=binary)))
    elif limit is not None:
        lines.append(("  max batch", max_batch_text(t, limit, binary=binary)))
    return lines


def recompute_text(t: Training) -> str:
    """What checkpointing costs: the MACs backward runs again, beside the forward's."""
    blocks = f"{t.checkpointed:,} checkpointed block{'s' if t.checkpointed != 1 else ''}"
    return f"{numbers.precise(t.recompute_macs)} MACs run again in backward ({blocks}, torch.utils.checkpoint)"


def _master(t: Training) -> str:
    return ", and float32 master weights" if t.precision == "fp16-mixed" else ""
