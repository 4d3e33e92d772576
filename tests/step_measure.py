"""The measured memory of one steady-state training step: every storage from the op that makes it to its release.

On CPU in float32, `convcalc.pytorch.to_module(spec)` in train mode runs `model(x).sum().backward()`
with every `.grad` None (zero_grad()), then each optimizer's `step()` with its state already there
(one step run before, outside the measurement). Under peak_measure's TorchDispatchMode, a storage
an ATen op returns that was not there before is live until a weakref finalizer on it runs.

The forward and backward run once; the four optimizer steps (SGD with momentum and Adam, each
per parameter and `foreach`) then run on the gradients that backward left, each measured from
what is there then (parameters, buffers, input, gradients, its state). Their state does not
exist during the measured backward, so its bytes are added to the forward and backward figures
(`Measured.peak`): the state is there, untouched, all through a steady-state step.

`forward` is the live figure after each call of the forward (as peak_measure), `backward` after
each autograd node runs (a post hook: its outputs made, its inputs and saved tensors not yet released).
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from peak_measure import _Track  # type: ignore[import-not-found]

import convcalc.pytorch as cp

if TYPE_CHECKING:
    from convcalc.spec.model import Spec

OPTIMIZERS = (("momentum", False), ("momentum", True), ("adam", False), ("adam", True))


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


def _nodes(root: Any) -> list[Any]:
    seen: dict[int, Any] = {}
    todo = [root]
    while todo:
        n = todo.pop()
        if n is None or id(n) in seen:
            continue
        seen[id(n)] = n
        todo += [f for f, _ in n.next_functions]
    return list(seen.values())


def _storages(tensors: Any) -> dict[int, int]:
    return {t.untyped_storage().data_ptr(): t.untyped_storage().nbytes() for t in tensors}


def _optimizer(name: str, params: list[torch.Tensor], *, foreach: bool) -> torch.optim.Optimizer:
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
    held = _storages((*params, *module.buffers(), x))
    gc.collect()
    track = _Track(held)
    forward: list[int] = []
    backward: list[tuple[str, int]] = []

    def after(call: Any) -> Any:
        def run(*a: Any) -> Any:
            out = call(*a)
            forward.append(track.now)
            return out

        return run

    module.steps = [None if calls is None else [after(c) for c in calls] for calls in module.steps]
    join, function = cp.join, cp.function
    cp.join = after(join)
    cp.function = lambda step: after(function(step))
    try:
        with track:
            loss = module(x).sum()
            for n in _nodes(loss.grad_fn):
                n.register_hook(lambda _gi, _go, n=n: backward.append((n.name(), track.now)))
            loss.backward()
            del loss
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
        there = _storages((*params, *module.buffers(), x, *(p.grad for p in params), *_state(opt)))
        step = _Track(there)
        with step:
            opt.step()
        states[name, foreach] = sum(_storages(_state(opt)).values())
        steps[name, foreach] = step.peak
        del opt
    return Measured(track.base, forward, backward, track.peak, states, steps)
