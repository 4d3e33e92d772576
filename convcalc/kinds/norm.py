"""Normalisations: batch, layer and group norm (a scale and shift per channel), and local response norm."""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.algebra.sizes import as_int, floordiv, multiply
from convcalc.kinds import fromonnx, fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import (
    Category,
    Kind,
    LayerFailure,
    Params,
    Working,
)
from convcalc.kinds.params import Param, boolean, choice, positive
from convcalc.kinds.plan import FunctionStep, ModuleStep, Plan, changed, spatial_class
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged
from convcalc.kinds.vocab import OnnxOp, TorchFunction, TorchModule

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.kinds.rule import Given, Need, Sizes
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


AFFINE = Param(
    "affine",
    boolean("affine"),
    default=True,
    help="Whether the layer learns a scale and a shift per channel (default true).",
)


def _one_value(x: Given, groups: int) -> str:
    depth, values = as_int(x.depth), as_int(x.values)
    return (
        f"each of the {groups} group(s) holds one value ({depth}/{groups} channels × "
        f"{values // depth or 1} positions × batch {x.ctx.batch}): nothing to normalise"
    )


_FLOAT = 4  # convcalc.pytorch builds float32 modules


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

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        depth = x.depth
        groups: int = p.get("groups", 1)
        if self.per_image:
            # PyTorch's group_norm refuses one value per group ("Expected more than 1 value per
            # channel"): the variance of one value is 0, and the output would be the shift alone.
            per_group = floordiv(depth, groups) * multiply(x.spatial) * x.ctx.batch
            need.at_least("one-value-per-group", per_group, 2, why=partial(_one_value, x, groups))
        out = unchanged(x)
        return replace(
            out,
            weights=depth if p["affine"] else 0,
            biases=depth if p["affine"] else 0,
            # Running mean and variance: saved with the model, never trained.
            buffers=2 * depth if self.running_stats else 0,
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

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """native_group_norm's mean and rstd, N x G float32 each, dropped under no_grad (batchnorm: none)."""
        del row
        return 0 if self.running_stats else 2 * batch * int(p.get("groups", 1)) * _FLOAT


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


class NormOver(str, Enum):
    """What one layernorm statistic is over: an image's channels and positions, or one position's channels."""

    ALL = "all"  # GroupNorm(1, C): each image's values
    CHANNELS = "channels"  # ConvNeXt's LayerNorm2d: nn.LayerNorm(C) at each position


def _over(p: Params) -> NormOver:
    return NormOver(p.get("over", NormOver.ALL))


CHANNELS_NOTE = (
    "`layernorm` over channels is nn.LayerNorm(C) between two permutes (channels last, and back), "
    "as torchvision's LayerNorm2d computes it."
)


class LayerNorm(_ChannelNorm):
    """Layer normalisation with a scale and shift per channel (2*D1 learnable), over each image or each position.

    `over: all` (the default) normalises each image's values, as GroupNorm(1, C); `over: channels`
    each position's channels, as ConvNeXt's LayerNorm2d. That one keeps its input and a mean and
    1/std per position (float32; in the input's type without affine), measured with torch 2.13.0
    (tests/test_zoo_kinds.py, tests/test_amp_oracle.py).
    """

    name = "layernorm"
    autocast = Autocast.FULL_ON_CUDA
    torch_modules = (TorchModule(("LayerNorm2d",), fromtorch.layernorm2d),)
    torch_functions = (TorchFunction(("layer_norm",), fromtorch.layer_norm_call),)
    params = (
        AFFINE,
        Param(
            "over",
            choice(NormOver, "over"),
            NormOver.ALL,
            help="all: each image's values (default); channels: each position's channels (LayerNorm2d).",
        ),
    )
    example = ("56x56x64", "layernorm")

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        if _over(p) is NormOver.ALL:
            return super().plan(p, x, rounding)
        norm = ModuleStep("LayerNorm", (x.depth,), changed(("elementwise_affine", p["affine"], True)), "norm")
        n = len(x.spatial)
        if not n:
            return Plan((norm,))  # a vector's channels are its last dim already
        last = FunctionStep(".permute", (0, *range(2, n + 2), 1))
        back = FunctionStep(".permute", (0, n + 1, *range(1, n + 1)))
        return Plan((last, norm, back), (CHANNELS_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        if _over(p) is NormOver.ALL:
            return super().rule(p, x, need)
        # nn.LayerNorm takes one channel too (its output is then the shift): no condition.
        affine = x.depth if p["affine"] else 0
        return replace(unchanged(x), weights=affine, biases=affine)

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        if _over(p) is NormOver.ALL:
            return super().saved(p, row, rounding)
        assert row.input is not None  # noqa: S101 - a computed row has an input
        positions = row.input.values // row.input.depth
        if p["affine"]:  # a float32 weight: PyTorch's CPU kernel for mixed types keeps float32 statistics
            return Keep(input=True, stats=2 * positions)
        # Without weights the op runs in its input's type, and so are its mean and 1/std (measured
        # in bfloat16 under CPU autocast, tests/test_amp_oracle.py; float32 the same as stats).
        return Keep(input=True, values=2 * positions)

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """Over channels, native_layer_norm's mean and rstd: a float32 per position each, dropped under no_grad."""
        if _over(p) is NormOver.ALL:
            return super().scratch(p, row, batch)
        assert row.input is not None  # noqa: S101 - a computed row has an input
        return 2 * batch * (row.input.values // row.input.depth) * _FLOAT


class GroupNorm(_ChannelNorm):
    """Group normalisation: channels in `groups` groups, 2*D1 learnable."""

    name = "groupnorm"
    autocast = Autocast.FULL_ON_CUDA
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

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        depth = x.static_depth("groupnorm")
        if depth % p["groups"]:
            msg = f"groups {p['groups']} does not divide the {depth} channels"
            raise LayerFailure("groups-do-not-divide", msg)
        return super().rule(p, x, need)


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

    def step_followed(self, p: Params, row: LayerRow) -> bool:
        """On a grid of 2 dims or more (engine/lrn_step.py); on 3-d tensors F.local_response_norm runs other ops."""
        del p
        assert row.input is not None  # noqa: S101 - a computed row has an input
        return len(row.input.spatial) >= 2  # noqa: PLR2004 - N x C x H x W and more

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del p, need
        return unchanged(x)

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

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """F.local_response_norm's temporaries beside its input under no_grad (torch/nn/functional.py).

        div = x*x; padded by size - 1 channels (the square still held); averaged (the padded one
        still held); then `div.mul(alpha).add(k).pow(beta)`, whose add and pow run while the
        average and one temporary are held: three volumes at most beside the input and output,
        or the square and the padded one.
        """
        assert row.input is not None  # noqa: S101 - a computed row has an input
        c, v = row.input.depth, batch * row.input.values * _FLOAT
        return max(2 * v, v // c * (c + int(p["size"]) - 1))
