"""Standard streams that never fail on their encoding, and never lose a write (docs/limits.md).

Python writes to a cp1252, latin-1 or ASCII stream with errors="strict": the first ✗ or → of a
table raised UnicodeEncodeError. The streams are set to write what their encoding lacks in the
ASCII forms of convcalc.render.fallback instead, for click.echo, rich and sys.stdout alike.

Standard output also writes every byte or raises: unbuffered (PYTHONUNBUFFERED=1, set in many
containers and CI images), Python's stdout takes a short write (`| head -1` closing the pipe in
the middle of one) as done and drops the rest without an error, so the command ended with 0.
And a descriptor that was closed (`>&-`) is given /dev/null, so that no file opened later takes
its number: standard input and output read-only (writing to a closed stdout fails with EBADF:
"standard output is closed"), standard error write-only.
"""

from __future__ import annotations

import codecs
import encodings.ascii
import functools
import io
import os
import sys
from typing import Any

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


class _WholeWrites(io.RawIOBase):
    """A descriptor that writes all it is given, or raises (BrokenPipeError for a reader that went away)."""

    def __init__(self, fd: int) -> None:
        super().__init__()
        self._fd = fd

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return os.isatty(self._fd)

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        size = len(view)
        while view:
            view = view[os.write(self._fd, view) :]
        return size


def _occupy_closed() -> None:
    """Give each closed standard descriptor /dev/null, so that a file opened later does not become it."""
    for fd, flags in ((0, os.O_RDONLY), (1, os.O_RDONLY), (2, os.O_WRONLY)):
        if _closed(fd):
            os.open(os.devnull, flags)  # the lowest free number, fd itself: those below are open by now


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError:
        return True
    return False


def _whole_stdout() -> None:
    """sys.stdout on fd 1, writing every byte (see the module's docstring); a test's stream is left alone."""
    old = sys.stdout
    if old is None:  # fd 1 was closed: it is /dev/null read-only now, and each write says so
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(_WholeWrites(1)), errors="strict")
        return
    if type(old) is not io.TextIOWrapper:
        return
    unbuffered = isinstance(old.buffer, io.FileIO)  # python -u, PYTHONUNBUFFERED
    if not unbuffered and not isinstance(getattr(old.buffer, "raw", None), io.FileIO):
        return
    old.flush()
    whole = _WholeWrites(old.fileno())
    sys.stdout = io.TextIOWrapper(
        whole if unbuffered else io.BufferedWriter(whole),
        encoding=old.encoding,
        errors=old.errors,
        line_buffering=old.line_buffering,
        write_through=old.write_through,
    )


def install() -> None:
    """Make sys.stdout and sys.stderr write, in place of what their encoding lacks, its ASCII forms."""
    _register()
    _occupy_closed()
    _whole_stdout()
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
