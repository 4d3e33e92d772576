"""The walk of a general graph's list (`from:` inputs, issue 25), for every backend of engine/walk.py.

A list whose items name their inputs is walked in the order written, which is a topological
order: a name resolves to an earlier position when the spec is read (convcalc/spec/graph.py).
Each item reads the output it names (a `Wired` node), else the one before it; a `Junction`
merges the outputs it names, in the order written, through the backend's `merge`, as a
parallel's merge is. An output that an item after the next one reads again (the list's input
included) first goes through `hold(x, name)`: the program backend keeps it in a variable of
its own, so that the items between do not overwrite it; the others return it as it is. The list's
value is its last item's, as a sequence's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar

from convcalc.spec.model import Junction, Parallel, Residual, Sequence, Wired

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.engine.walk import Backend
    from convcalc.spec.model import Node, Spec

V = TypeVar("V")


def read_later(nodes: tuple[Node, ...]) -> dict[int, int]:
    """Each position (-1: the list's input) with the last position that reads it."""
    last: dict[int, int] = {}
    for i, n in enumerate(nodes):
        for s in sources(n, i):
            last[s] = max(last.get(s, i), i)
    return last


def sources(n: Node, i: int) -> tuple[int, ...]:
    """The positions item `i` reads."""
    if isinstance(n, Junction):
        return n.sources
    return (n.source,) if isinstance(n, Wired) else (i - 1,)


def walk(nodes: tuple[Node, ...], x: V, b: Backend[V], node: Callable[[Node, V, Backend[V]], V]) -> V:
    """The items of a list with `from:`, each from the outputs it names."""
    last = read_later(nodes)
    names = [n.name for n in nodes]
    outs: dict[int, V] = {}

    def made(i: int, value: V) -> None:
        # Read again after the next item: held, so that the next items do not overwrite it.
        outs[i] = b.hold(value, names[i] if i >= 0 else "input") if last.get(i, i) > i + 1 else value

    made(-1, x)
    for i, n in enumerate(nodes):
        if isinstance(n, Junction):
            parts = [(f"{_where(nodes, s)}", outs[s]) for s in n.sources]
            value = b.merge(n, parts)
        elif isinstance(n, Wired):
            value = node(n.node, outs[n.source], b)
        else:
            value = node(n, outs[i - 1], b)
        made(i, value)
    return outs[len(nodes) - 1] if nodes else x


def reads(spec: Spec) -> dict[str, str]:
    """What each layer of a general graph reads where it is not the one before: its path, and the names (`a, input`)."""
    found: dict[str, str] = {}
    todo: list[tuple[Node, ...]] = [spec.layers]
    while todo:
        nodes = todo.pop()
        for n in nodes:
            if isinstance(n, (Junction, Wired)):
                sources = n.sources if isinstance(n, Junction) else (n.source,)
                found[n.path] = ", ".join(nodes[s].name if s >= 0 else "input" for s in sources)
            inner = n.node if isinstance(n, Wired) else n
            if isinstance(inner, (Sequence, Residual)):
                todo.append(inner.layers)
            if isinstance(inner, Residual) and isinstance(inner.shortcut, tuple):
                todo.append(inner.shortcut)
            if isinstance(inner, Parallel):
                todo += inner.branches
    return found


def _where(nodes: tuple[Node, ...], s: int) -> str:
    """Where a merged output comes from, for messages: `branch1x1 (3.2)`, or the list's input."""
    if s < 0:
        return "the input of the list"
    return f"{nodes[s].name} ({nodes[s].path})"
