"""A real notebook, run by a real Jupyter kernel (nbclient and ipykernel): the table is displayed."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze
from convcalc.cli import main

if TYPE_CHECKING:
    from pathlib import Path

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")


@pytest.mark.slow  # a kernel starts in a few seconds
def test_a_notebook_displays_vgg16s_table(tmp_path: Path) -> None:
    v4 = nbformat.v4
    notebook = v4.new_notebook(
        cells=[
            v4.new_code_cell("import convcalc\nreport = convcalc.analyze('vgg16', batch=8)\nreport"),
            v4.new_code_cell("import json\nprint(json.dumps(report.to_dict()))"),
        ]
    )
    # python3 is ipykernel's own kernel: the interpreter it is installed in, this one.
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    executed = client.execute()
    table, printed = executed.cells

    (result,) = [o for o in table.outputs if o.output_type == "execute_result"]
    html = result.data["text/html"]
    plain = result.data["text/plain"]
    report = analyze("vgg16", batch=8)
    for row in report.rows:
        assert f" {row.name} " in html, row.name
        assert f"{row.params:,}" in html
    assert f"{report.totals.params:,}" in html
    assert f"{report.totals.macs:,}" in html
    assert plain == repr(report)

    (stream,) = printed.outputs
    shown = CliRunner().invoke(main, ["show", "vgg16", "--batch", "8", "--format", "json"])
    assert json.loads(stream.text) == json.loads(shown.stdout)
