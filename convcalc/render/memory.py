"""`convcalc draw SPEC --memory`: live memory across a training step (or an inference pass) as an SVG.

One column per layer and phase, left to right as the step runs: the forward's layers, the
backward's (the last layer first), then the optimizer's step. Each column stacks the bytes live
by part at the column's highest moment (weights and buffers at the bottom, then optimizer state,
gradients, what autograd keeps, and the other activations on top); a dark line over them is the
most during an op (temporaries inside it). The peak is marked with a line and its figure, phase
and layer. Labels are placed only where they have room (a label that would touch the one before
it is left out, its layer still named in the column's tooltip). Plain SVG 1.1, as render/svg.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.render import numbers
from convcalc.render.figure import CHAR, FONT, MARGIN, STROKE, SWATCH, n, xml

if TYPE_CHECKING:
    from collections.abc import Sequence

# The parts, bottom to top, with their colours and the legend's words.
PARTS = (
    ("weights", "#9aa5b1", "weights and buffers"),
    ("state", "#b39ddb", "optimizer state"),
    ("gradients", "#f4a261", "gradients"),
    ("saved", "#6ab187", "saved for backward"),
    ("activations", "#7fb3d5", "other activations"),
)
PLOT_WIDTH = 1200  # the columns' room, at most
PLOT_HEIGHT = 300
AXIS = 70  # room for the bytes' ticks left of the plot
PHASE_ROOM = 2 * SWATCH + 20  # above the plot: the phases' names and the peak's label
_HIGH = "#1f2d3d"
_PEAK = "#c0392b"


@dataclass(frozen=True, slots=True)
class Sample:
    """One event: its phase, row and op, the live bytes by part (in PARTS' order) and the most during it."""

    phase: str
    row: str
    op: str
    parts: tuple[int, int, int, int, int]
    high: int


@dataclass(frozen=True, slots=True)
class _Column:
    phase: str
    row: str
    first: int  # the index of its first sample
    top: Sample  # its highest moment
    high: int


def columns(samples: Sequence[Sample]) -> list[_Column]:
    """Consecutive samples of the same phase and row, as one column each."""
    out: list[_Column] = []
    for i, s in enumerate(samples):
        if out and out[-1].phase == s.phase and out[-1].row == s.row:
            c = out[-1]
            top = s if sum(s.parts) > sum(c.top.parts) else c.top
            out[-1] = _Column(c.phase, c.row, c.first, top, max(c.high, s.high))
        else:
            out.append(_Column(s.phase, s.row, i, s, s.high))
    return out


def _ticks(top: int) -> list[int]:
    """Round byte values from 0 to `top` or just past it, six at most: 1, 2 or 5 times a power of ten apart."""
    power = 1
    while True:
        for k in (1, 2, 5):
            step = power * k
            if -(-top // step) <= 5:  # noqa: PLR2004 - five steps above 0 at most
                return list(range(0, -(-top // step) * step + 1, step))
        power *= 10


def _label_width(text: str, size: float = FONT) -> float:
    return CHAR * size / FONT * len(text)


@dataclass(frozen=True, slots=True)
class Picture:
    """The SVG, and what it shows: its size in px and its labels (text, x, y, width) for the tests."""

    svg: str
    width: float
    height: float

    def _repr_svg_(self) -> str:
        """How a notebook shows it."""
        return self.svg


def render_memory(  # noqa: PLR0913, PLR0915 - a figure is these parts, drawn in order
    samples: Sequence[Sample],
    title: str,
    caption: Sequence[str],
    names: dict[str, str],
    blocks: dict[str, str],
    *,
    peak_at: int,
) -> Picture:
    """The figure of `samples`; `names` gives each row its full name, `blocks` its top-level block's (under the
    axis, where a block begins); `peak_at` is the sample of the peak."""
    cols = columns(samples)
    width = min(PLOT_WIDTH, max(400, 4 * len(cols)))
    step = width / len(cols)
    top = max(max(c.high for c in cols), 1)
    ticks = _ticks(top)
    scale = PLOT_HEIGHT / ticks[-1]
    x0, y0 = MARGIN + AXIS, MARGIN + 30 + PHASE_ROOM
    base = y0 + PLOT_HEIGHT

    def x(i: float) -> float:
        return x0 + i * step

    def y(v: float) -> float:
        return base - v * scale

    out: list[str] = []
    # The axis and its ticks.
    for t in ticks:
        out.append(f'<line x1="{n(x0 - 4)}" y1="{n(y(t))}" x2="{n(x0 + width)}" y2="{n(y(t))}" stroke="#e3e7ec"/>')
        out.append(f'<text x="{n(x0 - 8)}" y="{n(y(t) + 4)}" text-anchor="end">{xml(numbers.size(t))}</text>')
    # The parts, stacked: an area each, as steps from column to column.
    below = [0] * len(cols)
    for k, (_, colour, _) in enumerate(PARTS):
        above = [b + c.top.parts[k] for b, c in zip(below, cols, strict=True)]
        upper = " ".join(f"L{n(x(i))},{n(y(v))} L{n(x(i + 1))},{n(y(v))}" for i, v in enumerate(above))
        lower = " ".join(f"L{n(x(i + 1))},{n(y(v))} L{n(x(i))},{n(y(v))}" for i, v in reversed(list(enumerate(below))))
        out.append(f'<path d="M{n(x(0))},{n(y(below[0]))} {upper} {lower} Z" fill="{colour}" stroke="none"/>')
        below = above
    highs = " ".join(f"L{n(x(i))},{n(y(c.high))} L{n(x(i + 1))},{n(y(c.high))}" for i, c in enumerate(cols))
    out.append(f'<path d="M{n(x(0))},{n(y(0))} {highs}" fill="none" stroke="{_HIGH}" stroke-width="0.8"/>')
    # Each column's tooltip: its phase, layer and bytes.
    for i, c in enumerate(cols):
        tip = f"{c.phase} · {names.get(c.row, c.row) or 'the whole network'} · {numbers.size(c.high)}"
        out.append(
            f'<rect x="{n(x(i))}" y="{n(y0)}" width="{n(step)}" height="{PLOT_HEIGHT}" fill="#fff" fill-opacity="0">'
            f"<title>{xml(tip)}</title></rect>"
        )
    out.append(f'<rect x="{n(x0)}" y="{n(y0)}" width="{n(width)}" height="{PLOT_HEIGHT}" fill="none" stroke="{STROKE}"/>')
    # The phases: a line between two, the name above each where it fits.
    spans: list[tuple[str, int, int]] = []
    for i, c in enumerate(cols):
        if spans and spans[-1][0] == c.phase:
            spans[-1] = (c.phase, spans[-1][1], i + 1)
        else:
            spans.append((c.phase, i, i + 1))
    phase_y = y0 - PHASE_ROOM + 12
    for phase, start, stop in spans:
        if start:
            out.append(f'<line x1="{n(x(start))}" y1="{n(phase_y - 10)}" x2="{n(x(start))}" y2="{n(base)}" stroke="{STROKE}" stroke-dasharray="3 3"/>')
        if _label_width(phase) + 6 <= x(stop) - x(start):
            out.append(f'<text x="{n(x(start) + 3)}" y="{n(phase_y)}" font-weight="bold">{xml(phase)}</text>')
    # The layers under the plot, where they have room.
    layer_y, right, previous = base + 16, -1e9, ""
    for i, c in enumerate(cols):
        label = blocks.get(c.row, "")
        if label and label != previous and x(i) >= right + 8 and x(i) + _label_width(label, 10) <= x0 + width + AXIS:
            out.append(f'<text x="{n(x(i))}" y="{n(layer_y)}" font-size="10">{xml(label)}</text>')
            right = x(i) + _label_width(label, 10)
        previous = label or previous
    # The peak: a line down its column, its figure and where it is above the plot.
    at = next(i for i, c in enumerate(cols) if c.first <= peak_at < c.first + _count(samples, c))
    peak = samples[peak_at]
    px = x(at + 0.5)
    out.append(f'<line x1="{n(px)}" y1="{n(y0 - 8)}" x2="{n(px)}" y2="{n(base)}" stroke="{_PEAK}" stroke-width="1.2"/>')
    out.append(f'<circle cx="{n(px)}" cy="{n(y(peak.high))}" r="3" fill="{_PEAK}"/>')
    where = names.get(peak.row, peak.row) or "the whole network"
    text = f"peak {numbers.size(peak.high)}: {peak.phase}, {where} ({peak.op})"
    wide = _label_width(text)
    anchor, tx = ("end", px - 4) if px + wide + 4 > x0 + width else ("start", px + 4)
    out.append(f'<text x="{n(tx)}" y="{n(y0 - 10)}" text-anchor="{anchor}" fill="{_PEAK}">{xml(text)}</text>')
    # Caption and legend.
    lines_y = layer_y + 26
    for i, line in enumerate(caption):
        out.append(f'<text x="{MARGIN}" y="{n(lines_y + i * 16)}" font-size="12">{xml(line)}</text>')
    legend_y = lines_y + len(caption) * 16 + 8
    lx = float(MARGIN)
    for _, colour, words in PARTS:
        out.append(f'<rect x="{n(lx)}" y="{n(legend_y - SWATCH + 1)}" width="{SWATCH}" height="{SWATCH}" fill="{colour}"/>')
        out.append(f'<text x="{n(lx + SWATCH + 4)}" y="{n(legend_y)}">{xml(words)}</text>')
        lx += SWATCH + 4 + _label_width(words) + 14
    out.append(f'<line x1="{n(lx)}" y1="{n(legend_y - 4)}" x2="{n(lx + SWATCH)}" y2="{n(legend_y - 4)}" stroke="{_HIGH}"/>')
    out.append(f'<text x="{n(lx + SWATCH + 4)}" y="{n(legend_y)}">{xml("the most during an op")}</text>')
    lx += SWATCH + 4 + _label_width("the most during an op")
    texts = [_label_width(title, 16), *(_label_width(c, 12) for c in caption), lx - MARGIN]
    full_width = max(x0 + width, MARGIN + max(texts)) + MARGIN
    height = legend_y + MARGIN
    size = f'width="{n(full_width)}" height="{n(height)}"'
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {n(full_width)} {n(height)}"'
        f' font-family="sans-serif" font-size="{FONT}" fill="#222">',
        f"<title>{xml(title)}</title>",
        f'<rect {size} fill="#fff"/>',
        f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="16" font-weight="bold">{xml(title)}</text>',
    ]
    return Picture("\n".join([*head, *out, "</svg>", ""]), full_width, height)


def _count(samples: Sequence[Sample], c: _Column) -> int:
    """How many samples the column holds."""
    i = c.first
    while i < len(samples) and samples[i].phase == c.phase and samples[i].row == c.row:
        i += 1
    return i - c.first
