"""Differential testing against PyTorch: random conv, deconv and pool layers, valid or not.

Every configuration is run in PyTorch on a zero tensor. When PyTorch accepts it, convcalc's row
must have PyTorch's output volume and params; when PyTorch refuses it, convcalc must refuse it
too and say why: a SpecError when loading (exit 2) or an error diagnostic on the row (exit 1).
Unlike the oracle tests, which only draw what PyTorch accepts, these draw around the edges:
inputs smaller than the window, padding beyond half the window, groups that do not divide,
output padding too large, outputs of zero size.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc import Report, Severity, SpecError, analyze, load_spec

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import torch
else:
    # pyproject's filterwarnings ignores the NumPy warning this CPU wheel gives at import.
    torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch

nn = torch.nn

# Random configurations per test; their sum is what CI runs (at least 5,000).
DIFF_CONV = 2000
DIFF_DECONV = 1500
DIFF_POOL = 2500
DIFF_TOKENS = 300  # issue 27's attention, mlp and patchify
DIFF_TOTAL = DIFF_CONV + DIFF_DECONV + DIFF_POOL
assert DIFF_TOTAL >= 5_000

DIFF_SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])

# By number of spatial dims. Typed loosely: the stubs want a tuple of exactly n ints per class.
CONVS: dict[int, Callable[..., nn.Module]] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
DECONVS: dict[int, Callable[..., nn.Module]] = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
MAX_POOLS: dict[int, Callable[..., nn.Module]] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
AVG_POOLS: dict[int, Callable[..., nn.Module]] = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
# Largest input side per number of spatial dims: tensors stay tiny, a run takes microseconds.
MAX_SIDE = {1: 24, 2: 16, 3: 8}
MAX_CHANNELS = 8

Dims = tuple[int, ...]


@pytest.fixture(autouse=True, scope="module")
def one_thread() -> Iterator[None]:
    """Tiny tensors: threads only cost start-up time."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# --- the two sides ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    shape: list[int]  # spatial dims, then depth: convcalc's order
    params: int


@dataclass(frozen=True)
class Refused:
    why: str


Outcome = Accepted | Refused


@dataclass(frozen=True)
class Case:
    """One random layer: its input, its convcalc spec, and how to build it in PyTorch."""

    spatial: Dims
    channels: int
    layer: dict[str, Any]
    build: Callable[[], nn.Module]
    torch_args: str  # what `build` passes, for the failure report

    def text(self) -> str:
        # PyTorch floors a stride that does not fit: convcalc does with `rounding: floor` (a
        # pool's own `rounding: ceil` stands for ceil_mode=True and overrides it).
        volume = "x".join(map(str, [*self.spatial, self.channels]))
        if len(self.spatial) == 1:  # two numbers (100x16) are refused as ambiguous: 1-D is a mapping
            volume = f"{{length: {self.spatial[0]}, depth: {self.channels}}}"
        return f"input: {volume}\nrounding: floor\nlayers:\n  - {json.dumps(self.layer)}\n"

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: the spec to paste
        return f"Case(\n{self.text()}torch: {self.torch_args})"


def torch_outcome(case: Case) -> Outcome:
    """PyTorch's output for one zero image, or why PyTorch refuses the layer."""
    try:
        with torch.no_grad(), warnings.catch_warnings():
            # PyTorch warns that padding='same' with an even kernel costs a padded copy: speed only.
            warnings.filterwarnings("ignore", message="Using padding='same'", category=UserWarning)
            module = case.build()
            y = module(torch.zeros(1, case.channels, *case.spatial))
    except (RuntimeError, ValueError) as exc:
        return Refused(str(exc))
    shape = [*y.shape[2:], y.shape[1]]
    if 0 in shape:
        # Deliberate difference: PyTorch gives an empty tensor for a (grouped) ConvTranspose whose
        # output size works out to 0 ((W-1)·S - 2P + dil·(F-1) + op + 1 = 0; ungrouped, it raises
        # "Output size is too small"); convcalc refuses a volume with no values. An empty output
        # is no layer output at all, so it counts as a refusal.
        return Refused(f"PyTorch's output is empty: {shape}")
    return Accepted(shape, sum(p.numel() for p in module.parameters()))


def convcalc_outcome(case: Case) -> tuple[Outcome, Report | None]:
    """convcalc's row for the layer, or why convcalc refuses it (when loading, or on the row)."""
    try:
        report = analyze(load_spec("diff.yaml", case.text()))
    except SpecError as exc:
        refused = Refused(exc.message)
    else:
        return analyzed(report), report
    assert refused.why.strip(), "a SpecError must say why"
    return refused, None


def analyzed(report: Report) -> Outcome:
    assert len(report.rows) == 2, report.rows
    row = report.rows[1]
    errors = [d for d in report.diagnostics if d.severity is Severity.ERROR]
    if row.output is None or errors:
        # Refused by the analysis (exit 1): an error diagnostic must say why.
        assert not report.ok
        assert errors, f"no error diagnostic, yet the output is {row.output}"
        assert all(d.message.strip() for d in errors)
        return Refused("; ".join(d.message for d in errors))
    return Accepted(row.output.as_list(), row.params)


def avg_pool_3d_quirk(case: Case, expected: Outcome) -> bool:
    """PyTorch's AvgPool3d (alone of the pools) refuses an unpadded input smaller than its kernel.

    convcalc accepts it, as PyTorch's AvgPool1d/2d and MaxPool3d do: a documented difference,
    pinned by test_avg_pool_3d_input_smaller_than_the_kernel; the random tests leave it to that test.
    """
    pool = case.layer.get("pool")
    if pool is None or pool.get("type", "max") != "avg" or len(case.spatial) != 3:
        return False
    return isinstance(expected, Refused) and "smaller than kernel size" in expected.why


def compare(case: Case) -> None:
    expected = torch_outcome(case)
    actual, report = convcalc_outcome(case)
    if avg_pool_3d_quirk(case, expected):
        return
    if isinstance(expected, Refused):
        assert isinstance(actual, Refused), f"PyTorch refuses ({expected.why}), convcalc gives {actual}"
        return
    assert isinstance(actual, Accepted), f"PyTorch gives {expected}, convcalc refuses: {actual.why}"
    assert report is not None
    assert report.ok, report.diagnostics
    assert actual == expected


# --- drawing layers --------------------------------------------------------------------------


def per_dim(draw: st.DrawFn, n: int, low: int, high: int) -> Dims:
    """n values, often all equal (the square case), sometimes different per dim."""
    if draw(st.booleans()):
        return (draw(st.integers(low, high)),) * n
    return tuple(draw(st.lists(st.integers(low, high), min_size=n, max_size=n)))


def written(draw: st.DrawFn, values: Dims) -> int | list[int]:
    """A per-dim value as a spec may write it: one number when all dims agree, or a list."""
    return values[0] if len(set(values)) == 1 and draw(st.booleans()) else list(values)


def channels_and_groups(draw: st.DrawFn) -> tuple[int, int, int]:
    """(channels, filters, groups): mostly groups that divide both, sometimes not."""
    groups = draw(st.integers(1, 4))
    if draw(st.integers(0, 4)):
        channels = groups * draw(st.integers(1, MAX_CHANNELS // groups))
        filters = groups * draw(st.integers(1, MAX_CHANNELS // groups))
    else:
        channels = draw(st.integers(1, MAX_CHANNELS))
        filters = draw(st.integers(1, MAX_CHANNELS))
    return channels, filters, groups


def spatial_for(draw: st.DrawFn, n: int, high: int) -> Dims:
    # Small sides are the interesting ones (smaller than the window, exactly the window).
    return tuple(draw(st.one_of(st.integers(1, 4), st.integers(1, high))) for _ in range(n))


def describe(name: str, *args: object, **kwargs: object) -> str:
    shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
    return f"{name}({', '.join(shown)})"


@st.composite
def conv_cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 3))
    channels, filters, groups = channels_and_groups(draw)
    kernel = per_dim(draw, n, 1, 5)
    dilation = per_dim(draw, n, 1, 3) if draw(st.booleans()) else (1,) * n
    pad_kind = draw(st.sampled_from(["number", "number", "number", "same", "valid"]))
    # PyTorch allows padding='same' only with stride 1 (convcalc also takes TensorFlow's strided
    # `same`, which PyTorch has no form of); with stride 1 both keep the size.
    stride = (1,) * n if pad_kind == "same" else per_dim(draw, n, 1, 3)
    pad = per_dim(draw, n, 0, 3) if pad_kind == "number" else (0,) * n
    spatial = spatial_for(draw, n, MAX_SIDE[n])
    bias = draw(st.booleans())
    depthwise = groups == channels and draw(st.booleans())
    layer = {
        "filters": filters,
        "size": written(draw, kernel),
        "stride": written(draw, stride),
        "pad": written(draw, pad) if pad_kind == "number" else pad_kind,
        "dilation": written(draw, dilation),
        "groups": "depthwise" if depthwise else groups,
        "bias": bias,
    }
    padding: object = pad if pad_kind == "number" else pad_kind
    kwargs = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups, "bias": bias}
    return Case(
        spatial,
        channels,
        {"conv": layer},
        lambda: CONVS[n](channels, filters, kernel, **kwargs),
        describe(f"Conv{n}d", channels, filters, kernel, **kwargs),
    )


@st.composite
def deconv_cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 3))
    channels, filters, groups = channels_and_groups(draw)
    kernel = per_dim(draw, n, 1, 4)
    stride = per_dim(draw, n, 1, 3)
    dilation = per_dim(draw, n, 1, 3) if draw(st.booleans()) else (1,) * n
    # Up to 3: sometimes not smaller than both the stride and the dilation, which both refuse.
    extra = per_dim(draw, n, 0, 3) if draw(st.booleans()) else (0,) * n
    pad = per_dim(draw, n, 0, 4)
    # Deconvs grow their input: keep it smaller so that the output stays small.
    spatial = spatial_for(draw, n, MAX_SIDE[n] // 2)
    bias = draw(st.booleans())
    layer = {
        "filters": filters,
        "size": written(draw, kernel),
        "stride": written(draw, stride),
        "pad": written(draw, pad),
        "dilation": written(draw, dilation),
        "output_padding": written(draw, extra),
        "groups": groups,
        "bias": bias,
    }
    kwargs = {
        "stride": stride,
        "padding": pad,
        "output_padding": extra,
        "groups": groups,
        "bias": bias,
        "dilation": dilation,
    }
    return Case(
        spatial,
        channels,
        {"deconv": layer},
        lambda: DECONVS[n](channels, filters, kernel, **kwargs),
        describe(f"ConvTranspose{n}d", channels, filters, kernel, **kwargs),
    )


@st.composite
def pool_cases(draw: st.DrawFn) -> Case:
    n = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["max", "avg"]))
    channels = draw(st.integers(1, 4))
    kernel = per_dim(draw, n, 1, 5)
    stride = per_dim(draw, n, 1, 4)
    # PyTorch dilates max pools only (AvgPool has no dilation argument).
    dilation = per_dim(draw, n, 1, 3) if kind == "max" and draw(st.booleans()) else (1,) * n
    # Up to 3: often more than half the kernel, which both refuse.
    pad = per_dim(draw, n, 0, 3) if draw(st.booleans()) else (0,) * n
    ceil = draw(st.booleans())
    spatial = spatial_for(draw, n, MAX_SIDE[n])
    layer: dict[str, Any] = {"type": kind, "size": written(draw, kernel)}
    if stride != kernel or draw(st.booleans()):  # the stride defaults to the size, in both
        layer["stride"] = written(draw, stride)
    if any(pad) or draw(st.booleans()):
        layer["pad"] = written(draw, pad)
    if any(d != 1 for d in dilation):
        layer["dilation"] = written(draw, dilation)
    # The layer's own rounding, as PyTorch sets ceil_mode per layer.
    layer["rounding"] = "ceil" if ceil else "floor"
    build: Callable[[], nn.Module]
    if kind == "max":
        kwargs: dict[str, object] = {"stride": stride, "padding": pad, "dilation": dilation, "ceil_mode": ceil}
        name = f"MaxPool{n}d"
        build = lambda: MAX_POOLS[n](kernel, **kwargs)  # noqa: E731 - one line per kind reads best
    else:
        kwargs = {"stride": stride, "padding": pad, "ceil_mode": ceil}
        name = f"AvgPool{n}d"
        build = lambda: AVG_POOLS[n](kernel, **kwargs)  # noqa: E731
    return Case(spatial, channels, {"pool": layer}, build, describe(name, kernel, **kwargs))


class _Tokens(nn.Module):
    """A module over N x L x D tokens applied to N x D x L (convcalc's order), as attention and mlp read them."""

    def __init__(self, inner: nn.Module, *, attention: bool) -> None:
        super().__init__()
        self.inner, self.attention = inner, attention

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = x.transpose(1, 2)
        y: torch.Tensor = self.inner(t, t, t)[0] if self.attention else self.inner(t)
        return y.transpose(1, 2)


@st.composite
def token_cases(draw: st.DrawFn) -> Case:
    """Issue 27's kinds around their edges: heads that do not divide the width, a patch larger than the input."""
    what = draw(st.sampled_from(["attention", "mlp", "patchify"]))
    channels = draw(st.integers(1, MAX_CHANNELS))
    if what == "patchify":
        n = draw(st.integers(1, 3))
        spatial, size, width = spatial_for(draw, n, MAX_SIDE[n]), draw(st.integers(1, 6)), draw(st.integers(1, 8))

        def patchify() -> nn.Module:
            return nn.Sequential(CONVS[n](channels, width, size, stride=size), nn.Flatten(2))

        return Case(
            spatial, channels, {"patchify": {"size": size, "width": width}}, patchify, f"Conv{n}d({size}/{size})"
        )
    length = draw(st.integers(1, 12))
    if what == "attention":
        heads = draw(st.integers(1, 5))

        def attention() -> nn.Module:
            try:
                return _Tokens(nn.MultiheadAttention(channels, heads, batch_first=True), attention=True)
            except AssertionError as e:  # "embed_dim must be divisible by num_heads": PyTorch's refusal
                raise ValueError(str(e)) from None

        return Case(
            (length,),
            channels,
            {"attention": {"heads": heads}},
            attention,
            describe("MultiheadAttention", channels, heads),
        )
    hidden = draw(st.integers(1, 8))
    return Case(
        (length,),
        channels,
        {"mlp": hidden},
        lambda: _Tokens(
            nn.Sequential(nn.Linear(channels, hidden), nn.GELU(), nn.Linear(hidden, channels)), attention=False
        ),
        describe("mlp", channels, hidden),
    )


# --- the tests -------------------------------------------------------------------------------


@pytest.mark.slow
@settings(DIFF_SETTINGS, max_examples=DIFF_CONV)
@given(case=conv_cases())
def test_conv_agrees_with_torch(case: Case) -> None:
    compare(case)


@pytest.mark.slow
@settings(DIFF_SETTINGS, max_examples=DIFF_DECONV)
@given(case=deconv_cases())
def test_deconv_agrees_with_torch(case: Case) -> None:
    compare(case)


@pytest.mark.slow
@settings(DIFF_SETTINGS, max_examples=DIFF_POOL)
@given(case=pool_cases())
def test_pool_agrees_with_torch(case: Case) -> None:
    compare(case)


@pytest.mark.slow
@settings(DIFF_SETTINGS, max_examples=DIFF_TOKENS)
@given(case=token_cases())
def test_token_kinds_agree_with_torch(case: Case) -> None:
    compare(case)


# --- the edges, by hand ----------------------------------------------------------------------


def test_empty_deconv_output_counts_as_refused() -> None:
    # Height (1 - 1)·1 - 2·1 + 1·(2 - 1) + 0 + 1 = 0. PyTorch raises "Output size is too small"
    # for this ConvTranspose2d, but its grouped form returns an empty tensor; convcalc refuses both.
    with torch.no_grad():
        empty = nn.ConvTranspose2d(2, 2, 2, padding=(1, 0), groups=2)(torch.zeros(1, 2, 1, 1))
    assert empty.shape == (1, 2, 0, 2)
    layer = {"deconv": {"filters": 2, "size": 2, "pad": [1, 0], "groups": 2}}
    case = Case((1, 1), 2, layer, lambda: nn.ConvTranspose2d(2, 2, 2, padding=(1, 0), groups=2), "by hand")
    assert torch_outcome(case) == Refused("PyTorch's output is empty: [0, 2, 2]")
    actual, _ = convcalc_outcome(case)
    assert isinstance(actual, Refused)
    assert actual.why


@pytest.mark.parametrize(
    ("layer", "build"),
    [
        ({"conv": {"filters": 4, "size": 3}}, lambda: nn.Conv2d(3, 4, 3)),
        ({"pool": {"size": 3, "rounding": "floor"}}, lambda: nn.MaxPool2d(3)),
    ],
    ids=["conv", "pool"],
)
def test_window_larger_than_the_input_is_refused_by_both(layer: dict[str, Any], build: Callable[[], nn.Module]) -> None:
    case = Case((2, 2), 3, layer, build, "by hand")
    assert isinstance(torch_outcome(case), Refused)
    compare(case)


# Found by this suite, and kept as a documented difference (docs/spec.md): PyTorch's AvgPool3d
# checks the unpadded input against the kernel (avg_pool3d's shape check: "input image (T: 1 H: 1
# W: 1) smaller than kernel size"), even in ceil mode or with padding; AvgPool1d/2d and MaxPool3d
# accept the same layers, and so does convcalc, which follows the output-size rule they share.
#   input: 1x1x1x1 / layers: [{pool: {type: avg, size: 2, rounding: ceil}}]      -> 1x1x1x1
#   input: 2x2x2x1 / layers: [{pool: {type: avg, size: 3, stride: 1, pad: 1}}]   -> 2x2x2x1
@pytest.mark.parametrize(
    ("side", "pool", "build"),
    [
        (1, {"type": "avg", "size": 2, "rounding": "ceil"}, lambda: nn.AvgPool3d(2, ceil_mode=True)),
        (2, {"type": "avg", "size": 3, "stride": 1, "pad": 1}, lambda: nn.AvgPool3d(3, stride=1, padding=1)),
    ],
    ids=["ceil", "padded"],
)
def test_avg_pool_3d_input_smaller_than_the_kernel(
    side: int, pool: dict[str, Any], build: Callable[[], nn.Module]
) -> None:
    case = Case((side,) * 3, 1, {"pool": pool}, build, "by hand")
    expected = torch_outcome(case)
    assert isinstance(expected, Refused)
    assert "smaller than kernel size" in expected.why
    actual, _ = convcalc_outcome(case)
    assert isinstance(actual, Accepted)
    assert actual.shape == [side, side, side, 1]
