"""Layer kinds that change the spatial size without a window: upsampling and pixel shuffle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds import fromtorch
from convcalc.kinds.base import (
    Category,
    Head,
    Kind,
    LayerFailure,
    Params,
    Working,
    expand,
    formula_names,
    need_spatial,
    per,
)
from convcalc.kinds.params import DIMS, Param, per_dim, positive
from convcalc.kinds.plan import ModuleStep, Plan
from convcalc.kinds.rule import Sizes, finer
from convcalc.kinds.saved import Keep
from convcalc.kinds.sliding import dims_text
from convcalc.kinds.vocab import TorchModule
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


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

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        need_spatial(x, "upsample")
        scale = expand(p["scale"], x, "scale")
        spatial = tuple(w * s for w, s in zip(x.spatial, scale, strict=True))
        return Sizes(spatial, x.depth, finer(x.jump, scale))

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

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        r: int = p["factor"]
        # PyTorch shuffles the last two dims only: (N, C·r², H, W) → (N, C, H·r, W·r).
        if len(x.spatial) != 2:  # noqa: PLR2004 - height and width
            msg = f"pixel_shuffle needs a 2-D volume (height, width, depth), but its input is {x}"
            raise LayerFailure("needs-2d-input", msg)
        depth = x.static_depth("pixel_shuffle")
        if depth % (r * r):
            msg = f"pixel_shuffle{r} needs a depth divisible by r² = {r * r}, but the input {x} has {depth}"
            raise LayerFailure("depth-not-divisible", msg)
        # Each output value is one input value: the field stays, the grid gets r times finer.
        return Sizes(tuple(w * r for w in x.spatial), depth // (r * r), finer(x.jump, (r,) * len(x.jump)))

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
