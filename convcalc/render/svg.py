"""`convcalc draw`: the report as an SVG figure, in the style of the classic AlexNet and LeNet drawings.

Each volume is a cuboid whose height follows its spatial size and whose thickness follows its
channels, both on a log scale (so that 224x224x64 and 7x7x512 both show); a conv or pool row has
a small square before its volume, sized by its kernel. The branches of a parallel or residual
layer run in lanes one under the other and join at the merge's volume. The top-level lane wraps
onto a new line of the figure past MAX_WIDTH, so that a GoogLeNet stays a readable width.
Plain SVG 1.1, presentation attributes only (no CSS), so any browser or converter shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from convcalc.render import numbers
from convcalc.render.diagram import MERGES, Box, Fork, Node, build, count_boxes, qualified_names
from convcalc.render.inert import inert
from convcalc.render.shapes import LEGEND, Cube, cube, fills, kernel, legend_fill
from convcalc.report import Severity

if TYPE_CHECKING:
    from convcalc.report import LayerRow, Report

MAX_WIDTH = 1500  # where the top-level lane wraps (the figure adds its margins)
# A figure whose long side passes FOLD_PAST px is folded by default, as deep as fits READABLE px.
FOLD_PAST = 4000
READABLE = 1700
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

_STROKE = "#44546a"
_ERROR = "#c0392b"
_KERNEL = ("#fbe3a6", "#a67c1f")


@dataclass(frozen=True, slots=True)
class Drawing:
    """The SVG text, how many volumes it shows, and its size in px."""

    svg: str
    volumes: int
    width: float = 0.0
    height: float = 0.0


def _n(value: float) -> str:
    """A coordinate with at most one decimal: 12, 12.5."""
    return f"{value:.1f}".removesuffix(".0")


def _gap(square: tuple[float, float] | None) -> float:
    """The room before a volume: the connector, with the kernel's square on it."""
    return GAP if square is None else max(GAP, square[0] + 14)


# XML 1.0 has no place for control characters, which a YAML name may hold ("\x01"): they are
# written out by inert; what else XML cannot hold (lone surrogates, U+FFFE) is replaced.
_INVALID = dict.fromkeys([*range(0xD800, 0xE000), 0xFFFE, 0xFFFF], "\ufffd")


def _xml(text: str) -> str:
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
class _Size:
    """A node's extent around its lane's axis; labels are aligned across a lane."""

    width: float
    above: float
    face: float  # half the tallest front face on the axis: the lane's labels go below it
    lines: int  # the most label lines on the axis
    tail: float = 0.0  # how far below the labels' top the lanes of a fork reach
    axes: tuple[float, ...] = ()  # a fork's lanes after the first: their axes below the labels' top

    def bottom(self) -> float:
        return self.face + LABEL_GAP + max(self.lines * LINE, self.tail)


class _Figure:
    """Measures the tree once (sizes by node), then writes it."""

    def __init__(self, names: dict[str, str] | None = None, tallest: float = 200.0) -> None:
        self.sizes: dict[int, _Size] = {}
        self.out: list[str] = []
        self.names = names or {}
        self.tallest = tallest  # no vector is drawn taller than the tallest volume

    def cube(self, row: LayerRow) -> Cube:
        return cube(row.output, self.tallest)

    # -- measuring

    def lane(self, items: list[Node]) -> _Size:
        sizes = [self.measure(n) for n in items]
        if not sizes:
            return _Size(0, LINE, 0, 0)
        return _Size(
            sum(s.width for s in sizes),
            max(s.above for s in sizes),
            max(s.face for s in sizes),
            max(s.lines for s in sizes),
            max(s.tail for s in sizes),
        )

    def measure(self, node: Node) -> _Size:
        size = self.sizes.get(id(node))
        if size is None:
            size = self.box_size(node) if isinstance(node, Box) else self.fork_size(node)
            self.sizes[id(node)] = size
        return size

    def box_size(self, box: Box) -> _Size:
        shape, square, lines = self.cube(box.row), kernel(box.row), _lines(box, self.names)
        column = max(shape.thick + shape.dx, CHAR * max(len(t) for t in lines)) + 10
        return _Size(_gap(square) + column, shape.high / 2 + shape.dy, shape.high / 2, len(lines))

    def fork_size(self, fork: Fork) -> _Size:
        lanes = [self.lane(items) for items in fork.lanes.values()]
        if fork.identity:
            lanes.append(self.lane([]))
        first = lanes[0]
        merge = self.measure(fork.merge) if fork.merge is not None else _Size(0, 0, 0, 0)
        lines = max(first.lines, merge.lines)
        cursor = max(lines * LINE, first.tail) + LANE_GAP
        axes = []
        for lane in lanes[1:]:
            axes.append(cursor + lane.above)
            cursor = axes[-1] + lane.bottom() + LANE_GAP
        width = 2 * FAN + max(s.width for s in lanes) + merge.width
        above, face = max(first.above, merge.above), max(first.face, merge.face)
        return _Size(width, above, face, lines, cursor - LANE_GAP, tuple(axes))

    # -- writing

    def line(self, points: list[tuple[float, float]], *, dashed: bool = False) -> None:
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        if len(points) == 2:  # noqa: PLR2004 - a segment
            (x1, y1), (x2, y2) = points
            self.out.append(f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"{dash}/>')
        else:
            text = " ".join(f"{_n(x)},{_n(y)}" for x, y in points)
            self.out.append(f'<polyline points="{text}" fill="none"{dash}/>')

    def text(self, x: float, y: float, text: str, attrs: str = "") -> None:
        self.out.append(f'<text x="{_n(x)}" y="{_n(y)}"{attrs}>{_xml(text)}</text>')

    def draw_lane(self, items: list[Node], x: float, axis: float, labels: float, *, more: bool) -> float:
        """Draw a lane from x; `labels` is how far below the axis its labels start. Gives its end.

        A box's column is as wide as its longest label: a connector leads from the box to the
        column's end, where the next node's starts, unless nothing follows (`more`).
        """
        for i, node in enumerate(items):
            right = (
                self.draw_box(node, x, axis, labels) if isinstance(node, Box) else self.draw_fork(node, x, axis, labels)
            )
            x += self.measure(node).width
            if right is not None and (more or i < len(items) - 1) and right < x:
                self.line([(right, axis), (x, axis)])
        return x

    def draw_box(self, box: Box, x: float, axis: float, labels: float) -> float:
        """Draw a box in its column from x; gives the right end of its cube, where a connector leaves."""
        row, size = box.row, self.measure(box)
        shape, square = self.cube(row), kernel(row)
        centre = x + (size.width + _gap(square)) / 2  # of the column after the gap
        left, top = centre - (shape.thick + shape.dx) / 2, axis - shape.high / 2
        self.out.append("<g>")
        tip = f"{row.path} {self.names.get(row.path, row.name)}: {row.label} → {numbers.volume(row.output)}"
        notes = [f"+ {r.label}" for r in box.merged] + [d.message for r in (row, *box.merged) for d in r.diagnostics]
        self.out.append(f"<title>{chr(10).join(map(_xml, [tip, *notes]))}</title>")
        if row.kind != "input":
            self.line([(x, axis), (left, axis)])
        if square is not None:
            (w, h), mid = square, x + (left - x) / 2
            fill, stroke = _KERNEL
            self.out.append(
                f'<rect x="{_n(mid - w / 2)}" y="{_n(axis - h / 2)}" width="{_n(w)}" height="{_n(h)}"'
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
        self.out.append(f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(t)}" height="{_n(h)}" fill="{front}"/>')
        for fill, points in faces:
            text = " ".join(f"{_n(px)},{_n(py)}" for px, py in points)
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


def _caption(report: Report, volumes: int, note: str) -> list[str]:
    t = report.totals
    totals = (
        f"Params {numbers.precise(t.params)} ({numbers.grouped(t.params)})"
        f" · MACs {numbers.precise(t.macs)} ({numbers.grouped(t.macs)})"
        f" · Memory forward {numbers.size(t.forward_bytes)}, params {numbers.size(t.params_bytes)}"
    )
    scale = "on a log scale, a box's height follows the spatial size and its thickness the channels"
    return [totals, f"batch {report.batch}, {report.dtype} · {volumes} volumes; {scale}", *([note] if note else [])]


def _wrap(figure: _Figure, nodes: list[Node]) -> list[list[Node]]:
    """The top-level lane cut into lines of the figure no wider than MAX_WIDTH (a wider node alone)."""
    lines: list[list[Node]] = [[]]
    width = 0.0
    for node in nodes:
        w = figure.measure(node).width
        if lines[-1] and width + w > MAX_WIDTH:
            lines.append([])
            width = 0
        lines[-1].append(node)
        width += w
    return lines


def render_svg(report: Report, note: str = "") -> Drawing:
    """The report as a standalone SVG document, sized to its content; `note` is a last caption line."""
    nodes = build(report)
    volumes = count_boxes(nodes)
    spatial = [cube(r.output).high for r in report.rows if r.output is not None and r.output.spatial]
    figure = _Figure(qualified_names(report), max(spatial, default=200.0))
    top = MARGIN + 30.0  # below the title
    right, previous = 0.0, (0.0, 0.0)
    lines = _wrap(figure, nodes)
    for i, items in enumerate(lines):
        size = figure.lane(items)
        axis = top + size.above
        if i:  # a dashed line from the end of the line above to the start of this one
            (end, level), turn, middle = previous, MARGIN / 2, top - LINE_GAP / 2
            figure.line([(end, level), (end + turn, level), (end + turn, middle), (turn, middle)], dashed=True)
            figure.line([(turn, middle), (turn, axis), (MARGIN, axis)], dashed=True)
        end = figure.draw_lane(items, MARGIN, axis, size.face + LABEL_GAP, more=i < len(lines) - 1)
        right, previous = max(right, end), (end, axis)
        top = axis + size.bottom() + LINE_GAP
    svg, width, height = _document(report, figure.out, volumes, right, top - LINE_GAP / 2, note=note)
    return Drawing(svg, volumes, width, height)


def render_readable(report: Report, limit: float = READABLE) -> Drawing:
    """Every layer; or, for a figure whose long side passes FOLD_PAST, the deepest folding that fits `limit`.

    DenseNet-121's 250 volumes make a figure of about 1,500 x 4,500 px, unreadable once fitted to
    a screen; folded to one box per dense layer it fits in 1,500 px. The caption says what was
    folded and how to choose (`--depth`, `--full`).
    """
    from convcalc.fold import fold  # noqa: PLC0415 - only for a large figure

    whole = render_svg(report)
    if max(whole.width, whole.height) <= FOLD_PAST:
        return whole
    deepest = max((r.depth for r in report.rows), default=0)
    drawing = whole
    for depth in range(deepest, 0, -1):
        folded = fold(report, depth)
        note = (
            f"Folded to depth {depth} to fit the page: every layer would be {whole.volumes} volumes,"
            f" {_n(whole.width)} x {_n(whole.height)} px (convcalc draw --depth N to choose, --full for every layer)"
        )
        drawing = render_svg(folded, note)
        if max(drawing.width, drawing.height) <= limit:
            break
    return drawing


def _legend(x: float, y: float) -> tuple[list[str], float]:
    """The colours' legend on one line from (x, y): a square and a word for each; gives its right end."""
    out = []
    for name, words in LEGEND.items():
        out.append(
            f'<rect x="{_n(x)}" y="{_n(y - SWATCH + 1)}" width="{SWATCH}" height="{SWATCH}"'
            f' fill="{legend_fill(name)}" stroke="{_STROKE}" stroke-width="0.8"/>'
        )
        out.append(f'<text x="{_n(x + SWATCH + 4)}" y="{_n(y)}">{_xml(words)}</text>')
        x += SWATCH + 4 + CHAR * len(words) + 14
    return out, x


def _document(  # noqa: PLR0913 - the drawn lanes and what frames them
    report: Report, body: list[str], volumes: int, right: float, bottom: float, *, note: str
) -> tuple[str, float, float]:
    """The drawn lanes framed: the title above, the totals and legend below, the size from the layout."""
    first = report.rows[0].output if report.rows else None
    title = f"{report.name}: {numbers.volume(first)} → {numbers.volume(report.totals.output)}"
    caption = _caption(report, volumes, note)
    legend_y = bottom + (len(caption) + 1) * (LINE + 2)
    legend, legend_end = _legend(MARGIN, legend_y)
    texts = max(CHAR * 16 / FONT * len(title), *(CHAR * 12 / FONT * len(c) for c in caption), legend_end - MARGIN)
    width, height = max(right, MARGIN + texts) + MARGIN, legend_y + MARGIN
    size = f'width="{_n(width)}" height="{_n(height)}"'
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {_n(width)} {_n(height)}"'
        f' font-family="sans-serif" font-size="{FONT}" fill="#222">'
    )
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        root,
        f"<title>{_xml(title)}</title>",
        f'<rect {size} fill="#fff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="16" font-weight="bold">{_xml(title)}</text>',
        f'<g stroke="{_STROKE}" stroke-width="0.8">',
    ]
    foot = ["</g>"]
    for i, line in enumerate(caption):
        y = bottom + (i + 1) * (LINE + 2)
        foot.append(f'<text x="{MARGIN}" y="{_n(y)}" font-size="12">{_xml(line)}</text>')
    return "\n".join([*head, *body, *foot, *legend, "</svg>", ""]), width, height
