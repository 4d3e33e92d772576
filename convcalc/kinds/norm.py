"""Normalisations: batch, layer and group norm (a scale and shift per channel), and local response norm."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.base import (
    Category,
    Context,
    Kind,
    LayerFailure,
    Outcome,
    Params,
    State,
    Working,
)
from convcalc.kinds.closed import Closed, Expr, Shape, at_least, product
from convcalc.kinds.params import Param, boolean, positive
from convcalc.kinds.plan import FunctionStep, ModuleStep, Plan, changed, spatial_class
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged
from convcalc.kinds.vocab import OnnxOp, TorchModule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


AFFINE = Param(
    "affine",
    boolean("affine"),
    default=True,
    help="Whether the layer learns a scale and a shift per channel (default true).",
)


class _ChannelNorm(Kind):
    """A normalisation with a learnable scale and shift per channel (when affine)."""

    running_stats: ClassVar[bool] = False
    # Statistics per image over groups of channels (layernorm, groupnorm), not over the batch.
    per_image: ClassVar[bool] = True
    category = Category.ELEMENTWISE
    output_rule = "= input"
    params_rule = "2·D1"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        # A channel layernorm normalises what GroupNorm(1, C) does, with the same 2*C parameters.
        del rounding
        norm = ModuleStep("GroupNorm", (p.get("groups", 1), x.depth), changed(("affine", p["affine"], True)), "norm")
        return Plan((norm,))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        depth = x.volume.depth
        groups = p.get("groups", 1)
        if self.per_image and depth // groups * prod(x.volume.spatial) * ctx.batch == 1:
            # PyTorch's group_norm refuses it ("Expected more than 1 value per channel"): the
            # variance of one value is 0, and the output would be the shift alone.
            msg = (
                f"each of the {groups} group(s) holds one value ({depth}/{groups} channels × "
                f"{x.volume.values // depth or 1} positions × batch {ctx.batch}): nothing to normalise"
            )
            raise LayerFailure("one-value-per-group", msg)
        out = unchanged(x)
        if p["affine"]:
            out.weights, out.biases = depth, depth
        if self.running_stats:
            # Running mean and variance: saved with the model, never trained.
            out.buffers = 2 * depth
        return out

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        depth = x.depth
        groups: int = p.get("groups", 1)
        conditions = []
        if self.per_image:  # more than one value per group (apply's one-value-per-group)
            per_group = depth.floordiv(groups) * product(x.spatial) * ctx.batch
            conditions = at_least("one-value-per-group", per_group, 2)
        return Closed(
            output=x,
            weights=depth if p["affine"] else Expr.of(0),
            biases=depth if p["affine"] else Expr.of(0),
            buffers=2 * depth if self.running_stats else Expr.of(0),
            conditions=conditions,
        )

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        depth = row.input.depth
        lines = [f"params = 2·{depth} = {row.params:,} (scale and shift per channel)"] if row.params else []
        if row.buffers:
            lines.append(f"buffers = 2·{depth} = {row.buffers:,} (running mean and variance, not trained)")
        return Working(params=tuple(lines))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        if self.running_stats:
            # Batchnorm keeps its input and the batch's mean and 1/std per channel (float32).
            return Keep(input=True, fixed_stats=2 * row.input.depth)
        # Groupnorm (layernorm is one group) keeps the mean and 1/std of each group of each image.
        return Keep(input=True, stats=2 * int(row.config.get("groups", 1)))


class BatchNorm(_ChannelNorm):
    """Batch normalisation: 2*D1 learnable, plus 2*D1 running statistics (buffers)."""

    name = "batchnorm"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"bn": {}}
    torch_modules = (TorchModule(fromtorch.spatial("BatchNorm"), fromtorch.batchnorm),)
    onnx_ops = (OnnxOp(("BatchNormalization",), fromonnx.batchnorm),)
    params = (AFFINE,)
    running_stats = True
    per_image = False  # its statistics are over the batch and the positions (checked in training)
    example = ("56x56x64", "bn")
    params_rule = "2·D1, plus 2·D1 buffers"

    def label(self, p: Params) -> str:
        del p
        return "bn"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding  # a vector is N x C, which BatchNorm1d takes
        cls = spatial_class("BatchNorm", max(len(x.spatial), 1))
        return Plan((ModuleStep(cls, (x.depth,), changed(("affine", p["affine"], True)), "bn"),))


class LayerNorm(_ChannelNorm):
    """Layer normalisation over the channels: 2*D1 learnable."""

    name = "layernorm"
    params = (AFFINE,)
    example = ("56x56x64", "layernorm")


class GroupNorm(_ChannelNorm):
    """Group normalisation: channels in `groups` groups, 2*D1 learnable."""

    name = "groupnorm"
    torch_modules = (TorchModule(("GroupNorm",), fromtorch.groupnorm),)
    params = (
        Param(
            "groups",
            positive("groups"),
            required=True,
            form="the number of groups",
            help="The number of groups the channels are normalised in.",
        ),
        AFFINE,
    )
    primary = "groups"
    example = ("56x56x64", "groupnorm: 32")

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        if x.volume.depth % p["groups"]:
            msg = f"groups {p['groups']} does not divide the {x.volume.depth} channels"
            raise LayerFailure("groups-do-not-divide", msg)
        return super().apply(p, x, ctx)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        depth = x.static_depth("groupnorm")
        if depth % p["groups"]:
            msg = f"groups {p['groups']} does not divide the {depth} channels"
            raise LayerFailure("groups-do-not-divide", msg)
        return super().closed(p, x, ctx)


class LocalResponseNorm(Kind):
    """AlexNet's local response normalisation across `size` neighbouring channels: no weights."""

    name = "lrn"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"norm": {}}
    torch_modules = (TorchModule(("LocalResponseNorm",), fromtorch.lrn),)
    onnx_ops = (OnnxOp(("LRN",), fromonnx.lrn),)
    params = (
        Param("size", positive("size"), 5, help="The number of neighbouring channels each value is normalised over."),
    )
    primary = "size"
    category = Category.ELEMENTWISE
    example = ("55x55x96", "lrn")
    output_rule = "= input"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        lrn = ModuleStep("LocalResponseNorm", (p["size"],), stem="lrn")
        if x.spatial:
            return Plan((lrn,))
        # PyTorch's LocalResponseNorm wants N x C x ...: a vector gets a dim of 1 for it.
        return Plan((FunctionStep(".unsqueeze", (-1,)), lrn, FunctionStep(".squeeze", (-1,))))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del p, ctx
        return Closed(output=x)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, row, rounding
        return Working()

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        # F.local_response_norm is Python: x·x keeps x, the average pool keeps the squares padded
        # with size - 1 channels, the power keeps its base and its result (two more volumes).
        x = row.input
        padded = (x.depth + p["size"] - 1) * (x.values // x.depth)
        return Keep(input=True, values=padded + 2 * x.values)
