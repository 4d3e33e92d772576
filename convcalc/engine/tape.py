"""The storages, tensors and autograd nodes of a simulated training step (convcalc.engine.steptime).

Eager PyTorch frees a storage when the last tensor on it goes, and a tensor when its last holder
goes: a name of the forward, an autograd node that saved it, a gradient buffer of the backward
engine. The classes here count those holders and keep the live bytes by part (Parts), so that
each event of the step reads them in constant time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class Part(str, Enum):
    """What a storage is, for the breakdown of live bytes."""

    WEIGHTS = "weights"  # parameters and buffers
    GRADIENTS = "gradients"  # the parameters' .grad
    STATE = "state"  # the optimizer's
    SAVED = "saved"  # an activation an autograd node holds for backward
    ACTIVATIONS = "activations"  # the input, outputs held by names, gradients of activations, temporaries


@dataclass(frozen=True, slots=True)
class Parts:
    """Live bytes by part, at one moment of the step."""

    weights: int
    gradients: int
    state: int
    saved: int
    activations: int

    @property
    def total(self) -> int:
        """Every storage alive."""
        return self.weights + self.gradients + self.state + self.saved + self.activations


class Memory:
    """The live bytes by part."""

    def __init__(self) -> None:
        self.bytes = dict.fromkeys(Part, 0)

    @property
    def total(self) -> int:
        return sum(self.bytes.values())

    def parts(self, more: int = 0) -> Parts:
        """The live bytes by part, with `more` bytes of activations (an op's temporaries)."""
        b = self.bytes
        return Parts(b[Part.WEIGHTS], b[Part.GRADIENTS], b[Part.STATE], b[Part.SAVED], b[Part.ACTIVATIONS] + more)


class Storage:
    """Bytes that live while a tensor is on them; `saves` counts the nodes holding a tensor on them."""

    __slots__ = ("bytes", "memory", "part", "saves", "tensors")

    def __init__(self, memory: Memory, size: int, part: Part = Part.ACTIVATIONS) -> None:
        self.memory = memory
        self.bytes = size
        self.part = part
        self.tensors = 0
        self.saves = 0
        memory.bytes[part] += size

    def move(self, part: Part) -> None:
        self.memory.bytes[self.part] -= self.bytes
        self.part = part
        self.memory.bytes[part] += self.bytes

    def shown(self) -> Part:
        return Part.SAVED if self.part is Part.ACTIVATIONS and self.saves else self.part


class Tensor:
    """A tensor on a storage: its bytes (a view's may be fewer), its holders, its autograd node.

    `is_view`: made by a view op (a slice, a reshape, a transpose). PyTorch's view holds its base
    tensor (autograd's ViewInfo), so its storage has two holders and the backward engine never
    adds a second gradient into it in place.
    """

    __slots__ = ("bytes", "channels_last", "fn", "holders", "is_view", "layout", "storage", "strided")

    def __init__(self, storage: Storage, size: int, *, fn: Node | None = None, is_view: bool = False) -> None:
        self.storage = storage
        self.bytes = size
        self.fn = fn  # the node that made it (grad_fn), or the AccumulateGrad of a parameter
        self.is_view = is_view
        self.holders = 0
        self.strided = False  # not contiguous (a slice of a channel or a position): reshape is an alias
        self.channels_last = False  # strided too, and the ops on it keep its layout
        self.layout: object = None  # its sizes and strides, where an op of engine/strided.py made it
        storage.tensors += 1

    @property
    def grad(self) -> bool:
        """Whether it needs a gradient (requires_grad)."""
        return self.fn is not None

    def hold(self) -> Tensor:
        self.holders += 1
        return self

    def drop(self) -> None:
        self.holders -= 1
        if self.holders == 0:
            s = self.storage
            s.tensors -= 1
            if s.tensors == 0:
                s.memory.bytes[s.shown()] -= s.bytes

    def view(self, size: int | None = None, *, fn: Node | None = None) -> Tensor:
        """A view: a tensor on the same storage."""
        t = Tensor(self.storage, self.bytes if size is None else size, fn=fn, is_view=True)
        t.strided, t.channels_last = self.strided, self.channels_last
        return t

    def save(self) -> None:
        s = self.storage
        if s.saves == 0 and s.part is Part.ACTIVATIONS:
            s.memory.bytes[Part.ACTIVATIONS] -= s.bytes
            s.memory.bytes[Part.SAVED] += s.bytes
        s.saves += 1
        self.hold()

    def unsave(self) -> None:
        s = self.storage
        s.saves -= 1
        if s.saves == 0 and s.part is Part.ACTIVATIONS and s.tensors:
            s.memory.bytes[Part.SAVED] -= s.bytes
            s.memory.bytes[Part.ACTIVATIONS] += s.bytes
        self.drop()


ACCUMULATE = 1 << 64  # AccumulateGrad's sequence number: it runs as soon as it is ready


class Node:
    """An autograd node: its order of creation, the edges to the nodes of its inputs, what it saved.

    `edges` are the nodes of its inputs (None for an input that needs no gradient: each op here
    has one differentiable output); `backward` makes the inputs' gradients from the output's.
    """

    __slots__ = ("backward", "edges", "name", "param", "row", "saved", "scratch", "seq")

    def __init__(
        self,
        seq: int,
        name: str,
        row: str,
        edges: list[Node | None],
        backward: Callable[[list[Tensor]], list[Tensor | None]],
    ) -> None:
        self.seq = seq
        self.name = name
        self.row = row
        self.edges = edges
        self.backward = backward
        self.saved: list[Tensor] = []
        self.param: Tensor | None = None  # an AccumulateGrad's parameter
        self.scratch = 0  # what its backward makes and frees beside its results, at the most

    def keep(self, *tensors: Tensor) -> None:
        """Save tensors for backward (SavedVariable: a holder of their storage)."""
        for t in tensors:
            t.save()
            self.saved.append(t)

    def release(self) -> None:
        """release_variables(): the saved tensors go when the node has run."""
        for t in self.saved:
            t.unsave()
        self.saved = []
