"""U-Net drawn as a U (issue 23): encoder levels going down, decoder levels coming up, skips across."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner
from test_draw_figure import NEAR, Volume, _on, _segments, _volumes  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.cli import main
from convcalc.fold import fold
from convcalc.render.diagram import U, build, count_boxes
from convcalc.render.svg import render_readable, render_svg
from convcalc.render.ushape import u_shaped

ONE_LINE = 5202  # px: `draw unet --full` before, every volume on one line


def _by_path(svg: str) -> dict[str, Volume]:
    return {v.title.split()[0]: v for v in _volumes(ET.fromstring(svg))}  # noqa: S314 - our own output


def _band(depth: int, kind: str) -> int:
    """U-Net's level of a row: how many bodies hold it; a crop sits a level up, on the skip it crops."""
    return depth - 1 if kind == "crop" else depth


def test_unet_full_is_a_u_far_narrower_than_one_line() -> None:
    report = analyze("unet")
    drawing = render_svg(report)
    assert drawing.width < ONE_LINE / 3
    assert drawing.volumes == len(report.rows)
    at = _by_path(drawing.svg)
    bands: dict[int, list[tuple[str, Volume]]] = {}
    for row in report.rows:
        bands.setdefault(_band(row.depth, row.kind), []).append((row.kind, at[row.path]))
    assert sorted(bands) == [0, 1, 2, 3, 4]
    axes = []
    for level, volumes in sorted(bands.items()):
        ys = {round(v.axis) for _, v in volumes}
        assert len(ys) == 1, (level, ys)  # each level's encoder, crop and decoder on one axis
        axes.append(ys.pop())
    tops = [min(v.top for _, v in bands[k]) for k in range(5)]
    bottoms = [max(v.top + v.high for _, v in bands[k]) for k in range(5)]
    assert axes == sorted(axes)
    assert all(bottoms[k] < tops[k + 1] for k in range(4))  # the U goes down a level at a time
    for level in range(4):  # encoder | crop | decoder, left to right, in each level above the bottom
        kinds = [k for k, _ in bands[level]]
        crop = kinds.index("crop")
        encoder, skip, decoder = bands[level][:crop], bands[level][crop][1], bands[level][crop + 1 :]
        assert max(v.right for _, v in encoder) < skip.left
        assert skip.right < min(v.left for _, v in decoder)
        assert decoder[0][0] == "concat"
    # The decoders start at one x, the merges one above the other: the right side of the U.
    merges = [at[r.path] for r in report.rows if r.kind == "concat"]
    crops = [at[r.path] for r in report.rows if r.kind == "crop"]
    assert max(v.right for v in crops) < min(v.left for v in merges)
    assert max(v.left for v in merges) - min(v.left for v in merges) < min(v.right - v.left for v in merges)


def test_unets_crop_is_labelled_a_crop() -> None:
    at = _by_path(render_svg(analyze("unet")).svg)
    crops = [v for path, v in at.items() if ".shortcut." in path]
    assert len(crops) == 4
    for v in crops:
        assert not any("downsample" in label for label in v.labels), v.labels
        assert v.labels[0].endswith(".CROP"), v.labels
        assert v.labels[2].startswith("crop "), v.labels
    assert "downsample" not in render_svg(analyze("unet")).svg


def test_unet_is_drawn_whole_by_default() -> None:
    result = CliRunner().invoke(main, ["draw", "unet"])
    assert result.exit_code == 0
    assert "Folded" not in result.stdout
    assert render_readable(analyze("unet")).svg == render_svg(analyze("unet")).svg


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_a_folded_unet_is_a_shallower_u(depth: int) -> None:
    """Folded to depth d, U-Net keeps d - 1 levels of residuals: a U of d - 1 bands and a bottom."""
    folded = fold(analyze("unet"), depth)
    nodes = u_shaped(build(folded))
    if depth == 1:  # level1 is one box: no residual is left
        assert not any(isinstance(n, U) for n in nodes)
        return
    (node,) = nodes
    assert isinstance(node, U)
    assert len(node.bands) == depth - 1
    assert_connected(render_svg(folded).svg)


def assert_connected(svg: str) -> None:
    """Every connector's end meets another connector or a box's face (as test_draw_figure checks)."""
    root = ET.fromstring(svg)  # noqa: S314 - our own output
    volumes, segments = _volumes(root), _segments(root)
    edges = [(v.left, v.axis) for v in volumes] + [(v.right, v.axis) for v in volumes]
    for i, seg in enumerate(segments):
        for end in seg:
            others = segments[:i] + segments[i + 1 :]
            near = any(abs(end[0] - x) < NEAR and abs(end[1] - y) < NEAR for x, y in edges)
            assert near or any(_on(end, o) for o in others), (seg, end)


SMALL = """
    input: 64x64x3
    layers:
      - conv3-8 p1
      - residual:
          layers:
            - maxpool
            - conv3-16 p1
            - residual:
                layers: [maxpool, conv3-32 p1, upsample2, conv1-16]
                merge: concat
            - upsample2
            - conv1-8
          merge: concat
      - conv1-2
"""


def test_a_u_with_identity_skips() -> None:
    """Skips without layers (the identity) are lines across, labelled as a residual's are."""
    report = analyze(load_spec("u.yaml", textwrap.dedent(SMALL)))
    nodes = u_shaped(build(report))
    assert len(nodes) == 1
    assert isinstance(nodes[0], U)
    svg = render_svg(report).svg
    assert svg.count(">identity</text>") == 2
    assert_connected(svg)
    at = _by_path(svg)
    assert at["2.layers.2.layers.0"].axis > at["2.layers.0"].axis > at["1"].axis
    assert at["2"].axis == at["1"].axis  # the outer merge (concat) back on the top band
    assert at["2.layers.2"].axis == at["2.layers.0"].axis  # the inner one on the band of level 1


NOT_A_U = """
    input: 16x16x8
    layers:
      - residual:
          layers:
            - conv3-8 p1
            - residual: {layers: [conv3-8 p1]}
            - conv3-8 p1
"""


def test_nested_residuals_that_keep_their_size_stay_forks() -> None:
    """Only a body that goes down in size to the residual in it makes a U: ResNets stay as they are."""
    for report in (analyze("resnet18"), analyze(load_spec("n.yaml", textwrap.dedent(NOT_A_U)))):
        assert not any(isinstance(n, U) for n in u_shaped(build(report)))


TWO = """
    input: 32x32x4
    layers:
      - name: outer
        residual:
          merge: concat
          layers:
            - maxpool
            - conv1-4
            - name: inner
              residual:
                merge: concat
                layers:
                  - maxpool
                  - parallel: {merge: add, branches: [[conv3-4 p1], [conv1-4]]}
                  - upsample2
            - parallel: {merge: add, branches: [[conv3-8 p1], [conv1-8]]}
            - upsample2
      - residual:
          merge: concat
          layers: [maxpool, conv3-4 p1, upsample2, residual: {layers: [conv3-4 p1]}]
"""


def test_two_us_in_a_row_with_forks_in_their_rows() -> None:
    """A U right after another starts on its skip; forks in a level's rows stay forks; names lose the outer level."""
    report = analyze(load_spec("two.yaml", textwrap.dedent(TWO)))
    assert report.ok, report.diagnostics
    nodes = u_shaped(build(report))
    first, second = nodes
    assert isinstance(first, U)
    assert isinstance(second, U)
    assert len(first.bands) == 2
    assert second.bands[0].encoder == []
    assert len(second.bands) == 1  # the residual after the upsample keeps the size: no level of the U
    assert count_boxes(nodes) == count_boxes(build(report)) == render_svg(report).volumes
    svg = render_svg(report).svg
    assert_connected(svg)
    labels = {v.title.split()[0]: v.labels[0] for v in _by_path(svg).values()}
    assert labels["1.layers.2"] == "inner"  # the inner merge, on outer's band
    assert labels["1.layers.2.layers.1.branches.0.0"].startswith("inner.")  # in a fork of the bottom
