"""The measured memory of one steady-state training step, from PyTorch's CPU allocator, op by op.

On CPU in float32, `convcalc.pytorch.to_module(spec)` in train mode runs `model(x).sum().backward()`
with every `.grad` None (zero_grad()), then each optimizer's `step()` with its state already there
(one step run before, outside the measurement).

Why not peak_measure's TorchDispatchMode: a Python dispatch mode wraps every op's outputs in
Python objects, and then the autograd engine, which adds a second gradient in place only into a
tensor nothing else holds (input_buffer.cpp's can_accumulate_inplace), adds out of place: the
mode changes what it measures (ResNet-18's peak by 200,704 B). `torch.profiler` with
`profile_memory=True` records every allocation and free of the CPU allocator, in order, inside
the tree of ops, and changes nothing. Live bytes are those there before (parameters, buffers,
input; for a step also the gradients and the state) plus the allocations since; they are read at
the end of each outermost ATen op (what a dispatch mode sees: the temporaries an op frees before
it returns are not counted, as convcalc does not count them) and at the marks below.

The forward and backward run once per (net, batch). The same forward is the saved-tensors
oracle's (tests/test_training_oracle.py's rule): under saved_tensors_hooks, the bytes autograd
keeps, each storage once, parameters and buffers left out (`Measured.saved`); the hook only
detaches, it allocates nothing, so the profiler's figures are those without it.

The four optimizer steps (SGD with momentum and Adam, each per parameter and `foreach`) run on
the gradients backward left, once per net (`measure_steps`: a step that makes the state, then
the per-parameter step and the foreach one on the same state, the group's `foreach` switched):
what a step allocates depends on the parameters' shapes alone, not on the batch, so its rise
above the bytes live when it starts (`Steps.rises`) and its state's bytes are measured at one
batch and reused at the others, while the bytes live at the step (parameters, buffers, the
input, the gradients) are measured from the real tensors at each batch (`Measured.at_step`).
tests/test_step_oracle.py checks that reuse: steps measured at batch 8 rise as at batch 1. The
state does not exist during the measured backward, so its bytes are added to the forward and
backward figures (`Measured.peak`): the state is there, untouched, all through a steady-state step.

`forward` is the live figure right after each call of the forward (a mark), `backward` after
each autograd node has run (the end of its evaluate_function: its gradients passed on, what it
received and saved freed), with the node's name.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch._C._profiler import _EventType
from torch.profiler import profile, record_function

import convcalc.pytorch as cp

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.spec.model import Spec

OPTIMIZERS = (("momentum", False), ("momentum", True), ("adam", False), ("adam", True))
_MARK = "convcalc.mark"
_NODE = "autograd::engine::evaluate_function: "


Key = tuple[str, bool]  # (optimizer, foreach)


@dataclass(frozen=True, slots=True)
class Steps:
    """Each optimizer's step, by (name, foreach): the same at every batch (the module's docstring)."""

    states: dict[Key, int]  # the optimizer state's bytes
    rises: dict[Key, int]  # the most during the step less the bytes live when it starts


@dataclass(frozen=True, slots=True)
class Measured:
    """One step's figures: forward and backward once, the optimizer steps by (name, foreach)."""

    base: int  # parameters, buffers and input
    forward: list[int]
    backward: list[tuple[str, int]]  # (node name, live after it)
    backward_peak: int  # the most in forward and backward
    saved: int  # the bytes autograd kept in the forward (tensors saved for backward)
    at_step: int  # live when the step starts, the state left out: parameters, buffers, input, gradients
    steps: Steps

    @property
    def states(self) -> dict[Key, int]:
        return self.steps.states

    def peak(self, optimizer: str, foreach: bool) -> int:  # noqa: FBT001 - the key's parts
        """The step's peak with this optimizer: its state is there in forward and backward too."""
        key = optimizer, foreach
        state = self.steps.states[key]
        return max(self.backward_peak + state, self.at_step + state + self.steps.rises[key])


class _Reader:
    """Walks the profiler's event tree in order: the running total, its most at op ends, the marks."""

    def __init__(self, base: int) -> None:
        self.now = base
        self.peak = base
        self.marks: list[int] = []
        self.nodes: list[tuple[str, int]] = []

    def walk(self, events: list[Any], *, inside: bool = False) -> None:
        for e in sorted(events, key=lambda e: e.start_time_ns):
            if e.tag == _EventType.Allocation:
                self.now += e.extra_fields.alloc_size
                continue
            if e.name == _MARK:
                self.marks.append(self.now)
                continue
            aten = e.name.startswith("aten::")
            self.walk(e.children, inside=inside or aten)
            if aten and not inside:
                self.peak = max(self.peak, self.now)
            if e.name.startswith(_NODE):
                self.nodes.append((e.name[len(_NODE) :], self.now))


def _profiled(base: int, run: Callable[[], None]) -> _Reader:
    with profile(activities=[torch.profiler.ProfilerActivity.CPU], profile_memory=True) as p:
        run()
    reader = _Reader(base)
    reader.walk(p.profiler.kineto_results.experimental_event_tree())
    return reader


def _bytes(tensors: Any) -> int:
    return sum({t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}.values())


def _optimizer(name: str, params: list[torch.nn.Parameter], *, foreach: bool) -> torch.optim.Optimizer:
    if name == "momentum":
        return torch.optim.SGD(params, lr=1e-3, momentum=0.9, foreach=foreach)
    return torch.optim.Adam(params, lr=1e-3, foreach=foreach)


def _state(opt: torch.optim.Optimizer) -> list[torch.Tensor]:
    return [t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)]


def measure_steps(params: list[torch.nn.Parameter], there: int, optimizers: tuple[Key, ...] = OPTIMIZERS) -> Steps:
    """Each optimizer's step on the gradients there: one step makes the state, then each path is measured on it.

    `there` is every byte live but the state's. The gradients are left as they were (a step
    changes the parameters and the state, not `.grad`).
    """
    states: dict[Key, int] = {}
    rises: dict[Key, int] = {}
    for name in dict.fromkeys(n for n, _ in optimizers):
        opt = _optimizer(name, params, foreach=False)
        opt.step()  # the state made: each measured step is a steady one
        state = _bytes(_state(opt))
        for foreach in (f for n, f in optimizers if n == name):
            for group in opt.param_groups:
                group["foreach"] = foreach
            gc.collect()
            states[name, foreach] = state
            rises[name, foreach] = _profiled(there + state, opt.step).peak - there - state
        del opt
    return Steps(states, rises)


def measure(spec: Spec, optimizers: tuple[Key, ...] = OPTIMIZERS, steps: Steps | None = None) -> Measured:
    """The step's figures for the spec's module at its batch (see the module's docstring).

    `steps`: the optimizers' steps measured on this net at another batch, reused; None measures them here.
    """
    module = cp.to_module(spec).module
    module.train()
    v = spec.input
    x = torch.zeros(spec.batch, v.depth, *v.spatial)
    params = list(module.parameters())
    held = (*params, *module.buffers())
    base = _bytes((*held, x))
    own = {t.untyped_storage().data_ptr() for t in held}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in own:
            kept[storage.data_ptr()] = storage.nbytes()
        return t.detach()  # no reference cycle through autograd's graph (tests/test_training_oracle.py)

    def after(call: Any) -> Any:
        def run(*a: Any) -> Any:
            out = call(*a)
            with record_function(_MARK):
                pass
            return out

        return run

    def step() -> None:
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            out = module(x).sum()
        out.backward()

    module.steps = [None if calls is None else [after(c) for c in calls] for calls in module.steps]
    join, function = cp.join, cp.function
    cp.join = after(join)
    cp.function = lambda step: after(function(step))
    gc.collect()
    try:
        run = _profiled(base, step)
    finally:
        cp.join, cp.function = join, function
    at_step = _bytes((*held, x, *(p.grad for p in params if p.grad is not None)))
    if steps is None:
        steps = measure_steps(params, at_step, optimizers)
    return Measured(base, run.marks, run.nodes, run.peak, sum(kept.values()), at_step, steps)
