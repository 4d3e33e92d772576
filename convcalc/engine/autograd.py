"""What eager PyTorch's autograd records in a forward pass and does in backward, for the step's timeline.

Measured with torch 2.13.0 on CPU, float32 (tests/step_measure.py; PyTorch's engine.cpp,
input_buffer.cpp, accumulate_grad.h and derivatives.yaml say the same):

- a node per op whose inputs need a gradient, numbered in the order made; AccumulateGrad, a
  parameter's, has the highest number;
- backward runs the ready node with the highest number first (engine.cpp's ReadyQueue); a node
  is ready when every gradient it waits for has come;
- a node's gradients are made while the gradients it received and its saved tensors are alive;
  then those go (release_variables), then its results go to the buffers of the nodes they are for:
  a node's event has the live bytes when all that is done, and the most during it;
- a second gradient for the same buffer slot is added in place when the first is a tensor that
  nothing else holds, not a view (a view holds its base: autograd's ViewInfo), else `old + new`
  makes a third (input_buffer.cpp's accumulate);
- AccumulateGrad takes the gradient as `.grad` (a gradient that is dense, as all here are),
  unless something else holds it too (accumulate_grad.h's use count: pos_embed's add at batch 1
  passes the same gradient to the weight and the input), it is strided (that gradient is a
  transpose) or it is the loss's expanded seed (not dense: cls_token's expand at batch 1, last),
  then a copy (clone_obey_contract).
"""

from __future__ import annotations

import heapq
from typing import TYPE_CHECKING

from convcalc.engine.layout import Layout
from convcalc.engine.tape import ACCUMULATE, Memory, Node, Part, Parts, Storage, Tensor

if TYPE_CHECKING:
    from collections.abc import Callable

Event = tuple[str, str, int]  # (row, node or op, the most during it)


class Graph:
    """The tensors and nodes of one step."""

    def __init__(self, memory: Memory) -> None:
        self.memory = memory
        self.seq = 0
        self.high = memory.parts()  # the live bytes at the most during the node being run

    def new(self, size: int, part: Part = Part.ACTIVATIONS, *, fn: Node | None = None) -> Tensor:
        """A tensor on a storage of its own, held once."""
        return Tensor(Storage(self.memory, size, part), size, fn=fn).hold()

    def node(
        self,
        name: str,
        row: str,
        inputs: list[Tensor | None],
        backward: Callable[[list[Tensor]], list[Tensor | None]],
    ) -> Node:
        """A node of an op on `inputs` (those that need no gradient have no edge)."""
        self.seq += 1
        edges = [t.fn if t is not None else None for t in inputs]
        return Node(self.seq, name, row, edges, backward)

    def leaf(self, row: str, size: int) -> Tensor:
        """A parameter: its storage in the weights, and its AccumulateGrad node."""
        t = self.new(size, Part.WEIGHTS)
        acc = Node(ACCUMULATE, "torch::autograd::AccumulateGrad", row, [], lambda _g: [])
        acc.param = t
        t.fn = acc
        return t

    def fresh(self, size: int) -> Tensor:
        """A gradient a node makes (not held yet: the engine holds it)."""
        return Tensor(Storage(self.memory, size), size)

    def backward(self, root: Node, seed: Tensor, on_event: Callable[[Node, Parts], None]) -> None:
        """Run the engine from `root` with the gradient `seed` (held by the caller).

        `on_event(node, at_high)` after each node, with the live bytes by part at its most.
        """
        waits = _waits(root)
        buffers: dict[int, Tensor] = {id(root): seed.hold()}
        ready: list[tuple[int, int, Node]] = [(-root.seq, 0, root)]
        order = 0
        while ready:
            node = heapq.heappop(ready)[2]
            got = buffers.pop(id(node))
            if node.param is not None:  # AccumulateGrad: the gradient becomes .grad
                if got.holders > 1 or got.strided or got.storage.bytes < got.bytes:  # shared, strided, expanded: a copy
                    got.drop()
                    got = self.fresh(got.bytes).hold()
                got.hold()
                got.storage.move(Part.GRADIENTS)
                got.drop()
                on_event(node, self.memory.parts())
                continue
            for target, out in self.run(node, got):
                buffers[id(target)] = self.accumulate(buffers.get(id(target)), out)
                waits[id(target)] -= 1
                if waits[id(target)] == 0:
                    order += 1
                    heapq.heappush(ready, (-target.seq, order, target))
            on_event(node, self.high)

    def run(self, node: Node, got: Tensor) -> list[tuple[Node, Tensor]]:
        """The node's gradients made, what it received and saved freed: the results for the nodes they go to."""
        outs = node.backward([got])
        for o in outs:
            if o is not None:
                o.hold()
        self.high = self.memory.parts(node.scratch)
        got.drop()
        node.release()
        passed = []
        for target, out in zip(node.edges, outs, strict=True):
            if out is not None and target is None:
                out.drop()
            elif out is not None and target is not None:
                passed.append((target, out))
        return passed

    def accumulate(self, old: Tensor | None, new: Tensor) -> Tensor:
        """input_buffer.cpp's accumulate: in place into a dense gradient nothing else holds, else a sum."""
        if old is None:
            return new
        if not old.is_view and old.holders == 1 and old.storage.tensors == 1:
            new.drop()
            return old
        total = self.fresh(max(old.bytes, new.bytes)).hold()  # the seed's expand is a view of 4 B
        if old.storage.bytes >= old.bytes:  # `old + new` is laid out as old (TensorIterator), unless old is the seed
            total.strided, total.channels_last = old.strided, old.channels_last
            total.layout = old.layout.like() if isinstance(old.layout, Layout) else None
        if self.memory.total > self.high.total:
            self.high = self.memory.parts()
        old.drop()
        new.drop()
        return total


def _waits(root: Node) -> dict[int, int]:
    """How many gradients each node reached from `root` waits for (an edge each)."""
    waits: dict[int, int] = {}
    seen = {id(root)}
    todo = [root]
    while todo:
        for n in todo.pop().edges:
            if n is not None:
                waits[id(n)] = waits.get(id(n), 0) + 1
                if id(n) not in seen:
                    seen.add(id(n))
                    todo.append(n)
    return waits
