"""`checkpoint: true` on a composite or a block call (issue 26): torch.utils.checkpoint's semantics.

With `use_reentrant=False`, PyTorch keeps only the block's input in forward (its ops save
nothing) and runs the block's forward again in backward, to make what they would have saved.
convcalc checkpoints one level: a checkpointed block inside another is refused, since the inner
one would be recomputed twice and its memory follow neither block alone.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from convcalc.errors import SpecError
from convcalc.kinds.params import describe
from convcalc.spec.model import Junction, LayerSpec, Parallel, Residual, Sequence, Wired
from convcalc.spec.yamlpos import PosMap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from convcalc.spec.model import Node

KEY = "checkpoint"


def checkpointed(node: Node, item: Any) -> Node:
    """The node as read, checkpointed when its item says `checkpoint: true`."""
    if not isinstance(item, PosMap) or KEY not in item:
        return node
    value, at = item[KEY], item.at(KEY)
    if not isinstance(value, bool):
        msg = f"`checkpoint:` is true or false, not {describe(value)}"
        raise SpecError(msg, at)
    if isinstance(node, (LayerSpec, Junction, Wired)):
        msg = (
            "`checkpoint:` applies to a composite (repeat, residual, parallel) or a block call, "
            "as torch.utils.checkpoint wraps a block: put this layer in one"
        )
        raise SpecError(msg, at)
    if not value:
        return node
    inner = next(inside(node), None)
    if inner is not None:
        msg = (
            f"`checkpoint: true` on a block inside a checkpointed one ({inner.path} in {node.path}): "
            "convcalc checkpoints one level; choose the outer block or the inner ones"
        )
        raise SpecError(msg, inner.at)
    return replace(node, checkpoint=True)


def children(node: Node) -> tuple[Node, ...]:
    """The nodes directly inside a composite (a written shortcut's too)."""
    if isinstance(node, Sequence):
        return node.layers
    if isinstance(node, Residual):
        return (*node.layers, *(node.shortcut if isinstance(node.shortcut, tuple) else ()))
    if isinstance(node, Parallel):
        return tuple(n for branch in node.branches for n in branch)
    return ()


def inside(node: Node) -> Iterator[Sequence | Residual | Parallel]:
    """The checkpointed composites below a node, depth first."""
    for child in children(node):
        if isinstance(child, Sequence | Residual | Parallel) and child.checkpoint:
            yield child
        yield from inside(child)


def regions(nodes: tuple[Node, ...]) -> Iterator[Sequence | Residual | Parallel]:
    """The checkpointed composites of a spec's layers, in order."""
    for n in nodes:
        if isinstance(n, Sequence | Residual | Parallel) and n.checkpoint:
            yield n
        else:
            yield from regions(children(n))
