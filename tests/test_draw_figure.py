"""The figure's geometry, read back from the SVG: connectors meet boxes, labels are distinct and do
not overlap, colours follow the legend, vectors are no taller than volumes, large networks fold."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from itertools import pairwise
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze
from convcalc.builtins import builtin_names
from convcalc.cli import main
from convcalc.render import numbers
from convcalc.render.figure import CHAR
from convcalc.render.shapes import LEGEND, legend_fill
from convcalc.render.svg import FOLD_PAST, READABLE, render_readable, render_svg

if TYPE_CHECKING:
    from collections.abc import Callable

SVG = "{http://www.w3.org/2000/svg}"
NEAR = 0.6  # px: coordinates are written with one decimal
FAST = {"lenet5", "alexnet", "resnet18"}  # the inner loop's networks; the others run with the slow tests


def networks(names: list[str]) -> list[object]:
    return [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in names]


@dataclass(frozen=True)
class Volume:
    title: str
    left: float
    right: float  # the back edge of the side face
    top: float
    high: float
    fill: str
    labels: tuple[str, ...]

    @property
    def axis(self) -> float:
        return self.top + self.high / 2


Segment = tuple[tuple[float, float], tuple[float, float]]


def _volumes(root: ET.Element) -> list[Volume]:
    found = []
    for group in root.iter(f"{SVG}g"):
        title, cube = group.find(f"{SVG}title"), group.find(f"{SVG}g/{SVG}rect")
        if title is None or cube is None:
            continue
        side = group.findall(f"{SVG}g/{SVG}polygon")[1]
        xs = [float(p.split(",")[0]) for p in side.get("points", "").split()]
        labels = tuple(t.text or "" for t in group.iter(f"{SVG}text"))
        x, y, h = (float(cube.get(k, "")) for k in ("x", "y", "height"))
        found.append(Volume(title.text or "", x, max(xs), y, h, cube.get("fill", ""), labels))
    return found


def _segments(root: ET.Element) -> list[Segment]:
    out: list[Segment] = [
        ((float(e.get("x1", "")), float(e.get("y1", ""))), (float(e.get("x2", "")), float(e.get("y2", ""))))
        for e in root.iter(f"{SVG}line")
    ]
    for poly in root.iter(f"{SVG}polyline"):
        points = [tuple(map(float, p.split(","))) for p in poly.get("points", "").split()]
        out += [(a, b) for a, b in pairwise(points)]  # type: ignore[misc]
    return out


def _on(point: tuple[float, float], seg: Segment) -> bool:
    (x1, y1), (x2, y2), (x, y) = seg[0], seg[1], point
    inside = min(x1, x2) - NEAR <= x <= max(x1, x2) + NEAR and min(y1, y2) - NEAR <= y <= max(y1, y2) + NEAR
    return inside and (abs(x1 - x2) < NEAR or abs(y1 - y2) < NEAR)  # connectors are horizontal or vertical


def _drawn(name: str) -> ET.Element:
    result = CliRunner().invoke(main, ["draw", name])
    assert result.exit_code == 0, result.output
    return ET.fromstring(result.stdout)  # noqa: S314 - our own output


@pytest.mark.parametrize("name", networks(["lenet5", "alexnet", "googlenet", "resnet18", "densenet121", "unet"]))
def test_connectors_meet_the_boxes(name: str) -> None:
    root = _drawn(name)
    volumes, segments = _volumes(root), _segments(root)
    edges = [(v.left, v.axis) for v in volumes] + [(v.right, v.axis) for v in volumes]
    for i, seg in enumerate(segments):
        for end in seg:
            others = segments[:i] + segments[i + 1 :]
            touches = any(_on(end, o) for o in others) or any(
                abs(end[0] - x) < NEAR and abs(end[1] - y) < NEAR for x, y in edges
            )
            assert touches, (name, seg, end)
    ends = [point for seg in segments for point in seg]

    def reached(x: float, y: float) -> bool:
        return any(abs(x - ex) < NEAR and abs(y - ey) < NEAR for ex, ey in ends)

    for v in volumes[1:]:  # every box but the input is reached at its front face
        assert reached(v.left, v.axis), v.title
    left = [v.title for v in volumes[:-1] if not reached(v.right, v.axis)]
    assert left == []  # a connector leaves every box but the last


def _text_boxes(root: ET.Element) -> list[tuple[str, float, float, float, float]]:
    """Every text's extent, as the layout measures it (CHAR px a character at 11 px)."""
    boxes = []
    anchors: dict[ET.Element, str] = {}
    for group in root.iter(f"{SVG}g"):
        for child in group:
            anchors[child] = group.get("text-anchor", anchors.get(group, "start"))
    for text in root.iter(f"{SVG}text"):
        size = float(text.get("font-size", "11"))
        width = CHAR * size / 11 * len(text.text or "")
        x, y = float(text.get("x", "")), float(text.get("y", ""))
        left = x - width / 2 if anchors.get(text) == "middle" else x
        boxes.append((text.text or "", left, left + width, y - 0.8 * size, y + 0.2 * size))
    return boxes


@pytest.mark.slow
def test_densenet121_every_box_has_its_own_label_and_none_overlap() -> None:
    for root in (_drawn("densenet121"), ET.fromstring(render_svg(analyze("densenet121")).svg)):  # noqa: S314
        volumes = _volumes(root)
        names = [v.labels[0] for v in volumes]
        assert len(names) == len(set(names)) > 10
        boxes = sorted(_text_boxes(root), key=lambda b: b[1])
        for i, (text, _x1, x2, y1, y2) in enumerate(boxes):
            for other, ox1, _ox2, oy1, oy2 in boxes[i + 1 :]:
                if ox1 >= x2:
                    break
                assert oy2 <= y1 or oy1 >= y2, (text, other)
    names = [v.labels[0] for v in _volumes(ET.fromstring(render_svg(analyze("densenet121")).svg))]  # noqa: S314
    assert "denseblock2.denselayer5" in names
    assert "denseblock2.denselayer5.conv2" in names


def test_resnet_shortcuts_are_named_as_torchvision_names_them() -> None:
    names = [v.labels[0] for v in _volumes(_drawn("resnet18"))]
    assert "layer2.0.downsample.0" in names
    assert "layer3.0.conv1" in names
    assert "layer3.0" in names  # the add
    assert not any(n.startswith("CONV1-") for n in names)


@pytest.mark.parametrize("name", networks(builtin_names()))
def test_colours_follow_the_legend(name: str) -> None:
    root = _drawn(name)
    volumes = _volumes(root)
    legend = {legend_fill(k): k for k in LEGEND}
    assert {v.fill for v in volumes} <= set(legend)
    grey = [v.title for v in volumes if legend[v.fill] == "input"]
    assert grey == [volumes[0].title]
    assert volumes[0].title.startswith("input ")
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert all(words in texts for words in LEGEND.values())


@pytest.mark.parametrize("name", networks(builtin_names()))
def test_vectors_are_no_taller_than_the_tallest_volume(name: str) -> None:
    report = analyze(name)
    root = ET.fromstring(render_svg(report).svg)  # noqa: S314
    volumes = _volumes(root)
    by_path = {r.path: r for r in report.rows}
    spatial = [v.high for v in volumes if (r := by_path.get(v.title.split()[0])) and r.output and r.output.spatial]
    vectors = [v.high for v in volumes if (r := by_path.get(v.title.split()[0])) and r.output and not r.output.spatial]
    assert max(vectors, default=0) <= max(spatial)


def test_alexnet_fc6_is_lower_than_its_input() -> None:
    volumes = _volumes(ET.fromstring(render_svg(analyze("alexnet")).svg))  # noqa: S314
    fc6 = next(v for v in volumes if v.labels[0] == "FC6")
    assert fc6.high < volumes[0].high


@pytest.mark.slow  # DenseNet drawn at every depth, through the CLI too (0.4 s)
def test_a_large_network_folds_to_fit_and_says_so() -> None:
    report = analyze("densenet121")
    whole = render_svg(report)
    assert max(whole.width, whole.height) > FOLD_PAST
    drawing = render_readable(report)
    assert max(drawing.width, drawing.height) <= READABLE
    root = ET.fromstring(drawing.svg)  # noqa: S314
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert any(t.startswith(f"Params {numbers.precise(report.totals.params)}") for t in texts)
    note = next(t for t in texts if t.startswith("Folded to depth 2"))
    assert f"every layer would be {whole.volumes} volumes" in note
    assert "--full" in note
    full = CliRunner().invoke(main, ["draw", "densenet121", "--full"])
    assert f"{whole.volumes} volumes" in full.stdout
    assert "Folded" not in full.stdout
    small = render_readable(analyze("vgg16"))
    assert small.svg == render_svg(analyze("vgg16")).svg


@pytest.mark.slow  # DenseNet drawn at every depth
def test_folding_stops_at_depth_1() -> None:
    report = analyze("densenet121")
    drawing = render_readable(report, limit=10)  # nothing fits: the most folded figure
    assert "Folded to depth 1" in drawing.svg


def test_densenet121_golden(golden: Callable[[str, str], None]) -> None:
    golden("densenet121.svg", render_readable(analyze("densenet121")).svg)
