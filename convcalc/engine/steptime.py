"""The memory timeline of one training step (issue 26): live bytes after every op, by part, and the peak.

One steady-state step of `convcalc.pytorch.to_module(spec)` in train mode, float32, as eager
PyTorch runs it on CPU:

    model(x).sum().backward()   # every .grad None before (zero_grad()); the state already there
    optimizer.step()

- forward (convcalc.engine.recorder): each call makes its output; autograd's nodes hold what
  they save; names hold their values until assigned again; the output is summed and dropped;
- backward (convcalc.engine.autograd): the engine's order and buffers; each node makes its
  gradients while what it received and saved is alive, then frees them; a parameter's gradient
  is kept from its AccumulateGrad on;
- the optimizer's step, with its temporaries (torch/optim/sgd.py, adam.py, torch 2.13): SGD with
  momentum makes none, per parameter or foreach; Adam per parameter makes `exp_avg_sq.sqrt()`
  and its quotient by the bias correction for each parameter, while the previous parameter's
  `denom` is still held; Adam foreach makes `torch.tensor(1.0)` for the steps, then the square
  roots of every exp_avg_sq at once (`_foreach_sqrt`), divided in place. foreach is PyTorch's
  default on CUDA, not on CPU (optimizer.py's _default_to_fused_or_foreach).

Counted: every storage alive (parameters, buffers, gradients, optimizer state, input,
activations, their gradients). An event's `live` is right after its op (its results made, what
it frees not yet freed), `high` the most during it; the peak is the highest `high`.
tests/test_step_oracle.py measures it (docs/peak-memory.md has the model and its limits).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

from convcalc.bridges.program import program
from convcalc.engine.autograd import Graph
from convcalc.engine.recompute import forward
from convcalc.engine.tape import Memory, Part, Parts
from convcalc.engine.training import Device, Optimizer

if TYPE_CHECKING:
    from convcalc.bridges.program import Program
    from convcalc.report import Report
    from convcalc.spec.model import Spec

_FLOAT = 4
_COUNT = 8  # batchnorm's num_batches_tracked
_STEP = 4  # Adam's step: a float32 scalar tensor per parameter, on the host
# A Python number given where an op takes a tensor (`buf.mul_(0.9)`, `t / 2.0`) becomes a 0-dim
# double tensor for the call (PyTorch's wrapped number): 8 bytes while the op runs.
_WRAPPED = 8


class Phase(str, Enum):
    """Where in the step an event is."""

    FORWARD = "forward"
    BACKWARD = "backward"
    STEP = "step"


@dataclass(frozen=True, slots=True)
class StepEvent:
    """One op of the step: its phase, its row, what ran, the live bytes by part right after it, the most during it."""

    phase: Phase
    row: str
    op: str
    live: Parts
    high: int
    at_high: Parts  # the live bytes by part at the most (its temporaries as activations)


@dataclass(frozen=True, slots=True)
class Step:
    """The step's timeline: the peak, the event that reaches it, and every event."""

    optimizer: str
    foreach: bool
    batch: int
    peak: int
    phase: Phase
    row: str
    op: str
    events: tuple[StepEvent, ...]


class _Log:
    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.events: list[StepEvent] = []

    def add(self, phase: Phase, row: str, op: str, high: int | Parts | None = None) -> None:
        """The event after an op: `high` the most during it, as bytes beside the live ones or as parts."""
        live = self.memory.parts()
        if isinstance(high, int):
            high = self.memory.parts(max(high - live.total, 0))
        at = live if high is None or high.total < live.total else high
        self.events.append(StepEvent(phase, row, op, live, at.total, at))


def default_foreach(device: Device) -> bool:
    """PyTorch's default for `foreach`: on when every parameter is on CUDA (_default_to_fused_or_foreach)."""
    return device is Device.CUDA


def step_timeline(  # noqa: PLR0913 - the spec, its report, and the options of the step
    spec: Spec,
    report: Report,
    optimizer: Optimizer = Optimizer.SGD,
    *,
    foreach: bool | None = None,
    device: Device = Device.CPU,
    batch: int | None = None,
) -> Step | None:
    """One steady-state training step's timeline (at the report's batch, or `batch`); None when a row failed.

    `foreach` defaults as PyTorch's does for the device. The ops follow PyTorch's CPU kernels
    whatever the device; on CUDA, Adam's steps are host tensors, not counted.
    """
    if report.totals.output is None:
        return None
    return _run(spec, report, program(spec, report), _Setup(optimizer, foreach, device, batch or report.batch))


@dataclass(frozen=True, slots=True)
class Fit:
    """The largest batch whose step peaks within `limit` (0: none), with the peaks at it and at one more."""

    limit: int
    batch: int
    at: int  # the peak at `batch` (at batch 1 when none fits)
    above: int  # the peak at `batch` + 1


def fit(  # noqa: PLR0913 - the spec, its report, the limit and the options of the step
    spec: Spec,
    report: Report,
    limit: int,
    optimizer: Optimizer = Optimizer.SGD,
    *,
    foreach: bool | None = None,
    device: Device = Device.CPU,
) -> Fit | None:
    """The largest batch whose step's peak fits in `limit` bytes; None when a row failed.

    The step runs the same ops at every batch from 2 on, and each storage is a number of bytes
    per image times the batch, or fixed: each event's bytes are a + b·batch, read from batches 2
    and 3, and the peak at any batch is the most of them. Batch 1 is run as it is: some of its
    reshapes are views where a larger batch copies (convcalc.engine.strided), and cls_token's
    gradient is a slice of another's.
    """
    if report.totals.output is None:
        return None
    prog = program(spec, report)
    one, two, three = (_run(spec, report, prog, _Setup(optimizer, foreach, device, b)) for b in (1, 2, 3))
    lines = [(3 * e.high - 2 * f.high, f.high - e.high) for e, f in zip(two.events, three.events, strict=True)]

    def peak(b: int) -> int:
        return one.peak if b == 1 else max(a + per * b for a, per in lines)

    if peak(1) > limit:
        return Fit(limit, 0, peak(1), peak(2))
    # The input is there all through and grows with the batch: every event grows.
    b = max(1, min((limit - a) // per for a, per in lines))
    return Fit(limit, b, peak(b), peak(b + 1))


@dataclass(frozen=True, slots=True)
class _Setup:
    optimizer: Optimizer
    foreach: bool | None
    device: Device
    batch: int


def _run(spec: Spec, report: Report, prog: Program, setup: _Setup) -> Step:
    memory = Memory()
    graph = Graph(memory)
    log = _Log(memory)
    b = setup.batch
    x = graph.new(b * spec.input.values * _FLOAT)
    fwd = forward(  # checkpointed blocks run again in backward (convcalc.engine.recompute)
        report,
        prog,
        graph,
        lambda row, op, high: log.add(Phase.FORWARD, row, op, high),
        lambda row, op, high: log.add(Phase.BACKWARD, row, f"recompute {op}", high),
        batch=b,
    )
    owned = {a.row for a in prog.attributes}
    norms = [r for r in report.rows if r.path in owned and r.buffers]
    graph.new(sum(r.buffers * _FLOAT + _COUNT for r in norms), Part.WEIGHTS)  # never dropped
    params = [(a.row, t) for a in prog.attributes for t in fwd.params[a.path]]
    opt = setup.optimizer
    adam = opt in {Optimizer.ADAM, Optimizer.ADAMW}
    steps = _STEP * len(params) if adam and setup.device is Device.CPU else 0
    graph.new(sum(t.bytes for _, t in params) * opt.slots + steps, Part.STATE)
    out = fwd.run(prog, x)
    last = report.rows[-1].path
    root = graph.node("SumBackward0", last, [out], lambda g: [g[0].view()])
    loss = graph.new(_FLOAT, fn=root)
    log.add(Phase.FORWARD, last, "sum")
    out.drop()
    seed = graph.new(_FLOAT)  # torch.ones_like(loss)
    graph.backward(root, seed, lambda n, high: log.add(Phase.BACKWARD, n.row, _short(n.name), high))
    seed.drop()
    loss.drop()
    foreach = default_foreach(setup.device) if setup.foreach is None else setup.foreach
    _optimizer_step(log, [(row, t.bytes) for row, t in params], opt, foreach=foreach)
    top = max(log.events, key=lambda e: e.high)
    return Step(opt.value, foreach, b, top.high, top.phase, top.row, top.op, tuple(log.events))


def _short(name: str) -> str:
    return name.rsplit("::", 1)[-1]


def _optimizer_step(log: _Log, params: list[tuple[str, int]], optimizer: Optimizer, *, foreach: bool) -> None:
    """The step's events: one per parameter, or per foreach op, with the temporaries each makes (module docstring)."""
    total = log.memory.total
    if optimizer in {Optimizer.SGD, Optimizer.MOMENTUM}:  # in place: buf.mul_(m).add_(grad); param.add_(buf)
        if foreach:
            log.add(Phase.STEP, "", "_foreach_add_")
        for row, _ in [] if foreach else params:
            log.add(
                Phase.STEP,
                row,
                "mul_" if optimizer is Optimizer.MOMENTUM else "add_",
                total + _WRAPPED * (optimizer is Optimizer.MOMENTUM),
            )
        return
    if foreach:
        log.add(Phase.STEP, "", "_foreach_add_", total + _STEP)  # the steps += torch.tensor(1.0)
        log.add(Phase.STEP, "", "_foreach_sqrt", total + sum(n for _, n in params))
        log.add(Phase.STEP, "", "_foreach_addcdiv_")
        return
    previous = 0  # the last parameter's denom, held until the next is assigned
    for row, n in params:
        log.add(Phase.STEP, row, "div", total + previous + 2 * n + _WRAPPED)  # exp_avg_sq.sqrt() / bc2_sqrt
        previous = n
    log.add(Phase.STEP, "", "addcdiv_")
