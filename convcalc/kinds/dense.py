"""The fully connected layer: every input value to every unit."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import (
    Category,
    Head,
    Kind,
    Params,
    Working,
)
from convcalc.kinds.params import ACTIVATION, BIAS, Param, positive
from convcalc.kinds.plan import FLATTEN, ModuleStep, Plan, changed
from convcalc.kinds.plan import activation as activation_steps
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep, fused
from convcalc.kinds.vocab import OnnxOp, TorchModule
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import Exact, LayerRow
    from convcalc.volume import Volume


class FullyConnected(Kind):
    """Every output unit sees every input value: in*units weights, units biases."""

    name = "fc"
    autocast = Autocast.LOWER_LINEAR
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"dense": {}, "linear": {}}
    torch_modules = (TorchModule(("Linear",), fromtorch.linear),)
    onnx_ops = (OnnxOp(("Gemm",), fromonnx.gemm),)
    fuses = ("activation",)
    absorbs = ("flatten",)
    params = (
        Param(
            "units",
            positive("units"),
            required=True,
            form="the number of output units",
            help="The number of output units (the input is flattened).",
        ),
        BIAS,
        ACTIVATION,
    )
    primary = "units"
    head = Head(r"-?(\d+)", ("units",), "-<N>")
    category = Category.VECTOR
    example = ("7x7x512", "fc-4096")
    output_rule = "units (the input is flattened)"
    params_rule = "in·units + units"

    def label(self, p: Params) -> str:
        return f"fc-{p['units']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        flatten = (FLATTEN,) if x.spatial else ()  # a volume is flattened first
        linear = ModuleStep("Linear", (x.values, p["units"]), changed(("bias", p["bias"], True)), "fc")
        return Plan((*flatten, linear, *activation_steps(p["activation"])))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        units: int = p["units"]
        inputs = x.values
        bias = units if p["bias"] else 0
        # An fc unit sees the whole input: its receptive field is the input's extent (DESIGN §4).
        rf: tuple[Exact, ...] = x.ctx.input_spatial
        return Sizes((), units, x.jump, rf, weights=inputs * units, biases=bias, macs=inputs * units, bias_adds=bias)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        x = row.input
        assert x is not None  # noqa: S101 - a computed row has an input
        ins = "·".join(map(str, x.as_list())) if x.spatial else str(x.depth)
        plus = f" + {p['units']}" if p["bias"] else ""
        return Working(
            output=(f"output = {p['units']} units (the {x} input, flattened: {x.values:,} values)",),
            params=(f"params = {ins}·{p['units']}{plus} = {row.params:,}",),
            macs=f"{x.values:,}·{p['units']}",
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        # Its input (flattened: a view of the same values), for the weights' gradient.
        return fused(Keep(input=True), p["activation"], row.output.values)
