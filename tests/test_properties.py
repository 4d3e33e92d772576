"""Properties of convcalc's shape arithmetic against slow references written out by hand.

The references count windows one by one and trace receptive fields index by index, so they share
no code (and no closed formula) with the engine. How many examples each property gets is the
hypothesis profile's choice (tests/conftest.py): few in the inner loop, many in CI.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from fractions import Fraction
from math import prod
from typing import TYPE_CHECKING, Any

from hypothesis import assume, given
from hypothesis import strategies as st

from convcalc import LayerRow, Report, Severity, analyze, load_spec
from convcalc.builtins import open_spec

if TYPE_CHECKING:
    from collections.abc import Sequence


# --- helpers ---------------------------------------------------------------------------------


def spec_text(
    spatial: Sequence[int],
    channels: int,
    layers: Sequence[object],
    rounding: str = "strict",
    batch: int = 1,
) -> str:
    """A spec of long-form layers written as JSON flow mappings (JSON is YAML)."""
    body = "".join(f"  - {json.dumps(layer)}\n" for layer in layers)
    # A 1-D input is written as a mapping: two numbers (100x16) are refused as ambiguous.
    volume = (
        "x".join(map(str, [*spatial, channels]))
        if len(spatial) != 1
        else f"{{length: {spatial[0]}, depth: {channels}}}"
    )
    return f"input: {volume}\nbatch: {batch}\nrounding: {rounding}\nlayers:\n{body}"


def run(text: str) -> Report:
    return analyze(load_spec("property.yaml", text))


def only_layer(report: Report) -> LayerRow:
    assert len(report.rows) == 2, report.rows
    return report.rows[1]


def codes(report: Report, severity: Severity) -> list[str]:
    return [d.code for d in report.diagnostics if d.severity is severity]


@dataclass(frozen=True)
class Dim:
    """One spatial dim of a window layer: input size W, kernel F, stride S, padding P, dilation."""

    size: int
    kernel: int
    stride: int
    pad: int
    dilation: int

    @property
    def effective(self) -> int:
        """F' = dilation * (F - 1) + 1: the positions one window spans."""
        return self.dilation * (self.kernel - 1) + 1

    @property
    def padded(self) -> int:
        return self.size + 2 * self.pad


def full_windows(d: Dim) -> list[int]:
    """Start positions (in the padded input) of every window that fits inside it, counted one by one."""
    starts = []
    start = 0
    while start + d.effective <= d.padded:
        starts.append(start)
        start += d.stride
    return starts


def floor_reference(d: Dim) -> int:
    """PyTorch's default (and `rounding: floor`): only the windows that fit."""
    return len(full_windows(d))


def ceil_reference(d: Dim) -> int:
    """ceil_mode: one more window when the full ones leave padded positions uncovered at the end,
    unless it would start in the right padding. Brute force over positions, not PyTorch's formula."""
    starts = full_windows(d)
    reach = starts[-1] + d.effective  # the first position after the last full window
    uncovered = any(p >= reach for p in range(d.padded))
    next_start = starts[-1] + d.stride
    return len(starts) + (1 if uncovered and next_start < d.size + d.pad else 0)


def pytorch_ceil(d: Dim) -> int:
    """PyTorch's pooling_output_shape with ceil_mode=True (aten/src/ATen/native/Pool.h):
    out = ceil((W + 2P - F') / S) + 1, then out - 1 if (out - 1) * S >= W + P."""
    out = -(-(d.padded - d.effective) // d.stride) + 1
    if (out - 1) * d.stride >= d.size + d.pad:
        out -= 1
    return out


def stride_fits(d: Dim) -> bool:
    return (d.padded - d.effective) % d.stride == 0


@st.composite
def dims(draw: st.DrawFn, *, pool: bool = False) -> Dim:
    """A window dim whose window fits the padded input (W + 2P >= F')."""
    kernel = draw(st.integers(1, 7))
    stride = draw(st.integers(1, 5))
    dilation = draw(st.integers(1, 3)) if draw(st.booleans()) else 1
    effective = dilation * (kernel - 1) + 1
    # convcalc, like PyTorch, refuses pool padding of more than half the kernel (before dilation).
    pad = draw(st.integers(0, kernel // 2 if pool else 4))
    least = max(1, effective - 2 * pad)
    return Dim(draw(st.integers(least, least + 40)), kernel, stride, pad, dilation)


@st.composite
def oversized_dims(draw: st.DrawFn) -> Dim:
    """A window dim whose window is wider than the padded input: W + 2P < F'."""
    size = draw(st.integers(1, 12))
    pad = draw(st.integers(0, 3))
    dilation = draw(st.integers(1, 3))
    # dilation·(F - 1) + 1 > W + 2P, so F >= ceil((W + 2P) / dilation) + 1; and F >= 2P, as pools
    # need P <= F // 2.
    least = max(-(-(size + 2 * pad) // dilation) + 1, 2 * pad)
    return Dim(size, draw(st.integers(least, least + 3)), draw(st.integers(1, 5)), pad, dilation)


def window_layer(kind: str, ds: Sequence[Dim], **extra: object) -> dict[str, Any]:
    """A conv (4 filters) or pool over the dims, each parameter written as one value per dim."""
    params: dict[str, object] = {
        "size": [d.kernel for d in ds],
        "stride": [d.stride for d in ds],
        "pad": [d.pad for d in ds],
        "dilation": [d.dilation for d in ds],
        **extra,
    }
    if kind == "conv":
        return {"conv": {"filters": 4, **params}}
    return {"pool": {"type": "max", **params}}


KINDS = st.sampled_from(["conv", "pool"])


# --- output sizes ----------------------------------------------------------------------------


@given(kind=KINDS, data=st.data())
def test_output_size_counts_the_windows(kind: str, data: st.DataObject) -> None:
    ds = data.draw(st.lists(dims(pool=kind == "pool"), min_size=1, max_size=3))
    for rounding, reference in (("floor", floor_reference), ("ceil", ceil_reference)):
        report = run(spec_text([d.size for d in ds], 4, [window_layer(kind, ds)], rounding))
        row = only_layer(report)
        assert row.output is not None, report.diagnostics
        assert row.output.as_list() == [*(reference(d) for d in ds), 4], rounding
        assert report.ok, report.diagnostics


@given(d=dims(pool=True))
def test_ceil_reference_is_pytorchs_rule(d: Dim) -> None:
    # Where PyTorch has ceil_mode (pools, 2P <= F'), its closed form and the brute force agree, so
    # the property above tests convcalc against PyTorch's rule. (Beyond that, for a conv with
    # P >= F' and a stride that fits, the closed form would drop a full window: a nonsense the
    # brute force, and convcalc, do not copy.)
    assert ceil_reference(d) == pytorch_ceil(d)
    assert floor_reference(d) == (d.padded - d.effective) // d.stride + 1


@given(kind=KINDS, data=st.data(), rounding=st.sampled_from(["strict", "floor", "ceil"]))
def test_a_window_larger_than_the_padded_input_is_an_error(kind: str, data: st.DataObject, rounding: str) -> None:
    pool = kind == "pool"
    ds = data.draw(st.lists(dims(pool=pool), min_size=0, max_size=2))
    big = data.draw(oversized_dims())
    ds.insert(data.draw(st.integers(0, len(ds))), big)
    # Under ceil, PyTorch (pooling_output_shape) still gives one window when the window starts
    # inside the input and sticks out past its end by less than a stride: test_ceil_... covers it.
    assume(rounding != "ceil" or big.padded - big.effective <= -big.stride)
    report = run(spec_text([d.size for d in ds], 4, [window_layer(kind, ds)], rounding))
    row = only_layer(report)
    assert row.output is None
    assert codes(report, Severity.ERROR) == ["window-larger-than-input"]
    assert not report.ok


@given(
    size=st.lists(st.integers(1, 60), min_size=1, max_size=3),
    kernel=st.integers(1, 7),
    stride=st.integers(1, 5),
    dilation=st.integers(1, 3),
    rounding=st.sampled_from(["floor", "ceil", "strict"]),
)
def test_same_padding_gives_ceil_of_size_over_stride(
    size: list[int], kernel: int, stride: int, dilation: int, rounding: str
) -> None:
    # TensorFlow's `same`: W2 = ceil(W / S) whatever the kernel, dilation and rounding.
    layer = {"conv": {"filters": 2, "size": kernel, "stride": stride, "dilation": dilation, "pad": "same"}}
    report = run(spec_text(size, 3, [layer], rounding))
    row = only_layer(report)
    assert row.output is not None
    assert row.output.as_list() == [*(-(-w // stride) for w in size), 2]
    # TF pads just enough for the last window, (W2 - 1)·S + F' - W, or nothing when the windows
    # already reach past the input's end. Positions after the last window then stay uncovered
    # only when the window is narrower than the stride, which skips as many between any two
    # windows: `same` fits by construction, and no rounding reports a stride problem (issue 13).
    effective = dilation * (kernel - 1) + 1
    for w in size:
        out = -(-w // stride)
        padded = w + max((out - 1) * stride + effective - w, 0)
        assert padded - ((out - 1) * stride + effective) <= max(stride - effective, 0)
    assert codes(report, Severity.ERROR) == []
    assert "stride-does-not-fit" not in codes(report, Severity.WARNING) + codes(report, Severity.NOTE)


# --- diagnostics -----------------------------------------------------------------------------


@given(kind=KINDS, data=st.data())
def test_strict_rounding_errs_iff_the_stride_does_not_fit(kind: str, data: st.DataObject) -> None:
    ds = data.draw(st.lists(dims(pool=kind == "pool"), min_size=1, max_size=3))
    fits = all(stride_fits(d) for d in ds)
    report = run(spec_text([d.size for d in ds], 4, [window_layer(kind, ds)], "strict"))
    assert codes(report, Severity.ERROR) == ([] if fits else ["stride-does-not-fit"])
    assert report.ok == fits
    # Even then, the row shows the floored volume, so later layers can still be followed.
    row = only_layer(report)
    assert row.output is not None
    assert row.output.as_list() == [*(floor_reference(d) for d in ds), 4]


@given(kind=KINDS, data=st.data())
def test_floor_warns_only_when_real_input_is_lost(kind: str, data: st.DataObject) -> None:
    ds = data.draw(st.lists(dims(pool=kind == "pool"), min_size=1, max_size=3))
    report = run(spec_text([d.size for d in ds], 4, [window_layer(kind, ds)], "floor"))
    assert codes(report, Severity.ERROR) == []
    assert codes(report, Severity.WARNING) == (["stride-does-not-fit"] if any(map(loses_input, ds)) else [])
    misfit = not all(stride_fits(d) for d in ds)
    assert codes(report, Severity.NOTE) == (["stride-does-not-fit"] if misfit and not any(map(loses_input, ds)) else [])


def dropped_input(d: Dim) -> int:
    """Input (not padding) positions after the last full window, counted one by one."""
    reach = full_windows(d)[-1] + d.effective
    return sum(1 for p in range(d.pad, d.pad + d.size) if p >= reach)


def drops_input(d: Dim) -> bool:
    return dropped_input(d) > 0


def loses_input(d: Dim) -> bool:
    """Whether flooring drops input positions that a window would otherwise have covered.

    A window narrower than its stride leaves stride - F' positions between windows anyway (a 1x1
    conv with stride 2 reads every other column), so losing no more than that at the end is
    nothing new.
    """
    return dropped_input(d) > max(d.stride - d.effective, 0)


# Found by the property above (fixed): the gap allowance must hold per dim, so that a dim that
# drops only padding with F' > S does not make a harmless gap-sized drop in another a warning:
#   input: 4x2x4 / rounding: floor / layers: [{conv: {filters: 4, size: [3, 1], stride: 2, pad: [1, 0]}}]
#   height drops only padding (rows -1..4, the last padded row); width drops 1 column of input,
#   as a 1-wide stride-2 window skips 1 in every 2 anyway. Reference: a note; convcalc: a warning
#   "the last 1 row and column of the input are dropped (never covered)".
def test_floor_note_when_one_dim_drops_padding_and_another_a_gap() -> None:
    ds = [Dim(4, 3, 2, 1, 1), Dim(2, 1, 2, 0, 1)]
    assert not any(map(loses_input, ds))
    report = run(spec_text([4, 2], 4, [window_layer("conv", ds)], "floor"))
    assert codes(report, Severity.WARNING) == []
    assert codes(report, Severity.NOTE) == ["stride-does-not-fit"]


# --- params and MACs -------------------------------------------------------------------------


@st.composite
def conv_layers(draw: st.DrawFn) -> tuple[list[int], int, dict[str, Any]]:
    """An input (spatial dims, depth) and a conv that fits it, with groups dividing both depths."""
    n = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 6))
    depth = groups * draw(st.integers(1, 8))
    filters = groups * draw(st.integers(1, 8))
    ds = [draw(dims()) for _ in range(n)]
    conv = {
        "filters": filters,
        "size": [d.kernel for d in ds],
        "stride": [d.stride for d in ds],
        "pad": [d.pad for d in ds],
        "dilation": [d.dilation for d in ds],
        "groups": "depthwise" if groups == depth and draw(st.booleans()) else groups,
        "bias": draw(st.booleans()),
    }
    return [d.size for d in ds], depth, conv


@given(layer=conv_layers(), batch=st.integers(1, 4))
def test_conv_params_and_macs(layer: tuple[list[int], int, dict[str, Any]], batch: int) -> None:
    spatial, d1, conv = layer
    k: int = conv["filters"]
    g = d1 if conv["groups"] == "depthwise" else conv["groups"]
    report = run(spec_text(spatial, d1, [{"conv": conv}], "floor", batch))
    row = only_layer(report)
    assert row.output is not None
    positions = prod(row.output.spatial)
    # The lecture's F·F·D1·K + K, with each filter seeing D1/g channels.
    per_filter = prod(conv["size"]) * (d1 // g)
    assert row.weights == per_filter * k
    assert row.biases == (k if conv["bias"] else 0)
    assert row.params == per_filter * k + row.biases
    assert row.buffers == 0
    # One multiply-accumulate per weight per output position: W2·H2·K·F·F·D1/g, per image.
    assert row.macs == batch * positions * k * per_filter
    assert row.flops == batch * (2 * positions * k * per_filter + (positions * k if conv["bias"] else 0))
    assert report.totals.params == row.params


@given(n=st.integers(1, 3), groups=st.integers(1, 4), data=st.data())
def test_deconv_params_and_size(n: int, groups: int, data: st.DataObject) -> None:
    depth, filters = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    kernel, stride, side = data.draw(st.integers(1, 5)), data.draw(st.integers(1, 3)), data.draw(st.integers(1, 10))
    bias = data.draw(st.booleans())
    d1, k = groups * depth, groups * filters
    layer = {"deconv": {"filters": k, "size": kernel, "stride": stride, "groups": groups, "bias": bias}}
    row = only_layer(run(spec_text([side] * n, d1, [layer])))
    assert row.output is not None
    # Each input channel spreads over K/g output channels with an F^n kernel.
    assert row.weights == kernel**n * d1 * (k // groups)
    assert row.biases == (k if bias else 0)
    # Without padding: W2 = (W1 - 1)·S + F, each input position placing a whole kernel.
    assert row.output.as_list() == [*([(side - 1) * stride + kernel] * n), k]


# --- receptive fields ------------------------------------------------------------------------


@dataclass(frozen=True)
class Stage:
    """One layer of a 1-D stack: conv or max pool."""

    kind: str
    kernel: int
    stride: int
    pad: int
    dilation: int

    def layer(self) -> dict[str, Any]:
        spec = {"size": self.kernel, "stride": self.stride, "pad": self.pad, "dilation": self.dilation}
        return {"conv": {"filters": 2, **spec}} if self.kind == "conv" else {"pool": {"type": "max", **spec}}


@st.composite
def stages(draw: st.DrawFn) -> Stage:
    kind = draw(KINDS)
    kernel = draw(st.integers(1, 5))
    dilation = draw(st.integers(1, 3))
    pad = draw(st.integers(0, kernel // 2 if kind == "pool" else 3))  # PyTorch: P <= F // 2 for pools
    return Stage(kind, kernel, draw(st.integers(1, 3)), pad, dilation)


def traced_inputs(stack: Sequence[Stage], unit: int) -> set[int]:
    """The input positions (padding included) that output `unit` of the stack reads, layer by layer."""
    positions = {unit}
    for s in reversed(stack):
        positions = {i * s.stride - s.pad + s.dilation * k for i in positions for k in range(s.kernel)}
    return positions


def smallest_input(stack: Sequence[Stage]) -> int:
    """The least input length that leaves every layer at least one window."""
    need = 1
    for s in reversed(stack):
        need = max(1, (need - 1) * s.stride + s.dilation * (s.kernel - 1) + 1 - 2 * s.pad)
    return need


@given(stack=st.lists(stages(), min_size=1, max_size=4), extra=st.integers(0, 9))
def test_receptive_field_and_jump_by_tracing(stack: list[Stage], extra: int) -> None:
    length = smallest_input(stack) + extra
    report = run(spec_text([length], 2, [s.layer() for s in stack], "floor"))
    assert report.ok, report.diagnostics
    for depth, row in enumerate(report.rows[1:], start=1):
        prefix = stack[:depth]
        first, second = traced_inputs(prefix, 0), traced_inputs(prefix, 1)
        assert row.rf == (Fraction(max(first) - min(first) + 1),), row.label
        assert row.jump == (Fraction(min(second) - min(first)),), row.label
    # The lecture's recurrence: rf2 = rf1 + (F' - 1)·jump1, jump2 = jump1·S.
    for before, row, s in zip(report.rows[:-1], report.rows[1:], stack, strict=True):
        assert row.rf == (before.rf[0] + (s.dilation * (s.kernel - 1)) * before.jump[0],)
        assert row.jump == (before.jump[0] * s.stride,)


@given(height=st.lists(stages(), min_size=3, max_size=3), width=st.lists(stages(), min_size=3, max_size=3))
def test_receptive_field_is_per_dim(height: list[Stage], width: list[Stage]) -> None:
    # A 2-D stack whose dims differ: each dim's receptive field is its own 1-D trace.
    layers = []
    for h, w in zip(height, width, strict=True):
        spec = {
            "size": [h.kernel, w.kernel],
            "stride": [h.stride, w.stride],
            "dilation": [h.dilation, w.dilation],
            "pad": [h.pad, w.pad],
        }
        layers.append({"conv": {"filters": 2, **spec}})
    # Pools would need 2·pad <= F' in both dims at once; as convs every stage is valid.
    height = [Stage("conv", s.kernel, s.stride, s.pad, s.dilation) for s in height]
    width = [Stage("conv", s.kernel, s.stride, s.pad, s.dilation) for s in width]
    report = run(spec_text([smallest_input(height), smallest_input(width)], 2, layers, "floor"))
    last = report.rows[-1]
    traces = [traced_inputs(height, 0), traced_inputs(width, 0)]
    assert last.rf == tuple(Fraction(max(t) - min(t) + 1) for t in traces)
    assert last.jump == (Fraction(prod(s.stride for s in height)), Fraction(prod(s.stride for s in width)))


def test_receptive_fields_by_hand() -> None:
    # The lecture: three stacked 3x3 stride-1 convs see 7x7, as one 7x7 conv does.
    three = run(spec_text([32, 32], 3, [{"conv": {"filters": 8, "size": 3, "pad": 1}}] * 3))
    assert [r.rf for r in three.rows] == [(Fraction(n), Fraction(n)) for n in (1, 3, 5, 7)]
    # VGG16: conv5_3 sees 196x196 pixels and pool5 212x212; each 3x3 conv adds 2 jumps, each 2x2
    # pool 1 jump and doubles the jump.
    vgg = analyze(open_spec("vgg16"))
    windowed = [r.rf[0] for r in vgg.rows if r.kind in {"conv", "pool"}]
    assert windowed == [3, 5, 6, 10, 14, 16, 24, 32, 40, 44, 60, 76, 92, 100, 132, 164, 196, 212]
    assert [r.jump[0] for r in vgg.rows if r.kind == "pool"] == [2, 4, 8, 16, 32]
    # AlexNet: conv1 11 (jump 4), pool1 19 (jump 8), conv2 51, pool2 67 (jump 16), conv3-5 99 131
    # 163, pool5 195 (jump 32).
    alexnet = run(
        spec_text(
            [227, 227],
            3,
            [
                {"conv": {"filters": 96, "size": 11, "stride": 4}},
                {"pool": {"size": 3, "stride": 2}},
                {"conv": {"filters": 256, "size": 5, "pad": 2}},
                {"pool": {"size": 3, "stride": 2}},
                {"conv": {"filters": 384, "size": 3, "pad": 1}},
                {"conv": {"filters": 384, "size": 3, "pad": 1}},
                {"conv": {"filters": 256, "size": 3, "pad": 1}},
                {"pool": {"size": 3, "stride": 2}},
            ],
        )
    )
    assert alexnet.ok, alexnet.diagnostics
    assert [r.rf[1] for r in alexnet.rows[1:]] == [11, 19, 51, 67, 99, 131, 163, 195]
    assert [r.jump[1] for r in alexnet.rows[1:]] == [4, 8, 8, 16, 16, 16, 16, 32]
