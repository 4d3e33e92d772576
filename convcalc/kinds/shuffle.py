"""Channel shuffle (ShuffleNet's, PyTorch's ChannelShuffle): the channels in `groups` groups, interleaved."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds import fromtorch
from convcalc.kinds.base import Category, Head, Kind, LayerFailure, Params, Working
from convcalc.kinds.params import Param, positive
from convcalc.kinds.plan import FunctionStep, ModuleStep, Plan
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged
from convcalc.kinds.vocab import TorchFunction, TorchModule

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need, Sizes
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


class ChannelShuffle(Kind):
    """ShuffleNet's channel shuffle (Zhang et al. 2018): view as groups × C/groups, transpose, flatten.

    The volume is unchanged and there are no weights. Each output value is one input value, so
    autograd keeps nothing (measured with torch 2.13.0, tests/test_zoo_kinds.py).
    """

    name = "channel_shuffle"
    torch_modules = (TorchModule(("ChannelShuffle",), fromtorch.channel_shuffle),)
    torch_functions = (TorchFunction(("channel_shuffle", "native_channel_shuffle"), fromtorch.channel_shuffle_call),)
    params = (
        Param(
            "groups",
            positive("groups"),
            required=True,
            form="the number of groups",
            help="The number of groups the channels are in before the shuffle; it divides the channels.",
        ),
    )
    primary = "groups"
    head = Head(r"(\d+)", ("groups",), "<G>")
    category = Category.ELEMENTWISE
    example = ("28x28x116", "channel_shuffle2")

    def label(self, p: Params) -> str:
        return f"channel_shuffle{p['groups']}"

    output_rule = "= input"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        shuffle = ModuleStep("ChannelShuffle", (p["groups"],), stem="shuffle")
        if x.spatial:
            return Plan((shuffle,))
        # PyTorch's channel_shuffle wants N x C x ...: a vector gets a dim of 1 for it.
        return Plan((FunctionStep(".unsqueeze", (-1,)), shuffle, FunctionStep(".squeeze", (-1,))))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        depth = x.static_depth("channel_shuffle")
        if depth % p["groups"]:
            msg = f"groups {p['groups']} does not divide the {depth} channels of {x}"
            raise LayerFailure("groups-do-not-divide", msg)
        return unchanged(x)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, row, rounding
        return Working()

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()  # a permutation of the channels: the gradient needs no tensor
