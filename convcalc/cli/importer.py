"""`convcalc import`: a spec from a PyTorch module or an ONNX file (docs/import.md)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from convcalc.bridges.importer import ModelError, import_model
from convcalc.cli.common import EXIT_DESIGN_ERROR
from convcalc.cli.output import output_file, refuse_an_input, write_output
from convcalc.render.inert import inert, inert_lines


@click.command("import", short_help="Write a spec from a PyTorch module or an ONNX file.")
@click.argument("source")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write the spec to FILE (- for standard output, the default).",
)
@click.option("--input", "input_", metavar="HxWxD", help="The input volume to trace with (default 224x224x3).")
@click.option("--opaque", is_flag=True, help="Write operations convcalc has no kind for as opaque layers.")
def import_(source: str, output: Path | None, input_: str | None, *, opaque: bool) -> None:
    """Write a spec from SOURCE: a PyTorch module, or an .onnx file (read with onnx).

    SOURCE is package.module:attribute or file.py:Name (an nn.Module class, or a function that
    returns one, traced with torch.fx), or an .onnx file.

    The spec keeps the model's layer names and writes residual and parallel blocks and repeats.
    An operation convcalc has no layer kind for is named with its place, and the command exits 1
    writing nothing; `--opaque` writes it as a layer that keeps its volume and counts no MACs.
    """
    if (file := output_file(output)) is not None:
        refuse_an_input(file)  # before the model's code runs: `import net.py:Net -o net.py`
    try:
        imported = import_model(source, input_, opaque=opaque)
    except ModelError as exc:
        click.echo(inert_lines(f"error: {exc.message}"), err=True)  # the model's names, inert
        sys.exit(EXIT_DESIGN_ERROR)
    if (output := output_file(output)) is None:
        click.echo(imported.text, nl=False)
        return
    refuse_an_input(output)  # again, now that package.module:attribute has a file: its module's
    write_output(output, imported.text)
    click.echo(inert(f"wrote {output}: `convcalc show {output}` shows it"), err=True)
