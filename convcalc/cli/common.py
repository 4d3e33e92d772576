"""What the commands share: the group that maps errors to exit codes, options, a console."""

from __future__ import annotations

import errno
import gc
import os
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

# What writing to standard output can fail with: a closed pipe, a full disk or quota, a file too
# big, and a closed descriptor (`>&-`: convcalc.cli.streams gives it /dev/null read-only).
_OUTPUT_ERRORS = {errno.EPIPE, errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EBADF}


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
            except OSError as exc:
                _output_failed(exc)
            raise

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        """The group's own options: `convcalc --help | head -1` and `convcalc --version >&-` too."""
        try:
            return super().make_context(*args, **kwargs)
        except OSError as exc:
            if exc.errno not in _OUTPUT_ERRORS:
                raise
            _output_failed(exc)

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
            if exc.errno in _OUTPUT_ERRORS and not exc.filename:
                _output_failed(exc)
            where = f"{exc.filename}: " if exc.filename else ""  # a path the user gave: name it
            click.echo(inert(f"{where}error: {exc.strerror or exc}"), err=True)
            sys.exit(EXIT_UNREADABLE)


def _output_failed(exc: OSError) -> NoReturn:
    """Standard output cannot be written: quietly 141 for a reader that went away, else a line and 2."""
    if isinstance(exc, BrokenPipeError):
        _closed_pipe()
    _to_nowhere()
    why = "standard output is closed" if exc.errno == errno.EBADF else exc.strerror or str(exc)
    click.echo(f"error: cannot write the output: {why}", err=True)
    sys.exit(EXIT_UNREADABLE)


def _to_nowhere() -> None:
    """Send what is still buffered for stdout nowhere: it would fail again at exit.

    The recipe of Python's signal documentation for EPIPE.
    """
    try:
        fileno = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a descriptor (a test's stream): nothing is kept
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


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
