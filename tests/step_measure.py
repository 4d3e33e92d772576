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

The forward and backward run once; the four optimizer steps (SGD with momentum and Adam, each
per parameter and `foreach`) then run on the gradients backward left. Their state does not
exist during the measured backward, so its bytes are added to the forward and backward figures
(`Measured.peak`): the state is there, untouched, all through a steady-state step.

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


@dataclass(frozen=True, slots=True)
class Measured:
    """One step's figures: forward and backward once, the optimizer steps by (name, foreach)."""

    base: int  # parameters, buffers and input
    forward: list[int]
    backward: list[tuple[str, int]]  # (node name, live after it)
    backward_peak: int  # the most in forward and backward
    states: dict[tuple[str, bool], int]  # the optimizer state's bytes
    steps: dict[tuple[str, bool], int]  # the most during the step

    def peak(self, optimizer: str, foreach: bool) -> int:  # noqa: FBT001 - the key's parts
        """The step's peak with this optimizer: its state is there in forward and backward too."""
        return max(self.backward_peak + self.states[optimizer, foreach], self.steps[optimizer, foreach])


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


def measure(spec: Spec, optimizers: tuple[tuple[str, bool], ...] = OPTIMIZERS) -> Measured:
    """The step's figures for the spec's module at its batch (see the module's docstring)."""
    module = cp.to_module(spec).module
    module.train()
    v = spec.input
    x = torch.zeros(spec.batch, v.depth, *v.spatial)
    params = list(module.parameters())
    base = _bytes((*params, *module.buffers(), x))

    def after(call: Any) -> Any:
        def run(*a: Any) -> Any:
            out = call(*a)
            with record_function(_MARK):
                pass
            return out

        return run

    module.steps = [None if calls is None else [after(c) for c in calls] for calls in module.steps]
    join, function = cp.join, cp.function
    cp.join = after(join)
    cp.function = lambda step: after(function(step))
    gc.collect()
    try:
        step = _profiled(base, lambda: module(x).sum().backward())
    finally:
        cp.join, cp.function = join, function
    states: dict[tuple[str, bool], int] = {}
    steps: dict[tuple[str, bool], int] = {}
    for name, foreach in optimizers:
        grads = [p.grad.clone() for p in params if p.grad is not None]
        opt = _optimizer(name, params, foreach=foreach)
        opt.step()  # the state made: the measured step is a steady one
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        del grads
        gc.collect()
        there = _bytes((*params, *module.buffers(), x, *(p.grad for p in params if p.grad is not None), *_state(opt)))
        steps[name, foreach] = _profiled(there, opt.step).peak
        states[name, foreach] = _bytes(_state(opt))
        del opt
    return Measured(base, step.marks, step.nodes, step.peak, states, steps)
