"""The shape of a drawing: the report's rows as boxes in lanes, forks where branches run side by side.

The rows come in walk order (convcalc.engine.analyze): a residual's body, then its shortcut, then
its merge row at the residual's own path; a parallel's branches in order, then its merge row. A
row's path names the lanes it sits in: `P.layers.i` is the body of residual P, `P.shortcut.i` its
shortcut, `P.branches.b.i` branch b of parallel P; repeat and block paths (`P.i`) add no lane.
One pass over the rows builds the tree, so drawing stays linear in the number of layers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from convcalc.kinds.base import Category
from convcalc.kinds.registry import KINDS, REGISTERED

if TYPE_CHECKING:
    from convcalc.report import Group, LayerRow, Report

MERGES = frozenset({"add", "concat", "multiply"})

# Rows that keep their input's volume and have no kernel: drawn inside the box before them
# ("+ bn, relu"), as the classic figures leave them out, so a ResNet is not three boxes per conv.
_ELEMENTWISE = frozenset(k.name for k in REGISTERED if k.category is Category.ELEMENTWISE)


@dataclass
class Box:
    """One drawn volume: a row, and the elementwise rows after it that keep its volume."""

    row: LayerRow
    merged: list[LayerRow] = field(default_factory=list)


@dataclass
class Fork:
    """A residual or parallel layer: its lanes side by side, joined at its merge box."""

    path: str
    kind: str  # residual or parallel
    lanes: dict[str, list[Node]] = field(default_factory=dict)  # in walk order: body, shortcut; branches
    merge: Box | None = None  # None when the walk stopped inside the fork

    @property
    def identity(self) -> bool:
        """A residual whose shortcut has no layers: the input itself joins the merge."""
        return self.kind == "residual" and "shortcut" not in self.lanes


@dataclass
class Band:
    """One level of a U: its encoder's row, the skip across the U, its decoder's row."""

    encoder: list[Node]
    skip: list[Node]  # the shortcut's layers (U-Net's crop); [] for the identity
    decoder: list[Node]  # the merge box of the skip, then the layers after it


@dataclass
class U:
    """Nested residuals whose bodies go down in size and back (U-Net), drawn as a U.

    Band k holds level k's encoder (the body of the k-th residual before the next one; band 0:
    the lane's layers before the outer residual), the skip of the residual below it, and that
    residual's merge with the layers after it (band 0: the rest of the lane). The innermost
    body, which holds no residual, is the bottom of the U.
    """

    bands: list[Band]
    bottom: list[Node]


Node = Box | Fork | U
Lane = tuple[str, str]  # (fork path, lane name)


def lanes_of(path: str, forks: dict[str, Group]) -> tuple[Lane, ...]:
    """The lanes a row at `path` sits in, outermost first."""
    parts = path.split(".")
    found: list[Lane] = []
    for i, part in enumerate(parts):
        owner = forks.get(".".join(parts[:i]))
        if owner is None:
            continue
        if owner.kind == "residual" and part in {"layers", "shortcut"}:
            found.append((owner.path, part))
        elif owner.kind == "parallel" and part == "branches" and i + 1 < len(parts):
            found.append((owner.path, parts[i + 1]))
    return tuple(found)


def _absorbs(items: list[Node], row: LayerRow) -> Box | None:
    """The box an elementwise row is drawn in, if the lane has one with the same volume."""
    if row.kind not in _ELEMENTWISE or not items or row.output is None or row.diagnostics:
        return None
    last = items[-1]
    if isinstance(last, U):  # pragma: no cover - a U is made after the walk (u_shaped)
        return None
    box = last.merge if isinstance(last, Fork) else last
    if box is None or box.row.kind == "input" or box.row.output != row.output:
        return None
    return box


def _fork_in(items: list[Node], group: Group) -> Fork:
    """The open fork of `group` at the end of a lane, or a new one appended to it."""
    last = items[-1] if items else None
    if isinstance(last, Fork) and last.path == group.path and last.merge is None:
        return last
    fork = Fork(group.path, group.kind)
    items.append(fork)
    return fork


def build(report: Report) -> list[Node]:
    """The report's rows as a tree of boxes and forks (the top-level lane)."""
    forks = {g.path: g for g in report.groups if g.kind in {"residual", "parallel"}}
    root: list[Node] = []
    open_lanes: list[tuple[Lane, list[Node]]] = []
    for row in report.rows:
        chain = lanes_of(row.path, forks)
        keep = 0
        while keep < min(len(chain), len(open_lanes)) and open_lanes[keep][0] == chain[keep]:
            keep += 1
        del open_lanes[keep:]
        for lane in chain[keep:]:
            items = open_lanes[-1][1] if open_lanes else root
            fork = _fork_in(items, forks[lane[0]])
            open_lanes.append((lane, fork.lanes.setdefault(lane[1], [])))
        items = open_lanes[-1][1] if open_lanes else root
        if row.kind in MERGES and row.path in forks:
            fork = _fork_in(items, forks[row.path])
            fork.merge = Box(row)
            _add_empty_branches(fork, forks[row.path])
        elif (box := _absorbs(items, row)) is not None:
            box.merged.append(row)
        else:
            items.append(Box(row))
    return root


def _add_empty_branches(fork: Fork, group: Group) -> None:
    """A parallel's empty branches (the identity) as empty lanes, in their places among the others."""
    if group.kind != "parallel" or len(fork.lanes) == group.branches:
        return
    fork.lanes = {str(b): fork.lanes.get(str(b), []) for b in range(group.branches)}


# The names convcalc gives composites that have none of their own: no part of a qualified name.
_DEFAULT_NAMES = ("residual", "parallel", "repeat ×")
_COMPOSITES = frozenset({"residual", "parallel", "repeat", "block"})


def qualified_names(report: Report) -> dict[str, str]:
    """Each row's name with the composites that hold it, as PyTorch names modules.

    `denseblock1.denselayer3.conv2`, `layer2.0.conv1`: the names of the composites on the row's
    path, then its own. A composite repeated by `repeat:` is numbered from 1 (torchvision's
    `denselayer3`, as `convcalc export` names it), and an unnamed layer in a residual's shortcut
    is `downsample.N`, torchvision ResNet's name for the projection (torchvision/models/resnet.py,
    `downsample = nn.Sequential(conv1x1(...), norm_layer(...))`); a crop keeps its own name
    (`level1.CROP`, U-Net's copy and crop). Every box of a figure then
    has its own label.
    """
    groups = {g.path: g for g in report.groups}
    names: dict[str, str] = {}
    for row in report.rows:
        parts = row.path.split(".")
        found = [_own(g.name, g.path, groups) for k in range(1, len(parts)) if (g := groups.get(".".join(parts[:k])))]
        if row.path in groups or row.kind in _COMPOSITES:  # a merge row, or a folded composite
            own = _own(row.name, row.path, groups)
        elif len(parts) > 1 and parts[-2] == "shortcut" and row.name == row.label.split()[0].upper() and _projects(row):
            own = f"downsample.{parts[-1]}"
        else:
            own = row.name
        names[row.path] = ".".join(p for p in [*found, own] if p)
    return names


def _projects(row: LayerRow) -> bool:
    """A layer torchvision's `downsample` holds: a conv, a pool or a norm (not U-Net's crop, a shortcut of its own)."""
    kind = KINDS.get(row.kind)
    return kind is not None and kind.category in {Category.CONV, Category.POOL, Category.ELEMENTWISE}


def _own(name: str, path: str, groups: dict[str, Group]) -> str:
    """A composite's part of a qualified name: its name, numbered when a repeat holds it."""
    if name.startswith(_DEFAULT_NAMES):
        return ""
    parts = path.split(".")
    holder = groups.get(".".join(parts[:-2]))
    if len(parts) > 2 and holder is not None and holder.kind == "repeat":  # noqa: PLR2004 - repeat, its pass, the item
        return f"{name}{int(parts[-2]) + 1}"
    return name


def count_boxes(nodes: list[Node]) -> int:
    """How many volumes the drawing shows."""
    total = 0
    stack = list(nodes)
    while stack:
        node = stack.pop()
        if isinstance(node, Box):
            total += 1
        elif isinstance(node, Fork):
            total += node.merge is not None
            for lane in node.lanes.values():
                stack.extend(lane)
        else:
            stack += node.bottom
            for band in node.bands:
                stack += [*band.encoder, *band.skip, *band.decoder]
    return total
