"""Tokens (issue 27): a grid cut into patches, a class token, a position embedding, the class token out.

A sequence of N tokens of width D is a 1-D volume, length N and depth D (`197x768`), so that every
figure of a volume applies to it. Its receptive field and jump are one value, the side of the
image's region a token sees (16 after a 16x16 patchify; the whole image's side after attention).
In the PyTorch program a token volume is N x D x L, channels first as every convcalc volume,
stored as torchvision's batch-first N x L x D (a transposed view); the modules of
convcalc.bridges.modules transpose to it inside.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from convcalc.algebra.sizes import as_int, multiply
from convcalc.kinds import fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import Category, Context, Head, Kind, LayerFailure, Params, State, Working, need_spatial
from convcalc.kinds.conv import Conv
from convcalc.kinds.params import BIAS, ROUNDING, Param, positive
from convcalc.kinds.plan import STRICT_NOTE, FunctionStep, ModuleStep, Plan, changed, dims, spatial_class
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged
from convcalc.kinds.vocab import TorchFunction, TorchModule
from convcalc.options import Rounding

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

PATCHIFY_NOTE = (
    "`patchify` is a conv with kernel = stride = P, then flatten(2): tokens N x D x L, channels first, "
    "stored as torchvision's N x L x D (its conv_proj, reshape and permute, and the copy its cat makes)."
)
TOKENS_NOTE = (
    "Token volumes are N x D x L tensors (channels first); `ClassToken`, `PositionEmbedding`, `SelfAttention` "
    "and `TokenMLP` transpose to torchvision's batch-first N x L x D inside."
)

_CONV = Conv()


def need_tokens(x: Given | Volume, kind: str) -> None:
    """The kinds after patchify read a sequence: one spatial dim, the tokens."""
    if len(x.spatial) != 1:
        msg = f"{kind} needs tokens, a volume of one spatial dim (length N, depth D), but its input is {x}"
        raise LayerFailure("needs-tokens", msg)


class Patchify(Kind):
    """A grid cut into P x P patches, each projected to D values (ViT's conv_proj): N = (H/P)·(W/P) tokens.

    Its arithmetic is a conv's with kernel = stride = P and no padding (convcalc.kinds.conv), then
    the grid's positions as one dim: params P·P·D1·D + D, MACs N·D·P·P·D1. Autograd keeps its input
    (the conv's; the flatten is a view).
    """

    name = "patchify"
    autocast = Autocast.LOWER  # a conv
    params = (
        Param(
            "size",
            positive("size"),
            required=True,
            form="the patch size P",
            help="P, the patch side: kernel and stride.",
        ),
        Param("width", positive("width"), required=True, form="the token width D", help="D, the width of each token."),
        BIAS,
        ROUNDING,
    )
    primary = "size"
    head = Head(r"(\d+)-(\d+)", ("size", "width"), "<P>-<D>")
    category = Category.CONV
    example = ("32x32x3", "patchify8-16")
    output_rule = "(H/P)·(W/P) tokens of width D"
    params_rule = "P·P·D1·D + D"

    def label(self, p: Params) -> str:
        return f"patchify{p['size']}-{p['width']}"

    @staticmethod
    def conv(p: Params) -> dict[str, object]:
        """The conv it is: kernel and stride P, no padding."""
        return {
            "filters": p["width"],
            "size": p["size"],
            "stride": p["size"],
            "pad": 0,
            "dilation": 1,
            "groups": 1,
            "bias": p["bias"],
            "activation": None,
            "rounding": p["rounding"],
        }

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        rounding = p["rounding"] or rounding
        conv = ModuleStep(
            spatial_class("Conv", len(x.spatial)),
            (x.depth, p["width"], dims(p["size"])),
            (("stride", p["size"]), *changed(("bias", p["bias"], True))),
            "conv_proj",
        )
        notes = (PATCHIFY_NOTE, STRICT_NOTE) if rounding is Rounding.STRICT else (PATCHIFY_NOTE,)
        # Tokens stored as N x L x D (a copy, as torchvision's cat makes), seen as N x D x L.
        steps = (FunctionStep(".flatten", (2,)), FunctionStep(".transpose", (1, 2)), FunctionStep(".contiguous"))
        return Plan((conv, *steps, FunctionStep(".transpose", (1, 2))), notes)

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        need_spatial(x, "patchify")
        grid = _CONV.rule(self.conv(p), x, need)
        # One dim of tokens: its receptive field and jump are the patch's side (the widest, the
        # longest step), so that what follows the tokens reads one value per dim.
        jump = None if None in grid.jump else max(grid.jump, key=lambda j: j or 0)
        rf = None if grid.rf is None else (max(grid.rf),)
        return replace(grid, spatial=(multiply(grid.spatial),), jump=(jump,), rf=rf)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        ones = (1,) * len(x.spatial)  # the grid's receptive field and jump are not shown here
        grid = _CONV.apply(self.conv(p), State(x, ones, ones), Context(rounding, x.spatial)).output
        conv = _CONV.working(self.conv(p), replace(row, output=grid), rounding)
        n = "·".join(map(str, grid.spatial))
        return Working(
            output=(*conv.output[:-1], f"N = {n} = {y.spatial[0]} tokens, D = {p['width']}"),
            params=conv.params,
            macs=conv.macs,
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(input=True)  # the conv's input, for the weights' gradient; the flatten is a view


class ClassToken(Kind):
    """A learned token put before the others (ViT's class token): N + 1 tokens, D params.

    torch.cat keeps nothing for backward (it only splits the gradient).
    """

    name = "cls_token"
    autocast = Autocast.PROMOTE  # the cat with a float32 token gives float32 under autocast
    torch_modules = (TorchModule(("ClassToken",), fromtorch.class_token),)
    category = Category.RESHAPE
    example = ("{tokens: 16, width: 16}", "cls_token")
    output_rule = "N + 1 tokens"
    params_rule = "D1"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, rounding
        return Plan((ModuleStep("ClassToken", (x.depth,), (), "class_token", own=True),), (TOKENS_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        need_tokens(x, "cls_token")
        return Sizes((x.spatial[0] + 1,), x.depth, x.jump, weights=x.depth)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        n = row.input.spatial[0]
        return Working(
            output=(f"N2 = N + 1 = {n} + 1 = {n + 1} tokens",),
            params=(f"params = D = {row.params:,} (the class token)",),
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()


LENGTH = Param(
    "length",
    positive("length"),
    None,
    help="The number of tokens it was learned for: the input must have as many (unset: as many as its input has).",
)


def _wrong_length(x: Given, length: int) -> str:
    n = as_int(x.spatial[0])
    return (
        f"the position embedding was learned for {length} tokens, but {n} reach it: "
        f"the input's size is tied to {length} tokens (resize the embedding, or change the input)"
    )


class PositionEmbedding(Kind):
    """A learned value added to every token at each place (ViT's pos_embedding): N·D params.

    Its `length` ties the input's size: a ViT-B/16 learned at 224x224 has 197 tokens, and another
    size must resize the embedding (`fit` names the tie). The add keeps nothing for backward.
    """

    name = "pos_embed"
    autocast = Autocast.PROMOTE  # the add of a float32 embedding gives float32 under autocast
    torch_modules = (TorchModule(("PositionEmbedding",), fromtorch.position_embedding),)
    params = (LENGTH,)
    primary = "length"
    head = Head(r"(?:-(\d+))?", ("length",), "[-<N>]")
    category = Category.ELEMENTWISE
    example = ("{tokens: 17, width: 16}", "pos_embed-17")
    output_rule = "= input"
    params_rule = "N·D1"

    def label(self, p: Params) -> str:
        return "pos_embed" if p["length"] is None else f"pos_embed-{p['length']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, rounding
        module = ModuleStep("PositionEmbedding", (x.spatial[0], x.depth), (), "pos_embedding", own=True)
        return Plan((module,), (TOKENS_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        need_tokens(x, "pos_embed")
        n = x.spatial[0]
        length = p["length"]
        if length is not None:
            why = partial(_wrong_length, x, length)
            need.equal("pos-embed-length", n, length, why=why)
        # Its length, where set, is the weight's (the input is tied to it); else the input's.
        return replace(unchanged(x), weights=(n if length is None else length) * x.depth)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        n, d = row.input.spatial[0], row.input.depth
        return Working(params=(f"params = N·D = {n}·{d} = {row.params:,} (one value per token and channel)",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()


class ClassTokenOut(Kind):
    """The class token alone (`x[:, 0]`, what ViT's head reads): a vector of D values, a view."""

    name = "class_token_out"
    torch_functions = (TorchFunction(("select",), fromtorch.select_call),)
    category = Category.RESHAPE
    example = ("{tokens: 17, width: 16}", "class_token_out")
    output_rule = "D1 (the first token)"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, x, rounding
        return Plan((FunctionStep(".select", (2, 0)),))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        need_tokens(x, "class_token_out")
        return Sizes((), x.depth, x.jump, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        return Working(output=(f"output = the first of {row.input.spatial[0]} tokens: {row.input.depth} values",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(view=True)
