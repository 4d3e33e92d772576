"""The files of `-o` (draw, export, schema, import): written whole, and nothing but a file replaced.

A regular file is written beside and moved into place (`replace_file`): a write that fails
half-way leaves the previous file. Anything else is written in place, as a shell's `>` would:
a device (`/dev/null`, a terminal) or a FIFO is opened and written, never replaced by a file;
`/dev/stdout`, `/dev/stderr` and `/dev/fd/N` are the command's own descriptors; a file with
several hard links is overwritten, so that every name keeps showing it (docs/limits.md,
"Output files"). A block device (a disk) is refused.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import stat
import sys
from typing import TYPE_CHECKING

import click

from convcalc.errors import OutputError
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from pathlib import Path

# The paths that name one of the process's descriptors (Linux, the BSDs, macOS): written through
# the descriptor, as GNU awk does. Resolved as paths they would go through /proc/self/fd/1 to
# `pipe:[1234]`, which names nothing, or replace the file the shell opened for `>>` with a new one.
_DESCRIPTOR = re.compile(r"/dev/(?:fd/(?P<n>\d+)|(?P<std>stdout|stderr))|/proc/self/fd/(?P<p>\d+)")
# What posix_fallocate answers where the file system cannot reserve space: then none is reserved.
_NO_RESERVING = {errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS, errno.ENODEV}


def output_file(output: Path | None) -> Path | None:
    """The file of `-o`; None for standard output (no -o, or `-o -`)."""
    return None if output is None or str(output) == "-" else output


def write_output(path: Path, text: str) -> None:
    """Write a command's output file (its folder made if need be), or raise OutputError saying why not.

    The file may not be the command's input: `export net.yaml -o net.yaml` would replace the spec
    with Python. A reader of a FIFO that goes away ends the command as one of standard output does.
    """
    refuse_an_input(path)
    try:
        _write(os.fspath(path), text.encode("utf-8"))
    except BrokenPipeError:
        raise
    except OSError as exc:
        msg = f"cannot write {inert(str(path))}: {exc.strerror or exc}"
        raise OutputError(msg) from None


def _inputs(ctx: click.Context | None) -> list[tuple[str, str, str]]:
    """The files the running command reads: (what, the argument as given, the file)."""
    params = ctx.params if ctx is not None else {}
    found: list[tuple[str, str, str]] = []
    spec = params.get("spec")
    if isinstance(spec, str) and spec != "-":
        found.append(("spec", spec, spec))
    source = params.get("source")  # import: file.onnx, file.py:Name, package.module:attribute
    if isinstance(source, str):
        found += [("model", source, source)]
        if ":" in source:
            found.append(("model", source, source.rpartition(":")[0]))
            # package.module:attribute, once imported: the module's own file.
            file = getattr(sys.modules.get(source.rpartition(":")[0]), "__file__", None)
            if file:
                found.append(("model's module", source, str(file)))
    return [f for f in found if os.path.isfile(f[2])]  # noqa: PTH113 - not a built-in name, not a module


def refuse_an_input(path: Path) -> None:
    """Raise OutputError when `path` is a file the running command reads (its spec, its model)."""
    for what, given, file in _inputs(click.get_current_context(silent=True)):
        try:
            same = path.samefile(file)  # through links, hard ones included
        except OSError:
            same = False
        if same or os.path.realpath(file) == os.path.realpath(path):
            msg = f"cannot write {inert(str(path))}: it is the {what} being read ({inert(given)}); choose another file"
            raise OutputError(msg)


def _write(path: str, data: bytes) -> None:
    if match := _DESCRIPTOR.fullmatch(path):
        fd = 1 if match["std"] == "stdout" else 2 if match["std"] else int(match["n"] or match["p"])
        sys.stdout.flush()  # what was printed before comes first (click.echo flushes standard error)
        write_all(fd, data)
        return
    try:
        st = os.stat(path)  # noqa: PTH116 - through a symbolic link, as writing to it would
    except FileNotFoundError:
        st = None
    if st is not None and stat.S_ISREG(st.st_mode) and not os.access(path, os.W_OK):
        # A rename would replace a file its owner made read-only; the shell's `>` refuses it too.
        raise OSError(errno.EACCES, os.strerror(errno.EACCES))
    if st is None or (stat.S_ISREG(st.st_mode) and st.st_nlink == 1):
        folder = os.path.dirname(path)  # noqa: PTH120
        if folder:
            os.makedirs(folder, exist_ok=True)  # noqa: PTH103
        replace_file(path, data)
    elif stat.S_ISREG(st.st_mode):
        overwrite(path, data, st.st_size)
    elif stat.S_ISBLK(st.st_mode):
        raise OSError(errno.EPERM, "it is a block device (a disk); convcalc writes files, terminals and pipes")
    else:  # a character device or a FIFO (a folder or a socket: open says why not)
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0))
        try:
            write_all(fd, data)
        finally:
            os.close(fd)


def write_all(fd: int, data: bytes) -> None:
    """Every byte of `data` to `fd`: os.write may write part of it (a pipe whose reader went away)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def overwrite(path: str, data: bytes, size: int) -> None:
    """Write `data` over the file in place (the same inode: every hard link keeps showing it).

    What the file grows by is reserved first where the file system can (posix_fallocate): a full
    disk or a quota then leaves the previous text as it was. Ctrl-C half-way is not atomic here.
    """
    fd = os.open(path, os.O_WRONLY)
    try:
        reserve = getattr(os, "posix_fallocate", None)  # POSIX; not on macOS or Windows
        if reserve is not None and len(data) > size:
            try:
                reserve(fd, size, len(data) - size)
            except OSError as exc:
                if exc.errno not in _NO_RESERVING:
                    os.ftruncate(fd, size)  # whatever it reserved before it failed
                    raise
        os.lseek(fd, 0, os.SEEK_SET)
        write_all(fd, data)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_file(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a temporary file beside `path`, then move it into place (or remove it and raise)."""
    target = os.path.realpath(path)  # through a symbolic link, as writing to it would
    folder, name = os.path.split(target)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)  # noqa: PTH116 - the file's own permissions kept
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask  # what open() would have given a new file
    import tempfile  # noqa: PLC0415 - only when a file is written, to keep start-up short

    fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        try:
            write_all(fd, data)
            if hasattr(os, "fchmod"):  # POSIX; on Windows the new file's mode is the default
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temporary, target)  # noqa: PTH105 - no pathlib on the way of a command (start-up)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)  # noqa: PTH108
        raise
