"""`convcalc draw --memory` (issue 26): the step's live memory as an SVG, its labels apart in a real browser."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import replace

import pytest
from browser import visit  # type: ignore[import-not-found]
from click.testing import CliRunner

import convcalc
from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.steptime import step_timeline
from convcalc.engine.training import Optimizer
from convcalc.picture import picture_of
from convcalc.render.memory import PARTS, Sample, _ticks, columns, render_memory

SVG = "{http://www.w3.org/2000/svg}"

# After load: every text element's box in the page, and its text, into the DOM that --dump-dom prints.
_BOXES = """<script>
addEventListener("load", function () {
  var boxes = Array.from(document.querySelectorAll("svg text"), function (t) {
    var r = t.getBoundingClientRect();
    return {text: t.textContent, left: r.left, top: r.top, right: r.right, bottom: r.bottom};
  });
  var s = document.querySelector("svg").getBoundingClientRect();
  var out = document.createElement("pre");
  out.id = "boxes";
  out.textContent = JSON.stringify({boxes: boxes, svg: {right: s.right, bottom: s.bottom}});
  document.body.appendChild(out);
});
</script>"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return min(a["right"], b["right"]) - max(a["left"], b["left"]) > 0.5 and (
        min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > 0.5
    )


@pytest.mark.slow  # a browser starts: a few seconds each
@pytest.mark.parametrize("name", ["vgg16", "resnet50"])
def test_the_labels_of_the_memory_picture_do_not_overlap_in_chromium(name: str) -> None:
    result = CliRunner().invoke(main, ["draw", name, "--memory"])
    assert result.exit_code == 0, result.stderr
    svg = result.stdout.split("\n", 1)[1]  # inline: without the XML declaration
    seen = visit(svg + _BOXES)
    found = re.search(r'<pre id="boxes">(.*?)</pre>', seen.dom, re.DOTALL)
    assert found
    data = json.loads(found.group(1).replace("&quot;", '"').replace("&amp;", "&").replace("&lt;", "<"))
    boxes = [b for b in data["boxes"] if b["right"] > b["left"]]
    texts = [b["text"] for b in boxes]
    assert {"forward", "backward", "step", "saved for backward", "gradients", "optimizer state"} <= set(texts)
    assert any(t.startswith("peak ") for t in texts)
    assert len(boxes) > 20
    for i, a in enumerate(boxes):
        assert a["right"] <= data["svg"]["right"] + 0.5, a  # inside the figure
        assert a["bottom"] <= data["svg"]["bottom"] + 0.5, a
        for b in boxes[i + 1 :]:
            assert not _overlap(a, b), (a, b)
    assert seen.remote == []


def test_the_picture_stacks_the_timeline_s_parts_and_marks_its_peak() -> None:
    spec = replace(open_spec("resnet18"), batch=2)
    report = analyze(spec)
    step = step_timeline(spec, report, Optimizer.ADAM)
    assert step is not None
    picture = picture_of(spec, report)
    root = ET.fromstring(picture.svg)  # noqa: S314 - our own output
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert f"peak {convcalc.render.numbers.size(step.peak)}: {step.phase.value}, " in " ".join(texts)
    assert any(f"({step.peak:,} B)" in t for t in texts)
    areas = [p for p in root.iter(f"{SVG}path") if p.get("fill") in {c for _, c, _ in PARTS}]
    assert len(areas) == len(PARTS)
    tips = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert len(tips) == len(columns([Sample(e.phase.value, e.row, e.op, (0, 0, 0, 0, 0), e.high) for e in step.events]))


def test_columns_keep_each_layer_s_highest_moment() -> None:
    samples = [
        Sample("forward", "1", "Conv2d", (4, 0, 0, 1, 2), 7),
        Sample("forward", "1", "F.relu", (4, 0, 0, 3, 2), 12),
        Sample("forward", "2", "Linear", (4, 0, 0, 3, 1), 8),
        Sample("backward", "2", "AddmmBackward0", (4, 0, 1, 3, 1), 9),
    ]
    cols = columns(samples)
    assert [(c.phase, c.row, c.first, c.high, sum(c.top.parts)) for c in cols] == [
        ("forward", "1", 0, 12, 9),
        ("forward", "2", 2, 8, 8),
        ("backward", "2", 3, 9, 9),
    ]
    picture = render_memory(samples, "t", ["c"], {"1": "a", "2": "b"}, {"1": "a", "2": "b"}, peak_at=1)
    assert "peak 12 B: forward, a (F.relu)" in picture.svg


@pytest.mark.parametrize(("top", "ticks"), [(1, [0, 1]), (7, [0, 2, 4, 6, 8]), (3_036_408_576, [0, *range(1, 5)])])
def test_ticks_are_round(top: int, ticks: list[int]) -> None:
    got = _ticks(top)
    if top > 10:
        ticks = [t * 10**9 for t in ticks]
    assert got == ticks
    assert got[-1] >= top
    assert len(got) <= 6


def test_an_inference_picture_and_the_notebook_s() -> None:
    picture = convcalc.memory_picture("lenet5", batch=4, inference=True)
    assert picture._repr_svg_() == picture.svg
    assert "live memory of an inference pass" in picture.svg
    assert "inference" in picture.svg
    ET.fromstring(picture.svg)  # noqa: S314 - our own output
    sgd = convcalc.memory_picture("lenet5", optimizer="momentum", foreach=True)
    assert "one training step, momentum, foreach" in sgd.svg


def test_draw_memory_writes_a_file_and_refuses_what_it_cannot_draw(tmp_path: object) -> None:
    runner = CliRunner()
    out = f"{tmp_path}/m.svg"
    result = runner.invoke(main, ["draw", "lenet5", "--memory", "-o", out])
    assert result.exit_code == 0
    assert result.stderr.startswith(f"wrote {out} (")
    result = runner.invoke(main, ["draw", "lenet5", "--foreach"])
    assert result.exit_code == 2
    assert "--inference, --optimizer and --foreach go with --memory" in result.stderr
    result = runner.invoke(main, ["draw", "-", "--memory"], input="input: HxWx3\nexample: 8x8x3\nlayers: [conv3-4]\n")
    assert result.exit_code == 2
    assert "--memory: a symbolic input has no bytes" in result.stderr
    result = runner.invoke(main, ["draw", "-", "--memory"], input="input: 4x4x3\nlayers: [conv5-4]\n")
    assert result.exit_code == 1
    assert "error: --memory: a row could not be computed" in result.stderr


def test_a_spec_with_a_stride_that_does_not_fit_is_drawn_and_exits_1() -> None:
    spec = "input: 7x7x3\nlayers: [conv3-4 s3, fc-2]\n"
    result = CliRunner().invoke(main, ["draw", "-", "--memory"], input=spec)
    assert result.exit_code == 1
    assert "<svg" in result.stdout
    assert load_spec("x.yaml", spec)


NESTED = """
input: 8x8x3
layers:
  - conv3-4 p1
  - residual:
      layers:
        - repeat: 2
          layers: [conv3-4 p1, relu]
          checkpoint: true
      activation: relu
  - fc-2
"""


def test_a_checkpointed_block_is_named_under_the_picture() -> None:
    picture = convcalc.memory_picture(NESTED)
    assert "checkpointed: repeat ×2; backward runs their forward again (the ops named recompute)" in picture.svg
    assert "recompute " in picture.svg  # the recompute's ops, in the peak's label or the tooltips
    inference = convcalc.memory_picture(NESTED, inference=True)
    assert "checkpointed:" not in inference.svg


@pytest.mark.parametrize("inference", [False, True])
def test_a_spec_with_a_row_that_failed_has_no_picture(inference: bool) -> None:  # noqa: FBT001 - the parameter
    with pytest.raises(convcalc.ConvcalcError, match="the spec has a layer convcalc cannot compute"):
        convcalc.memory_picture("input: 4x4x3\nlayers: [conv5-4]\n", inference=inference)


@pytest.mark.slow  # a kernel starts in a few seconds
def test_a_notebook_displays_the_memory_picture(tmp_path: object) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    v4 = nbformat.v4
    notebook = v4.new_notebook(cells=[v4.new_code_cell("import convcalc\nconvcalc.memory_picture('lenet5', batch=8)")])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    client = nbclient.NotebookClient(
        notebook, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    (cell,) = client.execute().cells
    (result,) = cell.outputs
    assert result.output_type == "execute_result"
    assert result.data["image/svg+xml"].startswith("<?xml")
    assert "LeNet-5: live memory of a training step" in result.data["image/svg+xml"]
