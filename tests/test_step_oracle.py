"""PyTorch as the oracle of the training step's timeline: every allocation of the CPU allocator, op by op.

tests/step_measure.py runs `convcalc.pytorch.to_module(spec)` in train mode on CPU in float32:
one steady-state step, `model(x).sum().backward()` then each optimizer's `step()` with its state
there, read from the allocator through torch.profiler. convcalc's timeline
(convcalc.engine.steptime) must give the same peak to the byte, the same live bytes after every
call of the forward and after every autograd node of the backward, and the same nodes in the
same order, for SGD with momentum and Adam, per parameter and foreach.

Every built-in at batch 1 and 8, with the four optimizers (U-Net at batch 8 in
tests/test_step_oracle_unet.py, a worker's own). What keeps it inside CI's time, every check
kept: the forward and backward run once per (net, batch) for the four optimizers; each net's
optimizer steps run once, at the first batch measured (a step that makes each optimizer's state,
then its per-parameter and foreach steps on it), and are reused at the other: what a step
allocates depends on the parameters' shapes, not on the batch, so its rise above the bytes live
when it starts and its state's bytes are the same at every batch, while the bytes live at the
step (parameters, buffers, input, gradients) are measured from the real tensors at each batch
(test_a_steps_rise_and_state_do_not_depend_on_the_batch measures the steps again at batch 8).
The same forward gives the saved-tensors oracle's figure (what autograd keeps, under
saved_tensors_hooks), checked here for the built-ins instead of in tests/test_training_oracle.py:
one run of each net for both oracles. The kind cases whose ops the built-ins have, and issue 25's
(channel split, stochastic depth, layer scale, MBConv), at batch 3 with SGD with momentum; two
`from:` graphs at batch 3. NOT_COVERED: the specs the timeline does not follow to the byte
(convcalc.engine.stepscope's kinds), with why; they have no step figure.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode), as training_cases.
from training_cases import SPECS  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import builtin_names, open_spec
from convcalc.engine.steptime import Phase, step_timeline
from convcalc.engine.training import Optimizer

if TYPE_CHECKING:
    from step_measure import Steps  # type: ignore[import-not-found]

    from convcalc.spec.model import Spec
else:
    pytest.importorskip("torch")

pytestmark = [pytest.mark.torch, pytest.mark.slow]

OPTIMIZERS = (("momentum", False), ("momentum", True), ("adam", False), ("adam", True))
MOMENTUM = (("momentum", False),)
BATCHES = (1, 8)
# Measured in a file of their own (tests/test_step_oracle_unet.py), so that --dist loadfile gives
# them a worker of their own: U-Net at batch 8 is most of a minute and 6.6 GB live.
ALONE = {("unet", 8)}
CASES = (
    "conv-first", "pool-first", "batchnorm-after", "relu-fused", "deconv", "same-uneven-conv",
    "ceil-conv-and-pool", "multiply-first", "squeeze-excitation", "pools", "gap-first",
)  # fmt: skip
# Issue 25's and 27's kinds (channel split, stochastic depth, layer scale, LayerNorm over channels,
# the token kinds, attention's two paths, the MLP, transformer blocks) and `from:` graphs.
NEW_CASES = (
    "shufflenet-units", "chunks-of-the-input", "chunks-multiplied", "stochastic-depth-branches",
    "stochastic-depth-ranks", "scale-places", "layernorm-channels-places", "convnext-block", "mbconv-block",
    "attention-math", "attention-math-dropout", "attention-fused", "attention-fused-dropout",
    "mlp-gelu", "mlp-relu", "mlp-relu-no-dropout", "mlp-identity", "mlp-softsign", "mlp-tanh", "transformer-blocks",
)  # fmt: skip
# Specs the timeline does not follow to the byte: their kinds say so (Kind.step_followed,
# convcalc.engine.stepscope), and `show --train` gives the sum of the parts with the step marked
# not available (test_the_specs_left_out_are_those_without_a_step checks the two lists agree).
# None is left: attention, the token kinds and every mlp activation are followed.
NOT_COVERED: dict[str, str] = {}
GRAPHS = {
    "graph-fork": (
        "input: 8x8x3\nlayers:\n  - {layer: conv1-4, name: a}\n  - {layer: conv3-6 p1, name: b}\n"
        "  - {layer: conv1-2, name: c, from: [a]}\n  - {merge: concat, from: [b, c, input], name: joined}\n"
        "  - {layer: conv1-3, name: d}\n  - {merge: add, from: [d, input]}\n  - {layer: relu, name: r}\n"
        "  - {merge: multiply, from: [input, r], name: m}\n  - {merge: add, from: [d, m]}\n"
        "  - gap\n  - flatten\n  - fc-2"
    ),
    "graph-reads-twice": (
        "input: 6x6x4\nlayers:\n  - {layer: conv1-4, name: a}\n  - {layer: bn, name: b}\n"
        "  - {merge: concat, from: [a, b, a], name: cat}\n  - {layer: conv1-4, from: [cat], name: e}\n"
        "  - {merge: add, from: [a, b, e, input]}"
    ),
}  # every branch reaches the output: a dead one's nodes and saved tensors go when its output does


# Each net's optimizer steps, measured at the first batch the net is checked at and reused at the
# others (tests/step_measure.py: a step's rise and state do not depend on the batch).
STEPS: dict[str, Steps] = {}


def check(spec: Spec, what: str, optimizers: tuple[tuple[str, bool], ...] = OPTIMIZERS, *, key: str = "") -> None:
    """The step's timeline against the measured one; `key` (a net's name): reuse its steps, check its saved bytes."""
    from step_measure import measure  # noqa: PLC0415 - imports torch

    report = analyze(spec)
    m = measure(spec, optimizers, STEPS.get(key))
    if key:
        STEPS.setdefault(key, m.steps)
        # The saved-tensors oracle of tests/test_training_oracle.py, on the same forward.
        block = report.training
        assert block is not None
        assert sum(r.saved or 0 for r in report.rows) == block.saved, what
        assert block.saved == m.saved, f"{what}: saved tensors (torch {torch_version()})"
    for name, foreach in optimizers:
        t = step_timeline(spec, report, Optimizer(name), foreach=foreach)
        assert t is not None
        case = f"{what}, {name}, foreach={foreach}"
        state = m.states[name, foreach]
        forward = [e.live.total - state for e in t.events if e.phase is Phase.FORWARD and e.op != "sum"]
        assert len(forward) == len(m.forward), case
        wrong = [(i, a, b) for i, (a, b) in enumerate(zip(forward, m.forward, strict=True)) if a != b]
        assert not wrong, f"{case}: forward (call, convcalc, measured): {wrong[:3]}"
        backward = [(e.op, e.live.total - state) for e in t.events if e.phase is Phase.BACKWARD]
        measured = [(n.rsplit("::", 1)[-1], b) for n, b in m.backward]
        assert [n for n, _ in backward] == [n for n, _ in measured], f"{case}: the nodes differ"
        wrong = [(i, a, b) for i, (a, b) in enumerate(zip(backward, measured, strict=True)) if a != b]
        assert not wrong, f"{case}: backward (node, convcalc, measured): {wrong[:3]}"
        assert t.peak == m.peak(name, foreach), f"{case}: peak in {t.phase.value} at {t.row} ({t.op})"


def torch_version() -> str:
    import torch  # noqa: PLC0415 - the oracle's

    return str(torch.__version__)


def check_builtin(name: str, batch: int) -> None:
    check(replace(open_spec(name), batch=batch), f"{name} at batch {batch}", key=name)


@pytest.mark.parametrize("name", [n for n in builtin_names() if n not in NOT_COVERED])
@pytest.mark.parametrize("batch", BATCHES)
def test_every_builtin_specs_step_is_pytorchs(name: str, batch: int) -> None:
    if (name, batch) in ALONE:
        pytest.skip("measured in tests/test_step_oracle_unet.py")
    check_builtin(name, batch)


@pytest.mark.parametrize("name", ["lenet5", "resnet18", "alexnet-paper"])
def test_a_steps_rise_and_state_do_not_depend_on_the_batch(name: str) -> None:
    # What lets the oracle measure each net's optimizer steps once (tests/step_measure.py): the
    # steps measured again at batch 8, on batch 8's gradients, rise as those measured at batch 1.
    from step_measure import measure  # noqa: PLC0415 - imports torch

    spec = open_spec(name)
    assert measure(replace(spec, batch=8)).steps == (STEPS.get(name) or measure(spec).steps)


@pytest.mark.parametrize("name", [n for n in CASES + NEW_CASES if n not in NOT_COVERED])
def test_the_kind_cases_steps_are_pytorchs(name: str) -> None:
    check(replace(load_spec(f"{name}.yaml", SPECS[name]), batch=3), f"{name} at batch 3", MOMENTUM)


@pytest.mark.parametrize("name", GRAPHS)
def test_the_graphs_steps_are_pytorchs(name: str) -> None:
    check(replace(load_spec(f"{name}.yaml", GRAPHS[name]), batch=3), f"{name} at batch 3", MOMENTUM)


def test_the_specs_left_out_are_those_without_a_step() -> None:
    specs = {n: open_spec(n) for n in builtin_names()}
    specs |= {n: load_spec(f"{n}.yaml", SPECS[n]) for n in CASES + NEW_CASES}
    without = set()
    for name, spec in specs.items():
        training = analyze(spec).training
        assert training is not None
        assert (training.step is None) == bool(training.step_unavailable), name
        if training.step_unavailable:
            without.add(name)
    assert without == set(NOT_COVERED)


def _memtracker(spec: Spec, optimizer: str) -> int:
    """PyTorch's MemTracker under FakeTensorMode: the peak of a steady-state step (its state made first)."""
    import torch  # noqa: PLC0415 - the oracle's
    from torch._subclasses.fake_tensor import FakeTensorMode  # noqa: PLC0415
    from torch.distributed._tools.mem_tracker import MemTracker  # noqa: PLC0415

    import convcalc.pytorch as cp  # noqa: PLC0415

    with FakeTensorMode():
        module = cp.to_module(spec).module
        module.train()
        x = torch.zeros(spec.batch, spec.input.depth, *spec.input.spatial)
        params = list(module.parameters())
        opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9) if optimizer == "momentum" else torch.optim.Adam(params)
        module(x).sum().backward()
        opt.step()
        opt.zero_grad()
        tracker = MemTracker()
        tracker.track_external(module, opt, x)
        with tracker:
            module(x).sum().backward()
            opt.step()
        snapshot = tracker.get_tracker_snapshot("peak")
    return sum(int(v["Total"]) for v in snapshot.values())


@pytest.mark.parametrize(("name", "optimizer", "more"), [("lenet5", "momentum", 0), ("vgg11", "adam", 8)])
def test_memtracker_under_fake_tensors_agrees(name: str, optimizer: str, more: int) -> None:
    # A second opinion, no computation (fake tensors). It does not see the 8-byte tensor that
    # Python's number becomes in Adam's `exp_avg_sq.sqrt() / bias_correction2_sqrt` (VGG11's peak
    # is in that step), and, a dispatch mode, it makes the engine add gradients out of place: its
    # ResNet-18 figure is 200,704 B above the eager step's (docs/peak-memory.md). Chains agree.
    spec = open_spec(name)
    step = step_timeline(spec, analyze(spec), Optimizer(optimizer))
    assert step is not None
    assert step.peak == _memtracker(spec, optimizer) + more
