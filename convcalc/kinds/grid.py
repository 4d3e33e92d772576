"""A grid's positions as tokens, and tokens back as a grid (issue 27): views, no weights, no copies.

`tokens` is what a CNN with an attention block does after its convs (`x.flatten(2)`, torchvision's
ViT without the conv: H×W×C to H·W tokens of width C); `grid` undoes it (`x.unflatten(2, (H, W))`,
N tokens back to an H×W grid, N = H·W). Both are views of their input, as in PyTorch.
"""

from __future__ import annotations

from functools import partial
from math import prod
from typing import TYPE_CHECKING

from convcalc.algebra.sizes import as_int, multiply
from convcalc.kinds.base import Category, Head, Kind, Params, Working, need_spatial, per
from convcalc.kinds.params import DIMS, Param, per_dim
from convcalc.kinds.plan import FunctionStep, Plan
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep
from convcalc.kinds.tokens import need_tokens

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


def _widest(values: tuple[object, ...]) -> object:
    """One dim's value for tokens: the widest of the grid's (None where one is not known)."""
    return None if None in values else max(values)  # type: ignore[type-var]


class Tokens(Kind):
    """A grid's positions as a sequence: H×W×C to (H·W) tokens of width C (`x.flatten(2)`), a view."""

    name = "tokens"
    category = Category.RESHAPE
    example = ("14x14x16", "tokens")
    output_rule = "H·W tokens of width D1"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, x, rounding
        return Plan((FunctionStep(".flatten", (2,)),))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        need_spatial(x, "tokens")
        rf = None if x.rf is None else (max(x.rf),)
        return Sizes((multiply(x.spatial),), x.depth, (_widest(x.jump),), rf, in_place=True)  # type: ignore[arg-type]

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        assert row.output is not None  # noqa: S101
        sides = "·".join(map(str, row.input.spatial))
        return Working(output=(f"N = {sides} = {row.output.spatial[0]} tokens of width {row.input.depth}",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(view=True)


def _not_a_grid(x: Given, size: tuple[int, ...]) -> str:
    shown = "x".join(map(str, size))
    return f"{as_int(x.spatial[0])} tokens are not a {shown} grid ({prod(size):,} positions)"


class Grid(Kind):
    """Tokens back as a grid: N tokens of width D to H×W×D, N = H·W (`x.unflatten(2, (H, W))`), a view."""

    name = "grid"
    params = (
        Param(
            "size",
            per_dim("size"),
            required=True,
            form="the grid's sides, e.g. 14x14",
            help="The grid's sides, one per spatial dim (14x14 or [14, 14]); their product is the number of tokens.",
        ),
    )
    primary = "size"
    # grid-14x14 (or grid14x14), as mlp-3072 and pos_embed-197: the label reads back as the layer
    head = Head(rf"-?({DIMS})", ("size",), "-<S>")
    category = Category.RESHAPE
    example = ("{tokens: 196, width: 16}", "grid-14x14")
    output_rule = "size×D1"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return "grid-" + "x".join(map(str, per(p["size"], 1)))

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan((FunctionStep(".unflatten", (2, per(p["size"], 1))),))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        need_tokens(x, "grid")
        size = per(p["size"], 1)
        need.equal("tokens-not-a-grid", x.spatial[0], prod(size), why=partial(_not_a_grid, x, size))
        rf = None if x.rf is None else x.rf * len(size)
        return Sizes(size, x.depth, x.jump * len(size), rf, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        size = per(p["size"], 1)
        return Working(
            output=(f"{row.input.spatial[0]} tokens = {'·'.join(map(str, size))}: a grid of width {row.input.depth}",)
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(view=True)
