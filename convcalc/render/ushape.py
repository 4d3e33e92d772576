"""An encoder-decoder drawn as a U, as Ronneberger et al. draw U-Net (arXiv:1505.04597, Fig. 1).

U-Net's spec is residuals nested in each other's bodies, each with a crop as its shortcut and a
concat as its merge; drawn as forks, the whole network was one line 5,200 px long. Where a
residual's body goes down in size to a residual nested in it (fewer pixels before it than at
the merge), or, innermost, to a box of fewer pixels than its merge,
the chain of such residuals is a U (convcalc.render.diagram.U): band k, one under
the other, holds level k's encoder on the left, the skip of the level below across the middle
(the crop on it) and that level's merge with the rest of level k's decoder on the right; the
innermost body is the bottom. The encoders' rows end at one x, where the skips start; the
decoders' rows start at one x, where the skips end; a connector goes down from each encoder's end
to the next row's start and up from each decoder's end to the merge above.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING

from convcalc.render import figure
from convcalc.render.diagram import Band, Box, Fork, Node, U
from convcalc.render.figure import CHAR, FAN, LABEL_GAP, LANE_GAP, LINE, Size

if TYPE_CHECKING:
    from collections.abc import Iterator

    from convcalc.volume import Volume

_IDENTITY = "identity"


def _smaller(a: Volume | None, b: Volume | None) -> bool:
    """True when volume a has fewer pixels than b (both maps of the same rank)."""
    if a is None or b is None or not a.spatial or len(a.spatial) != len(b.spatial):
        return False
    return prod(a.spatial) < prod(b.spatial)


def _below(fork: Fork) -> tuple[int, Fork] | None:
    """The residual nested in a residual's body, and its place, where the body goes down to it.

    (U-Net's levels: the box before the nested residual has fewer pixels than the merge.)
    """
    body = fork.lanes.get("layers", [])
    inner = [(i, n) for i, n in enumerate(body) if isinstance(n, Fork) and n.kind == "residual"]
    if fork.kind != "residual" or fork.merge is None or len(inner) != 1:
        return None
    i, nested = inner[0]
    before = body[i - 1] if i else None
    if nested.merge is None or not isinstance(before, Box) or not _smaller(before.row.output, fork.merge.row.output):
        return None
    return i, nested


def _descends(fork: Fork) -> bool:
    """A residual whose body goes down in size and back: a box of it has fewer pixels than the merge."""
    if fork.kind != "residual" or fork.merge is None:
        return False
    merged = fork.merge.row.output
    return any(isinstance(n, Box) and _smaller(n.row.output, merged) for n in fork.lanes.get("layers", []))


def _levels(node: Node) -> list[Fork]:
    """The residuals of a U from the outermost ([]: no U)."""
    if not isinstance(node, Fork) or not _descends(node):
        return []
    chain = [node]
    while (found := _below(chain[-1])) is not None:
        chain.append(found[1])
    return chain


def _u(before: list[Node], levels: list[Fork]) -> U:
    outer = levels[0]
    assert outer.merge is not None  # noqa: S101 - _below checked it
    bands = [Band(before, outer.lanes.get("shortcut", []), [outer.merge])]
    for level in levels[:-1]:
        body = level.lanes["layers"]
        found = _below(level)
        assert found is not None  # noqa: S101 - levels is the chain _below gave
        i, nested = found
        assert nested.merge is not None  # noqa: S101
        bands.append(Band(body[:i], nested.lanes.get("shortcut", []), [nested.merge, *body[i + 1 :]]))
    return U(bands, levels[-1].lanes["layers"])


def u_shaped(items: list[Node]) -> list[Node]:
    """A lane with each chain of nested residuals that goes down and back made a U, at every depth.

    The lane's layers before the first U are its band 0's encoder; those after a U, up to the
    next one, its band 0's decoder.
    """
    out: list[Node] = []
    current: U | None = None
    for node in items:
        levels = _levels(node)
        if levels:
            before, out = (out, []) if current is None else ([], out)
            current = _u(before, levels)
            out.append(current)
        elif current is not None:
            current.bands[0].decoder.append(node)
        else:
            out.append(node)
    for node in out:
        if isinstance(node, Fork):
            node.lanes = {name: u_shaped(lane) for name, lane in node.lanes.items()}
        elif isinstance(node, U):
            node.bottom = u_shaped(node.bottom)
            for band in node.bands:
                band.encoder, band.skip, band.decoder = map(u_shaped, (band.encoder, band.skip, band.decoder))
    return out


def _boxes(items: list[Node]) -> Iterator[Box]:
    """Every box in a lane, at every depth."""
    for node in items:
        if isinstance(node, Box):
            yield node
        elif isinstance(node, Fork):
            yield from [node.merge] if node.merge is not None else []
            for lane in node.lanes.values():
                yield from _boxes(lane)
        else:
            yield from _boxes(node.bottom)
            for band in node.bands:
                yield from _boxes([*band.encoder, *band.skip, *band.decoder])


def _strip(names: dict[str, str], items: list[Node], prefix: str) -> None:
    """The names of a level's boxes without the outer levels' (`level3.CONV3-512`): its band says the rest."""
    if prefix:
        for box in _boxes(items):
            name = names.get(box.row.path, "")
            if name.startswith(prefix + "."):
                names[box.row.path] = name.removeprefix(prefix + ".")


@dataclass(frozen=True, slots=True)
class _Plan:
    """A U's layout, from its x and from the top of band 0's labels."""

    left: float  # where the encoders end and the skips start, from x
    gap: float  # the skips' width
    width: float
    bottom: float  # where the bottom row starts, from x
    bands: tuple[Size, ...]  # bands 1… and the bottom
    axes: tuple[float, ...]  # their axes below the top of band 0's labels
    size: Size


class Figure(figure.Figure):
    """The figure, with U-shaped encoder-decoders."""

    def __init__(self, names: dict[str, str] | None = None, tallest: float = 200.0) -> None:
        super().__init__(names, tallest)
        self.plans: dict[int, _Plan] = {}

    def node_size(self, node: Node) -> Size:
        return self.plan(node).size if isinstance(node, U) else super().node_size(node)

    def band(self, band: Band) -> Size:
        """A band's extent: its rows' on one axis, the labels aligned."""
        sizes = [self.lane(items) for items in (band.encoder, band.skip, band.decoder)]
        return Size(0, *(max(getattr(s, k) for s in sizes) for k in ("above", "face", "lines", "tail")))

    def plan(self, u: U) -> _Plan:
        plan = self.plans.get(id(u))
        if plan is not None:
            return plan
        self.shorten(u)
        first, lower = self.band(u.bands[0]), [*map(self.band, u.bands[1:]), self.lane(u.bottom)]
        cursor = max(first.lines * LINE, first.tail) + LANE_GAP
        axes = []
        for size in lower:
            axes.append(cursor + size.above)
            cursor = axes[-1] + size.bottom() + LANE_GAP
        skips = max(self.lane(b.skip).width for b in u.bands)
        gap = max(skips + 2 * FAN, CHAR * len(_IDENTITY) + 3 * FAN)
        bottom = self.lane(u.bottom).width
        over = (bottom - gap) / 2 + FAN / 2  # the bottom row reaches under the encoders and decoders
        left = max(max(self.lane(b.encoder).width for b in u.bands) + FAN / 2, over)
        right = max(max(self.lane(b.decoder).width for b in u.bands) + FAN / 2, over)
        size = Size(left + gap + right, first.above, first.face, first.lines, cursor - LANE_GAP)
        plan = _Plan(left, gap, size.width, left + (gap - bottom) / 2, tuple(lower), tuple(axes), size)
        self.plans[id(u)] = plan
        return plan

    def shorten(self, u: U) -> None:
        """Label each level's boxes with the names from its own level on (before they are measured).

        Level k's qualified names all start with the names of levels 1 … k-1 (`level1.level2.`),
        which the band already shows: without them U-Net's labels are half as wide.
        """
        merges = [self.names.get(b.decoder[0].row.path, "") for b in u.bands if isinstance(b.decoder[0], Box)]
        outer = ["", *merges]  # outer[k]: the qualified name of level k (level 0: none)
        for k, band in enumerate(u.bands):
            if k:
                _strip(self.names, [*band.encoder, *band.decoder[1:]], outer[k - 1])
            _strip(self.names, [*band.skip, *band.decoder[:1]], outer[k])
        _strip(self.names, u.bottom, outer[len(u.bands) - 1])

    def draw_node(self, node: Node, x: float, axis: float, labels: float, *, more: bool) -> float | None:
        if isinstance(node, U):
            return self.draw_u(node, x, axis, labels, more=more)
        return super().draw_node(node, x, axis, labels, more=more)

    def draw_u(self, u: U, x: float, axis: float, labels: float, *, more: bool) -> float:
        """Draw the U from x: encoders down, the bottom, decoders up, band 0's decoder last."""
        plan = self.plan(u)
        ends, skips_end = x + plan.left, x + plan.left + plan.gap
        ys = [axis, *(axis + labels + a for a in plan.axes)]
        under = [labels, *(s.face + LABEL_GAP for s in plan.bands)]
        # Between band k and k + 1, where the connectors from one to the other run.
        mids = [y - s.above - LANE_GAP / 2 for y, s in zip(ys[1:], plan.bands, strict=True)]
        starts = [ends - self.lane(b.encoder).width for b in u.bands] + [x + plan.bottom]
        first = u.bands[0].encoder
        if starts[0] > x and not (first and isinstance(first[0], Box) and first[0].row.kind == "input"):
            self.line([(x, axis), (starts[0], axis)])
        for k, band in enumerate(u.bands):
            self.draw_lane(band.encoder, starts[k], ys[k], under[k], more=True)
            self.draw_skip(band.skip, ends, skips_end, ys[k], under[k])
            turn, target = ends + FAN / 2, starts[k + 1] - FAN / 2
            self.line(
                [(turn, ys[k]), (turn, mids[k]), (target, mids[k]), (target, ys[k + 1]), (starts[k + 1], ys[k + 1])]
            )
        end = self.draw_lane(u.bottom, starts[-1], ys[-1], under[-1], more=True)
        for k in range(len(u.bands) - 1, -1, -1):
            up, join = end + FAN / 2, skips_end - FAN / 2
            self.line([(end, ys[k + 1]), (up, ys[k + 1]), (up, mids[k]), (join, mids[k]), (join, ys[k])])
            end = self.draw_lane(u.bands[k].decoder, skips_end, ys[k], under[k], more=more or k > 0)
        return end

    def draw_skip(self, items: list[Node], start: float, end: float, axis: float, labels: float) -> None:
        """The skip across a band, its layers (a crop) in the middle."""
        width = self.lane(items).width
        left = start + (end - start - width) / 2
        if items:
            self.line([(start, axis), (left, axis)])
            self.draw_lane(items, left, axis, labels, more=True)
            self.line([(left + width, axis), (end, axis)])
        else:
            self.line([(start, axis), (end, axis)])
            self.text(start + FAN, axis - 4, _IDENTITY, ' stroke="none" fill="#555"')
