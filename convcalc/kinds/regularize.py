"""Stochastic depth ("drop path", torchvision's StochasticDepth): identity in eval, a per-sample mask in training."""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds import fromtorch
from convcalc.kinds.base import Category, Kind, Params, Working
from convcalc.kinds.params import Param, choice, probability
from convcalc.kinds.plan import FunctionStep, ModuleStep, Plan, changed
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged
from convcalc.kinds.vocab import TorchFunction, TorchModule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.rule import Given, Need, Sizes
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


class DepthMode(str, Enum):
    """Which values one draw of stochastic depth's mask drops: a whole image, or the whole batch."""

    ROW = "row"  # one draw per image (torchvision's "row", the one its models use)
    BATCH = "batch"  # one draw for the whole batch


DEPTH_NOTE = (
    "`stochastic_depth` is a channel dropout (nn.Dropout1d, 2d or 3d) over each image's values as one channel "
    "(the whole batch's for mode batch): the identity in eval, torchvision's stochastic_depth in training."
)


class StochasticDepth(Kind):
    """Stochastic depth (Huang et al. 2016, torchvision's StochasticDepth): no weights, the identity at inference.

    In training it zeroes a whole image with probability p and scales the rest by 1/(1 − p), one
    draw per image (mode row) or one for the batch (mode batch). Autograd keeps the mask it
    multiplies by, one value per image (row) or one in all (batch), in the activations' type; not
    its input (measured with torch 2.13.0 on torchvision's module and on this plan,
    tests/test_zoo_kinds.py).
    """

    name = "stochastic_depth"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"drop_path": {}}
    torch_modules = (TorchModule(("StochasticDepth",), fromtorch.stochastic_depth),)
    torch_functions = (TorchFunction(("stochastic_depth",), fromtorch.stochastic_depth_call),)
    params = (
        Param(
            "p",
            probability,
            required=True,
            form="a probability",
            help="The probability of dropping an image's values (the whole residual branch), from 0 up to 1.",
        ),
        Param(
            "mode",
            choice(DepthMode, "mode"),
            DepthMode.ROW,
            help="row: one draw per image (default); batch: one draw for the whole batch.",
        ),
    )
    primary = "p"
    category = Category.ELEMENTWISE
    example = ("14x14x64", "stochastic_depth: 0.2")
    output_rule = "= input"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        # A channel dropout drops whole channels: each image as the one channel of a row (N x 1 x C
        # x spatial) drops per image, the batch as one channel (1 x 1 x all) drops it all. The row's
        # is a view whatever the strides (a reshape would copy a channels-last input, as ConvNeXt's
        # layer scale gives after its LayerNorm's permutes); past Dropout3d's dims, a reshape.
        n = len(x.spatial) + 1
        row = DepthMode(p.get("mode", DepthMode.ROW)) is DepthMode.ROW
        if row and n <= 3:  # noqa: PLR2004 - nn.Dropout3d's is the last
            drop = ModuleStep(f"Dropout{n}d", (), changed(("p", p["p"], 0.5)), "drop")
            return Plan((FunctionStep(".unsqueeze", (1,)), drop, FunctionStep(".squeeze", (1,))), (DEPTH_NOTE,))
        drop = ModuleStep("Dropout1d", (), changed(("p", p["p"], 0.5)), "drop")
        back = FunctionStep(".reshape", (-1, x.depth, *x.spatial))
        flat = (-1, 1, x.values) if row else (1, 1, -1)
        return Plan((FunctionStep(".reshape", flat), drop, back), (DEPTH_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        return unchanged(x, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, row, rounding
        return Working()

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del row, rounding
        if p["p"] == 0:
            return Keep(view=True)  # PyTorch returns its input
        if DepthMode(p.get("mode", DepthMode.ROW)) is DepthMode.ROW:
            return Keep(values=1)  # the mask: one value per image
        # One value for the whole batch, in the activations' type, as the row's mask (measured
        # under CPU autocast: bfloat16 after a conv, tests/test_amp_oracle.py).
        return Keep(fixed_values=1)
