"""The column layout of `show`'s and `diff`'s tables, printed through a rich Console.

rich's Table measures and wraps every cell: with rich 15, 10,000 rows took 15 s (1.5 ms a row),
and a single Text of 100,000 lines, wrapped line by line, 5 s. So the rows are laid out here
(column widths from the longest cell, each cell cut to its column) and handed to the console as
Segments, which it prints in linear time. Everything else is rich's: cell widths
(`rich.cells.cell_len`), the console's width, colour (NO_COLOR, FORCE_COLOR, TERM, Jupyter) and
the wrapping of messages.
"""

from __future__ import annotations

from operator import le
from typing import TYPE_CHECKING

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from rich.text import Text

from convcalc.render import fallback
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence

    from rich.console import Console, ConsoleOptions, RenderResult

COLUMN_GAP = "   "  # a cell's padding, a space between columns, the next cell's padding
NEWLINE = Segment.line()

_MARKS = frozenset("✗!·✓")
_GLUE = "\u2800"  # braille blank: one cell wide, and not whitespace, so rich does not break there


def printable(text: str) -> str:
    r"""Text from a spec as a cell or a line shows it: on one line, control characters escaped (`\x1b`).

    rich passes ESC and CSI through to the terminal (its Text strips only BEL, BS, VT, FF and CR),
    so a name such as "\e[2J" would clear the screen: convcalc.render.inert writes it out.
    """
    return inert(text)


def shown(console: Console) -> Callable[[str], str]:
    """Text as the console shows it: inert, and in the console's encoding (convcalc.render.fallback).

    The ASCII forms are put in before the layout measures the text: `->` is two cells where `→` was one.
    """
    encoding = console.encoding
    if fallback.is_utf(encoding):
        return inert
    return lambda text: fallback.encodable(inert(text), encoding)


def fit(text: str, width: int, ellipsis: str = "…") -> str:
    """The text cut to `width` cells, with … where it was cut (rich's overflow="ellipsis")."""
    if cell_len(text) <= width:
        return text
    if width <= 0:
        return ""
    if width <= cell_len(ellipsis):
        return set_cell_size(text, width)
    return set_cell_size(text, width - cell_len(ellipsis)) + ellipsis


def measure(rows: Iterable[Sequence[str]]) -> list[tuple[int, ...]]:
    """The width in cells of every cell, measured once (a table of 100,000 rows has 700,000 cells)."""
    return [tuple(map(cell_len, row)) for row in rows]


def column_widths(
    headers: Sequence[str], sizes: Sequence[Sequence[int]], width: int, *, give_way: int, minimum: int
) -> list[int]:
    """Each column as wide as its widest cell; on a narrow console, column `give_way` narrows first."""
    widths = [max(cell_len(h), *(s[i] for s in sizes)) for i, h in enumerate(headers)]
    overflow = line_width(widths) - width
    if overflow > 0:
        widths[give_way] = max(minimum, widths[give_way] - overflow)
    return widths


def line_width(widths: Sequence[int]) -> int:
    """The width of a table's lines: its columns and the gaps between them."""
    return sum(widths) + len(COLUMN_GAP) * (len(widths) - 1)


class Columns:
    """A table's columns, each of a width and aligned left or right: the line of a row's cells."""

    def __init__(self, widths: Sequence[int], right: set[int], ellipsis: str = "…") -> None:
        self.widths = tuple(widths)
        self.ellipsis = ellipsis
        self.right = frozenset(right)
        self.width = line_width(widths)  # of every line, before its trailing spaces are cut
        # str.format pads by characters: the same as by cells where every character takes one.
        self._format = COLUMN_GAP.join(f"{{:{'>' if i in right else '<'}{w}}}" for i, w in enumerate(widths))

    def line(self, cells: Sequence[str], sizes: Sequence[int]) -> str:
        """The cells (of `sizes` cells each) in their columns, cut (… where longer) and aligned."""
        if tuple(map(len, cells)) == tuple(sizes) and all(map(le, sizes, self.widths)):
            return self._format.format(*cells).rstrip()
        out = []
        for i, (text, size, w) in enumerate(zip(cells, sizes, self.widths, strict=True)):
            cell, used = (text, size) if size <= w else (fit(text, w, self.ellipsis), w)
            fill = " " * (w - used)
            out.append(fill + cell if i in self.right else cell + fill)
        return COLUMN_GAP.join(out).rstrip()


def wrap(console: Console, text: Text, width: int) -> list[Text]:
    """The text wrapped by rich at `width` cells, without the space rich leaves where it broke a line.

    A mark that begins a message (`✗ /a/long/path.yaml:4:40: …`) stays with the word after it,
    rather than alone on a line: rich wraps the two as one word (folded if longer than the line).
    """
    # The text's own style as a span: Text.render, unlike printing a Text, leaves it out otherwise.
    text = Text().append_text(text)
    glued = text.plain[:1] in _MARKS and text.plain[1:2] == " "
    if glued:
        text.plain = text.plain[0] + _GLUE + text.plain[2:]
    lines = list(text.wrap(console, max(width, 1)))
    for line in lines:
        line.rstrip()
    for line in lines[:2] if glued else ():  # the glue is the text's second character
        if _GLUE in line.plain:
            line.plain = line.plain.replace(_GLUE, " ", 1)
            break
    return lines


def wrapped(console: Console, text: Text, width: int, indent: str = "") -> Iterable[Segment]:
    """The segments of the text wrapped at `width` cells, every line after `indent`."""
    for line in wrap(console, text, width - cell_len(indent)):
        if indent:
            yield Segment(indent)
        yield from line.render(console)
        yield NEWLINE


class Rendered:
    """A renderable whose segments a function makes from the console and the width it offers."""

    def __init__(self, render: Callable[[Console, int], Iterable[Segment]]) -> None:
        self._render = render

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """Rich's protocol: the segments, for the width of the console (or of its container)."""
        yield from self._render(console, options.max_width)
