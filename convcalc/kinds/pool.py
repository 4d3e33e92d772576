"""Pooling: windowed, global and adaptive (DESIGN §2.1). Pools have no weights and no MACs."""

from __future__ import annotations

from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.algebra.sizes import Size, as_int
from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import (
    Category,
    Head,
    Kind,
    LayerFailure,
    Params,
    Working,
    expand,
    need_spatial,
    per,
    whole,
)
from convcalc.kinds.params import DIMS, POOL_TYPE, ROUNDING, Param, dilation, pad, per_dim, stride
from convcalc.kinds.plan import ModuleStep, Plan, changed, dims, spatial_class, windowed
from convcalc.kinds.rule import Sizes, grown, known, whole_input
from convcalc.kinds.saved import Keep
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
from convcalc.kinds.vocab import OnnxOp, TorchFunction, TorchModule
from convcalc.kinds.window import same_padding
from convcalc.options import PoolType, Rounding

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.rule import Given, Need
    from convcalc.kinds.window import Window
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


_INDEX = 8  # a max pool's indices are int64


class Pool(Kind):
    """Max or average pooling over F x F windows with stride S (default: S = F)."""

    name = "pool"
    autocast = Autocast.FULL_3D_ON_CPU
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {
        "maxpool": {"type": "max"},
        "avgpool": {"type": "avg"},
    }
    torch_modules = (TorchModule(fromtorch.spatial("MaxPool", "AvgPool"), fromtorch.pool),)
    torch_functions = (
        TorchFunction(tuple(f"{t}_pool{d}" for t in ("max", "avg") for d in fromtorch.DIMS), fromtorch.pool_call),
    )
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

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        need_spatial(x, "pool")
        if p["type"] is PoolType.AVG and any(d != 1 for d in expand(p["dilation"], x, "dilation")):
            raise LayerFailure("bad-dilation", "dilation applies to max pooling only")
        g = slide(p, x)
        # PyTorch refuses a pad of more than half the window (pool2d_shape_check: kW/2 >= padW, on
        # the kernel before dilation): windows would hold little or nothing but padding.
        if g.pads is None:
            # TensorFlow's `same` padding depends on the size's residue: it holds on some only.
            for w, k, s, e in zip(x.spatial, g.size, g.stride, g.effective, strict=True):
                totals = {r: max((-r) % s - s + e, 0) for r in range(s)}
                allowed = [r for r, t in totals.items() if t - t // 2 <= k // 2]
                need.residue("pad-too-large", w, s, allowed, why=partial(_same_too_large, w, k, s, e))
        else:
            for (lo, hi), k in zip(g.pads, g.size, strict=True):
                if max(lo, hi) > k // 2:
                    raise LayerFailure("pad-too-large", _too_large(max(lo, hi), k))
        spatial, rf, jump = window_rule(p, x, need, "pool", g)
        return Sizes(spatial, x.depth, jump, rf)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        assert row.input is not None  # noqa: S101 - a computed row has an input
        return Working(output=(*window_working(p, row.input, rounding), f"D2 = D1 = {row.input.depth}"))

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """A max pool computes its int64 indices and drops them, even under no_grad."""
        assert row.output is not None  # noqa: S101 - a computed row has an output
        return batch * row.output.values * _INDEX if p["type"] is PoolType.MAX else 0

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
    torch_functions = (TorchFunction(("mean",), fromtorch.mean_call),)
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

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        need_spatial(x, "global_pool")
        ones = (1,) * len(x.spatial)
        if not x.numbers:
            return Sizes(ones, x.depth, (None,) * len(ones))  # the jump is the size: not closed
        # It sees the whole input: its receptive field is the input's extent (DESIGN §4, issue 25),
        # not a sum over the padding the layers before it add. Its one position has no neighbour,
        # so the jump stays its input's: a squeeze-excitation's broadcast multiply (whose merge
        # takes the largest jump) does not compound it block after block.
        return Sizes(ones, x.depth, x.jump, whole_input(x))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        spatial = "x".join(map(str, row.input.spatial))
        return Working(output=(f"one {spatial} window per channel: D2 = D1 = {row.input.depth}",))

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """A max pool computes its int64 indices and drops them, even under no_grad."""
        assert row.output is not None  # noqa: S101 - a computed row has an output
        return batch * row.output.values * _INDEX if p["type"] is PoolType.MAX else 0

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        if p["type"] is PoolType.AVG:
            return Keep()  # PyTorch takes the mean, whose gradient needs only the input's size
        return Keep(input=True, indices=row.output.values)


class AdaptivePool(Kind):
    """PyTorch's adaptive pooling: window i covers [floor(i*W1/W2), ceil((i+1)*W1/W2))."""

    name = "adaptive_pool"
    autocast = Autocast.FULL_3D_ON_CPU
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

    def autocast_rule(self, p: Params) -> Autocast:
        """adaptive_avg_pool3d is on CPU autocast's float32 list; adaptive_max_pool3d on neither list."""
        return Autocast.INPUT if p["type"] == "max" else self.autocast  # a PoolType is a str

    def label(self, p: Params) -> str:
        return f"adaptive_{p['type'].value}pool{dims_text(p['output'])}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        cls = spatial_class(f"Adaptive{p['type'].value.capitalize()}Pool", len(x.spatial))
        return Plan((ModuleStep(cls, (dims(p["output"]),), stem=f"{p['type'].value}pool"),))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        need_spatial(x, "adaptive_pool")
        out = expand(p["output"], x, "output")
        if not x.numbers:
            return Sizes(out, x.depth, (None,) * len(out))  # the jump is the size: not closed
        sizes = tuple(as_int(w) for w in x.spatial)
        # The widest window sets the receptive field; the average step sets the jump. Along a dim
        # pooled to 1, the input's extent and its input's jump, as global_pool's (issue 25).
        rf = grown(x, [_widest_window(w, o) for w, o in zip(sizes, out, strict=True)])
        assert rf is not None  # noqa: S101 - the numeric backend's fields are numbers
        rf = tuple(e if o == 1 else r for o, e, r in zip(out, whole_input(x), rf, strict=True))
        jump = tuple(
            j if o == 1 else whole(known(j) * Fraction(w, o)) for j, w, o in zip(x.jump, sizes, out, strict=True)
        )
        return Sizes(out, x.depth, jump, rf)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        x = row.input
        out = per(p["output"], len(x.spatial))
        windows = ", ".join(f"{w}/{o}" for w, o in zip(x.spatial, out, strict=True))
        return Working(output=(f"windows of about {windows} (PyTorch's adaptive rule): D2 = D1 = {x.depth}",))

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """A max pool computes its int64 indices and drops them, even under no_grad."""
        assert row.output is not None  # noqa: S101 - a computed row has an output
        return batch * row.output.values * _INDEX if p["type"] is PoolType.MAX else 0

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        if p["type"] is PoolType.MAX:
            return Keep(input=True, indices=row.output.values)
        if all(s == 1 for s in row.output.spatial):
            return Keep()  # to 1x1 PyTorch takes the mean, as a global pool
        return Keep(input=True)


def _too_large(pad: int, k: int) -> str:
    return f"pad {pad} is more than half the window size {k} (PyTorch allows at most {k // 2})"


def _same_too_large(w: Size, k: int, s: int, effective: int) -> str:
    return _too_large(max(same_padding(as_int(w), effective, s)), k)


def _widest_window(size: int, out: int) -> int:
    """The widest of PyTorch's adaptive windows: ceil((i+1)*W/O) - floor(i*W/O) over i."""
    if size % out == 0:
        return size // out
    if out > _EXACT_UP_TO:  # the widths repeat with period O/gcd; beyond this, the bound ceil(W/O) + 1
        return -(-size // out) + 1
    return max(-(-(i + 1) * size // out) - i * size // out for i in range(out))


_EXACT_UP_TO = 100_000
