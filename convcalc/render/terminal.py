"""Styled, wrapped lines on a text stream: what `convcalc show`'s table needs of a terminal.

`show` is the command people type most, and rich's console costs about a quarter of its start-up
(docs/performance.md), for bold, dim and two colours. This writer follows the same conventions as
rich (and most tools): colour only on a terminal, never with NO_COLOR or TERM=dumb, always with
FORCE_COLOR; the width of the terminal, or COLUMNS, or 80; wide characters count two cells.
"""

from __future__ import annotations

import os
import sys
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from typing import TextIO

# SGR codes of the styles the renderers use (ECMA-48).
_CODES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33"}
_RESET = "\x1b[0m"
MIN_WIDTH = 20  # narrower, nothing reads: lines are cut or wrapped as if the terminal had 20 columns


def cell_len(text: str) -> int:
    """Columns the text takes: wide (East Asian) characters two, combining marks none."""
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in {"W", "F"} else 1


def _prefix(text: str, width: int) -> str:
    """The longest start of the text that takes at most `width` columns."""
    used = 0
    for i, char in enumerate(text):
        used += _char_width(char)
        if used > width:
            return text[:i]
    return text


def fit(text: str, width: int) -> str:
    """The text cut to `width` columns, with … where it was cut."""
    if cell_len(text) <= width:
        return text
    return _prefix(text, width - 1) + "…"


_MARKS = frozenset("✗!·✓")  # a mark that begins a message stays with the word after it


COLUMN_GAP = "   "  # a cell's padding, a space between columns, the next cell's padding


def columns(cells: tuple[str, ...], widths: list[int], right: set[int]) -> str:
    """One line of a table: each cell cut to its column (… when longer) and aligned.

    Tables are laid out here rather than by rich's Table, which measures every cell twice: a
    100,000-row table took minutes that way.
    """
    out = []
    for i, (text, w) in enumerate(zip(cells, widths, strict=True)):
        cell = fit(text, w)
        fill = " " * (w - cell_len(cell))
        out.append(fill + cell if i in right else cell + fill)
    return COLUMN_GAP.join(out).rstrip()


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most `width` columns, broken at spaces (a longer word is broken where it must)."""
    width = max(width, 1)
    lines: list[str] = []
    current, used = "", 0
    for word in text.split():
        rest, w = word, cell_len(word)
        if current and used + 1 + w <= width:
            current, used = f"{current} {rest}", used + 1 + w
            continue
        if current in _MARKS and w > width - used - 1:  # `✗ /a/long/path`: the mark stays with it
            rest, w, current = f"{current} {rest}", used + 1 + w, ""
        elif current:
            lines.append(current)
        while w > width:  # a word longer than the line: as much as fits, then the rest
            head = _prefix(rest, width) or rest[0]
            lines.append(head)
            rest = rest[len(head) :]
            w = cell_len(rest)
        current, used = rest, w
    lines.append(current)
    return lines


class Terminal:
    """Where a renderer prints: a stream, its width in columns, and whether it shows colour."""

    def __init__(self, file: TextIO | None = None, width: int | None = None, *, color: bool | None = None) -> None:
        self.file = sys.stdout if file is None else file
        self.width = width or _width(self.file)
        self.color = _wants_color(self.file) if color is None else color

    def style(self, text: str, style: str) -> str:
        """The text in a style such as "bold red", or as it is without colour."""
        if not (self.color and style and text):
            return text
        codes = ";".join(_CODES[word] for word in style.split())
        return f"\x1b[{codes}m{text}{_RESET}"

    def print(self, text: str = "", style: str = "", *, indent: int = 0, crop: bool = False) -> None:
        """Print text in a style; long text wraps (under `indent` columns), or is cut with `crop`."""
        pad = " " * indent
        if crop:
            lines = [fit(text, self.width - indent)]
        else:
            lines = [part for line in text.split("\n") for part in wrap(line, self.width - indent)]
        self.file.write("".join(f"{pad}{self.style(line, style)}\n" for line in lines))

    def print_lines(self, lines: list[tuple[str, str]]) -> None:
        """Many (text, style) lines at once, each cut to the width: the rows of a table."""
        self.file.write("".join(f"{self.style(fit(text, self.width), style)}\n" for text, style in lines))

    def print_parts(self, parts: list[tuple[str, str]]) -> None:
        """A paragraph made of differently styled parts (a bold name, then plain text), wrapped."""
        text = "".join(t for t, _ in parts)
        out, offset = [], 0
        for paragraph in text.split("\n"):
            for line in wrap(paragraph, self.width):
                words = []
                for word in line.split(" ") if line else []:  # each word in the style of its place
                    start = text.index(word, offset)
                    offset = start + len(word)
                    words.append(self._styled_span(parts, start, offset))
                out.append(" ".join(words))
        self.file.write("".join(f"{line}\n" for line in out))

    def _styled_span(self, parts: list[tuple[str, str]], start: int, end: int) -> str:
        """The characters start:end of the joined parts, each part in its own style."""
        out, at = [], 0
        for text, style in parts:
            lo, hi = max(start, at), min(end, at + len(text))
            if lo < hi:
                out.append(self.style(text[lo - at : hi - at], style))
            at += len(text)
        return "".join(out)


def _width(file: TextIO) -> int:
    columns = os.environ.get("COLUMNS", "")
    if columns.isascii() and columns.isdecimal() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        return max(os.get_terminal_size(file.fileno()).columns, MIN_WIDTH)
    except (AttributeError, OSError, ValueError):  # not a terminal, or not a file at all
        return 80


def _wants_color(file: TextIO) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM", "") in {"dumb", "unknown"}:
        return False
    isatty = getattr(file, "isatty", None)
    return bool(isatty and isatty())
