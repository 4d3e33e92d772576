"""The drawing of `convcalc draw`'s figure: boxes (volumes) in lanes, forks with their lanes below.

convcalc.render.svg frames it (title, caption, legend) and wraps the top-level lane; the U of an
encoder-decoder is drawn by convcalc.render.ushape. Every element is plain SVG 1.1 with
presentation attributes (no CSS).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from convcalc.render import numbers
from convcalc.render.diagram import MERGES, Box, Fork, Node
from convcalc.render.inert import inert
from convcalc.render.shapes import Cube, cube, fills, kernel
from convcalc.report import Severity

if TYPE_CHECKING:
    from convcalc.report import LayerRow

FONT = 11  # the smallest text; titles are larger
LINE = 14  # line height of the labels
CHAR = 6.8  # a generous width of one character at 11 px sans-serif, so labels never overlap
MARGIN = 20
GAP = 20  # before a volume without a kernel
FAN = 16  # where lanes fork and where they join
LANE_GAP = 18
LINE_GAP = 30
LABEL_GAP = 6  # between the lowest front face of a lane and its labels
NAME_CHARS = 32  # longer names are cut, with the whole name in the tooltip (denseblock3.denselayer24.conv2 fits)
SWATCH = 10  # a legend entry's square

STROKE = "#44546a"
_ERROR = "#c0392b"
_KERNEL = ("#fbe3a6", "#a67c1f")


def n(value: float) -> str:
    """A coordinate with at most one decimal: 12, 12.5."""
    return f"{value:.1f}".removesuffix(".0")


def _gap(square: tuple[float, float] | None) -> float:
    """The room before a volume: the connector, with the kernel's square on it."""
    return GAP if square is None else max(GAP, square[0] + 14)


# XML 1.0 has no place for control characters, which a YAML name may hold ("\x01"): they are
# written out by inert; what else XML cannot hold (lone surrogates, U+FFFE) is replaced.
_INVALID = dict.fromkeys([*range(0xD800, 0xE000), 0xFFFE, 0xFFFF], "\ufffd")


def xml(text: str) -> str:
    """Text made safe for an element's content: on one line, control characters written out."""
    return escape(inert(text).translate(_INVALID))


def _cut(text: str) -> str:
    return text if len(text) <= NAME_CHARS else text[: NAME_CHARS - 1] + "…"


def _lines(box: Box, names: dict[str, str]) -> list[str]:
    """The labels under a volume: qualified name, volume (bold), the layer, the rows drawn inside it."""
    row = box.row
    lines = [_cut(names.get(row.path, row.name)), numbers.volume(row.output)]
    op = row.kind if row.kind in MERGES else row.label
    # A folded composite's label is its kind (residual, repeat), which its colour shows.
    if row.kind != "input" and op.lower() != row.name.lower() and op != row.kind:
        lines.append(_cut(op))
    if box.merged:
        lines.append(_cut("+ " + ", ".join(r.label for r in box.merged)))
    return lines


def _error(box: Box) -> bool:
    return any(d.severity is Severity.ERROR for r in (box.row, *box.merged) for d in r.diagnostics)


@dataclass(frozen=True, slots=True)
class Size:
    """A node's extent around its lane's axis; labels are aligned across a lane."""

    width: float
    above: float
    face: float  # half the tallest front face on the axis: the lane's labels go below it
    lines: int  # the most label lines on the axis
    tail: float = 0.0  # how far below the labels' top the lanes of a fork reach
    axes: tuple[float, ...] = ()  # a fork's lanes after the first: their axes below the labels' top

    def bottom(self) -> float:
        return self.face + LABEL_GAP + max(self.lines * LINE, self.tail)


class Figure:
    """Measures the tree once (sizes by node), then writes it."""

    def __init__(self, names: dict[str, str] | None = None, tallest: float = 200.0) -> None:
        self.sizes: dict[int, Size] = {}
        self.out: list[str] = []
        self.names = names or {}
        self.tallest = tallest  # no vector is drawn taller than the tallest volume

    def cube(self, row: LayerRow) -> Cube:
        return cube(row.output, self.tallest)

    # -- measuring

    def lane(self, items: list[Node]) -> Size:
        sizes = [self.measure(n) for n in items]
        if not sizes:
            return Size(0, LINE, 0, 0)
        return Size(
            sum(s.width for s in sizes),
            max(s.above for s in sizes),
            max(s.face for s in sizes),
            max(s.lines for s in sizes),
            max(s.tail for s in sizes),
        )

    def measure(self, node: Node) -> Size:
        size = self.sizes.get(id(node))
        if size is None:
            size = self.node_size(node)
            self.sizes[id(node)] = size
        return size

    def node_size(self, node: Node) -> Size:
        """A node measured (a U is measured by convcalc.render.ushape's Figure)."""
        if isinstance(node, Box):
            return self.box_size(node)
        if isinstance(node, Fork):
            return self.fork_size(node)
        raise TypeError(node)  # pragma: no cover - ushape.Figure draws every U

    def box_size(self, box: Box) -> Size:
        shape, square, lines = self.cube(box.row), kernel(box.row), _lines(box, self.names)
        column = max(shape.thick + shape.dx, CHAR * max(len(t) for t in lines)) + 10
        return Size(_gap(square) + column, shape.high / 2 + shape.dy, shape.high / 2, len(lines))

    def fork_size(self, fork: Fork) -> Size:
        lanes = [self.lane(items) for items in fork.lanes.values()]
        if fork.identity:
            lanes.append(self.lane([]))
        first = lanes[0]
        merge = self.measure(fork.merge) if fork.merge is not None else Size(0, 0, 0, 0)
        lines = max(first.lines, merge.lines)
        cursor = max(lines * LINE, first.tail) + LANE_GAP
        axes = []
        for lane in lanes[1:]:
            axes.append(cursor + lane.above)
            cursor = axes[-1] + lane.bottom() + LANE_GAP
        width = 2 * FAN + max(s.width for s in lanes) + merge.width
        above, face = max(first.above, merge.above), max(first.face, merge.face)
        return Size(width, above, face, lines, cursor - LANE_GAP, tuple(axes))

    # -- writing

    def line(self, points: list[tuple[float, float]], *, dashed: bool = False) -> None:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        if len(points) == 2:  # noqa: PLR2004 - a segment
            (x1, y1), (x2, y2) = points
            self.out.append(f'<line x1="{n(x1)}" y1="{n(y1)}" x2="{n(x2)}" y2="{n(y2)}"{dash}/>')
        else:
            text = " ".join(f"{n(x)},{n(y)}" for x, y in points)
            self.out.append(f'<polyline points="{text}" fill="none"{dash}/>')

    def text(self, x: float, y: float, text: str, attrs: str = "") -> None:
        self.out.append(f'<text x="{n(x)}" y="{n(y)}"{attrs}>{xml(text)}</text>')

    def draw_lane(self, items: list[Node], x: float, axis: float, labels: float, *, more: bool) -> float:
        """Draw a lane from x; `labels` is how far below the axis its labels start. Gives its end.

        A box's column is as wide as its longest label: a connector leads from the box to the
        column's end, where the next node's starts, unless nothing follows (`more`).
        """
        for i, node in enumerate(items):
            right = self.draw_node(node, x, axis, labels, more=more or i < len(items) - 1)
            x += self.measure(node).width
            if right is not None and (more or i < len(items) - 1) and right < x:
                self.line([(right, axis), (x, axis)])
        return x

    def draw_node(self, node: Node, x: float, axis: float, labels: float, *, more: bool) -> float | None:
        """Draw a node from x; gives where a connector leaves it (None: nowhere). `more`: a node follows."""
        del more  # a box or a fork ends at its last cube whatever follows
        if isinstance(node, Box):
            return self.draw_box(node, x, axis, labels)
        if isinstance(node, Fork):
            return self.draw_fork(node, x, axis, labels)
        raise TypeError(node)  # pragma: no cover - ushape.Figure draws every U

    def draw_box(self, box: Box, x: float, axis: float, labels: float) -> float:
        """Draw a box in its column from x; gives the right end of its cube, where a connector leaves."""
        row, size = box.row, self.measure(box)
        shape, square = self.cube(row), kernel(row)
        centre = x + (size.width + _gap(square)) / 2  # of the column after the gap
        left, top = centre - (shape.thick + shape.dx) / 2, axis - shape.high / 2
        self.out.append("<g>")
        tip = f"{row.path} {self.names.get(row.path, row.name)}: {row.label} → {numbers.volume(row.output)}"
        notes = [f"+ {r.label}" for r in box.merged] + [d.message for r in (row, *box.merged) for d in r.diagnostics]
        self.out.append(f"<title>{chr(10).join(map(xml, [tip, *notes]))}</title>")
        if row.kind != "input":
            self.line([(x, axis), (left, axis)])
        if square is not None:
            (w, h), mid = square, x + (left - x) / 2
            fill, stroke = _KERNEL
            self.out.append(
                f'<rect x="{n(mid - w / 2)}" y="{n(axis - h / 2)}" width="{n(w)}" height="{n(h)}"'
                f' fill="{fill}" stroke="{stroke}"/>'
            )
        self.draw_cube(box, shape, left, top)
        self.out.append('<g stroke="none" text-anchor="middle">')
        for i, line in enumerate(_lines(box, self.names)):
            self.text(centre, axis + labels + LINE * (i + 1) - 3, line, ' font-weight="bold"' if i == 1 else "")
        self.out.append("</g></g>")
        return left + shape.thick + shape.dx

    def draw_cube(self, box: Box, shape: Cube, left: float, top: float) -> None:
        row = box.row
        front, lid, side = fills(row)
        style = f' stroke="{_ERROR}" stroke-width="1.6"' if _error(box) or row.output is None else ""
        if row.output is None:
            style += ' stroke-dasharray="3 2"'

        t, h, dx, dy = shape.thick, shape.high, shape.dx, shape.dy
        faces = (
            (lid, [(left, top), (left + dx, top - dy), (left + t + dx, top - dy), (left + t, top)]),
            (side, [(left + t, top), (left + t + dx, top - dy), (left + t + dx, top - dy + h), (left + t, top + h)]),
        )
        self.out.append(f'<g stroke-linejoin="round"{style}>')
        self.out.append(f'<rect x="{n(left)}" y="{n(top)}" width="{n(t)}" height="{n(h)}" fill="{front}"/>')
        for fill, points in faces:
            text = " ".join(f"{n(px)},{n(py)}" for px, py in points)
            self.out.append(f'<polygon points="{text}" fill="{fill}"/>')
        self.out.append("</g>")

    def draw_fork(self, fork: Fork, x: float, axis: float, labels: float) -> float | None:
        """Draw a fork from x; gives the right end of its merge's cube (None: the walk stopped in it)."""
        size = self.measure(fork)
        lanes = list(fork.lanes.values())
        if fork.identity:
            lanes.append([])
        widest = max(self.lane(items).width for items in lanes)
        split, start, join = x + FAN / 2, x + FAN, x + FAN + widest + FAN
        self.line([(x, axis), (start, axis)])
        self.draw_lane(lanes[0], start, axis, labels, more=fork.merge is not None)
        if fork.merge is not None:
            self.line([(start + self.lane(lanes[0]).width, axis), (join, axis)])
        for items, offset in zip(lanes[1:], size.axes, strict=True):
            y = axis + labels + offset
            self.line([(split, axis), (split, y), (start, y)])
            lane = self.lane(items)
            if not items:
                self.text(start + FAN, y - 4, "identity", ' stroke="none" fill="#555"')
            end = self.draw_lane(items, start, y, lane.face + LABEL_GAP, more=fork.merge is not None)
            if fork.merge is not None:
                self.line([(end, y), (join, y), (join, axis)])
        return None if fork.merge is None else self.draw_box(fork.merge, join, axis, labels)
