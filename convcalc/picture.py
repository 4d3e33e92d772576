"""`convcalc.memory_picture` and `convcalc draw --memory`: a step's live memory, drawn (issue 26).

    >>> picture = convcalc.memory_picture("resnet50", batch=8)   # a notebook cell shows the SVG
    >>> picture.svg[:5]
    '<?xml'

The training step is convcalc.engine.steptime's (forward, backward, the optimizer's step, by
part); `inference=True` draws convcalc.engine.timeline's eval pass instead, whose parts are the
weights and buffers, and the activations (the input among them). Both go through the same
drawing (convcalc.render.memory).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import ConvcalcError
from convcalc.render import numbers
from convcalc.render.diagram import qualified_names
from convcalc.render.memory import Picture, Sample, render_memory
from convcalc.spec.checkpoint import regions

if TYPE_CHECKING:
    import os

    from convcalc.report import Report
    from convcalc.spec.model import Spec


def blocks(report: Report) -> dict[str, str]:
    """Each row's top-level layer or block, by name (layer3.2 for its conv2; the row's own name at the top)."""
    groups = {g.path: g.name for g in report.groups}
    rows = {r.path: r.name for r in report.rows}
    out = {}
    for r in report.rows:
        top = r.path.split(".")[0]
        out[r.path] = groups.get(top) or rows.get(top) or r.name
    return out


def step_samples(spec: Spec, report: Report, optimizer: str, *, foreach: bool) -> tuple[list[Sample], int, str]:
    """The training step's events as samples, the peak's index, and a line on what it is."""
    from convcalc.engine.steptime import step_timeline  # noqa: PLC0415 - only the picture needs it
    from convcalc.engine.training import Optimizer  # noqa: PLC0415

    step = step_timeline(spec, report, Optimizer(optimizer), foreach=foreach)
    if step is None:
        raise ConvcalcError("the spec has a layer convcalc cannot compute; fix it (see `convcalc show`) first")
    samples = [
        Sample(
            e.phase.value,
            e.row,
            e.op,
            (e.live.weights, e.live.state, e.live.gradients, e.live.saved, e.live.activations),
            e.high,
        )
        for e in step.events
    ]
    at = max(range(len(samples)), key=lambda i: samples[i].high)
    what = f"one training step, {optimizer}{', foreach' if foreach else ''}, float32, as eager PyTorch runs it on CPU"
    return samples, at, what


def inference_samples(spec: Spec, report: Report) -> tuple[list[Sample], int, str]:
    """The eval pass's events as samples (weights and buffers, then the rest), the peak's index, what it is."""
    from convcalc.engine.timeline import timeline  # noqa: PLC0415

    peak = timeline(spec, report)
    if peak is None:
        raise ConvcalcError("the spec has a layer convcalc cannot compute; fix it (see `convcalc show`) first")
    fixed = peak.weights + peak.buffers
    samples = [Sample("inference", e.row, e.call, (fixed, 0, 0, 0, e.live - fixed), e.high) for e in peak.events]
    at = max(range(len(samples)), key=lambda i: samples[i].high)
    return samples, at, "one inference pass, eval mode under torch.no_grad(), float32"


def picture_of(
    spec: Spec, report: Report, *, inference: bool = False, optimizer: str = "adam", foreach: bool = False
) -> Picture:
    """The figure of the spec's step (or inference pass) at the report's batch."""
    if inference:
        samples, at, what = inference_samples(spec, report)
    else:
        samples, at, what = step_samples(spec, report, optimizer, foreach=foreach)
    peak = samples[at]
    where = qualified_names(report).get(peak.row, peak.row) or "the whole network"
    title = f"{report.name}: live memory of {'an inference pass' if inference else 'a training step'}"
    at_peak = f"peak {numbers.size(peak.high)} ({peak.high:,} B) in {peak.phase}, at {where} ({peak.op})"
    caption = [
        f"{what}, batch {report.batch}",
        f"{at_peak}; a column per layer and phase, its parts at its highest moment",
    ]
    checkpointed = [n.name for n in regions(spec.layers)]
    if checkpointed and not inference:
        caption.append(
            f"checkpointed: {', '.join(checkpointed)}; backward runs their forward again (the ops named recompute)"
        )
    return render_memory(samples, title, caption, qualified_names(report), blocks(report), peak_at=at)


def memory_picture(
    source: Spec | str | os.PathLike[str] | dict[str, Any],
    *,
    batch: int | None = None,
    inference: bool = False,
    optimizer: str = "adam",
    foreach: bool = False,
) -> Picture:
    """The live memory of a training step (or `inference` pass) of a spec, as an SVG a notebook shows."""
    from convcalc.api import overridden, to_spec  # noqa: PLC0415
    from convcalc.engine.analyze import analyze  # noqa: PLC0415

    spec = overridden(to_spec(source), batch=batch)
    return picture_of(spec, analyze(spec), inference=inference, optimizer=optimizer, foreach=foreach)
