"""`convcalc draw`: valid SVG, every volume labelled, branches side by side, docs images current."""

from __future__ import annotations

import re
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.builtins import builtin_names, open_spec
from convcalc.cli import main
from convcalc.render import numbers
from convcalc.render.diagram import Box, Fork, build, count_boxes, qualified_names
from convcalc.render.svg import MAX_WIDTH, render_svg
from convcalc.render.ushape import Figure, u_shaped

if TYPE_CHECKING:
    from collections.abc import Callable

    from click.testing import Result

    from convcalc.report import Report

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).parent.parent
DOCS_IMAGES = ("vgg16", "googlenet", "resnet18", "unet")


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def report_of(name: str) -> Report:
    return analyze(open_spec(name))


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    assert root.tag == f"{SVG}svg"
    return root


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def fronts(root: ET.Element) -> dict[str, tuple[float, float]]:
    """Each volume's front face (x, y), by the path its tooltip starts with."""
    found = {}
    for group in root.iter(f"{SVG}g"):
        title = group.find(f"{SVG}title")
        cube = group.find(f"{SVG}g/{SVG}rect")
        if title is not None and title.text and cube is not None:
            found[title.text.split()[0]] = (float(cube.get("x", "")), float(cube.get("y", "")))
    return found


def assert_valid(report: Report, svg: str) -> ET.Element:
    """The invariants of every drawing: SVG sized to its layout, every computed volume labelled."""
    root = parse(svg)
    width, height = float(root.get("width", "")), float(root.get("height", ""))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert root.get("font-family") == "sans-serif"
    assert all(float(e.get("font-size", "11")) >= 11 for e in root.iter() if e.get("font-size"))
    labels = set(texts(root))
    for row in report.rows:
        if row.output is not None:
            assert numbers.volume(row.output) in labels, row.path
    for element in root.iter():
        for key in ("x", "y", "x1", "x2", "y1", "y2"):
            if key in element.attrib:
                assert 0 <= float(element.attrib[key]) <= max(width, height), (element.tag, element.attrib)
    return root


def test_lenet5_golden(golden: Callable[[str, str], None]) -> None:
    report = report_of("lenet5")
    drawing = render_svg(report)
    assert_valid(report, drawing.svg)
    assert drawing.volumes == len(report.rows) == 8
    golden("lenet5.svg", drawing.svg)


@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_draws_valid_svg(name: str) -> None:
    report = report_of(name)
    drawing = render_svg(report)
    root = assert_valid(report, drawing.svg)
    # A block is never cut in two (docs/draw.md): U-Net's outer copy-and-crop block alone is wider.
    widest = max(Figure(qualified_names(report)).measure(node).width for node in u_shaped(build(report)))
    assert float(root.get("width", "")) <= max(MAX_WIDTH, widest) + 100
    assert any(t.startswith(f"Params {numbers.precise(report.totals.params)}") for t in texts(root))
    assert drawing.volumes == count_boxes(build(report)) <= len(report.rows)


def test_googlenet_branches_side_by_side() -> None:
    at = fronts(parse(render_svg(report_of("googlenet")).svg))
    firsts = [at[f"8.branches.{b}.0"] for b in range(4)]
    seconds = [at[f"8.branches.{b}.1"] for b in range(1, 4)]
    assert max(x for x, _ in firsts) < min(x for x, _ in seconds)  # the lanes start together
    ys = [y for _, y in firsts]
    assert ys == sorted(ys)  # one under the other
    assert len(set(ys)) == 4
    merge_x, merge_y = at["8"]
    assert merge_x > max(x for x, _ in seconds)  # joined at the merge, after every branch
    assert merge_y < ys[1]


def test_an_empty_branch_is_an_identity_lane_in_its_place() -> None:
    text = "input: 8x8x16\nlayers:\n  - parallel:\n      branches: [[conv1-8], [], [conv3-8 p1]]\n"
    report = analyze(load_spec("pe.yaml", text))
    fork = build(report)[1]
    assert isinstance(fork, Fork)
    assert list(fork.lanes) == ["0", "1", "2"]
    assert fork.lanes["1"] == []
    svg = render_svg(report).svg
    assert svg.count(">identity</text>") == 1
    at = fronts(parse(svg))
    assert at["1.branches.0.0"][1] < at["1.branches.2.0"][1]  # the third lane below the identity's


def test_resnet18_shortcut_under_the_body() -> None:
    at = fronts(parse(render_svg(report_of("resnet18")).svg))
    assert at["7.shortcut.0"][0] < at["7.layers.3"][0]
    assert at["7.shortcut.0"][1] > at["7.layers.3"][1]
    assert at["7"][0] > at["7.layers.3"][0]


def test_tree_of_a_residual_with_identity_and_one_with_projection() -> None:
    nodes = build(report_of("resnet18"))
    forks = [n for n in nodes if isinstance(n, Fork)]
    assert len(forks) == 8
    first, projected = forks[0], forks[2]
    assert first.identity
    assert list(first.lanes) == ["layers"]
    assert not projected.identity
    assert list(projected.lanes) == ["layers", "shortcut"]
    conv1 = first.lanes["layers"][0]
    assert isinstance(conv1, Box)
    assert [r.label for r in conv1.merged] == ["bn", "relu"]  # drawn inside the conv's volume
    assert first.merge is not None
    assert first.merge.row.kind == "add"


def test_nested_fork_in_a_branch_and_depth_folding() -> None:
    spec = """
        input: 16x16x8
        layers:
          - residual:
              layers:
                - parallel:
                    branches: [[conv1-4], [conv3-4 p1, relu]]
                - conv1-8
          - fc-10
    """
    report = analyze(load_spec("net.yaml", textwrap.dedent(spec)))
    nodes = build(report)
    outer = nodes[1]
    assert isinstance(outer, Fork)
    inner = outer.lanes["layers"][0]
    assert isinstance(inner, Fork)
    assert list(inner.lanes) == ["0", "1"]
    assert count_boxes(nodes) == len(report.rows) - 1  # the relu is drawn in its conv's volume
    assert_valid(report, render_svg(report).svg)


def test_text_is_escaped() -> None:
    spec = """
        name: "a <net> & \\"more\\" \\x01"
        input: 8x8x3
        layers:
          - layer: conv3-4 p1
            name: "<b>&"
    """
    report = analyze(load_spec("net.yaml", textwrap.dedent(spec)))
    root = assert_valid(report, render_svg(report).svg)
    assert "<b>&" in texts(root)
    assert texts(root)[0].startswith('a <net> & "more" \\x01:')  # written out, as in every text format


def test_a_layer_that_cannot_be_computed_is_drawn_as_unknown() -> None:
    spec = """
        input: 8x8x3
        layers:
          - parallel:
              branches: [[conv1-4], [maxpool]]
          - fc-10
    """
    report = analyze(load_spec("net.yaml", textwrap.dedent(spec)))
    assert report.rows[-1].output is None
    root = assert_valid(report, render_svg(report).svg)
    assert "?" in texts(root)
    assert 'stroke-dasharray="3 2"' in render_svg(report).svg


@pytest.mark.parametrize("args", [(), ("-o", "-")])
def test_cli_writes_to_stdout(args: tuple[str, ...]) -> None:
    result = run("draw", "lenet5", *args)
    assert result.exit_code == 0
    assert result.stdout == render_svg(report_of("lenet5")).svg
    assert result.stderr == ""


def test_cli_writes_a_file(tmp_path: Path) -> None:
    out = tmp_path / "vgg16.svg"
    result = run("draw", "vgg16", "-o", str(out))
    assert result.exit_code == 0
    assert result.stdout == ""
    assert result.stderr == f"wrote {out} (22 volumes)\n"
    assert out.read_text(encoding="utf-8") == render_svg(report_of("vgg16")).svg


def test_cli_depth_folds_blocks() -> None:
    result = run("draw", "googlenet", "--depth", "1")
    assert result.exit_code == 0
    labels = texts(parse(result.stdout))
    assert "inception_3a" in labels
    assert "parallel" not in labels  # a folded block's colour says it is one (the legend)
    assert "inception_3a.3x3_reduce" not in labels


def test_cli_design_error_still_draws_and_exits_1() -> None:
    result = run("draw", "alexnet", "--input", "224x224x3")
    assert result.exit_code == 1
    assert "54x54x96" in texts(parse(result.stdout))
    assert "error: (224 − 11)/4 + 1 = 54.25" in result.stderr
    assert 'stroke="#c0392b"' in result.stdout


def test_cli_unreadable_spec_exits_2() -> None:
    result = run("draw", "no-such-spec")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no-such-spec" in result.stderr


def test_cli_unwritable_output_exits_2(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    result = run("draw", "lenet5", "-o", str(tmp_path / "a-file" / "x.svg"))
    assert result.exit_code == 2
    assert re.match(r"error: cannot write .*x\.svg: ", result.stderr)
    made = tmp_path / "new" / "folder" / "x.svg"  # missing folders are made
    assert run("draw", "lenet5", "-o", str(made)).exit_code == 0
    assert "<svg " in made.read_text(encoding="utf-8")


@pytest.mark.slow
def test_a_long_spec_wraps_and_stays_narrow() -> None:
    layers = "\n".join(["  - conv3-16 p1", "  - relu"] * 1000)
    report = analyze(load_spec("long.yaml", f"input: 32x32x16\nlayers:\n{layers}\n"))
    drawing = render_svg(report)
    root = assert_valid(report, drawing.svg)
    assert drawing.volumes == 1001
    assert float(root.get("width", "")) <= MAX_WIDTH + 100


@pytest.mark.parametrize("name", DOCS_IMAGES)
def test_docs_images_are_the_commands_output(name: str) -> None:
    committed = (ROOT / "docs" / "images" / f"{name}.svg").read_text(encoding="utf-8")
    assert committed == run("draw", name).stdout, f"run: convcalc draw {name} -o docs/images/{name}.svg"
    assert f"images/{name}.svg" in (ROOT / "docs" / "draw.md").read_text(encoding="utf-8")
