"""A region whose branches do not nest, written as a general graph (`from:`, docs/spec.md).

graph.py finds the region: the ops from a value up to where every path from it meets, when
they are not residual and parallel blocks (Inception v3's block E written with one concat of
six values, or any graph that is not series-parallel). Here it becomes a list of layers in the
graph's order, in a `repeat: 1` of its own, so that `input` is the region's input: a chain of
ops with no other reader is written as the layers a chain is (a conv takes its relu); the first
layer of a chain that does not read the one just before it names what it reads (`from: [a]`),
and a merge of several values is `{merge: concat, from: [a, b, ...]}`. A layer read that way is
given a name where it has none (the model's name for the op).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.bridges.importer.nodes import Composite, Leaf, Node
from convcalc.errors import ModelError
from convcalc.kinds import registry
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.bridges.importer.graph import Item, Op, Region


def _chains(ops: tuple[Op, ...]) -> list[list[Op]]:
    """The ops in runs where each reads the one before, which nothing else reads (a merge stands alone)."""
    runs: list[list[Op]] = []
    for j, op in enumerate(ops):
        prev = ops[j - 1] if j else None
        # A merge starts a run of its own, which may go on with its activation only (`activation:`).
        alone = op.merge is not None or prev is None or (prev.merge is not None and activation_of(op) is None)
        if not alone and op.inputs == (prev.index,) and prev.users == [op.index]:  # type: ignore[union-attr]
            runs[-1].append(op)
        else:
            runs.append([op])
    return runs


def activation_of(op: Op) -> str | None:
    """The function of an activation op (relu), that a merge before it takes as its `activation:`."""
    if op.layer is None or len(op.layer) != 1:
        return None
    ((word, value),) = op.layer.items()
    resolved = registry.resolve(word)
    if resolved is None or resolved[0].name != "activation":
        return None
    function = resolved[1].get("function", value if isinstance(value, str) else None)
    return function if isinstance(function, str) else None


def region_nodes(region: Region, nodes: Callable[[list[Item]], list[Node]]) -> Composite:
    """The region as a `repeat: 1` of layers that name what they read; `nodes` writes a chain of ops (write.py)."""
    runs = _chains(region.ops)
    holder: dict[int, Leaf | None] = {region.entry.index: None}  # an op's value: the layer giving it (None: input)
    written: list[Node] = []
    last = region.entry.index  # what the next layer reads without `from:`
    for run in runs:
        head = run[0]
        if head.merge is not None:
            merge = Leaf("merge", {"merge": head.merge}, head.name if head.module else None)
            if len(run) > 1:
                merge.params["activation"] = activation_of(run[1])
            made: list[Node] = [merge, *nodes(list(run[2:]))]  # the layers after its activation
            reads = [holder[i] for i in head.inputs]
        elif len(head.inputs) != 1:
            msg = (
                f"{inert(head.name)} ({inert(head.op)}) reads {len(head.inputs)} values: an opaque layer reads one, "
                "so it cannot stand in for it"
            )
            raise ModelError(msg)
        else:
            made = nodes(list(run))
            reads = [holder[head.inputs[0]]] if head.inputs[0] != last else []
        first, end = made[0], made[-1]
        assert isinstance(first, Leaf)  # noqa: S101 - a chain of ops makes layers
        assert isinstance(end, Leaf)  # noqa: S101
        if reads or head.merge is not None:
            first.reads = reads
            for leaf in filter(None, reads):
                leaf.referenced = True
        written += made
        holder[run[-1].index] = end
        last = run[-1].index
        end.model_name = head.name if head.merge is not None and end is made[0] else run[-1].name
    _name_what_is_read(written)
    return Composite("graph", [written])


def _name_what_is_read(written: list[Node]) -> None:
    """A layer a later one reads by name gets the model's name for its op, where it has none."""
    for leaf in written:
        if isinstance(leaf, Leaf) and leaf.referenced and not leaf.name:
            leaf.name = leaf.model_name
