"""`shortcut: crop`, U-Net's copy and crop: the row, its centring, its errors, and PyTorch's view."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import SpecError, analyze, load_spec
from convcalc.cli import main
from convcalc.engine.merge import crop_start
from convcalc.fold import fold
from convcalc.spec.model import Residual, Shortcut

if TYPE_CHECKING:
    from pathlib import Path

    from convcalc.report import LayerRow, Report


def spec_text(input_: str, body: str, merge: str = "concat") -> str:
    return textwrap.dedent(f"""\
        input: {input_}
        layers:
          - residual:
              layers: {body}
              shortcut: crop
              merge: {merge}
        """)


def run(input_: str, body: str, merge: str = "concat") -> Report:
    return analyze(load_spec("net.yaml", spec_text(input_, body, merge)))


def row(report: Report, path: str) -> LayerRow:
    return next(r for r in report.rows if r.path == path)


def test_the_spelling_is_read_as_a_shortcut() -> None:
    spec = load_spec("net.yaml", spec_text("12x12x3", "[conv3-8, conv3-8]"))
    (node,) = spec.layers
    assert isinstance(node, Residual)
    assert node.shortcut is Shortcut.CROP


def test_the_crop_is_a_row_between_the_body_and_the_concat() -> None:
    report = run("12x12x3", "[conv3-8, conv3-8]")
    assert [(r.path, r.kind) for r in report.rows] == [
        ("input", "input"),
        ("1.layers.0", "conv"),
        ("1.layers.1", "conv"),
        ("1.shortcut.0", "crop"),
        ("1", "concat"),
    ]
    body, cut, merged = report.rows[2:]
    assert body.output is not None
    assert cut.output is not None
    assert cut.input == report.rows[0].output  # the residual's input is what is cut
    assert cut.output.spatial == body.output.spatial  # to the body's spatial size
    assert cut.output.depth == 3  # its own depth
    assert (cut.name, cut.label, cut.depth) == ("CROP", "crop 2", 1)
    # A view: no params, no MACs, no new values; the concat makes the new tensor.
    assert (cut.params, cut.buffers, cut.macs, cut.flops, cut.activations, cut.memory) == (0, 0, 0, 0, 0, 0)
    assert (cut.rf, cut.jump) == (report.rows[0].rf, report.rows[0].jump)
    assert merged.output is not None
    assert merged.output.as_list() == [*body.output.spatial, 3 + 8]
    assert merged.rf == body.rf  # the widest of the two
    assert report.ok


@pytest.mark.parametrize(
    ("input_", "body", "label"),
    [
        ("9x9x2", "[conv2-4]", "crop 0/1"),  # odd: the extra row and column go at the end
        ("11x11x2", "[conv4-4]", "crop 1/2"),
        ("10x7x2", "['conv3x2-4']", "crop 1, 0/1"),  # per dim, height first
        ("8x8x2", "[conv3-4 p1]", "crop 0"),  # nothing to cut: the row stays
        ("{length: 20, depth: 4}", "[conv5-4]", "crop 2"),  # 1-D
        ("6x6x6x1", "[conv3-2]", "crop 1"),  # 3-D
    ],
)
def test_labels_say_what_goes_on_each_side(input_: str, body: str, label: str) -> None:
    report = run(input_, body)
    cut = row(report, "1.shortcut.0")
    assert cut.label == label
    assert cut.input is not None
    assert cut.output is not None
    for have, want in zip(cut.input.spatial, cut.output.spatial, strict=True):
        start = crop_start(have, want)
        assert start + want + start in {have, have - 1}  # centred: at most one more at the end
        assert start == (have - want) // 2


def test_crop_with_add() -> None:
    report = run("10x10x3", "[conv3-3]", merge="add")
    assert [r.output.as_list() for r in report.rows[2:] if r.output] == [[8, 8, 3], [8, 8, 3]]
    assert report.ok


def test_crop_with_multiply_is_refused_where_it_is_written() -> None:
    with pytest.raises(SpecError, match=r"shortcut: crop .* `merge: concat` \(U-Net\) or `merge: add`") as caught:
        load_spec("net.yaml", spec_text("10x10x3", "[conv3-3]", merge="multiply"))
    at = caught.value.location
    assert at is not None
    assert (at.line, at.column) == (5, 17)


def test_a_misspelt_shortcut_names_the_choices() -> None:
    text = spec_text("10x10x3", "[conv3-3]").replace("shortcut: crop", "shortcut: cropped")
    with pytest.raises(SpecError, match=r"`shortcut:` \(\[\] or identity, auto, crop, or a list of layers\)"):
        load_spec("net.yaml", text)


def test_a_skip_smaller_than_the_body_is_a_design_error(tmp_path: Path) -> None:
    report = run("8x8x3", "[deconv2-4 s2]")
    cut = report.rows[-1]
    assert (cut.path, cut.kind, cut.output) == ("1.shortcut.0", "crop", None)
    (d,) = report.diagnostics
    assert d.code == "crop-mismatch"
    assert d.message == (
        "cannot crop 8x8x3 from the input (1) to the spatial size of 16x16x4 from the body (1.layers): "
        "the skip is smaller than the body, and a crop only cuts (make the body smaller, or pad less)"
    )
    source = tmp_path / "net.yaml"
    source.write_text(spec_text("8x8x3", "[deconv2-4 s2]"), encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(source), "--format", "json"])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"{source}:3:5: error: cannot crop 8x8x3 from the input (1)")
    assert "Traceback" not in result.output


def test_a_body_that_ends_in_a_vector_cannot_be_cropped_to() -> None:
    report = run("8x8x3", "[fc-10]")
    (d,) = report.diagnostics
    assert d.code == "crop-mismatch"
    assert d.message.startswith(
        "cannot crop 8x8x3 from the input (1) to the spatial size of 10 from the body (1.layers)"
    )
    assert d.message.endswith("a crop cuts spatial dims, and both need the same number of them")


def test_folding_keeps_the_totals() -> None:
    report = run("12x12x3", "[conv3-8, conv3-8]")
    folded = fold(report, 1)
    assert [r.kind for r in folded.rows] == ["input", "residual"]
    assert folded.totals == report.totals


# -- PyTorch: the crop is a view, centred as the rows say --------------------------------------


@pytest.mark.torch
@pytest.mark.parametrize(
    ("input_", "body"), [("9x9x2", "[conv2-4]"), ("11x10x2", "[conv4-4]"), ("{length: 20, depth: 4}", "[conv5-4]")]
)
def test_to_module_crops_as_slicing_does(input_: str, body: str) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.pytorch import shape_of, to_module  # noqa: PLC0415 - needs torch

    spec = load_spec("net.yaml", spec_text(input_, body))
    report = analyze(spec)
    built = to_module(spec)
    x = torch.randn(1, spec.input.depth, *spec.input.spatial, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        seen = built.outputs(x)
        # PyTorch computing the same thing, written out: the body, the input sliced (floor at
        # the start), then the input's channels first.
        y = next(m for m in built.module.modules() if isinstance(m, torch.nn.modules.conv._ConvNd))(x)  # noqa: SLF001
    slices = [slice((a - b) // 2, (a - b) // 2 + b) for a, b in zip(x.shape[2:], y.shape[2:], strict=True)]
    cut = x[(slice(None), slice(None), *slices)]
    assert torch.equal(seen["1.shortcut.0"], cut)
    assert seen["1.shortcut.0"].data_ptr() == cut.data_ptr()  # a view into x, where slicing starts: no copy
    assert torch.equal(seen["1"], torch.cat([cut, y], dim=1))
    for r in report.rows[1:]:
        assert r.output is not None
        assert shape_of(seen[r.path]) == r.output.as_list(), r.path


@pytest.mark.torch
def test_export_writes_a_narrow_per_cut_dim(tmp_path: Path) -> None:
    source = tmp_path / "net.yaml"
    source.write_text(spec_text("10x7x2", "['conv3x2-4']"), encoding="utf-8")
    out = tmp_path / "net.py"
    result = CliRunner().invoke(main, ["export", str(source), "--to", "pytorch", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert "        shortcut = identity.narrow(2, 1, 8).narrow(3, 0, 6)\n" in text
    assert "        x = torch.cat([shortcut, x], dim=1)\n" in text
