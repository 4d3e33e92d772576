"""A real notebook, run by a real Jupyter kernel (nbclient and ipykernel): the table is displayed, once."""

from __future__ import annotations

import html as html_text
import json
import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze
from convcalc.cli import main

if TYPE_CHECKING:
    from pathlib import Path

AREA = 80  # Jupyter's output area before it scrolls


def _html_lines(fragment: str) -> list[str]:
    (pre,) = re.findall(r"<code>(.*)</code>", fragment, flags=re.DOTALL)
    return html_text.unescape(re.sub(r"<[^>]+>", "", pre)).splitlines()


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

    # Every output of the cell counts (display_data, stream, execute_result): rich's console once
    # displayed the table it recorded, and the report showed twice.
    assert [o.output_type for o in table.outputs] == ["execute_result"]
    (result,) = table.outputs
    html = result.data["text/html"]
    assert max(map(len, _html_lines(html))) <= AREA
    assert max(map(len, result.data["text/plain"].splitlines())) <= AREA
    plain = result.data["text/plain"]
    report = analyze("vgg16", batch=8)
    for row in report.rows:
        assert f" {row.name} " in html, row.name
        assert f"{row.params:,}" in html
    assert f"{report.totals.params:,}" in html
    assert f"{report.totals.macs:,}" in html
    assert plain == repr(report)

    (stream,) = printed.outputs
    assert stream.output_type == "stream"
    shown = CliRunner().invoke(main, ["show", "vgg16", "--batch", "8", "--format", "json"])
    assert json.loads(stream.text) == json.loads(shown.stdout)
