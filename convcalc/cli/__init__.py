"""The command line: parse options, call the library, map errors to exit codes (DESIGN §5).

Exit codes: 0 all good; 1 the design has an error or a check failed; 2 the command or the spec
could not be read. Each command's module is imported only when that command runs, and rich only
by the commands that draw tables, so `convcalc show --format json` starts fast.
"""

from __future__ import annotations

import importlib

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
}


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


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcalc")
def main() -> None:
    """Conv-net arithmetic from a YAML spec: volumes, params, memory, MACs, receptive fields.

    Exact (no floating point, no framework), instant, and it says when a stride does not fit.
    """
