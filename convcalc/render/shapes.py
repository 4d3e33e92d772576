"""How big and what colour `convcalc draw` makes a volume and a kernel: the figure's scales.

Sizes are on a log scale, so that VGG's 224x224x64 and 7x7x512 both show: a volume's height
follows its spatial size (height, the frameworks' first spatial dim of the last two), the edge
that recedes its width, and its thickness its channels.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import log2
from typing import TYPE_CHECKING

from convcalc.kinds.base import Category
from convcalc.kinds.registry import KINDS
from convcalc.render.diagram import MERGES

if TYPE_CHECKING:
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

_TALLEST = 200.0
# front, top, side: one light hue per kind of volume
_FILLS = {
    "input": ("#e9e9e9", "#f5f5f5", "#d6d6d6"),
    "conv": ("#cfe0f3", "#e7f0fa", "#b2cbe7"),
    "pool": ("#d3ecd2", "#e9f6e9", "#b6dbb5"),
    "vector": ("#f8dcbe", "#fcecdc", "#efc59c"),
    "merge": ("#e3d6f1", "#f1eaf8", "#ccb9e4"),
    "block": ("#f6d5e3", "#fbeaf1", "#eab8cd"),
    "other": ("#d2ecea", "#e9f6f5", "#b3dcd8"),
}
# What each colour is, in the order of the figure's legend (the caption): grey is the input only.
LEGEND = {
    "input": "input",
    "conv": "conv",
    "pool": "pool",
    "vector": "fc, vectors",
    "merge": "merge (add, concat)",
    "block": "block drawn as one box",
    "other": "norm, activation, reshape",
}
# Rows that `--depth` folds: a composite layer drawn as one box.
_COMPOSITES = frozenset({"residual", "parallel", "repeat", "block"})
# The fill of each kind's drawing category (convcalc.kinds.base.Category); the input is grey.
_FILL_OF = {
    Category.CONV: "conv",
    Category.POOL: "pool",
    Category.VECTOR: "vector",
    Category.ELEMENTWISE: "other",
    Category.RESHAPE: "other",
}


def _log(n: int, base: float, step: float) -> float:
    return min(base + step * log2(max(n, 1)), _TALLEST)


@dataclass(frozen=True, slots=True)
class Cube:
    """A volume drawn: a front face, and the top and side that recede by (dx, dy)."""

    thick: float  # the front face's width: the channels
    high: float  # the front face's height: the spatial size
    dx: float  # the receding edge: the other spatial size
    dy: float


def cube(v: Volume | None, tallest: float = _TALLEST) -> Cube:
    """The cuboid of a volume; a vector (after fc or flatten) is a thin bar.

    A vector of N values is as tall as a square map of N values per channel (side √N) on the
    volumes' scale, and never taller than `tallest` (the figure's tallest volume): AlexNet's
    FC6 (4096) is as tall as a 64x64 map, lower than its 227x227 input.
    """
    if v is None:  # a layer that could not be computed
        return Cube(12, 40, 8, 6)
    if not v.spatial:
        return Cube(6, min(_log(v.depth, 10, 7), tallest), 4, 3)
    high = _log(v.spatial[-2] if len(v.spatial) > 1 else v.spatial[0], 10, 14)
    deep = 0.4 * _log(v.spatial[-1], 10, 14) if len(v.spatial) > 1 else 4
    return Cube(min(3 + 4 * log2(v.depth), 60), high, 0.8 * deep, 0.6 * deep)


def kernel(row: LayerRow) -> tuple[float, float] | None:
    """A conv or pool row's kernel square, width and height: 4 px plus 2 per tap (at most 30)."""
    size = row.config.get("size")
    kind = KINDS.get(row.kind)
    if kind is None or kind.category not in {Category.CONV, Category.POOL} or size is None:
        return None
    dims = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
    high, wide = (min(4 + 2 * int(d), 30) for d in (dims * 2)[-2:])  # a 1-D kernel is drawn square
    return float(wide), float(high)


def fills(row: LayerRow) -> tuple[str, str, str]:
    """The colours of the front, the top and the side."""
    return _FILLS[category(row)]


def legend_fill(name: str) -> str:
    """The front colour of a legend entry."""
    return _FILLS[name][0]


def category(row: LayerRow) -> str:
    """The legend's entry of a row: input, conv, pool, vector, merge, block or other."""
    kind = KINDS.get(row.kind)
    if row.kind in MERGES:
        name = "merge"
    elif row.kind == "input":
        name = "input"
    elif row.kind == "crop":  # a residual's `shortcut: crop` (U-Net's copy and crop): a reshape
        name = "other"
    elif row.kind in _COMPOSITES or kind is None:  # a folded composite: its kind is no layer kind
        name = "block"
    else:
        name = _FILL_OF[kind.category]
    if name == "other" and row.output is not None and not row.output.spatial:
        name = "vector"
    return name
