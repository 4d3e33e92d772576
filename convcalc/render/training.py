"""The training block of `show --train`, as (label, text) lines for the table and Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.render import numbers

if TYPE_CHECKING:
    from convcalc.report import Report, Training

_STATE = {
    "sgd": "plain SGD keeps none",
    "momentum": "a momentum buffer per param",
    "adam": "exp_avg and exp_avg_sq per param",
    "adamw": "exp_avg and exp_avg_sq per param",
}


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
    """The block's lines: the total and what it is made of; [] when the report has none."""
    t = report.training
    if t is None:
        return []

    def size(n: int) -> str:
        return numbers.size(n, binary=binary)

    setup = f"{t.precision}, {t.optimizer}, {t.device}, batch {t.batch}"
    lines = [
        ("Training", f"{size(t.total)} in all, a lower bound of the peak ({setup})"),
        ("  weights", size(t.weights)),
    ]
    if t.buffers:
        lines.append(("  buffers", f"{size(t.buffers)} (batchnorm's running statistics)"))
    lines += [
        ("  gradients", size(t.gradients)),
        ("  optimizer", f"{size(t.optimizer_state)} ({_STATE[t.optimizer]}{_master(t)})"),
        ("  saved", f"{size(t.saved)} kept by autograd for backward"),
    ]
    if limit is not None:
        lines.append(("  max batch", max_batch_text(t, limit, binary=binary)))
    return lines


def _master(t: Training) -> str:
    return ", and float32 master weights" if t.precision == "fp16-mixed" else ""
