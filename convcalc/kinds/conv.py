"""The convolution: K filters of F×F×D1/g sliding over the input (DESIGN §2.1, §3)."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from convcalc.algebra.sizes import multiply
from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import (
    Category,
    Head,
    Kind,
    LayerFailure,
    Params,
    Working,
    need_spatial,
    per,
)
from convcalc.kinds.params import (
    ACTIVATION,
    BIAS,
    DIMS,
    ROUNDING,
    Param,
    Spelling,
    dilation,
    groups,
    pad,
    per_dim,
    positive,
    stride,
)
from convcalc.kinds.plan import CEIL_CONV_NOTE, Plan, activation, changed, dims, spatial_class, windowed
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep, fused
from convcalc.kinds.vocab import OnnxOp, TorchModule
from convcalc.options import Rounding
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.kinds.window import Window
    from convcalc.report import LayerRow


from convcalc.kinds.sliding import (
    dims_text,
    framework_pads,
    kept_input,
    options_text,
    slide,
    sliding_windows,
    window_rule,
    window_working,
)

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.kinds.window import Window
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


def resolve_groups(p: Params, depth: int, filters: int) -> int:
    """The number of groups, checked against the input and output channels."""
    g: int = depth if p["groups"] == "depthwise" else p["groups"]
    for what, channels in (("input", depth), ("output", filters)):
        if channels % g:
            msg = f"groups {g} does not divide the {channels} {what} channels"
            raise LayerFailure("groups-do-not-divide", msg)
    return g


FILTERS = Param(
    "filters",
    positive("filters"),
    required=True,
    form="the number of filters K",
    help="K, the number of filters: the output depth.",
)
SIZE = Param(
    "size",
    per_dim("size"),
    required=True,
    form="the filter size F, e.g. 3 or [1, 7]",
    help="F, the window size: one number for every spatial dim, or one per dim ([1, 7] or 1x7).",
)
GROUPS = Param(
    "groups",
    groups,
    1,
    help="Groups of channels convolved apart (depthwise: one per input channel).",
    spelling=Spelling("g", r"\d+|dw", "g<G>|gdw"),
)
# The shorthand head of both convolutions: conv3-64, conv1x7-128.
CONV_HEAD = Head(rf"({DIMS})-(\d+)", ("size", "filters"), "<F>-<K>")


class Conv(Kind):
    """A convolution: K filters of F x F x D1/groups, sliding with stride S over padding P."""

    name = "conv"
    autocast = Autocast.LOWER
    torch_modules = (TorchModule(fromtorch.spatial("Conv"), fromtorch.conv),)
    onnx_ops = (OnnxOp(("Conv",), fromonnx.conv),)
    fuses = ("activation",)
    params = (FILTERS, SIZE, stride(1), pad(), dilation(), GROUPS, BIAS, ACTIVATION, ROUNDING)
    primary = "filters"
    head = CONV_HEAD
    category = Category.CONV
    example = ("32x32x3", "conv5-10 s1 p2")
    output_rule = "(W − F' + 2P)/S + 1 per dim, depth K"
    params_rule = "F·F·(D1/g)·K + K"

    def label(self, p: Params) -> str:
        return f"conv{dims_text(p['size'])}-{p['filters']}{options_text(p)}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        rounding = p["rounding"] or rounding
        windows = sliding_windows(p, x)
        pads = framework_pads(windows, rounding, is_pool=False)  # PyTorch has no ceil_mode on convs
        g = x.depth if p["groups"] == "depthwise" else p["groups"]
        more = changed(("dilation", dims(p["dilation"]), 1), ("groups", g, 1), ("bias", p["bias"], True))
        args = (x.depth, p["filters"], dims(p["size"]))
        cls = spatial_class("Conv", len(x.spatial))
        conv = windowed(cls, args, more, windows=windows, pads=pads, rounding=rounding, stem="conv")
        notes = (CEIL_CONV_NOTE,) if rounding is Rounding.CEIL else ()
        return Plan(conv.steps + activation(p["activation"]), conv.notes + notes)

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        need_spatial(x, "conv")
        g = slide(p, x)
        filters: int = p["filters"]
        depth = x.static_depth("conv")
        groups = resolve_groups(p, depth, filters)
        spatial, rf, jump = window_rule(p, x, need, "conv", g)
        positions = multiply(spatial)
        per_output = prod(g.size) * (depth // groups)
        return Sizes(
            spatial,
            filters,
            jump,
            rf,
            weights=per_output * filters,
            biases=filters if p["bias"] else 0,
            macs=positions * filters * per_output,
            bias_adds=positions * filters if p["bias"] else 0,
        )

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        window, per = _window_text(p, x), _per_group(p, x)
        bias = " + 1" if p["bias"] else ""
        return Working(
            output=(*window_working(p, x, rounding), f"D2 = K = {p['filters']}"),
            params=(f"params = ({window}·{per}{bias})·{p['filters']} = {row.params:,}",),
            macs=f"{'·'.join(map(str, y.spatial))}·{p['filters']}·{window}·{per}",
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        assert row.input is not None  # noqa: S101 - a computed row has both
        assert row.output is not None  # noqa: S101
        # Its input, for the weights' gradient (the padded copy when padding is uneven).
        kept = kept_input(p, row.input, p["rounding"] or rounding, is_pool=False)
        return fused(kept, p["activation"], row.output.values)

    def windows(self, p: Params, x: Volume) -> list[Window] | None:
        return sliding_windows(p, x)


def _groups(p: Params, x: Volume) -> int:
    return x.depth if p["groups"] == "depthwise" else int(p["groups"])


def _window_text(p: Params, x: Volume) -> str:
    """5·5: the window's taps per dim."""
    return "·".join(map(str, per(p["size"], len(x.spatial))))


def _per_group(p: Params, x: Volume) -> str:
    """D1, or D1/g: the input channels each filter sees."""
    g = _groups(p, x)
    return f"{x.depth}" + (f"/{g}" if g != 1 else "")
