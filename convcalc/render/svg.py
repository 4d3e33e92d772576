"""`convcalc draw`: the report as an SVG figure, in the style of the classic AlexNet and LeNet drawings.

Each volume is a cuboid whose height follows its spatial size and whose thickness follows its
channels, both on a log scale (so that 224x224x64 and 7x7x512 both show); a conv or pool row has
a small square before its volume, sized by its kernel. The branches of a parallel or residual
layer run in lanes one under the other and join at the merge's volume; an encoder-decoder of
nested residuals (U-Net) is drawn as a U (convcalc.render.ushape). The top-level lane wraps
onto a new line of the figure past MAX_WIDTH, so that a GoogLeNet stays a readable width.
Plain SVG 1.1, presentation attributes only (no CSS), so any browser or converter shows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.render import numbers
from convcalc.render.diagram import build, count_boxes, qualified_names
from convcalc.render.figure import CHAR, FONT, LABEL_GAP, LINE, LINE_GAP, MARGIN, STROKE, SWATCH, n, xml
from convcalc.render.shapes import LEGEND, cube, legend_fill
from convcalc.render.ushape import Figure, u_shaped

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.render.diagram import Node
    from convcalc.report import Report

MAX_WIDTH = 1500  # where the top-level lane wraps (the figure adds its margins)
# A figure whose long side passes FOLD_PAST px is folded by default, as deep as fits READABLE px.
FOLD_PAST = 4000
READABLE = 1700


@dataclass(frozen=True, slots=True)
class Drawing:
    """The SVG text, how many volumes it shows, and its size in px."""

    svg: str
    volumes: int
    width: float = 0.0
    height: float = 0.0


def _caption(report: Report, volumes: int, note: str) -> list[str]:
    t = report.totals
    totals = (
        f"Params {numbers.precise(t.params)} ({numbers.grouped(t.params)})"
        f" · MACs {numbers.precise(t.macs)} ({numbers.grouped(t.macs)})"
        f" · Memory forward {numbers.size(t.forward_bytes)}, params {numbers.size(t.params_bytes)}"
    )
    scale = "on a log scale, a box's height follows the spatial size and its thickness the channels"
    return [totals, f"batch {report.batch}, {report.dtype} · {volumes} volumes; {scale}", *([note] if note else [])]


def _wrap(figure: Figure, nodes: list[Node]) -> list[list[Node]]:
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


def render_svg(report: Report, note: str = "", reads: Mapping[str, str] | None = None) -> Drawing:
    """The report as a standalone SVG document, sized to its content; `note` is a last caption line.

    `reads` names what a row of a general graph reads (`from:`, engine/graph.py's `reads`): under its name.
    """
    nodes = build(report)
    volumes = count_boxes(nodes)
    nodes = u_shaped(nodes)
    spatial = [cube(r.output).high for r in report.rows if r.output is not None and r.output.spatial]
    names = qualified_names(report)
    names |= {path: f"{names[path]} ← {source}" for path, source in (reads or {}).items() if path in names}
    figure = Figure(names, max(spatial, default=200.0))
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


def render_readable(report: Report, limit: float = READABLE, reads: Mapping[str, str] | None = None) -> Drawing:
    """Every layer; or, for a figure whose long side passes FOLD_PAST, the deepest folding that fits `limit`.

    DenseNet-121's 250 volumes make a figure of about 1,500 x 4,500 px, unreadable once fitted to
    a screen; folded to one box per dense layer it fits in 1,500 px. The caption says what was
    folded and how to choose (`--depth`, `--full`).
    """
    from convcalc.fold import fold  # noqa: PLC0415 - only for a large figure

    whole = render_svg(report, reads=reads)
    if max(whole.width, whole.height) <= FOLD_PAST:
        return whole
    deepest = max((r.depth for r in report.rows), default=0)
    drawing = whole
    for depth in range(deepest, 0, -1):
        folded = fold(report, depth)
        note = (
            f"Folded to depth {depth} to fit the page: every layer would be {whole.volumes} volumes,"
            f" {n(whole.width)} x {n(whole.height)} px (convcalc draw --depth N to choose, --full for every layer)"
        )
        drawing = render_svg(folded, note, reads)
        if max(drawing.width, drawing.height) <= limit:
            break
    return drawing


def _legend(x: float, y: float) -> tuple[list[str], float]:
    """The colours' legend on one line from (x, y): a square and a word for each; gives its right end."""
    out = []
    for name, words in LEGEND.items():
        out.append(
            f'<rect x="{n(x)}" y="{n(y - SWATCH + 1)}" width="{SWATCH}" height="{SWATCH}"'
            f' fill="{legend_fill(name)}" stroke="{STROKE}" stroke-width="0.8"/>'
        )
        out.append(f'<text x="{n(x + SWATCH + 4)}" y="{n(y)}">{xml(words)}</text>')
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
    size = f'width="{n(width)}" height="{n(height)}"'
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {n(width)} {n(height)}"'
        f' font-family="sans-serif" font-size="{FONT}" fill="#222">'
    )
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        root,
        f"<title>{xml(title)}</title>",
        f'<rect {size} fill="#fff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="16" font-weight="bold">{xml(title)}</text>',
        f'<g stroke="{STROKE}" stroke-width="0.8">',
    ]
    foot = ["</g>"]
    for i, line in enumerate(caption):
        y = bottom + (i + 1) * (LINE + 2)
        foot.append(f'<text x="{MARGIN}" y="{n(y)}" font-size="12">{xml(line)}</text>')
    return "\n".join([*head, *body, *foot, *legend, "</svg>", ""]), width, height
