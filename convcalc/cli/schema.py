"""`convcalc schema`: the spec format as a JSON Schema, for editors (docs/editors.md)."""

from __future__ import annotations

from pathlib import Path

import click

from convcalc.cli.output import output_file, write_output
from convcalc.cli.streams import echo_data
from convcalc.schema import schema_json


@click.command()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the schema to FILE (- for standard output, the default).",
)
def schema(output: Path | None) -> None:
    """Print a JSON Schema (draft 2020-12) of the spec format.

    Editors with a YAML language server use it to complete and check specs as they are typed
    (docs/editors.md). It checks the form of a spec (keys, layer kinds, types of values), not its
    arithmetic: a stride that does not fit is for `convcalc check` to find.
    """
    text = schema_json()
    if (output := output_file(output)) is None:
        echo_data(text, "json", nl=False)
        return
    write_output(output, text)
