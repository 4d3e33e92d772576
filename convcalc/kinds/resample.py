"""Layer kinds that change the spatial size without a window: upsampling and pixel shuffle."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from convcalc.kinds import fromtorch
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
)
from convcalc.kinds.closed import Closed, Expr, Shape
from convcalc.kinds.params import DIMS, Param, per_dim, positive
from convcalc.kinds.plan import ModuleStep, Plan
from convcalc.kinds.saved import Keep
from convcalc.kinds.sliding import dims_text
from convcalc.kinds.vocab import TorchModule
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.options import Rounding
    from convcalc.report import LayerRow


class Upsample(Kind):
    """Nearest-neighbour upsampling: every spatial dim times `scale`."""

    name = "upsample"
    torch_modules = (TorchModule(("Upsample",), fromtorch.upsample),)
    params = (
        Param(
            "scale",
            per_dim("scale"),
            2,
            help="The factor every spatial dim is multiplied by: one number, or one per dim.",
        ),
    )
    primary = "scale"
    head = Head(rf"({DIMS})?", ("scale",), "[<N>]")
    category = Category.RESHAPE
    example = ("14x14x64", "upsample")
    output_rule = "W·scale per dim"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return f"upsample{dims_text(p['scale'])}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        scale = p["scale"] if isinstance(p["scale"], int) else tuple(float(s) for s in p["scale"])
        return Plan((ModuleStep("Upsample", (), (("scale_factor", scale), ("mode", "nearest")), "upsample"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        v = x.volume
        need_spatial(v, "upsample")
        scale = expand(p["scale"], v, "scale")
        spatial = tuple(w * s for w, s in zip(v.spatial, scale, strict=True))
        jump = tuple(whole(Fraction(j) / s) for j, s in zip(x.jump, scale, strict=True))
        return Outcome(output=Volume(spatial, v.depth), rf=x.rf, jump=jump)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        need_spatial(x, "upsample")
        scale = expand(p["scale"], x, "scale")
        spatial = tuple(w * s for w, s in zip(x.spatial, scale, strict=True))
        jump = tuple(None if j is None else whole(Fraction(j) / s) for j, s in zip(x.jump, scale, strict=True))
        return Closed(output=Shape(spatial, x.depth, jump))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        names = formula_names(len(x.spatial))
        scale = per(p["scale"], len(x.spatial))
        return Working(
            output=tuple(f"{n}2 = {w}·{s} = {o}" for n, w, s, o in zip(names, x.spatial, scale, y.spatial, strict=True))
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()  # each output value is one input value: the gradient needs no tensor


class PixelShuffle(Kind):
    """Depth to space (PyTorch's PixelShuffle): H×W×C·r² → rH×rW×C, no weights."""

    name = "pixel_shuffle"
    torch_modules = (TorchModule(("PixelShuffle",), fromtorch.pixel_shuffle),)
    params = (
        Param(
            "factor",
            positive("factor"),
            2,
            help="r, the upscale factor: each r·r group of channels becomes an r×r patch of one channel.",
        ),
    )
    primary = "factor"
    head = Head(r"(\d+)?", ("factor",), "[<r>]")
    category = Category.RESHAPE
    example = ("56x56x64", "pixel_shuffle2")
    output_rule = "rH×rW×D1/r² (2-D inputs)"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return f"pixel_shuffle{p['factor']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan((ModuleStep("PixelShuffle", (p["factor"],), stem="shuffle"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        v, r = x.volume, p["factor"]
        # PyTorch shuffles the last two dims only: (N, C·r², H, W) → (N, C, H·r, W·r).
        if len(v.spatial) != 2:  # noqa: PLR2004 - height and width
            msg = f"pixel_shuffle needs a 2-D volume (height, width, depth), but its input is {v}"
            raise LayerFailure("needs-2d-input", msg)
        if v.depth % (r * r):
            msg = f"pixel_shuffle{r} needs a depth divisible by r² = {r * r}, but the input {v} has {v.depth}"
            raise LayerFailure("depth-not-divisible", msg)
        spatial = tuple(w * r for w in v.spatial)
        # Each output value is one input value: the field stays, the grid gets r times finer.
        jump = tuple(whole(Fraction(j) / r) for j in x.jump)
        return Outcome(output=Volume(spatial, v.depth // (r * r)), rf=x.rf, jump=jump)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        r: int = p["factor"]
        if len(x.spatial) != 2:  # noqa: PLR2004 - height and width
            msg = f"pixel_shuffle needs a 2-D volume (height, width, depth), but its input is {x}"
            raise LayerFailure("needs-2d-input", msg)
        depth = x.static_depth("pixel_shuffle")
        if depth % (r * r):
            msg = f"pixel_shuffle{r} needs a depth divisible by r² = {r * r}, but the input {x} has {depth}"
            raise LayerFailure("depth-not-divisible", msg)
        jump = tuple(None if j is None else whole(Fraction(j) / r) for j in x.jump)
        return Closed(output=Shape(tuple(w * r for w in x.spatial), Expr.of(depth // (r * r)), jump))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        r = p["factor"]
        names = formula_names(len(x.spatial))
        return Working(
            output=(
                *(f"{n}2 = {w}·{r} = {o}" for n, w, o in zip(names, x.spatial, y.spatial, strict=True)),
                f"D2 = D1/r² = {x.depth}/{r * r} = {y.depth}",
            )
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()  # each output value is one input value: the gradient needs no tensor
