"""Pooling: windowed, global and adaptive (DESIGN §2.1). Pools have no weights and no MACs."""

from __future__ import annotations

from fractions import Fraction

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
from convcalc.kinds.conv import _options, dims_text, framework_pads, sliding_windows
from convcalc.kinds.params import POOL_TYPE, ROUNDING, Param, padding, per_dim
from convcalc.kinds.plan import ModuleStep, Plan, changed, dims, spatial_class, windowed
from convcalc.options import PoolType, Rounding
from convcalc.volume import Volume


class Pool(Kind):
    """Max or average pooling over F x F windows with stride S (default: S = F)."""

    name = "pool"
    params = (
        POOL_TYPE,
        Param("size", per_dim("size"), 2),
        Param("stride", per_dim("stride"), None),
        Param("pad", padding, 0),
        Param("dilation", per_dim("dilation"), 1),
        ROUNDING,
    )
    primary = "size"
    summary = "maxpool[<F>] [s<S>] [p<P>]  or  avgpool[<F>] ..."

    def label(self, p: Params) -> str:
        stride = p["size"] if p["stride"] is None else p["stride"]
        return (
            f"{p['type'].value}pool{dims_text(p['size'])}{_options({**p, 'stride': stride}, stride_default=p['size'])}"
        )

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
        spatial, rf, jump, problems = window_dims(windows, x, p["rounding"] or ctx.rounding, "pool")
        return Outcome(output=Volume(spatial, v.depth), rf=rf, jump=jump, problems=problems)


class GlobalPool(Kind):
    """Pooling over the whole spatial extent: 1x1xD1."""

    name = "global_pool"
    params = (POOL_TYPE,)
    primary = "type"

    def label(self, p: Params) -> str:
        return "gap" if p["type"] is PoolType.AVG else "gmp"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        cls = spatial_class(f"Adaptive{p['type'].value.capitalize()}Pool", len(x.spatial))
        return Plan((ModuleStep(cls, (1,), stem=f"{p['type'].value}pool"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        v = x.volume
        need_spatial(v, "global_pool")
        rf = tuple(r + (w - 1) * j for r, j, w in zip(x.rf, x.jump, v.spatial, strict=True))
        jump = tuple(j * w for j, w in zip(x.jump, v.spatial, strict=True))
        return Outcome(output=Volume((1,) * len(v.spatial), v.depth), rf=rf, jump=jump)


class AdaptivePool(Kind):
    """PyTorch's adaptive pooling: window i covers [floor(i*W1/W2), ceil((i+1)*W1/W2))."""

    name = "adaptive_pool"
    params = (POOL_TYPE, Param("output", per_dim("output"), required=True, form="the output size, e.g. 6 or 6x6"))
    primary = "output"

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


def _widest_window(size: int, out: int) -> int:
    """The widest of PyTorch's adaptive windows: ceil((i+1)*W/O) - floor(i*W/O) over i."""
    if size % out == 0:
        return size // out
    if out > _EXACT_UP_TO:  # the widths repeat with period O/gcd; beyond this, the bound ceil(W/O) + 1
        return -(-size // out) + 1
    return max(-(-(i + 1) * size // out) - i * size // out for i in range(out))


_EXACT_UP_TO = 100_000

KINDS: tuple[Kind, ...] = (Pool(), GlobalPool(), AdaptivePool())
