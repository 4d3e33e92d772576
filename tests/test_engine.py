"""The engine against the lecture's figures and each layer kind's rule."""

from __future__ import annotations

from fractions import Fraction

import pytest

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.report import LayerRow, Report, Severity

# The lecture's VGG16 table (CS231n lecture 7, "VGGNet" slide): volume, memory (values) and
# params (weights only: "not counting biases"), row for row.
LECTURE_VGG16 = [
    ("INPUT", [224, 224, 3], 224 * 224 * 3, 0),
    ("CONV3-64", [224, 224, 64], 224 * 224 * 64, (3 * 3 * 3) * 64),
    ("CONV3-64", [224, 224, 64], 224 * 224 * 64, (3 * 3 * 64) * 64),
    ("POOL2", [112, 112, 64], 112 * 112 * 64, 0),
    ("CONV3-128", [112, 112, 128], 112 * 112 * 128, (3 * 3 * 64) * 128),
    ("CONV3-128", [112, 112, 128], 112 * 112 * 128, (3 * 3 * 128) * 128),
    ("POOL2", [56, 56, 128], 56 * 56 * 128, 0),
    ("CONV3-256", [56, 56, 256], 56 * 56 * 256, (3 * 3 * 128) * 256),
    ("CONV3-256", [56, 56, 256], 56 * 56 * 256, (3 * 3 * 256) * 256),
    ("CONV3-256", [56, 56, 256], 56 * 56 * 256, (3 * 3 * 256) * 256),
    ("POOL2", [28, 28, 256], 28 * 28 * 256, 0),
    ("CONV3-512", [28, 28, 512], 28 * 28 * 512, (3 * 3 * 256) * 512),
    ("CONV3-512", [28, 28, 512], 28 * 28 * 512, (3 * 3 * 512) * 512),
    ("CONV3-512", [28, 28, 512], 28 * 28 * 512, (3 * 3 * 512) * 512),
    ("POOL2", [14, 14, 512], 14 * 14 * 512, 0),
    ("CONV3-512", [14, 14, 512], 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("CONV3-512", [14, 14, 512], 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("CONV3-512", [14, 14, 512], 14 * 14 * 512, (3 * 3 * 512) * 512),
    ("POOL2", [7, 7, 512], 7 * 7 * 512, 0),
    ("FC", [4096], 4096, 7 * 7 * 512 * 4096),
    ("FC", [4096], 4096, 4096 * 4096),
    ("FC", [1000], 1000, 4096 * 1000),
]


def one(input_: str, layer: str, *, rounding: str = "strict") -> tuple[Report, LayerRow]:
    report = analyze(load_spec("t.yaml", f"input: {input_}\nrounding: {rounding}\nlayers:\n  - {layer}\n"))
    return report, report.rows[1]


def test_vgg16_matches_the_lecture_row_for_row() -> None:
    report = analyze(open_spec("vgg16"))
    assert len(report.rows) == 22
    kinds = [r.kind for r in report.rows]
    assert (kinds.count("conv"), kinds.count("pool"), kinds.count("fc")) == (13, 5, 3)
    for row, (name, volume, memory, weights) in zip(report.rows, LECTURE_VGG16, strict=True):
        assert row.output is not None
        assert (row.output.as_list(), row.activations, row.weights) == (volume, memory, weights), name
    t = report.totals
    assert (t.params, t.weights, t.biases) == (138_357_544, 138_344_128, 13_416)
    assert (t.activations, t.forward_bytes, t.macs) == (15_237_608, 60_950_432, 15_470_264_320)
    assert t.backward_bytes == 2 * 60_950_432
    assert report.ok


def test_lecture_conv_example() -> None:
    # "32x32x3 input, 10 5x5 filters with stride 1, pad 2 -> 32x32x10; 76 params per filter, 760 in all".
    _, row = one("32x32x3", "conv5-10 s1 p2")
    assert row.output is not None
    assert row.output.as_list() == [32, 32, 10]
    assert (row.params, row.weights, row.biases) == (760, 750, 10)
    assert row.macs == 32 * 32 * 10 * 5 * 5 * 3
    assert row.flops == 2 * row.macs + 32 * 32 * 10


@pytest.mark.parametrize(("stride", "size"), [(1, 5), (2, 3)])
def test_lecture_7x7_strides_that_fit(stride: int, size: int) -> None:
    report, row = one("7x7x1", f"conv3-1 s{stride}")
    assert row.output is not None
    assert row.output.spatial == (size, size)
    assert report.ok


def test_lecture_7x7_stride_3_does_not_fit() -> None:
    report, row = one("7x7x1", "conv3-1 s3")
    assert not report.ok
    (d,) = row.diagnostics
    assert d.severity is Severity.ERROR
    assert d.message.startswith("(7 − 3)/3 + 1 = 2.33: the stride does not fit; the last row and column are never")
    assert "An input of 6 or 9 (not 7) would fit this layer" in d.message


def test_one_position_is_said_in_the_singular() -> None:
    _, row = one("{length: 7, depth: 3}", "conv3-1 s3")  # 1-D: 7 positions of 3 channels
    (d,) = row.diagnostics
    assert "the last position is never covered" in d.message
    assert "to drop it, as PyTorch does" in d.message
    _, row = one("8x7x1", "conv3-1 s3")  # 8: 2 rows left over; 7: 1 column
    assert "the last 2 rows and the last column are never covered" in row.diagnostics[0].message


@pytest.mark.parametrize(("input_", "layer"), [("6x6x4", "conv1-8 s2 psame"), ("7x7x4", "maxpool2 psame")])
def test_same_padding_fits_by_construction(input_: str, layer: str) -> None:
    """TensorFlow's `same` gives ceil(W/S) windows whatever the remainder (issue 13, point 10)."""
    report, row = one(input_, layer)
    assert report.ok
    assert row.diagnostics == ()


def test_floor_warns_and_ceil_notes() -> None:
    report, row = one("7x7x1", "conv3-1 s3", rounding="floor")
    assert report.ok
    assert row.output is not None
    assert row.output.spatial == (2, 2)
    assert row.diagnostics[0].severity is Severity.WARNING
    report, row = one("7x7x1", "maxpool3 s3", rounding="ceil")
    assert row.output is not None
    assert row.output.spatial == (3, 3)
    assert row.diagnostics[0].severity is Severity.NOTE


def test_only_padding_uncovered_is_said() -> None:
    # torchvision's ResNet stem: 7x7/2 pad 3 on 224 leaves one padding column uncovered.
    report, row = one("224x224x3", "conv7-64 s2 p3")
    assert row.output is not None
    assert row.output.spatial == (112, 112)
    assert "only padding, so no input is lost" in row.diagnostics[0].message
    assert not report.ok
    report, row = one("224x224x3", "conv7-64 s2 p3", rounding="floor")
    assert report.ok
    assert row.diagnostics[0].severity is Severity.NOTE


def test_per_layer_rounding_wins() -> None:
    report, row = one("112x112x64", "maxpool3 s2 p1 floor")
    assert report.ok
    assert row.output is not None
    assert row.output.spatial == (56, 56)


def test_ceil_drops_a_window_starting_in_the_padding() -> None:
    # PyTorch's pooling_output_shape: W=5, F=2, S=2, P=1 -> ceil gives 4, but the 4th window
    # would start at 6 >= 5 + 1 (inside the right padding), so 3.
    _, row = one("5x5x1", "maxpool2 s2 p1 ceil")
    assert row.output is not None
    assert row.output.spatial == (3, 3)


def test_same_padding_follows_tensorflow() -> None:
    _, row = one("7x7x8", "conv3-8 s2 psame")
    assert row.output is not None
    assert row.output.spatial == (4, 4)  # ceil(7 / 2)
    _, row = one("8x8x8", "conv3-8 s2 psame")  # total pad 1: 0 before, 1 after
    assert row.output is not None
    assert row.output.spatial == (4, 4)
    assert not row.diagnostics


def test_non_square_kernel_and_input() -> None:
    _, row = one("17x9x128", "conv1x7-192 p0x3")
    assert row.output is not None
    assert row.output.as_list() == [17, 9, 192]
    assert row.weights == 1 * 7 * 128 * 192
    assert row.rf == (Fraction(1), Fraction(7))


def test_dilation() -> None:
    _, row = one("32x32x4", "conv3-4 d2 p2")
    assert row.output is not None
    assert row.output.spatial == (32, 32)
    assert row.rf == (Fraction(5), Fraction(5))


def test_groups_and_depthwise() -> None:
    _, row = one("56x56x64", "conv3-128 p1 g4")
    assert row.weights == 3 * 3 * 16 * 128
    _, row = one("56x56x32", "conv3-32 p1 gdw")
    assert row.weights == 3 * 3 * 1 * 32
    assert row.macs == 56 * 56 * 32 * 9
    report, row = one("56x56x30", "conv3-64 p1 g4")
    assert row.output is None
    assert report.diagnostics[0].message == "groups 4 does not divide the 30 input channels"


def test_conv_without_bias() -> None:
    _, row = one("8x8x3", "conv: {filters: 4, size: 3, bias: false}")
    assert (row.weights, row.biases) == (3 * 3 * 3 * 4, 0)
    assert row.flops == 2 * row.macs


def test_deconv() -> None:
    # (W - 1)*S - 2P + dilation*(F - 1) + output_padding + 1 = 7*2 - 2 + 3 + 1 + 1 = 17
    _, row = one("8x8x16", "deconv4-8 s2 p1 op1")
    assert row.output is not None
    assert row.output.as_list() == [17, 17, 8]
    assert (row.weights, row.biases) == (4 * 4 * 16 * 8, 8)
    assert row.macs == 8 * 8 * 16 * 4 * 4 * 8
    report, row = one("8x8x16", "deconv4-8 s2 op2")
    assert row.output is None
    assert "output_padding 2 must be smaller than the stride 2" in report.diagnostics[0].message


def test_pools() -> None:
    _, row = one("55x55x96", "maxpool3 s2")
    assert row.output is not None
    assert row.output.as_list() == [27, 27, 96]
    assert (row.params, row.macs) == (0, 0)
    _, row = one("7x7x512", "avgpool7 s1")
    assert row.output is not None
    assert row.output.as_list() == [1, 1, 512]
    report, _ = one("7x7x8", "maxpool3 s1 p2")
    assert report.diagnostics[0].message == "pad 2 is more than half the window size 3 (PyTorch allows at most 1)"


def test_global_and_adaptive_pool() -> None:
    report, row = one("7x7x2048", "gap")
    assert row.output is not None
    assert row.output.as_list() == [1, 1, 2048]
    report, row = one("13x13x256", "adaptive_avgpool: 6")
    assert row.output is not None
    assert row.output.as_list() == [6, 6, 256]
    assert report.ok


def test_fc_flattens_and_sees_the_whole_input() -> None:
    _, row = one("7x7x512", "fc-4096")
    assert row.output is not None
    assert row.output.as_list() == [4096]
    assert row.weights == 7 * 7 * 512 * 4096
    assert row.rf == (Fraction(7), Fraction(7))


def test_batchnorm_counts_buffers_apart() -> None:
    report, row = one("56x56x64", "bn")
    assert (row.params, row.buffers) == (128, 128)
    assert report.totals.buffers == 128
    assert row.activations == 56 * 56 * 64


def test_in_place_rows_add_no_memory() -> None:
    for layer in ("relu", "dropout", "flatten", "softmax"):
        _, row = one("4x4x2", layer)
        assert (row.activations, row.memory) == (0, 0), layer
    _, row = one("4x4x2", "flatten")
    assert row.output is not None
    assert row.output.as_list() == [32]


def test_norms() -> None:
    _, row = one("8x8x32", "groupnorm: 8")
    assert row.params == 64
    _, row = one("8x8x32", "layernorm")
    assert row.params == 64
    _, row = one("8x8x32", "lrn")
    assert row.params == 0


def test_upsample() -> None:
    _, row = one("8x8x32", "upsample")
    assert row.output is not None
    assert row.output.as_list() == [16, 16, 32]
    assert row.jump == (Fraction(1, 2), Fraction(1, 2))


def test_one_and_three_dim_inputs() -> None:
    _, row = one("{length: 100, depth: 16}", "conv5-32 s2 p2")
    assert row.output is not None
    assert row.output.as_list() == [50, 32]
    assert row.weights == 5 * 16 * 32
    _, row = one("16x112x112x3", "conv3-64 p1")
    assert row.output is not None
    assert row.output.as_list() == [16, 112, 112, 64]
    assert row.weights == 27 * 3 * 64


def test_kernel_larger_than_input_stops_the_walk() -> None:
    report = analyze(load_spec("t.yaml", "input: 4x4x3\nlayers: [conv3-8, conv3-8, conv3-8]\n"))
    assert [r.output.as_list() if r.output else None for r in report.rows] == [[4, 4, 3], [2, 2, 8], None]
    assert report.totals.output is None
    assert report.diagnostics[0].code == "window-larger-than-input"


def test_dims_mismatch() -> None:
    report, row = one("8x8x3", "conv: {filters: 4, size: [3, 3, 3]}")
    assert row.output is None
    assert report.diagnostics[0].message == "size 3x3x3 has 3 values but the input 8x8x3 has 2 spatial dims"


def test_conv_on_a_vector() -> None:
    report = analyze(load_spec("t.yaml", "input: 64\nlayers: [fc-10, conv3-4]\n"))
    assert report.diagnostics[0].message == "conv needs a volume with spatial dims, but its input is the vector 10"


def test_receptive_field_of_stacked_convs() -> None:
    # Three 3x3 convs see 7x7 (the VGG paper's argument); a 2x2/2 pool then doubles the jump.
    report = analyze(
        load_spec("t.yaml", "input: 32x32x3\nlayers: [conv3-8 p1, conv3-8 p1, conv3-8 p1, maxpool, conv3-8 p1]\n")
    )
    assert [r.rf[0] for r in report.rows] == [1, 3, 5, 7, 8, 12]
    assert [r.jump[0] for r in report.rows] == [1, 1, 1, 1, 2, 2]
