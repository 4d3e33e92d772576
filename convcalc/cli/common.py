"""What the commands share: the group that maps errors to exit codes, options, a console."""

from __future__ import annotations

import contextlib
import errno
import gc
import os
import stat
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any, NoReturn

import click

from convcalc.cli import streams
from convcalc.errors import ConvcalcError, Location
from convcalc.options import DType, Rounding
from convcalc.render.caps import Cap
from convcalc.render.inert import inert, inert_lines
from convcalc.report import Report, Severity
from convcalc.spec.loader import read_input

if TYPE_CHECKING:
    from pathlib import Path

    from click.shell_completion import CompletionItem
    from rich.console import Console

    from convcalc.spec.model import Spec

EXIT_DESIGN_ERROR = 1
EXIT_UNREADABLE = 2
# As a shell reports a process that a signal ended (128 + its number), so that scripts read them
# as they read any Unix tool's: Ctrl-C (SIGINT, 2) and a reader that closed the pipe (SIGPIPE, 13:
# `convcalc show vgg16 | head -1`). Python turns both signals into exceptions; these are the codes
# the default actions would have given, without a traceback (docs/limits.md).
EXIT_INTERRUPTED = 130
EXIT_CLOSED_PIPE = 141

# What writing to standard output can fail with: a closed pipe, a full disk or quota, a file too big.
_OUTPUT_ERRORS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO}


class Group(click.Group):
    """Turns every ConvcalcError into `FILE:LINE:COLUMN: error: message` and exit code 2."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        """Click's main, on standard streams that write every character (help text included).

        What is still buffered for standard output is written here, before Python's exit would
        write it: a reader that has gone away then gives the same exit code, whatever the command.
        """
        streams.install()
        try:
            return super().main(*args, **kwargs)
        except SystemExit:
            try:
                sys.stdout.flush()
            except BrokenPipeError:
                _closed_pipe()
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return self._invoke(ctx)
        except KeyboardInterrupt:
            click.echo("convcalc: interrupted", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except BrokenPipeError:
            _closed_pipe()

    def _invoke(self, ctx: click.Context) -> Any:
        # A command is short-lived and its data has no reference cycles worth collecting; the
        # cyclic collector would only rescan the rows (a third of the time at 100,000 layers).
        gc.disable()
        try:
            return super().invoke(ctx)
        except ConvcalcError as exc:
            click.echo(inert_lines(str(exc)), err=True)
            sys.exit(EXIT_UNREADABLE)
        except OSError as exc:
            if exc.errno not in _OUTPUT_ERRORS:  # a path the user gave: name it
                where = f"{exc.filename}: " if exc.filename else ""
                click.echo(inert(f"{where}error: {exc.strerror or exc}"), err=True)
                sys.exit(EXIT_UNREADABLE)
            if isinstance(exc, BrokenPipeError):  # `| head` closing early is no news
                raise
            _to_nowhere()
            click.echo(f"error: cannot write the output: {exc.strerror or exc}", err=True)
            sys.exit(EXIT_UNREADABLE)


def _to_nowhere() -> None:
    """Send what is still buffered for stdout nowhere: it would fail again at exit.

    The recipe of Python's signal documentation for EPIPE.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _closed_pipe() -> NoReturn:
    """The reader of standard output has gone: end quietly, as SIGPIPE's default action would."""
    _to_nowhere()
    sys.exit(EXIT_CLOSED_PIPE)


def console() -> Console:
    """A rich console on stdout; imported only by the commands that draw tables."""
    from rich.console import Console  # noqa: PLC0415 - rich only where a table is drawn

    class _Console(Console):
        def on_broken_pipe(self) -> None:
            # rich's own ends with exit code 1, which reads as "the design has an error".
            _closed_pipe()

    # Names and messages come from the spec: `[red]` in a layer name is text, not rich markup.
    return _Console(highlight=False, markup=False, emoji=False)


def override(  # noqa: PLR0913 - one argument per command-line override
    spec: Spec,
    *,
    batch: int | None = None,
    dtype: str | None = None,
    input_: str | None = None,
    rounding: str | None = None,
    quiet: bool = False,
) -> Spec:
    """The spec with the command line's overrides.

    The spec's expectations describe the spec as written: with an override they are not
    checked (a note on stderr says so, unless `quiet`: for a command that never checks them).
    """
    changes: dict[str, Any] = {}
    if batch is not None:
        changes["batch"] = batch
    if dtype is not None:
        changes["dtype"] = DType(dtype)
    if rounding is not None:
        changes["rounding"] = Rounding(rounding)
    if input_ is not None:
        at = Location("--input")
        volume, symbols = read_input(input_, at)
        symbolic = any(symbols)
        changes.update(input=volume, symbols=symbols if symbolic else (), example=not symbolic, input_at=at)
    if changes and spec.expectations:
        if not quiet:
            options = " and ".join(f"--{k}" for k in changes if k in {"batch", "dtype", "rounding", "input"})
            verb = "change" if " and " in options else "changes"
            click.echo(f"note: the spec's expect: answers are not checked, as {options} {verb} the network", err=True)
        changes["expectations"] = ()
    return replace(spec, **changes)


def echo_diagnostics(report: Report, *, checks: bool = True) -> None:
    """Errors, warnings and failed checks on stderr in the compilers' form, for logs and editors.

    The first SHOWN of each kind of diagnostic, then how many more (convcalc.render.caps).
    """
    cap = Cap()
    for d in cap.filter(d for d in report.diagnostics if d.severity is not Severity.NOTE):
        click.echo(inert(f"{Location(d.file, d.line, d.column)}: {d.severity.value}: {d.message}"), err=True)
    for line in cap.more():
        click.echo(line, err=True)
    failed = [c for c in report.checks if not c.ok] if checks else []
    if failed:
        from convcalc.render.checks import message  # noqa: PLC0415 - only when a check fails

        for c in failed:
            line = f"{Location(c.file, c.line, c.column)}: error: check failed: {message(c, report)}"
            click.echo(inert(line), err=True)


def complete_spec(ctx: click.Context, param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    """Shell completion of SPEC: the built-in names that match, then files (the shell's own)."""
    del ctx, param
    from click.shell_completion import CompletionItem  # noqa: PLC0415 - only when completing

    from convcalc.builtins import builtin_names  # noqa: PLC0415

    names = [CompletionItem(n) for n in builtin_names() if n.startswith(incomplete)]
    # The file item first: click's bash script starts the list afresh at a file item, so after
    # the names it would drop them; first, it only lets bash fall back to files.
    return [CompletionItem(incomplete, type="file"), *names]


def spec_options(command: Any) -> Any:
    """--batch, --dtype, --input and --rounding."""
    for option in reversed(
        (
            click.option(
                "--batch", type=click.IntRange(1, 1_000_000), help="Images per batch (memory and MACs scale)."
            ),
            click.option("--dtype", type=click.Choice([d.value for d in DType]), help="Value type (bytes per value)."),
            click.option(
                "--input", "input_", metavar="HxWxD", help="Override the spec's input volume, e.g. 224x224x3."
            ),
            click.option(
                "--rounding", type=click.Choice([r.value for r in Rounding]), help="Override the spec's rounding."
            ),
        )
    ):
        command = option(command)
    return command


def write_output(path: Path, text: str) -> None:
    """Write a command's output file (its folder made if need be), or exit 2 saying why not.

    The text goes to a temporary file beside it, which then replaces it (os.replace, atomic on
    POSIX and Windows): a write that fails half-way (a full disk, a quota, Ctrl-C) leaves the
    previous file as it was, and a reader never sees half a file. The file may not be the
    command's SPEC: `export net.yaml -o net.yaml` would replace the spec with Python.
    """
    _not_the_spec(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_file(path, text.encode("utf-8"))
    except OSError as exc:
        click.echo(inert(f"error: cannot write {path}: {exc.strerror or exc}"), err=True)
        sys.exit(EXIT_UNREADABLE)


def _not_the_spec(path: Path) -> None:
    """Exit 2 when `path` is the file the command reads its SPEC from."""
    ctx = click.get_current_context(silent=True)
    spec = ctx.params.get("spec") if ctx is not None else None
    if not isinstance(spec, str) or spec == "-" or not os.path.isfile(spec):  # noqa: PTH113 - a built-in name or stdin
        return
    try:
        same = path.exists() and path.samefile(spec)
    except OSError:
        same = False
    if same or os.path.realpath(spec) == os.path.realpath(path):
        click.echo(
            inert(f"error: cannot write {path}: it is the spec being read ({spec}); choose another file"), err=True
        )
        sys.exit(EXIT_UNREADABLE)


def replace_file(path: Path, data: bytes) -> None:
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
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
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
