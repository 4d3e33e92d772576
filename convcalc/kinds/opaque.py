"""An operation convcalc cannot compute, kept with the shape a framework reported (`convcalc import --opaque`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.kinds.base import Category, Context, Kind, Outcome, Params, State, Working
from convcalc.kinds.closed import Closed, Expr, Shape
from convcalc.kinds.params import DIMS, Param, count, describe, integer, text
from convcalc.kinds.plan import FunctionStep, Plan
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.options import Rounding
    from convcalc.report import LayerRow

NOTE = "an opaque layer is a stand-in: zeros of the volume it keeps (batch 1); write the real operation there"


def volume(value: Any, at: Location) -> tuple[int, ...]:
    """A volume as the spec's input is written: 14x14x256, [14, 14, 256] or 1000."""
    if isinstance(value, str) and re.fullmatch(DIMS, value.strip()):
        value = value.strip().split("x")
    if isinstance(value, list) and value:
        return tuple(integer(v, at, least=1, what="output") for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return (integer(value, at, least=1, what="output"),)
    msg = f"output must be a volume such as 14x14x256 (spatial dims, then depth) or 1000, not {describe(value)}"
    raise SpecError(msg, at)


class Opaque(Kind):
    """An operation convcalc has no kind for: its output volume as given, no MACs, its weights as given."""

    name = "opaque"
    params = (
        Param(
            "output",
            volume,
            required=True,
            form="a volume such as 14x14x256",
            help="The volume the operation gives (spatial dims, then depth), as the framework reported it.",
        ),
        Param("op", text("op"), "", help="What the operation is (MultiheadAttention): shown, not computed."),
        Param("weights", count("weights"), 0, help="The learnable values the operation holds (counted as weights)."),
    )
    primary = "output"
    category = Category.RESHAPE
    example = ("14x14x256", "opaque: {output: 14x14x256, op: MultiheadAttention, weights: 263168}")
    output_rule = "output, as given"
    params_rule = "weights, as given"

    def label(self, p: Params) -> str:
        return f"opaque {p['op']}".rstrip()

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        *spatial, depth = p["output"]
        return Plan((FunctionStep(".new_zeros", ((1, depth, *spatial),)),), (NOTE,))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        *spatial, depth = p["output"]
        return Outcome(Volume(tuple(spatial), depth), x.rf, x.jump, weights=p["weights"])

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx  # a fixed output: a constant closed form, whatever the input's size
        *spatial, depth = p["output"]
        output = Shape(tuple(Expr.of(s) for s in spatial), Expr.of(depth), x.jump)
        return Closed(output=output, weights=Expr.of(p["weights"]))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        op = p["op"] or "the operation"
        return Working(output=(f"output = {row.output} (as the framework reported {op}; not computed)",))
