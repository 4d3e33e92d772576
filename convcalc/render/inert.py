r"""Text from a spec made inert: no control character of it reaches a terminal, a log or a file.

A layer named `"\e[2J\e]0;pwned\a"` would clear the screen and set the window's title; one with
U+202E (right-to-left override) would show `exe.gnp` as `png.exe`; a line feed would forge a
second diagnostic line, or a second GitHub workflow command. Every text format (table, Markdown,
CSV, SVG, check's text and github, diff, explain, error messages) passes what it prints from a
spec through `inert`, which writes those characters out as escapes (`\x1b`, `\u202e`), as Python's
repr does. JSON escapes them by its own rules.
"""

from __future__ import annotations

import re

# C0 and C1 controls (tab and line feed included: a name or a message stays on its line), and
# the Unicode controls of bidirectional text and of line breaking (Trojan Source, CVE-2021-42574).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


_SHORT = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _SHORT:
        return _SHORT[char]
    code = ord(char)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"  # noqa: PLR2004


def inert(text: str) -> str:
    r"""The text on one line, its control characters written out (`\x1b`, `\u202e`)."""
    if text.isprintable():  # none of them is printable: the common case costs one pass in C
        return text
    return _UNSAFE.sub(_escape, text)


def inert_lines(text: str) -> str:
    """Text of several lines made inert line by line: its line feeds stay line feeds."""
    if text.isprintable():
        return text
    return "\n".join(map(inert, text.split("\n")))
