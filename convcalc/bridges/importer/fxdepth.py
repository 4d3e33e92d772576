"""Stochastic depth as convcalc's export writes it (kinds/regularize.py's plan), read back by torch.fx's trace.

- `x.unsqueeze(1)`, `nn.Dropout{1,2,3}d(p)`, `.squeeze(1)`: each image's values as the one channel
  of a row, dropped per image (mode row; up to 2 spatial dims).
- `x.reshape(-1, 1, V)` (V the values of an image) or `x.reshape(1, 1, -1)` (the whole batch),
  `nn.Dropout1d(p)`, a reshape back to x's shape: mode row past 2 spatial dims, or mode batch.

The last op is the layer `stochastic_depth` (its p, and mode batch where the batch is one row), the
two before it views. Each value between has one user, else the ops stay what they are (an
unsqueeze refused as an op convcalc has no kind for, the dropout a channel dropout).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer.fxlast import shape
from convcalc.bridges.importer.fxsplit import RESHAPES

if TYPE_CHECKING:
    from convcalc.bridges.importer.graph import Op

_DROPOUTS = {"Dropout1d": 3, "Dropout2d": 4, "Dropout3d": 5}  # a channel dropout: the rank of its input


def read(node: Any, op: Op, ops: dict[str, Op], modules: dict[str, Any]) -> None:
    """Read `node`'s op as the end of a stochastic depth (and mark its views among `ops`)."""
    found = _depth(node, modules)
    if found is None:
        return
    layer, between = found
    op.layer = {"stochastic_depth": layer}
    for name in between:
        ops[name].view = True


def _method(node: Any, names: frozenset[str]) -> bool:
    return hasattr(node, "op") and node.op == "call_method" and node.target in names and bool(node.args)


def _depth(node: Any, modules: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """The stochastic depth ending at `node`: its layer's parameters and its ops before `node`; else None."""
    if not _method(node, frozenset({"squeeze", *RESHAPES})):
        return None
    drop = node.args[0]
    if getattr(drop, "op", None) != "call_module" or len(drop.users) != 1 or len(drop.args) != 1:
        return None
    module = modules[drop.target]
    start = drop.args[0]
    if _DROPOUTS.get(type(module).__name__) != len(shape(drop)) or len(getattr(start, "users", ())) != 1:
        return None
    x = shape(start.args[0]) if _method(start, frozenset({"unsqueeze", *RESHAPES})) else ()
    if len(x) < 2 or shape(node) != x:  # noqa: PLR2004 - N and C: back to the input's shape
        return None
    mode = _mode(node, start, x)
    if mode is None:
        return None
    return {"p": float(module.p), **({} if mode == "row" else {"mode": mode})}, [start.name, drop.name]


def _mode(node: Any, start: Any, x: tuple[int, ...]) -> str | None:
    """Which of the plan's forms `start` ... `node` is: row, batch; None for neither."""
    if node.target == "squeeze":
        return "row" if start.target == "unsqueeze" and tuple(start.args[1:]) == tuple(node.args[1:]) == (1,) else None
    if tuple(start.args[1:]) == (1, 1, -1):
        return "batch"
    return "row" if tuple(start.args[1:]) == (-1, 1, math.prod(x[1:])) else None
