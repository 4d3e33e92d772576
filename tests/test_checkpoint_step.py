"""The training step's timeline with `checkpoint: true` (issue 26) against PyTorch's CPU allocator.

tests/step_measure.py runs a steady-state step of `convcalc.pytorch.to_module(spec)`, whose
checkpointed blocks run under torch.utils.checkpoint(use_reentrant=False), under torch.profiler:
convcalc's peak equals the measured one to the byte, and so does the live figure after every
autograd node of the backward (the recompute's own events come between them).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from checkpoint_cases import SMALL, resnet50_stages  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.engine.steptime import step_timeline
from convcalc.engine.training import Optimizer

pytest.importorskip("torch")
from step_measure import measure  # type: ignore[import-not-found]

pytestmark = [pytest.mark.torch, pytest.mark.slow]
OPTIMIZERS = (("momentum", False), ("momentum", True), ("adam", False), ("adam", True))


@pytest.mark.parametrize("name", list(SMALL))
def test_a_checkpointed_step_s_peak_and_backward_are_what_pytorch_allocates(name: str) -> None:
    spec = replace(load_spec(f"{name}.yaml", SMALL[name]), batch=2)
    measured = measure(spec, OPTIMIZERS)
    report = analyze(spec)
    for optimizer, foreach in OPTIMIZERS:
        step = step_timeline(spec, report, Optimizer(optimizer), foreach=foreach)
        assert step is not None
        assert step.peak == measured.peak(optimizer, foreach), (optimizer, foreach)
    state = measured.states["adam", False]
    step = step_timeline(spec, report, Optimizer.ADAM)
    assert step is not None
    nodes = [e.live.total for e in step.events if e.phase.value == "backward" and not e.op.startswith("recompute ")]
    assert nodes == [live + state for _, live in measured.backward]
    assert any(e.op.startswith("recompute ") for e in step.events)  # the block ran again in backward


def test_resnet50_with_its_four_stages_checkpointed_peaks_where_pytorch_does() -> None:
    spec = load_spec("r50.yaml", resnet50_stages())
    measured = measure(spec, (("adam", False),))
    report = analyze(spec)
    step = step_timeline(spec, report, Optimizer.ADAM)
    assert step is not None
    assert step.peak == measured.peak("adam", foreach=False)
    plain = load_spec("r50.yaml", resnet50_stages(checkpoint=False))
    unchecked = step_timeline(plain, analyze(plain), Optimizer.ADAM)
    assert unchecked is not None
    assert step.peak < unchecked.peak
    recomputed = {e.row.split(".")[0] for e in step.events if e.op.startswith("recompute ")}
    assert recomputed == {n.path for n in spec.layers[4:8]}  # every stage ran again, nothing else
