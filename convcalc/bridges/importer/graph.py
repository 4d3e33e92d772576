"""A model's graph, whatever it came from, and its series-parallel decomposition.

The PyTorch and ONNX readers give the same graph: one `Op` per operation, in an order where an
op's inputs come before it, each with the layer convcalc writes for it (None when convcalc has
no kind for it) and the volume the framework computed. `decompose` turns it into the nesting a
spec writes: a sequence of layers and of merges of branches (`Fork`). A value used by several
ops is a fork; its branches must meet again at one merge (its immediate post-dominator) and
nowhere else, else the graph is not series-parallel and is reported, not mangled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from convcalc.errors import ModelError
from convcalc.render.inert import inert
from convcalc.spec.composite import MAX_NESTING


@dataclass(slots=True)
class Op:
    """One operation of the model.

    `layer` is the convcalc layer in long form ({"conv": {...}}), None for an op convcalc has no
    kind for; `merge` is add, concat or multiply for an op that joins values; `view` an op that
    passes its input on unchanged for convcalc (getitem of a single output, contiguous); `crop`
    a slice of the spatial dims (U-Net's copy and crop).
    """

    index: int
    name: str  # the model's own name: a module's path (layer1.0.conv1) or the op's node
    op: str  # what the framework calls it: Conv2d, torch.flatten, Relu
    inputs: tuple[int, ...]
    shape: tuple[int, ...]  # convcalc's order: spatial dims, then channels; a vector (N,)
    dims: tuple[int, ...] = ()  # the framework's order, for messages: 64x1x32 (L, N, E)
    layer: dict[str, Any] | None = None
    merge: str | None = None
    view: bool = False
    crop: bool = False
    module: bool = False  # a named module (its name is a path), not a function call
    weights: int = 0  # learnable values it holds (an opaque op's)
    users: list[int] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Fork:
    """Branches from one value, joined by a merge op (the branches in the merge's input order)."""

    branches: tuple[tuple[Item, ...], ...]
    join: Op


@dataclass(frozen=True, slots=True)
class Region:
    """Branches that do not nest, written as a general graph (`from:`, importer/wired.py).

    The ops from the value `entry` up to the op every path from it meets (`ops[-1]`), in order.
    """

    entry: Op
    ops: tuple[Op, ...]


Item = Union[Op, Fork, Region]  # noqa: UP007 - a runtime alias on Python 3.10


class NotSeriesParallelError(ModelError):
    """Branches that do not nest: the fork that holds them is written as a general graph."""


@dataclass(slots=True)
class Graph:
    """The ops in order (op 0 is the input), where the model came from, and what was noticed."""

    ops: list[Op]
    source: str
    notes: list[str] = field(default_factory=list)
    output: int | None = None  # the op whose value the model returns (None: the last)

    def link(self) -> None:
        """Fill in every op's users, after dropping the views (their users read their input)."""
        alias: dict[int, int] = {}
        kept: list[Op] = []
        concats: dict[tuple[int, ...], int] = {}  # a concat's inputs -> the concat
        for op in self.ops:
            op.inputs = tuple(dict.fromkeys(alias.get(i, i) for i in op.inputs))
            if op.merge == "concat":
                # DenseNet's torch.cat of every earlier feature map: cat(a, b, c) is cat(cat(a, b), c),
                # which nests where the flat form would not be series-parallel.
                prefix = max((k for k in concats if op.inputs[: len(k)] == k), key=len, default=())
                if len(prefix) > 1 and len(prefix) < len(op.inputs):
                    op.inputs = (concats[prefix], *op.inputs[len(prefix) :])
                concats[tuple(dict.fromkeys(alias.get(i, i) for i in self._flat(op, concats)))] = op.index
            if (op.view or op.merge) and len(op.inputs) == 1:
                alias[op.index] = op.inputs[0]
            else:
                kept.append(op)
        by = {op.index: op for op in kept}
        # Only what the output depends on: an output the model drops (attention's weights) is no layer.
        needed = {alias.get(self.output, self.output) if self.output is not None else kept[-1].index}
        for op in reversed(kept):
            if op.index in needed:
                needed.update(op.inputs)
        self.ops = kept = [op for op in kept if op.index in needed]
        for op in kept:
            op.users = []
        for op in kept:
            for i in op.inputs:
                by[i].users.append(op.index)

    @staticmethod
    def _flat(op: Op, concats: dict[tuple[int, ...], int]) -> tuple[int, ...]:
        """A concat's inputs with the nested concats opened again."""
        nested = {v: k for k, v in concats.items()}
        flat: list[int] = []
        for i in op.inputs:
            flat += nested.get(i, (i,))
        return tuple(flat)

    def unsupported(self) -> list[Op]:
        """The ops convcalc has no kind for."""
        return [op for op in self.ops[1:] if op.layer is None and op.merge is None and not op.crop]


def _post_dominators(ops: list[Op]) -> dict[int, int | None]:
    """Each op's immediate post-dominator: the first op every path from it to the output goes through.

    Cooper, Harvey and Kennedy's "A Simple, Fast Dominance Algorithm" (2001) on the reversed
    graph: the ops are in an order where an op comes after its inputs, so one pass from the last
    sees every op's users before the op, and an op's immediate post-dominator is where the
    post-dominator tree's paths from its users meet. Each op keeps one number, not a set: a chain
    of 100,000 ops costs 100,000 steps (benchmarks/import_chain.py), where a set per op cost the
    square of that. None for the output, and for an op whose paths end in different outputs.
    """
    order = {op.index: n for n, op in enumerate(ops)}
    exit_ = len(ops)  # a virtual exit after every output, so that several outputs still meet
    at: dict[int, int] = {}  # by position: the walk compares positions

    def meet(a: int, b: int) -> int:
        while a != b:
            while a < b:
                a = at[a]
            while b < a:
                b = at[b]
        return a

    for n in range(len(ops) - 1, -1, -1):
        users = ops[n].users
        if not users:
            at[n] = exit_
            continue
        found = order[users[0]]
        for u in users[1:]:
            found = meet(found, order[u])
        at[n] = found
    return {op.index: ops[at[n]].index if at[n] != exit_ else None for n, op in enumerate(ops)}


def decompose(graph: Graph) -> list[Item]:
    """The graph as a sequence of ops, forks and regions written as general graphs; ModelError where it cannot be."""
    outputs = [op for op in graph.ops if not op.users]
    if len(outputs) != 1:
        names = ", ".join(inert(op.name) for op in outputs)
        msg = f"the model has {len(outputs)} outputs ({names}); a spec has one"
        raise ModelError(msg)
    items, _ = _Decomposer(graph).chain(graph.ops[0], None)
    return items


class _Decomposer:
    def __init__(self, graph: Graph) -> None:
        self.ops = {op.index: op for op in graph.ops}
        self.ipdom = _post_dominators(graph.ops)

    def chain(self, start: Op, stop: int | None, depth: int = 0) -> tuple[list[Item], Op]:
        """The items after `start` up to (not including) `stop`, and the last op before it."""
        _depth(start, depth)
        ops = self.ops
        items: list[Item] = []
        at = start
        while at.users and at.users != [stop]:
            if len(at.users) == 1:
                nxt = ops[at.users[0]]
                if len(nxt.inputs) > 1:
                    _not_series_parallel(nxt, ops)
                items.append(nxt)
                at = nxt
                continue
            join_index = self.ipdom[at.index]
            if join_index is None or join_index == stop:
                _not_series_parallel(at, ops)
            join = ops[join_index]  # type: ignore[index]  # None is refused just above
            try:
                items.append(self.fork(at, join, depth))
            except NotSeriesParallelError:
                items.append(region(at, join, ops))  # the branches do not nest: as they are (`from:`)
            at = join
        return items, at

    def fork(self, at: Op, join: Op, depth: int) -> Fork:
        """The branches from `at` to `join`, each a chain; NotSeriesParallelError where they do not nest."""
        ends: dict[int, tuple[Item, ...]] = {}
        for user in at.users:
            if user == join.index:
                ends[at.index] = ()
                continue
            first = self.ops[user]
            if len(first.inputs) > 1:
                _not_series_parallel(first, self.ops)
            rest, last = self.chain(first, join.index, depth + 1)
            ends[last.index] = (first, *rest)
        # Each branch ends in an op whose only user is the join, and whatever else the join
        # reads would be a fork of its own met first: so the ends are the join's inputs.
        assert sorted(ends) == sorted(join.inputs)  # noqa: S101 - see above
        return Fork(tuple(ends[i] for i in join.inputs), join)


def region(entry: Op, join: Op, ops: dict[int, Op]) -> Region:
    """The ops between `entry` and `join` (its immediate post-dominator), `join` last.

    Every path from `entry` meets `join`, so the ops reached from it before `join` are the region;
    one of them that reads a value from before `entry` makes it open, and the fork around it is
    written as a general graph instead (NotSeriesParallelError, up to the caller's fork).
    """
    found: set[int] = set()
    todo = [u for u in entry.users if u != join.index]
    while todo:
        i = todo.pop()
        if i not in found:
            found.add(i)
            todo += [u for u in ops[i].users if u != join.index]
    inside = found | {entry.index}
    for i in (*found, join.index):
        if not set(ops[i].inputs) <= inside:
            _not_series_parallel(ops[i], ops)
    position = {k: n for n, k in enumerate(ops)}  # the graph's order: each op after what it reads
    return Region(entry, (*(ops[i] for i in sorted(found, key=position.__getitem__)), join))


def _depth(start: Op, depth: int) -> None:
    """Refuse branches nested as deep as a spec's limit: a spec could not hold them (its layers are a level deeper)."""
    if depth >= MAX_NESTING:  # and the recursion of `chain` stays short
        msg = (
            f"the graph nests its branches {MAX_NESTING} levels deep at {inert(start.name)} ({inert(start.op)}), "
            "convcalc's limit for nested blocks"
        )
        raise ModelError(msg)


def _not_series_parallel(op: Op, ops: dict[int, Op]) -> None:
    inputs = ", ".join(inert(ops[i].name) for i in op.inputs)
    msg = (
        f"the graph is not series-parallel at {inert(op.name)} ({inert(op.op)}, inputs {inputs}): its branches do not "
        "meet in one merge, so it cannot be written as residual and parallel blocks"
    )
    raise NotSeriesParallelError(msg)
