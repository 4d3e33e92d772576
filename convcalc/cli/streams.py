"""Standard output and error that never fail on their encoding (docs/limits.md, "Encodings").

Python writes to a cp1252, latin-1 or ASCII stream with errors="strict": the first ✗ or → of a
table raised UnicodeEncodeError. The streams are set to write what their encoding lacks in the
ASCII forms of convcalc.render.fallback instead, for click.echo, rich and sys.stdout alike.
"""

from __future__ import annotations

import codecs
import encodings.ascii
import functools
import sys

import click

from convcalc.render import fallback

# click takes an ASCII stream for a misconfigured locale and writes UTF-8 to it instead, with
# '?' for errors (click._compat._stream_is_misconfigured, which looks the codec's name up). The
# same ASCII codec under another name is left alone, so the fallbacks apply there too.
ASCII = "convcalc-ascii"


def _search(name: str) -> codecs.CodecInfo | None:
    # codecs.lookup hands the name to search functions lower-cased, - and spaces made _.
    if name != ASCII.replace("-", "_"):
        return None
    info = encodings.ascii.getregentry()
    return codecs.CodecInfo(
        info.encode,
        info.decode,
        streamreader=info.streamreader,
        streamwriter=info.streamwriter,
        incrementalencoder=info.incrementalencoder,
        incrementaldecoder=info.incrementaldecoder,
        name=ASCII,
    )


@functools.cache
def _register() -> None:
    fallback.register()
    codecs.register(_search)


def install() -> None:
    """Make sys.stdout and sys.stderr write, in place of what their encoding lacks, its ASCII forms."""
    _register()
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        reconfigure = getattr(stream, "reconfigure", None)  # io.TextIOWrapper's; not on every stand-in
        if reconfigure is None or not encoding or fallback.is_utf(encoding):
            continue
        try:
            ascii_ = codecs.lookup(encoding).name == "ascii"
        except LookupError:  # not a codec Python knows: leave the stream as it is
            continue
        if ascii_:
            reconfigure(encoding=ASCII, errors=fallback.ERRORS)
        else:
            reconfigure(errors=fallback.ERRORS)


def stdout_encoding() -> str:
    """The encoding of standard output, UTF-8 where it does not say."""
    return getattr(sys.stdout, "encoding", None) or "utf-8"


def echo_data(text: str, form: str, *, nl: bool = True) -> None:
    """Print a JSON or SVG document: in ASCII, every character kept, where stdout is not UTF-8."""
    click.echo(text if fallback.is_utf(stdout_encoding()) else fallback.data_ascii(text, form), nl=nl)
