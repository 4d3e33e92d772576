r"""ASCII forms of the characters convcalc prints, for an output whose encoding lacks them.

A Windows console or a redirect there (cp1252), `PYTHONIOENCODING=ascii` or `latin-1`: what the
encoding can write is written as it is, and every other character falls back to its form in
FALLBACKS (✗ → x, → → ->), else to its letters without their accents (é → e), else to an escape
(\u4e2d) — never to '?', which would lose the difference between two names. docs/limits.md
shows the table. Data formats keep every character exactly instead: JSON as \u escapes, SVG as
XML character references (`data_ascii`).
"""

from __future__ import annotations

import codecs
import json
import re
import unicodedata

# The characters convcalc's own text uses (grep -P '[^\x00-\x7f]' convcalc), rich's, and the
# typography a spec's description is likely to hold.
FALLBACKS: dict[str, str] = {
    "✗": "x",  # a failed check or an error
    "✓": "ok",  # a check that holds
    "⚠": "!",  # a flagged row in Markdown
    "·": "*",  # multiplication in formulas, nesting in names, separators
    "×": "x",  # multiplication, 3×3
    "−": "-",  # minus in formulas
    "→": "->",
    "←": "<-",
    "⌊": "floor(",
    "⌋": ")",
    "⌈": "ceil(",
    "⌉": ")",
    "≈": "~",
    "≤": "<=",
    "≥": ">=",
    "≠": "!=",
    "±": "+/-",
    "²": "^2",
    "³": "^3",
    "…": "...",  # a cut name or text
    "—": "--",
    "–": "-",
    "─": "-",  # the rule under a table's header
    "“": '"',
    "”": '"',
    "‘": "'",
    "’": "'",
    "§": "S",
    "①": "(1)",
    "\u00a0": " ",  # no-break space
}

ERRORS = "convcalc-ascii-forms"  # the name of the codec error handler (codecs.register_error)


def ascii_form(char: str) -> str:
    """The ASCII that stands for one character an output cannot encode."""
    if char in FALLBACKS:
        return FALLBACKS[char]
    letters = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode("ascii")
    if letters.strip():  # é → e, ﬁ → fi, ！ → !; not the nothing left of a symbol without letters
        return letters
    return char.encode("ascii", "backslashreplace").decode("ascii")  # \u4e2d, \U0001f600


def replace(error: UnicodeError) -> tuple[str, int]:
    """A codec error handler: what the encoding lacks, in its ASCII forms (registered as ERRORS)."""
    if not isinstance(error, UnicodeEncodeError):
        raise error
    return "".join(map(ascii_form, error.object[error.start : error.end])), error.end


def register() -> None:
    """Make ERRORS a codec error handler, for `str.encode` and text streams (idempotent)."""
    codecs.register_error(ERRORS, replace)


def encodable(text: str, encoding: str) -> str:
    """The text with each character `encoding` lacks in its ASCII form.

    Rich measures and lays out text before the stream encodes it: a table handed text that is
    already in the output's characters keeps its columns aligned (→ is one cell, -> two).
    """
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        register()
        return text.encode(encoding, ERRORS).decode(encoding)
    except LookupError:  # an encoding Python does not know: the stream will complain, not us
        return text
    return text


_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def data_ascii(text: str, form: str) -> str:
    r"""A JSON or SVG document in ASCII, every character kept: `\u2192` in JSON, `&#x2192;` in SVG.

    JSON and XML must be UTF-8 (or declare otherwise): written through a cp1252 output their
    non-ASCII bytes would be wrong. In ASCII they are valid in any encoding that extends ASCII.
    """
    if text.isascii():
        return text
    if form == "xml":
        return text.encode("ascii", "xmlcharrefreplace").decode("ascii")
    # json.dumps writes a character outside the BMP as the surrogate pair JSON requires.
    return _NON_ASCII.sub(lambda m: json.dumps(m.group())[1:-1], text)


def is_utf(encoding: str | None) -> bool:
    """Whether the encoding is a UTF (it writes every character)."""
    if not encoding:
        return False
    try:
        return codecs.lookup(encoding).name.startswith("utf")
    except LookupError:
        return False
