"""What an ONNX file must be before its nodes are read: each value made once, then read, and sizes that are sizes.

ONNX requires a graph's nodes in topological order, but a file is what a tool wrote: nodes
listed in another order are put in order here (Kahn's algorithm, keeping the file's order where
it can), a value that nothing makes or a cycle is refused, naming the node. Each message names
what it quotes from the file through `inert`, so that a node's name cannot reach the terminal
as escapes or as a second line.
"""

from __future__ import annotations

import heapq
from typing import Any

from convcalc.errors import OnnxError, cut
from convcalc.kinds.params import MAX_VALUE
from convcalc.render.inert import inert

MAX_RANK = 5  # N, C and up to three spatial dims: what a spec's input can be
SHOWN = 3  # the nodes of a cycle a message names


def said(text: str) -> str:
    """Text from the file as a message quotes it: on one line, no control character, not too long."""
    return inert(cut(text, 80))


def label(node: Any) -> str:
    """A node as messages name it: `relu3 (Relu)`, or its first output where it has no name."""
    name = node.name or (node.output[0] if node.output else "") or "unnamed"
    return f"node {said(name)} ({said(node.op_type)})"


def ordered(nodes: list[Any], known: set[str]) -> list[Any]:
    """The nodes, each after the nodes whose outputs it reads; `known` are the input's and the weights' names."""
    waiting, users = _needs(nodes, _makers(nodes, known), known)
    ready = [k for k, w in enumerate(waiting) if w == 0]
    heapq.heapify(ready)  # the file's order among the nodes that are ready: a sorted file stays as it is
    order: list[int] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for u in users[k]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) < len(nodes):
        stuck = [nodes[k] for k, w in enumerate(waiting) if w]
        names = ", ".join(label(n) for n in stuck[:SHOWN]) + (", ..." if len(stuck) > SHOWN else "")
        msg = f"the graph has a cycle: {len(stuck)} nodes wait for each other's outputs ({names})"
        raise OnnxError(msg)
    return [nodes[k] for k in order]


def _makers(nodes: list[Any], known: set[str]) -> dict[str, int]:
    """The node that gives each value; a node that gives nothing, or a value given twice, is refused."""
    maker: dict[str, int] = {}
    for k, node in enumerate(nodes):
        if not any(node.output):
            msg = f"{label(node)} gives no output"
            raise OnnxError(msg)
        for out in node.output:
            if out in known or out in maker:
                other = "the graph's input or a weight" if out in known else label(nodes[maker[out]])
                msg = f"{label(node)} gives {said(out)}, which {other} also gives: in ONNX each value has one maker"
                raise OnnxError(msg)
            if out:
                maker[out] = k
    return maker


def _needs(nodes: list[Any], maker: dict[str, int], known: set[str]) -> tuple[list[int], list[list[int]]]:
    """How many nodes each waits for, and the nodes that wait for each; a value nothing gives is refused."""
    waiting = [0] * len(nodes)
    users: list[list[int]] = [[] for _ in nodes]
    for k, node in enumerate(nodes):
        needs = set()
        for name in node.input:
            if name and name not in known:
                if name not in maker:
                    msg = f"{label(node)} reads {said(name)}, which no node gives and no weight (initializer) holds"
                    raise OnnxError(msg)
                needs.add(maker[name])
        waiting[k] = len(needs)
        for m in needs:
            users[m].append(k)
    return waiting, users


def dims_of(value: Any) -> tuple[int, ...]:
    """A value's dims from its type; 0 for a dim with no fixed size (a name, or none given)."""
    shape = value.type.tensor_type.shape
    return tuple(d.dim_value if d.HasField("dim_value") else 0 for d in shape.dim)


def check_dims(what: str, dims: tuple[int, ...] | list[int]) -> None:
    """Refuse a negative dim, or one larger than convcalc's limit; `what` says whose dims they are."""
    for d in dims:
        if d < 0 or d > MAX_VALUE:
            shown = "x".join(map(str, dims))
            why = "a negative dim" if d < 0 else f"a dim larger than convcalc's limit of {MAX_VALUE:,}"
            msg = f"{what} has dims {shown}: {d:,} is {why}"
            raise OnnxError(msg)


def check_input(name: str, dims: tuple[int, ...], source: str) -> None:
    """The graph's input: N x C and up to three spatial dims, each a fixed size."""
    check_dims(f"the input {said(name)}", dims)
    if not 2 <= len(dims) <= MAX_RANK:  # noqa: PLR2004 - N and C
        msg = f"{source}: the input {said(name)} has {len(dims)} dims; convcalc reads N x C and up to 3 spatial dims"
        raise OnnxError(msg)
    if 0 in dims:
        msg = f"{source}: the input's volume is not fixed; give it with --input HxWxD"
        raise OnnxError(msg)


def check_weights(initializers: list[Any]) -> None:
    """Every weight's dims are sizes."""
    for t in initializers:
        check_dims(f"the weight {said(t.name)}", list(t.dims))
