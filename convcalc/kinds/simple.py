"""Layer kinds that keep the volume's values or only reshape them: activations, dropout, flatten."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.amp import Autocast, full_on_cuda
from convcalc.kinds.base import (
    Category,
    Kind,
    Params,
    Working,
)
from convcalc.kinds.params import Param, activation, probability
from convcalc.kinds.plan import FLATTEN, ModuleStep, Plan, changed
from convcalc.kinds.plan import activation as activation_steps
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep, standalone
from convcalc.kinds.vocab import OnnxOp, TorchFunction, TorchModule, always
from convcalc.options import ACTIVATIONS

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


def unchanged(x: Given, *, in_place: bool = False) -> Sizes:
    """The input volume passes through."""
    return Sizes(x.spatial, x.depth, x.jump, in_place=in_place)


class Activation(Kind):
    """An element-wise function: no weights, and no extra memory (computed in place)."""

    name = "activation"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {name: {"function": name} for name in ACTIVATIONS}
    torch_modules = fromtorch.activation_modules()
    torch_functions = fromtorch.activation_functions()
    onnx_ops = (*fromonnx.activation_ops(), OnnxOp(("Clip",), fromonnx.clip))
    params = (Param("function", activation, required=True, form="relu, sigmoid, ...", help="The activation function."),)
    primary = "function"
    category = Category.ELEMENTWISE
    example = ("55x55x96", "relu")
    output_rule = "= input"
    params_rule = "0"

    def autocast_rule(self, p: Params) -> Autocast:
        """Its function's: softmax, log_softmax and softplus are cast to float32 on CUDA."""
        return Autocast.FULL_ON_CUDA if full_on_cuda(p["function"]) else Autocast.INPUT

    def label(self, p: Params) -> str:
        return str(p["function"])

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan(activation_steps(p["function"]))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        return unchanged(x, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, row, rounding
        return Working()

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        return standalone(p["function"], row.output.values)


class Dropout(Kind):
    """Dropout: the same volume, no weights, no extra memory at inference."""

    name = "dropout"
    torch_modules = (TorchModule(("Dropout", *fromtorch.spatial("Dropout")), fromtorch.dropout),)
    torch_functions = (TorchFunction(("dropout",), fromtorch.dropout_call),)
    onnx_ops = (OnnxOp(("Dropout",), always({"dropout": None})),)
    params = (
        Param("p", probability, 0.5, help="The probability of dropping a value, from 0 up to (not including) 1."),
    )
    primary = "p"
    category = Category.ELEMENTWISE
    example = ("4096", "dropout")
    output_rule = "= input"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan((ModuleStep("Dropout", (), changed(("p", p["p"], 0.5)), "dropout"),))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        return unchanged(x, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, row, rounding
        return Working()

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.output is not None  # noqa: S101 - a computed row has an output
        if p["p"] == 0:
            return Keep(view=True)  # PyTorch returns its input
        # The scaled mask it multiplies by (a mask value per value); not its input.
        return Keep(masks=row.output.values)


class Flatten(Kind):
    """A view of the volume as one vector: no copy."""

    name = "flatten"
    torch_modules = (TorchModule(("Flatten",), fromtorch.flatten),)
    torch_functions = (TorchFunction(("flatten",), fromtorch.flatten_call),)
    onnx_ops = (OnnxOp(("Flatten", "Reshape"), fromonnx.flatten),)
    category = Category.RESHAPE
    example = ("7x7x512", "flatten")
    output_rule = "H·W·D"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, x, rounding
        return Plan((FLATTEN,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        return Sizes((), x.values, x.jump, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        values = "·".join(map(str, row.input.as_list()))
        return Working(output=(f"output = {values} = {row.input.values:,} values in one vector",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(view=True)
