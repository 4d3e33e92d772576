"""The training step's timeline (convcalc.engine.steptime): its invariants, its report, --max-batch from its peak.

PyTorch is the oracle in tests/test_step_oracle.py (slow); these check what holds whatever the
network: the parts add up, the peak is the highest event, each parameter gets its gradient, the
forward keeps what training.py's saved rules say it keeps (an independent count), and the command
names what the engine finds.
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode), as training_cases.
from training_cases import SPECS  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.steptime import Phase, default_foreach, fit, step_timeline
from convcalc.engine.training import Device, Optimizer, training

# F.local_response_norm multiplies by alpha, a Python number: PyTorch makes it a 0-dim double
# tensor (8 B), which the multiply keeps for backward; kinds.saved's lrn rule leaves it out. So
# does attention's math path (need_weights) with its `q * (D/h)^-1/2` (engine/attnsteps.py).
# A vector's lrn and stochastic depth are not measured against PyTorch (not in any built-in).
_ALPHA = 8
_UNMEASURED = {"lrn-vector"}


@pytest.mark.slow
@pytest.mark.parametrize(("name", "text"), list(SPECS.items()), ids=list(SPECS))
def test_every_kind_and_merge_case_keeps_what_its_saved_rules_say(name: str, text: str) -> None:
    spec = load_spec(f"{name}.yaml", text)
    for batch in (1, 3):
        report = analyze(replace(spec, batch=batch))
        step = step_timeline(spec, report, Optimizer.ADAM)
        assert step is not None
        trained = training(spec, report, optimizer=Optimizer.ADAM)
        block = trained.training
        assert block is not None
        end = [e for e in step.events if e.phase is Phase.FORWARD][-2]  # the last call, before the loss
        lrns = sum(r.kind == "lrn" and bool(r.saved) for r in trained.rows)  # those autograd records
        lrns += sum(r.kind == "attention" and r.config["need_weights"] is True for r in trained.rows)
        if name not in _UNMEASURED:
            assert end.live.saved == block.saved + _ALPHA * lrns, name
        for e in step.events:
            p = e.live
            assert p.weights + p.gradients + p.state + p.saved + p.activations == p.total
            assert e.high >= p.total
        assert step.peak == max(e.high for e in step.events)
        assert [e.phase for e in step.events] == sorted((e.phase for e in step.events), key=list(Phase).index)
        last = step.events[-1].live
        if name.startswith("opaque"):  # its stand-in's output needs no gradient: PyTorch's backward refuses it
            continue
        # cls_token's expand at batch 1 passes a slice of the cat's gradient, which AccumulateGrad
        # takes as .grad (a view, dense): that .grad holds the whole storage (measured: no copy)
        viewed = batch == 1 and any(r.kind == "cls_token" for r in report.rows) and not name.startswith("cls_token")
        assert (last.gradients >= last.weights) if viewed else (last.gradients == last.weights - block.buffers)
        assert last.saved == 0  # backward freed every saved tensor
        assert len({e.live.state for e in step.events}) == 1  # the state is there, all through
        assert last.state == block.optimizer_state


def test_the_largest_batch_is_the_one_whose_own_step_fits() -> None:
    spec = open_spec("lenet5")
    report = analyze(spec)
    limit = 10**8
    f = fit(spec, report, limit, Optimizer.MOMENTUM)
    assert f is not None
    assert f.batch is not None
    peaks = []
    for b in (f.batch, f.batch + 1):
        s = replace(spec, batch=b)
        step = step_timeline(s, analyze(s), Optimizer.MOMENTUM)
        assert step is not None
        peaks.append(step.peak)
    assert peaks == [f.at, f.above]
    assert f.at <= limit < f.above
    none = fit(spec, report, 1000, Optimizer.MOMENTUM)
    assert none is not None
    assert none.batch == 0
    assert none.at > 1000


def test_no_timeline_for_a_network_that_does_not_compute() -> None:
    spec = load_spec("bad.yaml", "input: 4x4x3\nlayers: [conv5-8]\n")
    report = analyze(spec)
    assert step_timeline(spec, report) is None
    assert fit(spec, report, 10**9) is None


def test_foreach_defaults_as_pytorch_does_for_the_device() -> None:
    spec = open_spec("lenet5")
    report = analyze(spec)
    assert default_foreach(Device.CPU) is False
    assert default_foreach(Device.CUDA) is True
    cpu = step_timeline(spec, report, Optimizer.ADAM)
    cuda = step_timeline(spec, report, Optimizer.ADAM, device=Device.CUDA)
    assert cpu is not None
    assert cuda is not None
    assert (cpu.foreach, cuda.foreach) == (False, True)
    # foreach takes every exp_avg_sq's square root at once; per parameter, the largest one's, twice.
    assert cuda.op == "_foreach_sqrt"
    assert cpu.op == "div"


def test_show_train_names_the_phase_and_the_layer_of_the_peak() -> None:
    result = CliRunner().invoke(main, ["show", "resnet50", "--train", "--batch", "64"])
    assert result.exit_code == 0, result.output
    spec = replace(open_spec("resnet50"), batch=64)
    report = analyze(spec)
    step = step_timeline(spec, report)
    assert step is not None
    name = next(r.name for r in report.rows if r.path == step.row)
    out = " ".join(result.stdout.split())
    assert f"at the peak, in {step.phase.value} at row {step.row} ({name}), {step.op}" in out
    assert "sum of the parts below (a breakdown, not the peak)" in out


def test_json_has_the_timeline_with_each_events_parts() -> None:
    result = CliRunner().invoke(main, ["show", "lenet5", "--optimizer", "adam", "--foreach", "--format", "json"])
    data = json.loads(result.stdout)["training"]["step"]
    assert (data["optimizer"], data["foreach"], data["phase"], data["op"]) == ("adam", True, "step", "_foreach_sqrt")
    assert data["peak"] == max(e["high"] for e in data["events"])
    parts = ("weights", "gradients", "state", "saved", "activations")
    assert all(e["live"] == sum(e[p] for p in parts) for e in data["events"])
    assert {e["phase"] for e in data["events"]} == {"forward", "backward", "step"}


def test_markdown_and_the_sum_when_there_is_no_step() -> None:
    md = CliRunner().invoke(main, ["show", "lenet5", "--train", "--format", "markdown"]).stdout
    assert "at the peak, in backward" in md
    bf16 = CliRunner().invoke(main, ["show", "lenet5", "--precision", "bf16"]).stdout
    assert "in all, the sum of the parts (bf16" in " ".join(bf16.split())
    assert "at the peak" not in bf16


@pytest.mark.slow
@pytest.mark.parametrize("name", ["unet", "vgg11", "densenet121"])
def test_builtin_steps_hold_their_invariants(name: str) -> None:
    # U-Net's crop (narrow: a slice whose backward makes the whole input's gradient), VGG's
    # dropout and Linear, DenseNet's concatenations; SGD with and without foreach.
    spec = open_spec(name)
    report = analyze(spec)
    for foreach in (False, True):
        step = step_timeline(spec, report, Optimizer.SGD, foreach=foreach)
        assert step is not None
        last = step.events[-1].live
        assert last.saved == 0
        assert last.state == 0  # plain SGD keeps none
        assert step.peak == max(e.high for e in step.events)
        assert step.phase is Phase.BACKWARD  # SGD makes no temporary: its step is never the peak


def test_a_linear_layer_without_bias_records_mm() -> None:
    spec = load_spec("mm.yaml", "input: 6\nlayers: [fc-4, relu, {fc: {units: 3, bias: false}}]")
    step = step_timeline(spec, analyze(spec))
    assert step is not None
    ops = [e.op for e in step.events if e.phase is Phase.BACKWARD]
    assert ops[:2] == ["SumBackward0", "MmBackward0"]
    assert "AddmmBackward0" in ops  # the first, with its bias


def test_an_uneven_pad_keeps_nothing_and_its_backward_makes_the_unpadded_gradient() -> None:
    spec = load_spec("pad.yaml", "input: 8x8x3\nlayers: [conv3-4 p1, conv4-4 psame]")
    report = analyze(spec)
    step = step_timeline(spec, report)
    assert step is not None
    block = training(spec, report).training
    assert block is not None
    assert [e for e in step.events if e.phase is Phase.FORWARD][-2].live.saved == block.saved
    assert "ConstantPadNdBackward0" in [e.op for e in step.events]
