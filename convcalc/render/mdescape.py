r"""Text from a spec (names, descriptions, file names) made inert in Markdown: `convcalc diff`'s.

GitHub renders a pull-request comment as GitHub-flavoured Markdown, and passes some HTML through:
a layer named `<img src=https://x/y onerror=...>`, `<details>`, `[click](https://x)`,
`![](https://x/pixel.png)` or a bare `https://x` would be markup, a link or a remote image
(issue 22, D14). `md_escape` keeps such text on its line and in its table cell, with its control
characters written out (convcalc.render.inert), and puts a backslash before every ASCII
punctuation character that Markdown gives a meaning to, as CommonMark allows (§2.4: "any ASCII
punctuation character may be backslash-escaped"): no tag, entity, link, image, emphasis or code
span can start. The `:` of `https://` and the `.` of `www.` are among them, and an escaped
character does not start GFM's extended autolinks. The rendered text reads as written.
"""

from __future__ import annotations

import re

from convcalc.render.inert import inert

# The ASCII punctuation inline Markdown gives a meaning to (HTML, entities, links, images,
# emphasis, code, strikethrough), `|` for a table's cells, `#` for a heading's closing sequence,
# and for GFM's autolinks every `:` and `@` (https://, user@host) and the `.` of `www.`. The text
# never starts a line (it follows `### ` or `| `), so `-`, `+` and `1.` need nothing.
_MARKUP = re.compile(r"[\\`*_{}\[\]()<>#!|~&:@]|(?<=[wW]{3})\.")


def md_escape(text: str) -> str:
    """`text` on one line, inert, with Markdown's punctuation backslash-escaped."""
    return _MARKUP.sub(r"\\\g<0>", inert(" ".join(text.splitlines())))
