"""The command line: parse options, call the library, map errors to exit codes (DESIGN §5).

Exit codes: 0 all good; 1 the design has an error or a check failed; 2 the command or the spec
could not be read. rich is imported only by the commands that draw tables, so `--format json`
starts fast.
"""

from __future__ import annotations

import click

from convcalc import __version__
from convcalc.cli.check import check
from convcalc.cli.common import Group
from convcalc.cli.fit import fit
from convcalc.cli.layer import layer
from convcalc.cli.show import list_, show


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="convcalc")
def main() -> None:
    """Conv-net arithmetic from a YAML spec: volumes, params, memory, MACs, receptive fields.

    Exact (no floating point, no framework), instant, and it says when a stride does not fit.
    """


for _command in (show, check, layer, fit, list_):
    main.add_command(_command)
