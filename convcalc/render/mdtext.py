r"""Text from a file made literal in Markdown: no HTML, no link or image, no table cell broken.

A layer named `<img src=x onerror=alert(1)>` or `![](http://host/x.png)`, or a description with
`<details>` or `| forged | row |`, is shown as those characters and does nothing: GitHub's
renderer (cmark-gfm) and every CommonMark one pass raw HTML, so `show --format markdown` did.
CommonMark §2.4 lets any ASCII punctuation be backslash-escaped, and a backslash-escaped
character is literal text: each one that opens a construct is escaped — raw HTML and autolinks
(`<`), entities (`&`), links, images and footnotes (`[`, `]`), code (`` ` ``), emphasis and
strikethrough (`*`, `_`, `~`), table cells (`|`), GitHub's math (`$`), headings' closing `#`, the
escape itself (`\`); GFM's bare autolinks are broken up where they start (`http\://`, `www\.`,
`a\@b`). A line feed becomes a space (a line of its own could start a block or a row) and
control characters are written out by convcalc.render.inert.
"""

from __future__ import annotations

import re

from convcalc.render.inert import inert

# What opens an inline construct, anywhere in a line; a colon only where an autolink could start.
_INLINE = re.compile(r"[\\`*_~\[\]<>|$@#]|&(?=[#a-z0-9])|:(?!\s|$)|(?<=www)\.", flags=re.IGNORECASE)
# What opens a block at the start of a line: a heading, quote, list, thematic break, ordered list.
_BLOCK = re.compile(r"^(?:[>+=-]|\d+(?=[.)](?:\s|$)))")


def inline(text: str) -> str:
    """Text on one line that Markdown shows as it is, inside a line or a table cell."""
    return _INLINE.sub(lambda m: "\\" + m.group(), inert(" ".join(text.splitlines())))


def paragraph(text: str) -> str:
    """Text on a line of its own (a description): inline, and nothing at its start opens a block."""
    line = inline(text).strip()
    return _BLOCK.sub(lambda m: m.group() + "\\" if m.group()[0].isdigit() else "\\" + m.group(), line, count=1)
