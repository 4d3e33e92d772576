"""The command line: parse options, call the library, map errors to exit codes (DESIGN §5).

Exit codes: 0 all good; 1 the design has an error or a check failed; 2 the command or the spec
could not be read; 70 a bug in convcalc (an unexpected exception: one line on stderr, and the
traceback only with CONVCALC_TRACEBACK=1). Each command's module is imported only when that command runs, and rich only
by the commands that draw tables, so `convcalc show --format json` starts fast.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NoReturn

import click

from convcalc import __version__
from convcalc.cli.common import Group

# name -> module of convcalc.cli and the click command in it
_COMMANDS = {
    "show": ("show", "show"),
    "check": ("check", "check"),
    "layer": ("layer", "layer"),
    "fit": ("fit", "fit"),
    "diff": ("diff", "diff"),
    "list": ("show", "list_"),
    "export": ("export", "export"),
    "draw": ("draw", "draw"),
    "schema": ("schema", "schema"),
    "import": ("importer", "import_"),
}

# An unexpected exception is a bug in convcalc, not a mistake of the user's: its code is none of
# 0, 1 or 2, which scripts and CI read as answers about the design. 70 is EX_SOFTWARE in BSD's
# <sysexits.h>, "an internal software error has been detected": a written convention for this
# very case, and clear of the codes a shell makes itself (126, 127, 128 + a signal's number).
EXIT_BUG = 70
TRACEBACK_VARIABLE = "CONVCALC_TRACEBACK"  # set to 1 (not empty, not 0) to see a bug's traceback


class _LazyGroup(Group):
    """Imports a command's module when the command is asked for (click's lazy-group pattern)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        del ctx
        return list(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        del ctx
        if cmd_name not in _COMMANDS:
            return None
        module, attr = _COMMANDS[cmd_name]
        command: click.Command = getattr(importlib.import_module(f"convcalc.cli.{module}"), attr)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        """Every command's one catch-all: an exception that nothing expected is reported as a bug.

        ConvcalcError and OSError are mapped in `Group.invoke`; click's own exceptions (usage
        errors, --help and --version, Abort) and EOFError (click turns it into "Aborted!") go on to
        click; KeyboardInterrupt and SystemExit are not Exceptions.
        """
        try:
            return super().invoke(ctx)
        except (click.ClickException, click.exceptions.Exit, click.Abort, EOFError):
            raise
        except Exception as exc:  # noqa: BLE001 - the point: no traceback, ever
            _report_bug(ctx.invoked_subcommand, exc)


def _report_bug(command: str | None, exc: Exception) -> NoReturn:
    """One line on stderr naming the command, the traceback only if asked for, and exit 70."""
    if os.environ.get(TRACEBACK_VARIABLE, "") not in {"", "0"}:
        import traceback  # noqa: PLC0415 - only when there is one to show, to keep start-up short

        click.echo("".join(traceback.format_exception(exc)), err=True, nl=False)
    name = f"convcalc {command}" if command else "convcalc"
    what = " ".join(f"{type(exc).__name__}: {exc}".split()).rstrip(":")  # one line, whatever the message
    click.echo(
        f"{name}: internal error: {what} (a bug in convcalc; please report it, "
        f"with the traceback that {TRACEBACK_VARIABLE}=1 shows)",
        err=True,
    )
    sys.exit(EXIT_BUG)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcalc")
def main() -> None:
    """Conv-net arithmetic from a YAML spec: volumes, params, memory, MACs, receptive fields.

    Exact (no floating point, no framework), instant, and it says when a stride does not fit.
    """
