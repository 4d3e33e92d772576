"""Convolution and transposed convolution (DESIGN §2.1, §3, §4)."""

from __future__ import annotations

from fractions import Fraction
from math import prod

from convcalc.kinds.base import (
    Context,
    Kind,
    LayerFailure,
    Outcome,
    Params,
    State,
    expand,
    need_spatial,
    whole,
    window_dims,
)
from convcalc.kinds.params import ACTIVATION, BIAS, ROUNDING, Param, groups, padding, per_dim, positive
from convcalc.kinds.plan import CEIL_CONV_NOTE, ModuleStep, Plan, activation, changed, dims, spatial_class, windowed
from convcalc.kinds.window import Window, same_padding
from convcalc.options import Rounding
from convcalc.volume import Volume


def dims_text(value: int | tuple[int, ...]) -> str:
    """3 or 1x7, as the shorthand writes a per-dim value."""
    return str(value) if isinstance(value, int) else "x".join(map(str, value))


def _options(p: Params, *, stride_default: object = 1) -> str:
    """The shorthand options of a window layer that differ from their defaults."""
    out = []
    if p["stride"] != stride_default:
        out.append(f"s{dims_text(p['stride'])}")
    pad = p.get("pad", 0)
    if pad != 0:
        out.append(f"p{pad}" if isinstance(pad, str) else f"p{dims_text(pad)}")
    if p.get("dilation", 1) != 1:
        out.append(f"d{dims_text(p['dilation'])}")
    if p.get("output_padding", 0) != 0:
        out.append(f"op{dims_text(p['output_padding'])}")
    g = p.get("groups", 1)
    if g != 1:
        out.append("gdw" if g == "depthwise" else f"g{g}")
    if p.get("rounding") is not None:
        out.append(p["rounding"].value)
    return "".join(f" {o}" for o in out)


def pads(p: Params, x: Volume, effective: tuple[int, ...], stride: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) padding per spatial dim; `same` as TensorFlow computes it."""
    pad = p["pad"]
    if pad == "same":
        return [same_padding(w, k, s) for w, k, s in zip(x.spatial, effective, stride, strict=True)]
    if pad == "valid":
        return [(0, 0)] * len(x.spatial)
    return [(q, q) for q in expand(pad, x, "pad")]


def sliding_windows(p: Params, x: Volume) -> list[Window]:
    """The window of a conv or pool in each spatial dim: input size, F', stride, padding.

    A pool's stride defaults to its size. The engine, `--explain` and the PyTorch translator all
    slide the same windows, from here.
    """
    size = expand(p["size"], x, "size")
    stride = size if p.get("stride") is None else expand(p["stride"], x, "stride")
    dilation = expand(p.get("dilation", 1), x, "dilation")
    effective = tuple(d * (f - 1) + 1 for d, f in zip(dilation, size, strict=True))
    return [
        Window(w, k, s, lo, hi)
        for w, k, s, (lo, hi) in zip(x.spatial, effective, stride, pads(p, x, effective, stride), strict=True)
    ]


def framework_pads(windows: list[Window], rounding: Rounding, *, is_pool: bool) -> list[tuple[int, int]]:
    """(before, after) padding per dim for a framework that floors (PyTorch).

    A conv under `ceil` gets padding at the end, so that flooring gives ceil's size; pools have
    PyTorch's ceil_mode instead. The translator and the exporter both pad from here.
    """
    if rounding is Rounding.CEIL and not is_pool:
        return [
            (w.pad_lo, max(w.pad_hi, (w.output(rounding) - 1) * w.stride + w.kernel - w.size - w.pad_lo))
            for w in windows
        ]
    return [(w.pad_lo, w.pad_hi) for w in windows]


def resolve_groups(p: Params, depth: int, filters: int) -> int:
    """The number of groups, checked against the input and output channels."""
    g: int = depth if p["groups"] == "depthwise" else p["groups"]
    for what, channels in (("input", depth), ("output", filters)):
        if channels % g:
            msg = f"groups {g} does not divide the {channels} {what} channels"
            raise LayerFailure("groups-do-not-divide", msg)
    return g


CONV_PARAMS = (
    Param("filters", positive("filters"), required=True, form="the number of filters K"),
    Param("size", per_dim("size"), required=True, form="the filter size F, e.g. 3 or [1, 7]"),
    Param("stride", per_dim("stride"), 1),
    Param("pad", padding, 0),
    Param("dilation", per_dim("dilation"), 1),
    Param("groups", groups, 1),
    BIAS,
    ACTIVATION,
)


class Conv(Kind):
    """A convolution: K filters of F x F x D1/groups, sliding with stride S over padding P."""

    name = "conv"
    params = (*CONV_PARAMS, ROUNDING)
    primary = "filters"
    summary = "conv<F>-<K> [s<S>] [p<P>|psame|pvalid] [d<D>] [g<G>|gdw]"

    def label(self, p: Params) -> str:
        return f"conv{dims_text(p['size'])}-{p['filters']}{_options(p)}"

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

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        v = x.volume
        need_spatial(v, "conv")
        windows = sliding_windows(p, v)
        size = expand(p["size"], v, "size")
        filters: int = p["filters"]
        g = resolve_groups(p, v.depth, filters)
        rounding = p["rounding"] or ctx.rounding
        spatial, rf, jump, problems = window_dims(windows, x, rounding, "conv")
        positions = prod(spatial)
        per_output = prod(size) * (v.depth // g)
        return Outcome(
            output=Volume(spatial, filters),
            rf=rf,
            jump=jump,
            weights=per_output * filters,
            biases=filters if p["bias"] else 0,
            macs=positions * filters * per_output,
            bias_adds=positions * filters if p["bias"] else 0,
            problems=problems,
        )


class Deconv(Kind):
    """A transposed convolution: W2 = (W1 - 1)*S - 2P + dilation*(F - 1) + output_padding + 1."""

    name = "deconv"
    params = (*CONV_PARAMS, Param("output_padding", per_dim("output_padding", least=0), 0))
    primary = "filters"
    summary = "deconv<F>-<K> [s<S>] [p<P>] [op<O>] [d<D>] [g<G>]"

    def label(self, p: Params) -> str:
        return f"deconv{dims_text(p['size'])}-{p['filters']}{_options(p)}"

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

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        v = x.volume
        need_spatial(v, "deconv")
        if p["pad"] == "same":
            msg = "pad: same is not defined for deconv; give the padding as a number"
            raise LayerFailure("bad-padding", msg)
        size = expand(p["size"], v, "size")
        stride = expand(p["stride"], v, "stride")
        dilation = expand(p["dilation"], v, "dilation")
        extra = expand(p["output_padding"], v, "output_padding")
        pad = [0] * len(v.spatial) if p["pad"] == "valid" else expand(p["pad"], v, "pad")
        for op, s, d in zip(extra, stride, dilation, strict=True):
            # PyTorch: "output padding must be smaller than either stride or dilation".
            if op >= max(s, d):
                msg = f"output_padding {op} must be smaller than the stride {s} or the dilation {d}"
                raise LayerFailure("bad-output-padding", msg)
        spatial = tuple(
            (w - 1) * s - 2 * q + d * (f - 1) + op + 1
            for w, s, q, d, f, op in zip(v.spatial, stride, pad, dilation, size, extra, strict=True)
        )
        if min(spatial) < 1:
            msg = f"the output would be {'x'.join(map(str, spatial))}: the padding removes more than the layer adds"
            raise LayerFailure("output-too-small", msg)
        filters: int = p["filters"]
        g = resolve_groups(p, v.depth, filters)
        # Each input value spreads over ceil(F'/S) outputs per dim; the grid gets S times finer.
        rf = tuple(
            r + (-(-(d * (f - 1) + 1) // s) - 1) * j
            for r, j, d, f, s in zip(x.rf, x.jump, dilation, size, stride, strict=True)
        )
        jump = tuple(whole(Fraction(j) / s) for j, s in zip(x.jump, stride, strict=True))
        per_input = prod(size) * (filters // g)
        return Outcome(
            output=Volume(spatial, filters),
            rf=rf,
            jump=jump,
            weights=per_input * v.depth,
            biases=filters if p["bias"] else 0,
            macs=prod(v.spatial) * v.depth * per_input,
            bias_adds=prod(spatial) * filters if p["bias"] else 0,
        )


KINDS: tuple[Kind, ...] = (Conv(), Deconv())
