"""Pooling: windowed, global and adaptive (DESIGN §2.1). Pools have no weights and no MACs."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds import fromonnx, fromtorch
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
    need_spatial,
    per,
    whole,
    window_dims,
)
from convcalc.kinds.closed import Closed, Condition, Expr, Shape, residue
from convcalc.kinds.params import DIMS, POOL_TYPE, ROUNDING, Param, dilation, pad, per_dim, stride
from convcalc.kinds.plan import ModuleStep, Plan, changed, dims, spatial_class, windowed
from convcalc.kinds.saved import Keep
from convcalc.kinds.sliding import (
    closed_windows,
    dims_text,
    framework_pads,
    kept_input,
    options_text,
    sliding_windows,
    window_working,
)
from convcalc.kinds.vocab import OnnxOp, TorchFunction, TorchModule
from convcalc.options import PoolType, Rounding
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.window import Window
    from convcalc.report import Exact, LayerRow


class Pool(Kind):
    """Max or average pooling over F x F windows with stride S (default: S = F)."""

    name = "pool"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "maxpool": {"type": "max"},
        "avgpool": {"type": "avg"},
    }
    torch_modules = (TorchModule(fromtorch.spatial("MaxPool", "AvgPool"), fromtorch.pool),)
    onnx_ops = (OnnxOp(("MaxPool", "AveragePool"), fromonnx.pool),)
    params = (
        POOL_TYPE,
        Param(
            "size",
            per_dim("size"),
            2,
            help="F, the window size: one number for every spatial dim, or one per dim ([1, 7] or 1x7).",
        ),
        stride(None),
        pad(),
        dilation(),
        ROUNDING,
    )
    primary = "size"
    head = Head(rf"({DIMS})?", ("size",), "[<F>]")
    category = Category.POOL
    example = ("224x224x64", "maxpool")
    output_rule = "as conv, depth D1 (stride = size unless given)"
    params_rule = "0"

    def label(self, p: Params) -> str:
        stride = p["size"] if p["stride"] is None else p["stride"]
        options = options_text({**p, "stride": stride}, stride_default=p["size"])
        return f"{p['type'].value}pool{dims_text(p['size'])}{options}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        rounding = p["rounding"] or rounding
        windows = sliding_windows(p, x)
        is_max = p["type"] is PoolType.MAX
        kernel = dims(p["size"])
        more = changed(
            ("dilation", dims(p["dilation"]) if is_max else 1, 1),
            ("ceil_mode", rounding is Rounding.CEIL, False),  # PyTorch's ceil is convcalc's, its rule included
        )
        cls = spatial_class("MaxPool" if is_max else "AvgPool", len(x.spatial))
        pads = framework_pads(windows, rounding, is_pool=True)
        # An uneven pad of a max pool is -inf, as PyTorch's own padding of a max pool is.
        fill = float("-inf") if is_max else 0.0
        stem = f"{p['type'].value}pool"
        return windowed(
            cls,
            (kernel,),
            more,
            windows=windows,
            pads=pads,
            rounding=rounding,
            fill=fill,
            stem=stem,
            stride_default=kernel,
        )

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        v = x.volume
        need_spatial(v, "pool")
        if p["type"] is PoolType.AVG and any(d != 1 for d in expand(p["dilation"], v, "dilation")):
            raise LayerFailure("bad-dilation", "dilation applies to max pooling only")
        windows = sliding_windows(p, v)
        for w, k in zip(windows, expand(p["size"], v, "size"), strict=True):
            # PyTorch refuses this (pool2d_shape_check: kW/2 >= padW, on the kernel before
            # dilation): windows would hold little or nothing but padding.
            pad = max(w.pad_lo, w.pad_hi)
            if pad > k // 2:
                msg = f"pad {pad} is more than half the window size {k} (PyTorch allows at most {k // 2})"
                raise LayerFailure("pad-too-large", msg)
        rounding = p["rounding"] or ctx.rounding
        spatial, rf, jump, problems = window_dims(windows, x, rounding, "pool", same=p["pad"] == "same")
        return Outcome(output=Volume(spatial, v.depth), rf=rf, jump=jump, problems=problems)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        need_spatial(x, "pool")
        if p["type"] is PoolType.AVG and any(d != 1 for d in expand(p["dilation"], x, "dilation")):
            raise LayerFailure("bad-dilation", "dilation applies to max pooling only")
        sizes = expand(p["size"], x, "size")
        conditions: list[Condition] = []
        if p["pad"] == "same":
            # TensorFlow's padding depends on the size's residue: PyTorch's limit on pool padding
            # (at most half the window) holds on some residues only.
            stride = sizes if p["stride"] is None else expand(p["stride"], x, "stride")
            dilation = expand(p["dilation"], x, "dilation")
            for w, k, s, d in zip(x.spatial, sizes, stride, dilation, strict=True):
                effective = d * (k - 1) + 1
                totals = {r: max((-r) % s - s + effective, 0) for r in range(s)}
                conditions += residue("pad-too-large", w, s, [r for r, t in totals.items() if t - t // 2 <= k // 2])
        elif p["pad"] != "valid":
            for q, k in zip(expand(p["pad"], x, "pad"), sizes, strict=True):
                if q > k // 2:
                    msg = f"pad {q} is more than half the window size {k} (PyTorch allows at most {k // 2})"
                    raise LayerFailure("pad-too-large", msg)
        spatial, jump, more = closed_windows(p, x, ctx.rounding)
        return Closed(output=Shape(spatial, x.depth, jump), conditions=conditions + more)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        assert row.input is not None  # noqa: S101 - a computed row has an input
        return Working(output=(*window_working(p, row.input, rounding), f"D2 = D1 = {row.input.depth}"))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        assert row.input is not None  # noqa: S101 - a computed row has both
        assert row.output is not None  # noqa: S101
        kept = kept_input(p, row.input, p["rounding"] or rounding, is_pool=True)
        if p["type"] is PoolType.AVG:
            return kept
        # A max pool keeps where each maximum was: an int64 index per output value.
        return Keep(input=kept.input, values=kept.values, indices=row.output.values)

    def windows(self, p: Params, x: Volume) -> list[Window] | None:
        return sliding_windows(p, x)


class GlobalPool(Kind):
    """Pooling over the whole spatial extent: 1x1xD1."""

    name = "global_pool"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"gap": {"type": "avg"}, "gmp": {"type": "max"}}
    onnx_ops = (
        OnnxOp(("GlobalAveragePool", "GlobalMaxPool"), fromonnx.global_pool),
        OnnxOp(("ReduceMean", "ReduceMax"), fromonnx.reduce),
    )
    params = (POOL_TYPE,)
    primary = "type"
    category = Category.POOL
    example = ("7x7x512", "gap")
    output_rule = "1×1×D1"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return "gap" if p["type"] is PoolType.AVG else "gmp"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        cls = spatial_class(f"Adaptive{p['type'].value.capitalize()}Pool", len(x.spatial))
        return Plan((ModuleStep(cls, (1,), stem=f"{p['type'].value}pool"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p
        v = x.volume
        need_spatial(v, "global_pool")
        # It sees the whole input: its receptive field is the input's extent (DESIGN §4, issue 25),
        # not a sum over the padding the layers before it add. Its one position has no neighbour,
        # so the jump stays its input's: a squeeze-excitation's broadcast multiply (whose merge
        # takes the largest jump) does not compound it block after block.
        rf: tuple[Exact, ...] = ctx.input_spatial
        return Outcome(output=Volume((1,) * len(v.spatial), v.depth), rf=rf, jump=x.jump)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del p, ctx
        need_spatial(x, "global_pool")
        ones = tuple(Expr.of(1) for _ in x.spatial)
        return Closed(output=Shape(ones, x.depth, (None,) * len(ones)))  # the jump is the size: not closed

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        spatial = "x".join(map(str, row.input.spatial))
        return Working(output=(f"one {spatial} window per channel: D2 = D1 = {row.input.depth}",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        if p["type"] is PoolType.AVG:
            return Keep()  # PyTorch takes the mean, whose gradient needs only the input's size
        return Keep(input=True, indices=row.output.values)


class AdaptivePool(Kind):
    """PyTorch's adaptive pooling: window i covers [floor(i*W1/W2), ceil((i+1)*W1/W2))."""

    name = "adaptive_pool"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "adaptive_avgpool": {"type": "avg"},
        "adaptive_maxpool": {"type": "max"},
    }
    # An adaptive pool to 1 is written as the global pool it is (`gap`).
    torch_modules = (TorchModule(fromtorch.spatial("AdaptiveAvgPool", "AdaptiveMaxPool"), fromtorch.adaptive),)
    torch_functions = (TorchFunction(("adaptive_avg_pool2d", "adaptive_max_pool2d"), fromtorch.adaptive_call),)
    params = (
        POOL_TYPE,
        Param(
            "output",
            per_dim("output"),
            required=True,
            form="the output size, e.g. 6 or 6x6",
            help="The output size: one number for every spatial dim, or one per dim (6 or 6x6).",
        ),
    )
    primary = "output"
    head = Head(rf"({DIMS})", ("output",), "<N>")
    category = Category.POOL
    example = ("13x13x256", "adaptive_avgpool6")
    output_rule = "output × D1"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return f"adaptive_{p['type'].value}pool{dims_text(p['output'])}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        cls = spatial_class(f"Adaptive{p['type'].value.capitalize()}Pool", len(x.spatial))
        return Plan((ModuleStep(cls, (dims(p["output"]),), stem=f"{p['type'].value}pool"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        v = x.volume
        need_spatial(v, "adaptive_pool")
        out = expand(p["output"], v, "output")
        # The widest window sets the receptive field; the average step sets the jump.
        widest = [_widest_window(w, o) for w, o in zip(v.spatial, out, strict=True)]
        rf = tuple(r + (k - 1) * j for r, j, k in zip(x.rf, x.jump, widest, strict=True))
        jump = tuple(whole(j * Fraction(w, o)) for j, w, o in zip(x.jump, v.spatial, out, strict=True))
        return Outcome(output=Volume(out, v.depth), rf=rf, jump=jump)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        need_spatial(x, "adaptive_pool")
        out = tuple(Expr.of(o) for o in expand(p["output"], x, "output"))
        return Closed(output=Shape(out, x.depth, (None,) * len(out)))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        x = row.input
        out = per(p["output"], len(x.spatial))
        windows = ", ".join(f"{w}/{o}" for w, o in zip(x.spatial, out, strict=True))
        return Working(output=(f"windows of about {windows} (PyTorch's adaptive rule): D2 = D1 = {x.depth}",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        if p["type"] is PoolType.MAX:
            return Keep(input=True, indices=row.output.values)
        if all(s == 1 for s in row.output.spatial):
            return Keep()  # to 1x1 PyTorch takes the mean, as a global pool
        return Keep(input=True)


def _widest_window(size: int, out: int) -> int:
    """The widest of PyTorch's adaptive windows: ceil((i+1)*W/O) - floor(i*W/O) over i."""
    if size % out == 0:
        return size // out
    if out > _EXACT_UP_TO:  # the widths repeat with period O/gcd; beyond this, the bound ceil(W/O) + 1
        return -(-size // out) + 1
    return max(-(-(i + 1) * size // out) - i * size // out for i in range(out))


_EXACT_UP_TO = 100_000
