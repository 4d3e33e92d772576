"""An operation convcalc cannot compute, kept with the shape a framework reported (`convcalc import --opaque`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.base import Category, Kind, Params, Working
from convcalc.kinds.params import Param, count, per_dim, text
from convcalc.kinds.plan import FunctionStep, Plan
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

NOTE = "an opaque layer is a stand-in: zeros of the volume it keeps (batch 1); write the real operation there"


def _dims(p: Params) -> tuple[tuple[int, ...], int]:
    """The output volume's spatial dims and depth (one number: a vector)."""
    given = p["output"]
    *spatial, depth = (given,) if isinstance(given, int) else given
    return tuple(spatial), depth


class Opaque(Kind):
    """An operation convcalc has no kind for: its output volume as given, no MACs, its weights as given."""

    name = "opaque"
    params = (
        Param(
            "output",
            per_dim("output"),  # 14x14x256, [14, 14, 256] or 1000: one number per dim, the depth last
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
        spatial, depth = _dims(p)
        return Plan((FunctionStep(".new_zeros", ((1, depth, *spatial),)),), (NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need  # a fixed output: a constant closed form, whatever the input's size
        spatial, depth = _dims(p)
        return Sizes(spatial, depth, x.jump, weights=p["weights"])

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        op = p["op"] or "the operation"
        return Working(output=(f"output = {row.output} (as the framework reported {op}; not computed)",))

    def step_followed(self, p: Params, row: LayerRow) -> bool:
        """Never: the operation is not PyTorch's (the export's stand-in is zeros), so neither is its step."""
        del p, row
        return False

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        # What the operation keeps is unknown: nothing is counted, so the training figure stays a
        # lower bound (docs/training-memory.md). Its stand-in in PyTorch (zeros) keeps nothing either.
        return Keep()
