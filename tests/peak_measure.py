"""The measured inference peak of a spec's module: every storage from the op that makes it to its release.

One eval-mode forward under no_grad, on CPU in float32, of `convcalc.pytorch.to_module(spec)`,
under a TorchDispatchMode that sees each ATen op's outputs: a storage it has not seen is live
from then until a weakref finalizer on its untyped storage runs (PyTorch keeps one Python
object per storage while the storage lives). Live bytes are the parameters, buffers and input
(there before the pass) plus those storages. `boundaries` is the live figure right after each
call of the module's forward (a module, a function, a merge), in order: the tests compare
convcalc's timeline with it.
"""

from __future__ import annotations

import gc
import weakref
from typing import TYPE_CHECKING, Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_flatten

import convcalc.pytorch as cp

if TYPE_CHECKING:
    from convcalc.spec.model import Spec


class _Track(TorchDispatchMode):  # type: ignore[no-untyped-call]  # torch's __init_subclass__
    def __init__(self, held: dict[int, int]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.held = held  # the addresses of the storages there before the pass: never freed in it
        base = sum(held.values())
        self.live: dict[int, int] = {}  # id of a storage made in the pass -> bytes
        self.base = base
        self.now = base
        self.peak = base
        self.ops: list[tuple[str, int]] = []

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        out = func(*args, **(kwargs or {}))
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                s = t.untyped_storage()
                if id(s) not in self.live and s.nbytes() and s.data_ptr() not in self.held:
                    self.live[id(s)] = s.nbytes()
                    self.now += s.nbytes()
                    weakref.finalize(s, self._free, id(s))
        self.peak = max(self.peak, self.now)
        self.ops.append((str(func), self.now))
        return out

    def _free(self, key: int) -> None:
        self.now -= self.live.pop(key)


def measure(spec: Spec) -> tuple[int, list[int], list[tuple[str, int]]]:
    """(the peak, the live bytes after each call of the forward, every ATen op with the live bytes after it)."""
    module = cp.to_module(spec).module
    module.eval()
    v = spec.input
    x = torch.zeros(spec.batch, v.depth, *v.spatial)
    held = {
        t.untyped_storage().data_ptr(): t.untyped_storage().nbytes()
        for t in (*module.parameters(), *module.buffers(), x)
    }
    gc.collect()
    track = _Track(held)
    boundaries: list[int] = []

    def after(call: Any) -> Any:
        def run(*a: Any) -> Any:
            out = call(*a)
            boundaries.append(track.now)
            return out

        return run

    module.steps = [None if calls is None else [after(c) for c in calls] for calls in module.steps]
    join, function = cp.join, cp.function
    cp.join = after(join)
    cp.function = lambda step: after(function(step))
    try:
        with torch.no_grad(), track:
            out = module(x)
        del out
    finally:
        cp.join, cp.function = join, function
    return track.peak, boundaries, track.ops
