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


class _Plot:
    """The plot's geometry: a column's x, a byte count's y."""

    def __init__(self, cols: list[_Column]) -> None:
        self.cols = cols
        self.width = min(PLOT_WIDTH, max(400, 4 * len(cols)))
        self.step = self.width / len(cols)
        self.ticks = _ticks(max(*(c.high for c in cols), 1))
        self.scale = PLOT_HEIGHT / self.ticks[-1]
        self.x0, self.y0 = MARGIN + AXIS, MARGIN + 30 + PHASE_ROOM
        self.base = self.y0 + PLOT_HEIGHT
        self.out: list[str] = []

    def x(self, i: float) -> float:
        return self.x0 + i * self.step

    def y(self, v: float) -> float:
        return self.base - v * self.scale

    def steps(self, values: list[int]) -> str:
        """A path's steps along the top of `values`, column by column."""
        x, y = self.x, self.y
        return " ".join(f"L{n(x(i))},{n(y(v))} L{n(x(i + 1))},{n(y(v))}" for i, v in enumerate(values))

    def axis(self) -> None:
        x0, y = self.x0, self.y
        for t in self.ticks:
            line = f'<line x1="{n(x0 - 4)}" y1="{n(y(t))}" x2="{n(x0 + self.width)}" y2="{n(y(t))}"'
            self.out.append(f'{line} stroke="#e3e7ec"/>')
            self.out.append(f'<text x="{n(x0 - 8)}" y="{n(y(t) + 4)}" text-anchor="end">{xml(numbers.size(t))}</text>')

    def areas(self) -> None:
        """The parts, stacked: an area each, as steps; then the most during an op, a line."""
        x, y, cols = self.x, self.y, self.cols
        below = [0] * len(cols)
        for k, (_, colour, _) in enumerate(PARTS):
            above = [b + c.top.parts[k] for b, c in zip(below, cols, strict=True)]
            back = " ".join(
                f"L{n(x(i + 1))},{n(y(v))} L{n(x(i))},{n(y(v))}" for i, v in reversed(list(enumerate(below)))
            )
            path = f"M{n(x(0))},{n(y(below[0]))} {self.steps(above)} {back} Z"
            self.out.append(f'<path d="{path}" fill="{colour}" stroke="none"/>')
            below = above
        highs = self.steps([c.high for c in cols])
        self.out.append(f'<path d="M{n(x(0))},{n(y(0))} {highs}" fill="none" stroke="{_HIGH}" stroke-width="0.8"/>')

    def tips(self, names: dict[str, str]) -> None:
        """Each column's tooltip (its phase, layer and bytes), and the plot's frame."""
        for i, c in enumerate(self.cols):
            tip = f"{c.phase} · {names.get(c.row, c.row) or 'the whole network'} · {numbers.size(c.high)}"
            box = f'x="{n(self.x(i))}" y="{n(self.y0)}" width="{n(self.step)}" height="{PLOT_HEIGHT}"'
            self.out.append(f'<rect {box} fill="#fff" fill-opacity="0"><title>{xml(tip)}</title></rect>')
        frame = f'x="{n(self.x0)}" y="{n(self.y0)}" width="{n(self.width)}" height="{PLOT_HEIGHT}"'
        self.out.append(f'<rect {frame} fill="none" stroke="{STROKE}"/>')

    def phases(self) -> None:
        """A dashed line between two phases, the name above each where it fits."""
        spans: list[tuple[str, int, int]] = []
        for i, c in enumerate(self.cols):
            if spans and spans[-1][0] == c.phase:
                spans[-1] = (c.phase, spans[-1][1], i + 1)
            else:
                spans.append((c.phase, i, i + 1))
        phase_y = self.y0 - PHASE_ROOM + 12
        for phase, start, stop in spans:
            at = n(self.x(start))
            if start:
                line = f'<line x1="{at}" y1="{n(phase_y - 10)}" x2="{at}" y2="{n(self.base)}"'
                self.out.append(f'{line} stroke="{STROKE}" stroke-dasharray="3 3"/>')
            if _label_width(phase) + 6 <= self.x(stop) - self.x(start):
                self.out.append(
                    f'<text x="{n(self.x(start) + 3)}" y="{n(phase_y)}" font-weight="bold">{xml(phase)}</text>'
                )

    def layers(self, blocks: dict[str, str]) -> None:
        """Under the plot, where each top-level layer or block begins, where there is room."""
        right, previous = -1e9, ""
        for i, c in enumerate(self.cols):
            label, x = blocks.get(c.row, ""), self.x(i)
            room = x >= right + 8 and x + _label_width(label, 10) <= self.x0 + self.width + AXIS
            if label and label != previous and room:
                self.out.append(f'<text x="{n(x)}" y="{n(self.base + 16)}" font-size="10">{xml(label)}</text>')
                right = x + _label_width(label, 10)
            previous = label or previous

    def peak(self, samples: Sequence[Sample], at: int, names: dict[str, str]) -> None:
        """A line down the peak's column, its figure and where it is above the plot."""
        col = next(i for i, c in enumerate(self.cols) if c.first <= at < c.first + _count(samples, c))
        peak = samples[at]
        px = self.x(col + 0.5)
        line = f'<line x1="{n(px)}" y1="{n(self.y0 - 8)}" x2="{n(px)}" y2="{n(self.base)}"'
        self.out.append(f'{line} stroke="{_PEAK}" stroke-width="1.2"/>')
        self.out.append(f'<circle cx="{n(px)}" cy="{n(self.y(peak.high))}" r="3" fill="{_PEAK}"/>')
        where = names.get(peak.row, peak.row) or "the whole network"
        text = f"peak {numbers.size(peak.high)}: {peak.phase}, {where} ({peak.op})"
        right = px + _label_width(text) + 4 > self.x0 + self.width
        anchor, tx = ("end", px - 4) if right else ("start", px + 4)
        place = f'x="{n(tx)}" y="{n(self.y0 - 10)}" text-anchor="{anchor}"'
        self.out.append(f'<text {place} fill="{_PEAK}">{xml(text)}</text>')


def _legend(out: list[str], y: float) -> float:
    """The parts' colours and the line's meaning on one line at `y`; gives its right end."""
    lx = float(MARGIN)
    for _, colour, words in PARTS:
        square = f'x="{n(lx)}" y="{n(y - SWATCH + 1)}" width="{SWATCH}" height="{SWATCH}"'
        out.append(f'<rect {square} fill="{colour}"/>')
        out.append(f'<text x="{n(lx + SWATCH + 4)}" y="{n(y)}">{xml(words)}</text>')
        lx += SWATCH + 4 + _label_width(words) + 14
    during = "the most during an op"
    out.append(f'<line x1="{n(lx)}" y1="{n(y - 4)}" x2="{n(lx + SWATCH)}" y2="{n(y - 4)}" stroke="{_HIGH}"/>')
    out.append(f'<text x="{n(lx + SWATCH + 4)}" y="{n(y)}">{xml(during)}</text>')
    return lx + SWATCH + 4 + _label_width(during)


def render_memory(  # noqa: PLR0913 - the samples, the texts around them, and where the peak is
    samples: Sequence[Sample],
    title: str,
    caption: Sequence[str],
    names: dict[str, str],
    blocks: dict[str, str],
    *,
    peak_at: int,
) -> Picture:
    """The figure of `samples`, `peak_at` the peak's.

    `names` gives each row its full name (tooltips, the peak), `blocks` its top-level block's
    (under the axis, where a block begins).
    """
    plot = _Plot(columns(samples))
    plot.axis()
    plot.areas()
    plot.tips(names)
    plot.phases()
    plot.layers(blocks)
    plot.peak(samples, peak_at, names)
    out = plot.out
    lines_y = plot.base + 42
    for i, line in enumerate(caption):
        out.append(f'<text x="{MARGIN}" y="{n(lines_y + i * 16)}" font-size="12">{xml(line)}</text>')
    legend_y = lines_y + len(caption) * 16 + 8
    right = _legend(out, legend_y)
    texts = [_label_width(title, 16), *(_label_width(c, 12) for c in caption), right - MARGIN]
    full_width = max(plot.x0 + plot.width, MARGIN + max(texts)) + MARGIN
    height = legend_y + MARGIN
    size = f'width="{n(full_width)}" height="{n(height)}"'
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" {size} viewBox="0 0 {n(full_width)} {n(height)}"'
        f' font-family="sans-serif" font-size="{FONT}" fill="#222">'
    )
    head = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        root,
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
