"""A learned per-channel multiply (ConvNeXt's layer scale): one weight per channel, no bias."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convcalc.kinds.base import Category, Kind, Params, Working
from convcalc.kinds.plan import FunctionStep, ModuleStep, Plan, spatial_class
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need, Sizes
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

SCALE_NOTE = (
    "`scale` is a depthwise 1x1 conv without bias: its weight (C x 1 x 1 x 1) multiplies each channel, "
    "as torchvision's layer_scale parameter (C x 1 x 1) does."
)


class Scale(Kind):
    """x · γ, γ one learned weight per channel (torchvision's ConvNeXt `layer_scale`): D1 params.

    No MACs, as batchnorm's scale has none: an element-wise multiply, which FlopCounterMode does not
    count either. Autograd keeps its input, for γ's gradient (measured with torch 2.13.0 on
    torchvision's `layer_scale * x` and on this plan, tests/test_zoo_kinds.py).
    """

    name = "scale"
    category = Category.ELEMENTWISE
    example = ("56x56x96", "scale")
    output_rule = "= input"
    params_rule = "D1"
    # No torch vocabulary: torchvision's layer scale is a bare nn.Parameter multiplied in (a `mul`
    # whose other operand is the parameter), which the importer reads; there is no module to name.

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, rounding
        n = len(x.spatial)
        conv = ModuleStep(
            spatial_class("Conv", max(n, 1)), (x.depth, x.depth, 1), (("groups", x.depth), ("bias", False)), "scale"
        )
        if n:
            return Plan((conv,), (SCALE_NOTE,))
        # A vector N x C is N x C x 1 for Conv1d.
        return Plan((FunctionStep(".unsqueeze", (-1,)), conv, FunctionStep(".squeeze", (-1,))), (SCALE_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        return replace(unchanged(x), weights=x.depth)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        return Working(params=(f"params = D1 = {row.params:,} (one weight per channel)",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(input=True)  # for the weights' gradient
