"""PyTorch as an oracle: random layers PyTorch accepts must give convcalc's volumes and params.

Every generated configuration is one PyTorch runs; the shapes come from running the module on a
zero tensor, the params from counting the module's tensors, never from a formula of ours.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from math import prod
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import LayerRow, Report, Severity, analyze, load_spec
from convcalc.builtins import open_spec

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import torch
else:
    # pyproject's filterwarnings ignores the NumPy warning this CPU wheel gives at import.
    torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

nn = torch.nn

# By number of spatial dims. Typed loosely: the stubs want a tuple of exactly n ints per class.
CONVS: dict[int, Callable[..., nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
DECONVS: dict[int, Callable[..., nn.Module]] = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
MAX_POOLS: dict[int, Callable[..., nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVG_POOLS: dict[int, Callable[..., nn.Module]] = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
BATCHNORMS: dict[int, Callable[[int], nn.Module]] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
# Largest input side per number of spatial dims: small enough that a run takes milliseconds.
MAX_SIDE = {1: 40, 2: 32, 3: 10}

Dims = tuple[int, ...]


# --- helpers ---------------------------------------------------------------------------------


def torch_shape(module: nn.Module, channels: int, spatial: Sequence[int]) -> list[int]:
    """The module's output for one zero image, as convcalc lists a volume: spatial dims, then depth."""
    with torch.no_grad(), warnings.catch_warnings():
        # PyTorch warns that padding='same' with an even kernel costs a padded copy: speed only.
        warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
        y = module(torch.zeros(1, channels, *spatial))
    return [*y.shape[2:], y.shape[1]]


def torch_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


def spec_text(spatial: Sequence[int], channels: int, layers: Sequence[object], rounding: str = "strict") -> str:
    """A spec of long-form layers written as JSON flow mappings (JSON is YAML)."""
    body = "".join(f"  - {json.dumps(layer)}\n" for layer in layers)
    # A 1-D input is written as a mapping: two numbers (100x16) are refused as ambiguous.
    volume = "x".join(map(str, [*spatial, channels]))
    if len(spatial) == 1:
        volume = f"{{length: {spatial[0]}, depth: {channels}}}"
    return f"input: {volume}\nrounding: {rounding}\nlayers:\n{body}"


def run(text: str) -> Report:
    return analyze(load_spec("oracle.yaml", text))


def errors(report: Report) -> list[str]:
    return [d.code for d in report.diagnostics if d.severity is Severity.ERROR]


def only_layer(report: Report) -> LayerRow:
    assert len(report.rows) == 2, report.rows
    return report.rows[1]


def written(values: Dims, as_scalar: bool) -> int | list[int]:  # noqa: FBT001 - drawn by hypothesis
    """A per-dim value as a spec may write it: one number when all dims agree, else a list."""
    return values[0] if as_scalar and len(set(values)) == 1 else list(values)


def dims(draw: st.DrawFn, n: int, low: int, high: int) -> Dims:
    """n values, often all equal (the common square case), sometimes different per dim."""
    if draw(st.booleans()):
        return (draw(st.integers(low, high)),) * n
    return tuple(draw(st.lists(st.integers(low, high), min_size=n, max_size=n)))


def misfits(spatial: Dims, kernel: Dims, stride: Dims, pad: Dims, dilation: Dims) -> bool:
    """Whether (W + 2P - dil·(F - 1) - 1) is not a multiple of S in some dim."""
    return any(
        (w + 2 * p - d * (f - 1) - 1) % s != 0
        for w, f, s, p, d in zip(spatial, kernel, stride, pad, dilation, strict=True)
    )


@dataclass(frozen=True)
class Case:
    """One random layer: its input, its spec mapping, and the module PyTorch builds for it."""

    spatial: Dims
    channels: int
    layer: dict[str, Any]
    module: nn.Module = field(compare=False)
    # Whether some dim's stride does not fit, so that strict rounding must report an error.
    misfit: bool = False

    def text(self, rounding: str) -> str:
        return spec_text(self.spatial, self.channels, [self.layer], rounding)

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: the spec to paste
        return f"Case(\n{self.text('floor')}module={self.module!r})"


# --- conv ------------------------------------------------------------------------------------


@st.composite
def conv_cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    channels = groups * draw(st.integers(1, 4))
    filters = groups * draw(st.integers(1, 4))
    kernel = dims(draw, n, 1, 5)
    dilation = dims(draw, n, 1, 3) if draw(st.booleans()) else (1,) * n
    effective = tuple(d * (f - 1) + 1 for f, d in zip(kernel, dilation, strict=True))
    same = draw(st.integers(0, 3)) == 0
    # PyTorch allows padding='same' only with stride 1; there TF's same (ceil(W/S)) is W as well.
    stride = (1,) * n if same else dims(draw, n, 1, 3)
    pad = (0,) * n if same else dims(draw, n, 0, 3)
    spatial = tuple(
        draw(st.integers(low, max(low, MAX_SIDE[n])))
        for low in (1 if same else max(1, k - 2 * p) for k, p in zip(effective, pad, strict=True))
    )
    bias = draw(st.booleans())
    scalar = draw(st.booleans())
    spec: dict[str, Any] = {
        "filters": filters,
        "size": written(kernel, scalar),
        "stride": written(stride, scalar),
        "pad": "same" if same else written(pad, scalar),
        "dilation": written(dilation, scalar),
        "groups": "depthwise" if groups == channels and draw(st.booleans()) else groups,
        "bias": bias,
    }
    module = CONVS[n](
        channels,
        filters,
        kernel_size=kernel,
        stride=stride,
        padding="same" if same else pad,
        dilation=dilation,
        groups=groups,
        bias=bias,
    )
    return Case(spatial, channels, {"conv": spec}, module, not same and misfits(spatial, kernel, stride, pad, dilation))


def assert_layer_matches(report: Report, case: Case) -> LayerRow:
    """The one layer's volume, weights, biases and params are PyTorch's."""
    row = only_layer(report)
    assert report.ok, report.diagnostics
    assert row.output is not None
    assert row.output.as_list() == torch_shape(case.module, case.channels, case.spatial)
    layer = case.module
    assert isinstance(layer, nn.modules.conv._ConvNd)  # noqa: SLF001 - the base of conv and deconv
    assert row.weights == layer.weight.numel()
    assert row.biases == (0 if layer.bias is None else layer.bias.numel())
    assert row.params == torch_params(layer)
    return row


@pytest.mark.slow
@settings(max_examples=250, deadline=None)
@given(case=conv_cases())
def test_conv_volume_and_params_match_torch(case: Case) -> None:
    # PyTorch floors (W + 2P - dil·(F - 1) - 1)/S + 1, so convcalc must agree with `rounding: floor`.
    assert isinstance(case.module, nn.Conv1d | nn.Conv2d | nn.Conv3d)
    row = assert_layer_matches(run(case.text("floor")), case)
    assert row.buffers == 0


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(case=conv_cases())
def test_conv_strict_rounding_errs_exactly_when_the_stride_does_not_fit(case: Case) -> None:
    report = run(case.text("strict"))
    assert errors(report) == (["stride-does-not-fit"] if case.misfit else [])
    # Strict rounding still reports the floored volume alongside the error.
    row = only_layer(report)
    assert row.output is not None
    assert row.output.as_list() == torch_shape(case.module, case.channels, case.spatial)


# --- deconv ----------------------------------------------------------------------------------


@st.composite
def deconv_cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 3))
    groups = draw(st.integers(1, 4))
    channels = groups * draw(st.integers(1, 4))
    filters = groups * draw(st.integers(1, 4))
    kernel = dims(draw, n, 1, 5)
    stride = dims(draw, n, 1, 3)
    dilation = dims(draw, n, 1, 3) if draw(st.booleans()) else (1,) * n
    # PyTorch: "output padding must be smaller than either stride or dilation".
    extra = tuple(draw(st.integers(0, max(s, d) - 1)) for s, d in zip(stride, dilation, strict=True))
    spatial = dims(draw, n, 1, MAX_SIDE[n] // 3)
    # Padding crops the output; keep at least one position: (W-1)·S - 2P + dil·(F-1) + op + 1 >= 1.
    pad = tuple(
        draw(st.integers(0, min(3, ((w - 1) * s + d * (f - 1) + op) // 2)))
        for w, s, d, f, op in zip(spatial, stride, dilation, kernel, extra, strict=True)
    )
    bias = draw(st.booleans())
    scalar = draw(st.booleans())
    spec: dict[str, Any] = {
        "filters": filters,
        "size": written(kernel, scalar),
        "stride": written(stride, scalar),
        "pad": written(pad, scalar),
        "dilation": written(dilation, scalar),
        "output_padding": written(extra, scalar),
        "groups": groups,
        "bias": bias,
    }
    module = DECONVS[n](
        channels,
        filters,
        kernel_size=kernel,
        stride=stride,
        padding=pad,
        output_padding=extra,
        groups=groups,
        bias=bias,
        dilation=dilation,
    )
    return Case(spatial, channels, {"deconv": spec}, module)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(case=deconv_cases())
def test_deconv_volume_and_params_match_torch(case: Case) -> None:
    assert isinstance(case.module, nn.ConvTranspose1d | nn.ConvTranspose2d | nn.ConvTranspose3d)
    assert_layer_matches(run(case.text("strict")), case)


# --- pooling ---------------------------------------------------------------------------------


@st.composite
def pool_cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg"]))
    channels = draw(st.integers(1, 4))
    kernel = dims(draw, n, 1, 5)
    stride = dims(draw, n, 1, 4)
    # PyTorch dilates max pools only (AvgPool has no dilation argument).
    dilation = dims(draw, n, 1, 3) if kind == "max" and draw(st.booleans()) else (1,) * n
    effective = tuple(d * (f - 1) + 1 for f, d in zip(kernel, dilation, strict=True))
    # PyTorch's pool shape checks: "pad should be at most half of kernel size" (the kernel itself,
    # not the dilated window: max_pool2d with kernel 2, dilation 3, pad 2 is refused).
    pad = tuple(draw(st.integers(0, f // 2)) for f in kernel)
    ceil = draw(st.booleans())
    # The window fits the padded input (W + 2P >= F'); test_ceil_mode_window_beyond_the_input
    # covers ceil mode with smaller inputs. avg_pool3d also refuses an unpadded input smaller than
    # the kernel ("input image ... smaller than kernel size").
    lows = [
        max(1, k - 2 * p, f if kind == "avg" and n == 3 else 1) for k, p, f in zip(effective, pad, kernel, strict=True)
    ]
    spatial = tuple(draw(st.integers(low, max(low, MAX_SIDE[n]))) for low in lows)
    scalar = draw(st.booleans())
    spec: dict[str, Any] = {"type": kind, "size": written(kernel, scalar)}
    if stride != kernel or draw(st.booleans()):  # the stride defaults to the size
        spec["stride"] = written(stride, scalar)
    if any(pad) or draw(st.booleans()):
        spec["pad"] = written(pad, scalar)
    if any(d != 1 for d in dilation):
        spec["dilation"] = written(dilation, scalar)
    # The layer's own rounding, as PyTorch sets ceil_mode per layer.
    spec["rounding"] = "ceil" if ceil else "floor"
    module: nn.Module
    if kind == "max":
        module = MAX_POOLS[n](kernel, stride=stride, padding=pad, dilation=dilation, ceil_mode=ceil)
    else:
        module = AVG_POOLS[n](kernel, stride=stride, padding=pad, ceil_mode=ceil)
    return Case(spatial, channels, {"pool": spec}, module, misfits(spatial, kernel, stride, pad, dilation))


@pytest.mark.slow
@settings(max_examples=250, deadline=None)
@given(case=pool_cases())
def test_pool_volume_matches_torch_in_both_ceil_modes(case: Case) -> None:
    report = run(case.text("strict"))  # the layer's rounding overrides the spec's
    row = only_layer(report)
    assert report.ok, report.diagnostics
    assert row.output is not None
    assert row.output.as_list() == torch_shape(case.module, case.channels, case.spatial)
    assert row.params == torch_params(case.module) == 0


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(case=pool_cases())
def test_pool_strict_rounding_errs_exactly_when_the_stride_does_not_fit(case: Case) -> None:
    layer = {"pool": {k: v for k, v in case.layer["pool"].items() if k != "rounding"}}
    report = run(spec_text(case.spatial, case.channels, [layer], "strict"))
    assert errors(report) == (["stride-does-not-fit"] if case.misfit else [])


# Found by this suite (fixed): in ceil mode PyTorch also accepts a window wider than
# the padded input, as long as the window starts inside it (pooling_output_shape: out =
# ceil((W + 2P - F')/S) + 1, minus 1 if (out - 1)·S >= W + P, must be >= 1); convcalc refused it
# with `window-larger-than-input`. Minimal case:
#   input: 1x1 / layers: [{pool: {type: max, size: 2, stride: 2, rounding: ceil}}]
#   PyTorch MaxPool1d(2, 2, ceil_mode=True) on length 1 -> length 1.
@pytest.mark.parametrize(
    ("kind", "side", "size", "stride"),
    [("max", 1, 2, 2), ("avg", 1, 2, 2), ("max", 2, 3, 2), ("max", 3, 4, 3)],
)
def test_ceil_mode_window_beyond_the_input(kind: str, side: int, size: int, stride: int) -> None:
    pools = MAX_POOLS if kind == "max" else AVG_POOLS
    expected = torch_shape(pools[2](size, stride=stride, ceil_mode=True), 1, [side, side])
    layer = {"pool": {"type": kind, "size": size, "stride": stride, "rounding": "ceil"}}
    row = only_layer(run(spec_text([side, side], 1, [layer])))
    assert row.output is not None, row.diagnostics
    assert row.output.as_list() == expected


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 3),
    kind=st.sampled_from(["max", "avg"]),
    kernel=st.integers(1, 5),
    over=st.integers(1, 3),
    side=st.integers(6, 10),
)
def test_pool_padding_over_half_the_kernel_is_refused_by_both(
    n: int, kind: str, kernel: int, over: int, side: int
) -> None:
    # PyTorch (pooling_output_shape): "pad should be at most half of effective kernel size".
    pad = kernel // 2 + over
    pools = MAX_POOLS if kind == "max" else AVG_POOLS
    with pytest.raises(RuntimeError, match=r"pad(ding)? should be"):
        torch_shape(pools[n](kernel, stride=1, padding=pad), 1, [side] * n)
    layer = {"pool": {"type": kind, "size": kernel, "stride": 1, "pad": pad}}
    report = run(spec_text([side] * n, 1, [layer]))
    assert only_layer(report).output is None
    assert errors(report) == ["pad-too-large"]


# Found by this suite (fixed): for a dilated max pool PyTorch checks the padding
# against the kernel itself as well (pool2d_shape_check: kW/2 >= padW), while convcalc checks it
# against the dilated window only (2P <= F'). Minimal case, which convcalc accepts (11x11x1 out):
#   input: 10x10x1 / layers: [{pool: {type: max, size: 2, stride: 1, pad: 2, dilation: 3}}]
#   PyTorch MaxPool2d(2, stride=1, padding=2, dilation=3) -> RuntimeError "pad should be smaller
#   than or equal to half of kernel size".
def test_dilated_max_pool_padding_is_checked_against_the_kernel() -> None:
    with pytest.raises(RuntimeError, match="half of kernel size"):
        torch_shape(nn.MaxPool2d(2, stride=1, padding=2, dilation=3), 1, [10, 10])
    layer = {"pool": {"type": "max", "size": 2, "stride": 1, "pad": 2, "dilation": 3}}
    assert errors(run(spec_text([10, 10], 1, [layer]))) == ["pad-too-large"]


# --- batchnorm -------------------------------------------------------------------------------


@pytest.mark.slow
@settings(max_examples=100, deadline=None)
@given(
    n=st.integers(1, 3),
    channels=st.integers(1, 16),
    side=st.integers(1, 6),
    layer=st.sampled_from(["bn", "batchnorm", {"batchnorm": {}}, {"batchnorm": {"affine": True}}]),
)
def test_batchnorm_params_and_buffers_match_torch(n: int, channels: int, side: int, layer: object) -> None:
    module = BATCHNORMS[n](channels).eval()  # eval: one value per channel is fine there
    row = only_layer(run(spec_text([side] * n, channels, [layer])))
    assert row.output is not None
    assert row.output.as_list() == torch_shape(module, channels, [side] * n)
    assert row.params == torch_params(module) == 2 * channels
    # The running mean and variance; num_batches_tracked is PyTorch's bookkeeping, not a statistic.
    buffers = sum(b.numel() for name, b in module.named_buffers() if name != "num_batches_tracked")
    assert row.buffers == buffers == 2 * channels


# --- whole networks --------------------------------------------------------------------------

ALEXNET = """\
input: 227x227x3
layers:
  - conv: {filters: 96, size: 11, stride: 4}
  - maxpool: {size: 3, stride: 2}
  - norm
  - conv: {filters: 256, size: 5, pad: 2}
  - maxpool: {size: 3, stride: 2}
  - norm
  - conv: {filters: 384, size: 3, pad: 1}
  - conv: {filters: 384, size: 3, pad: 1}
  - conv: {filters: 256, size: 3, pad: 1}
  - maxpool: {size: 3, stride: 2}
  - fc: 4096
  - fc: 4096
  - fc: 1000
"""


def alexnet_layers() -> list[nn.Module]:
    """The lecture's single-tower AlexNet, one module per convcalc row (ReLUs change nothing here)."""
    return [
        nn.Conv2d(3, 96, 11, stride=4),
        nn.MaxPool2d(3, stride=2),
        nn.LocalResponseNorm(5),
        nn.Conv2d(96, 256, 5, padding=2),
        nn.MaxPool2d(3, stride=2),
        nn.LocalResponseNorm(5),
        nn.Conv2d(256, 384, 3, padding=1),
        nn.Conv2d(384, 384, 3, padding=1),
        nn.Conv2d(384, 256, 3, padding=1),
        nn.MaxPool2d(3, stride=2),
        nn.Sequential(nn.Flatten(), nn.Linear(6 * 6 * 256, 4096)),
        nn.Linear(4096, 4096),
        nn.Linear(4096, 1000),
    ]


def vgg16_layers() -> list[nn.Module]:
    """VGG16 (configuration D), one module per convcalc row."""
    layers: list[nn.Module] = []
    channels = 3
    for block in ([64] * 2, [128] * 2, [256] * 3, [512] * 3, [512] * 3):
        for filters in block:
            layers.append(nn.Conv2d(channels, filters, 3, padding=1))
            channels = filters
        layers.append(nn.MaxPool2d(2))
    layers += [nn.Sequential(nn.Flatten(), nn.Linear(7 * 7 * 512, 4096)), nn.Linear(4096, 4096), nn.Linear(4096, 1000)]
    return layers


def compare_network(report: Report, build: Callable[[], list[nn.Module]], spatial: list[int], channels: int) -> int:
    """Row by row, the volumes and params of the network; its total params in PyTorch."""
    assert report.ok, report.diagnostics
    # The meta device gives shapes and sizes without allocating (and initialising) 138M weights.
    with torch.device("meta"), torch.no_grad():
        modules = build()
        assert len(report.rows) == len(modules) + 1
        y = torch.zeros(1, channels, *spatial)
        for row, module in zip(report.rows[1:], modules, strict=True):
            y = module(y)
            assert row.output is not None
            assert row.output.as_list() == [*y.shape[2:], y.shape[1]], row.label
            assert row.params == torch_params(module), row.label
    return sum(torch_params(m) for m in modules)


@pytest.mark.slow
def test_alexnet_params_match_torch() -> None:
    report = run(ALEXNET)
    total = compare_network(report, alexnet_layers, [227, 227], 3)
    assert report.totals.params == total == 62_378_344


@pytest.mark.slow
def test_builtin_vgg16_params_match_torch() -> None:
    report = analyze(open_spec("vgg16"))
    total = compare_network(report, vgg16_layers, [224, 224], 3)
    assert report.totals.params == total == 138_357_544


def test_lecture_conv_layer_matches_torch() -> None:
    # The lecture's example: 32x32x3 input, 10 5x5 filters, stride 1, pad 2 -> 32x32x10, 760 params.
    conv = nn.Conv2d(3, 10, 5, padding=2)
    row = only_layer(run(spec_text([32, 32], 3, [{"conv": {"filters": 10, "size": 5, "pad": 2}}])))
    assert row.output is not None
    assert row.output.as_list() == torch_shape(conv, 3, [32, 32]) == [32, 32, 10]
    assert row.params == torch_params(conv) == 760
    assert row.macs == prod([32, 32, 10, 5, 5, 3])


def test_convcalc_refuses_what_torch_refuses_for_groups() -> None:
    # Groups must divide the input channels: PyTorch refuses to build the module at all.
    with pytest.raises(ValueError, match="in_channels must be divisible by groups"):
        nn.Conv2d(6, 4, 3, groups=4)
    report = run(spec_text([8, 8], 6, [{"conv": {"filters": 4, "size": 3, "groups": 4}}]))
    assert errors(report) == ["groups-do-not-divide"]
