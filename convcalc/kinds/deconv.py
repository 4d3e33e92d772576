"""The transposed convolution (deconv): each input value spreads a filter over the output."""

from __future__ import annotations

from functools import partial
from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.algebra.sizes import Size, multiply
from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import (
    Category,
    Kind,
    LayerFailure,
    Params,
    Working,
    expand,
    formula_names,
    need_spatial,
    per,
)
from convcalc.kinds.params import (
    ACTIVATION,
    BIAS,
    DIMS,
    Param,
    Spelling,
    dilation,
    pad,
    per_dim,
    stride,
)
from convcalc.kinds.plan import ModuleStep, Plan, activation, changed, dims, spatial_class
from convcalc.kinds.rule import Sizes, finer, grown
from convcalc.kinds.saved import Keep, fused
from convcalc.kinds.vocab import OnnxOp, TorchModule
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.closed import Shape
    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


from convcalc.kinds.conv import CONV_HEAD, FILTERS, GROUPS, SIZE, _groups, _per_group, _window_text, resolve_groups
from convcalc.kinds.sliding import dims_text, options_text


def deconv_dims(p: Params, x: Volume | Shape | Given) -> tuple[tuple[int, ...], ...]:
    """A deconv's size, stride, padding, dilation and output padding per dim, checked as PyTorch checks them."""
    need_spatial(x, "deconv")
    if p["pad"] == "same":
        msg = "pad: same is not defined for deconv; give the padding as a number"
        raise LayerFailure("bad-padding", msg)
    size = expand(p["size"], x, "size")
    stride = expand(p["stride"], x, "stride")
    dilation = expand(p["dilation"], x, "dilation")
    extra = expand(p["output_padding"], x, "output_padding")
    pad = (0,) * len(x.spatial) if p["pad"] == "valid" else expand(p["pad"], x, "pad")
    for op, s, d in zip(extra, stride, dilation, strict=True):
        # PyTorch: "output padding must be smaller than either stride or dilation".
        if op >= max(s, d):
            msg = f"output_padding {op} must be smaller than the stride {s} or the dilation {d}"
            raise LayerFailure("bad-output-padding", msg)
    return size, stride, pad, dilation, extra


def _too_small(spatial: tuple[Size, ...]) -> str:
    return f"the output would be {'x'.join(map(str, spatial))}: the padding removes more than the layer adds"


class Deconv(Kind):
    """A transposed convolution: W2 = (W1 - 1)*S - 2P + dilation*(F - 1) + output_padding + 1."""

    name = "deconv"
    autocast = Autocast.LOWER
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"conv_transpose": {}}
    torch_modules = (TorchModule(fromtorch.spatial("ConvTranspose"), fromtorch.conv),)
    onnx_ops = (OnnxOp(("ConvTranspose",), fromonnx.conv),)
    fuses = ("activation",)
    params = (
        FILTERS,
        SIZE,
        stride(1),
        pad("p<P>"),
        dilation(),
        GROUPS,
        BIAS,
        ACTIVATION,
        Param(
            "output_padding",
            per_dim("output_padding", least=0),
            0,
            help="Extra rows/columns on one side of the output (less than the stride or the dilation).",
            spelling=Spelling("op", DIMS, "op<O>"),
        ),
    )
    primary = "filters"
    head = CONV_HEAD
    category = Category.CONV
    example = ("4x4x8", "deconv4-4 s2 p1")
    output_rule = "(W−1)·S − 2P + dil·(F−1) + output_padding + 1"
    params_rule = "F·F·D1·(K/g) + K"

    def label(self, p: Params) -> str:
        return f"deconv{dims_text(p['size'])}-{p['filters']}{options_text(p)}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding  # a transposed conv's size is exact
        more = changed(
            ("stride", dims(p["stride"]), 1),
            ("padding", 0 if p["pad"] == "valid" else dims(p["pad"]), 0),
            ("output_padding", dims(p["output_padding"]), 0),
            ("groups", x.depth if p["groups"] == "depthwise" else p["groups"], 1),
            ("dilation", dims(p["dilation"]), 1),
            ("bias", p["bias"], True),
        )
        cls = spatial_class("ConvTranspose", len(x.spatial))
        deconv = ModuleStep(cls, (x.depth, p["filters"], dims(p["size"])), more, "deconv")
        return Plan((deconv, *activation(p["activation"])))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        size, stride, pad, dilation, extra = deconv_dims(p, x)
        spatial = tuple(
            (w - 1) * s - 2 * q + d * (f - 1) + op + 1
            for w, s, q, d, f, op in zip(x.spatial, stride, pad, dilation, size, extra, strict=True)
        )
        for o in spatial:
            need.at_least("output-too-small", o, 1, why=partial(_too_small, spatial))
        filters: int = p["filters"]
        depth = x.static_depth("deconv")
        g = resolve_groups(p, depth, filters)
        # Each input value spreads over ceil(F'/S) outputs per dim; the grid gets S times finer.
        spread = [-(-(d * (f - 1) + 1) // s) for d, f, s in zip(dilation, size, stride, strict=True)]
        per_input = prod(size) * (filters // g)
        return Sizes(
            spatial,
            filters,
            finer(x.jump, stride),
            grown(x, spread),
            weights=per_input * depth,
            biases=filters if p["bias"] else 0,
            macs=multiply(x.spatial) * depth * per_input,
            bias_adds=multiply(spatial) * filters if p["bias"] else 0,
        )

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        n = len(x.spatial)
        size, stride_, dil = per(p["size"], n), per(p["stride"], n), per(p["dilation"], n)
        pad_, extra = per(0 if p["pad"] == "valid" else p["pad"], n), per(p["output_padding"], n)
        output = tuple(
            f"{name}2 = ({x.spatial[i]} − 1)·{stride_[i]} − 2·{pad_[i]} + {dil[i]}·({size[i]} − 1) + {extra[i]} + 1"
            f" = {y.spatial[i]}"
            for i, name in enumerate(formula_names(n))
        )
        window, g = _window_text(p, x), _groups(p, x)
        outs = f"{p['filters']}" + (f"/{g}" if g != 1 else "")
        plus = f" + {p['filters']}" if p["bias"] else ""
        return Working(
            output=(*output, f"D2 = K = {p['filters']}"),
            params=(f"params = {window}·{x.depth}·{outs}{plus} = {row.params:,}",),
            macs=f"{'·'.join(map(str, x.spatial))}·{_per_group(p, x)}·{window}·{p['filters']}",
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        return fused(Keep(input=True), p["activation"], row.output.values)
