"""Convolution and transposed convolution (DESIGN §2.1, §3, §4)."""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds.base import (
    Category,
    Context,
    Head,
    Kind,
    LayerFailure,
    Outcome,
    Params,
    State,
    Working,
    expand,
    formula_names,
    need_spatial,
    per,
    whole,
    window_dims,
)
from convcalc.kinds.closed import Closed, Condition, Expr, Shape, at_least, product, residue
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
from convcalc.kinds.plan import CEIL_CONV_NOTE, ModuleStep, Plan, activation, changed, dims, spatial_class, windowed
from convcalc.kinds.saved import Keep, fused
from convcalc.kinds.window import Window, same_padding
from convcalc.options import Rounding
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.report import LayerRow


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


def closed_windows(
    p: Params, x: Shape, rounding: Rounding
) -> tuple[tuple[Expr, ...], tuple[Fraction | int | None, ...], list[Condition]]:
    """The closed-form twin of sliding_windows + window_dims: output sizes, jumps, conditions.

    Floor: ⌊span/S⌋ + 1 with span = W + P_lo + P_hi − F'. Ceil, PyTorch's rule included (the
    last window is dropped when it would start in the right padding, i.e. when the remainder is
    at most e = P_hi − F' + S): ⌊(span + S − 1 − c)/S⌋ + 1 with c = e clamped to [0, S − 1].
    `same`: ⌈W/S⌉. The conditions are where window_dims raises or reports an error or a warning.
    """
    size = expand(p["size"], x, "size")
    stride = size if p.get("stride") is None else expand(p["stride"], x, "stride")
    dilation = expand(p.get("dilation", 1), x, "dilation")
    effective = tuple(d * (f - 1) + 1 for d, f in zip(dilation, size, strict=True))
    pad = p.get("pad", 0)
    same = pad == "same"
    pads = (0,) * len(x.spatial) if same or pad == "valid" else expand(pad, x, "pad")
    rounding = p.get("rounding") or rounding
    out: list[Expr] = []
    conditions: list[Condition] = []
    for w, k, s, q in zip(x.spatial, effective, stride, pads, strict=True):
        if same:
            out.append((w + s - 1).floordiv(s))
            continue
        span = w + 2 * q - k
        if rounding is Rounding.CEIL:
            c = min(max(q - k + s, 0), s - 1)
            out.append((span + s - 1 - c).floordiv(s) + 1)
            conditions += at_least("window-larger-than-input", span + s - 1 - c, 0)
            continue
        out.append(span.floordiv(s) + 1)
        conditions += at_least("window-larger-than-input", span, 0)
        # Strict: any remainder is an error. Floor: a warning once real input (not padding, nor
        # what a window narrower than its stride skips anyway) is dropped (_stride_problems).
        allowed = range(1) if rounding is Rounding.STRICT else range(q + max(s - k, 0) + 1)
        conditions += residue("stride-does-not-fit", span, s, allowed)
    jump = tuple(None if j is None else j * s for j, s in zip(x.jump, stride, strict=True))
    return tuple(out), jump, conditions


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


def kept_input(p: Params, x: Volume, rounding: Rounding, *, is_pool: bool) -> Keep:
    """A conv's or pool's input, kept for backward: itself, or the copy F.pad makes when uneven."""
    windows = sliding_windows(p, x)
    pads = framework_pads(windows, rounding, is_pool=is_pool)
    if all(lo == hi for lo, hi in pads):
        return Keep(input=True)
    return Keep(values=prod(w.size + lo + hi for w, (lo, hi) in zip(windows, pads, strict=True)) * x.depth)


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
    params = (FILTERS, SIZE, stride(1), pad(), dilation(), GROUPS, BIAS, ACTIVATION, ROUNDING)
    primary = "filters"
    head = CONV_HEAD
    category = Category.CONV
    example = ("32x32x3", "conv5-10 s1 p2")
    output_rule = "(W − F' + 2P)/S + 1 per dim, depth K"
    params_rule = "F·F·(D1/g)·K + K"

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
        spatial, rf, jump, problems = window_dims(windows, x, rounding, "conv", same=p["pad"] == "same")
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

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        need_spatial(x, "conv")
        filters: int = p["filters"]
        g = resolve_groups(p, x.static_depth("conv"), filters)
        spatial, jump, conditions = closed_windows(p, x, ctx.rounding)
        positions = product(spatial)
        per_output = prod(expand(p["size"], x, "size")) * (x.static_depth("conv") // g)
        return Closed(
            output=Shape(spatial, Expr.of(filters), jump),
            weights=Expr.of(per_output * filters),
            biases=Expr.of(filters if p["bias"] else 0),
            macs=positions * (filters * per_output),
            bias_adds=positions * filters if p["bias"] else Expr.of(0),
            conditions=conditions,
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


def deconv_dims(p: Params, x: Volume | Shape) -> tuple[tuple[int, ...], ...]:
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


class Deconv(Kind):
    """A transposed convolution: W2 = (W1 - 1)*S - 2P + dilation*(F - 1) + output_padding + 1."""

    name = "deconv"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"conv_transpose": {}}
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
        size, stride, pad, dilation, extra = deconv_dims(p, v)
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

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        size, stride, pad, dilation, extra = deconv_dims(p, x)
        spatial = tuple(
            (w - 1) * s - 2 * q + d * (f - 1) + op + 1
            for w, s, q, d, f, op in zip(x.spatial, stride, pad, dilation, size, extra, strict=True)
        )
        filters: int = p["filters"]
        depth = x.static_depth("deconv")
        g = resolve_groups(p, depth, filters)
        per_input = prod(size) * (filters // g)
        jump = tuple(None if j is None else whole(Fraction(j) / s) for j, s in zip(x.jump, stride, strict=True))
        return Closed(
            output=Shape(spatial, Expr.of(filters), jump),
            weights=Expr.of(per_input * depth),
            biases=Expr.of(filters if p["bias"] else 0),
            macs=product(x.spatial) * (depth * per_input),
            bias_adds=product(spatial) * filters if p["bias"] else Expr.of(0),
            conditions=[c for o in spatial for c in at_least("output-too-small", o, 1)],
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


def _groups(p: Params, x: Volume) -> int:
    return x.depth if p["groups"] == "depthwise" else int(p["groups"])


def _window_text(p: Params, x: Volume) -> str:
    """5·5: the window's taps per dim."""
    return "·".join(map(str, per(p["size"], len(x.spatial))))


def _per_group(p: Params, x: Volume) -> str:
    """D1, or D1/g: the input channels each filter sees."""
    g = _groups(p, x)
    return f"{x.depth}" + (f"/{g}" if g != 1 else "")


def window_working(p: Params, x: Volume, rounding: Rounding) -> tuple[str, ...]:
    """H2 = W2 = (W1 − F + 2P)/S + 1 = 32, for a conv or pool, rounding shown where it applies."""
    names = formula_names(len(x.spatial))
    rounding = p.get("rounding") or rounding
    work = []
    for w in sliding_windows(p, x):
        got = w.output(rounding)
        if p.get("pad") == "same":  # TensorFlow's rule: ceil(W/S) windows, the padding to match
            total = w.pad_lo + w.pad_hi
            padding = f"max(({got} − 1)·{w.stride} + {w.kernel} − {w.size}, 0) = {total}"
            work.append(f"⌈{w.size}/{w.stride}⌉ = {got} (same: padding {padding})")
            continue
        if w.exact == got:
            rounded = ""
        elif rounding is Rounding.STRICT:  # strict does not round: no size; the row goes on with floor's
            rounded = f": the stride does not fit, so there is no output size (floor's {got} stands in below)"
        else:
            rounded = f" → {got} ({rounding.value})"
        work.append(f"{w.formula()}{rounded}")
    if len(set(work)) == 1:  # a square input: H2 = W2 = ...
        return (" = ".join(f"{name}2" for name in names) + f" = {work[0]}",)
    return tuple(f"{name}2 = {text}" for name, text in zip(names, work, strict=True))
