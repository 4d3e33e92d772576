"""`convcalc export`: a spec as the source of a standalone PyTorch module."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from convcalc import __version__
from convcalc.builtins import open_spec
from convcalc.cli import streams
from convcalc.cli.common import EXIT_DESIGN_ERROR, complete_spec, echo_diagnostics, override
from convcalc.cli.output import output_file, write_output
from convcalc.engine.analyze import analyze
from convcalc.export import class_name, export_pytorch
from convcalc.options import Rounding
from convcalc.render import fallback
from convcalc.render.inert import inert
from convcalc.report import Severity


@click.command(short_help="Write SPEC as a standalone PyTorch module.")
@click.argument("spec", shell_complete=complete_spec)
@click.option("--to", "target", type=click.Choice(["pytorch"]), default="pytorch", show_default=True, help="Framework.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Write to FILE (- for standard output, the default).",
)
@click.option("--input", "input_", metavar="HxWxD", help="Override the spec's input volume, e.g. 32x32x3.")
@click.option("--rounding", type=click.Choice([r.value for r in Rounding]), help="Override the spec's rounding.")
def export(spec: str, target: str, output: Path | None, input_: str | None, rounding: str | None) -> None:
    """Write SPEC as a standalone PyTorch module: an nn.Module with named layers and a forward.

    The file needs only torch; `python FILE` prints the output volume of a zero input and the
    parameter count, which match `convcalc show SPEC`. Exits 1, writing nothing, when the
    design has an error.
    """
    del target  # one target so far; the option names it so that others can follow
    loaded = override(open_spec(spec), input_=input_, rounding=rounding, quiet=True)  # answers are not exported
    report = analyze(loaded)
    echo_diagnostics(report, checks=False)  # the module does not depend on the spec's answers
    if any(d.severity is Severity.ERROR for d in report.diagnostics):
        hint = "" if rounding else "; `--rounding floor` exports what PyTorch would do with it"
        click.echo(f"error: nothing exported: the design has an error (`convcalc show` explains it){hint}", err=True)
        sys.exit(EXIT_DESIGN_ERROR)
    exported = export_pytorch(loaded, report, __version__)
    if (output := output_file(output)) is None:
        text, encoding = exported.text, streams.stdout_encoding()
        if not text.isascii() and not fallback.is_utf(encoding):
            # Python reads a file as UTF-8 unless its first line says otherwise (PEP 263): say what
            # standard output writes, so that a redirected file reads back as written.
            coding = "ascii" if encoding == streams.ASCII else encoding  # Python knows it by that name
            text = f"# -*- coding: {coding} -*-\n{text}"
        click.echo(text, nl=False)
        return
    write_output(output, exported.text)
    layers = exported.modules  # one attribute per layer with parameters or state
    wrote = (
        f"wrote {output}: class {class_name(loaded.name)}, {layers} layer{'s' * (layers != 1)}, "
        f"{report.totals.params:,} params; `python {output}` prints {report.totals.output}"
    )
    click.echo(inert(wrote), err=True)  # the path as given: a line feed in it stays on the line
