"""Layer kinds without windows: fully connected, normalisations, activations, reshapes."""

from __future__ import annotations

from fractions import Fraction
from math import prod
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds.base import (
    Category,
    Context,
    Head,
    Kind,
    LayerFailure,
    Outcome,
    Params,
    State,
    Working,
    expand,
    formula_names,
    need_spatial,
    per,
    whole,
)
from convcalc.kinds.closed import Closed, Expr, Shape, at_least, product
from convcalc.kinds.conv import dims_text
from convcalc.kinds.params import ACTIVATION, BIAS, DIMS, Param, activation, boolean, per_dim, positive, probability
from convcalc.kinds.plan import FLATTEN, FunctionStep, ModuleStep, Plan, changed, spatial_class
from convcalc.kinds.plan import activation as activation_steps
from convcalc.kinds.saved import Keep, fused, standalone
from convcalc.options import ACTIVATIONS
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.options import Rounding
    from convcalc.report import Exact, LayerRow


def unchanged(x: State, *, in_place: bool = False) -> Outcome:
    """The input volume passes through."""
    return Outcome(output=x.volume, rf=x.rf, jump=x.jump, in_place=in_place)


class FullyConnected(Kind):
    """Every output unit sees every input value: in*units weights, units biases."""

    name = "fc"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {"dense": {}, "linear": {}}
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

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        units: int = p["units"]
        inputs = x.volume.values
        # An fc unit sees the whole input: its receptive field is the input's extent (DESIGN §4).
        rf: tuple[Exact, ...] = ctx.input_spatial
        return Outcome(
            output=Volume((), units),
            rf=rf,
            jump=x.jump,
            weights=inputs * units,
            biases=units if p["bias"] else 0,
            macs=inputs * units,
            bias_adds=units if p["bias"] else 0,
        )

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        units: int = p["units"]
        bias = Expr.of(units if p["bias"] else 0)
        inputs = x.values
        return Closed(
            output=Shape((), Expr.of(units), x.jump),
            weights=inputs * units,
            biases=bias,
            macs=inputs * units,
            bias_adds=bias,
        )

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


class Activation(Kind):
    """An element-wise function: no weights, and no extra memory (computed in place)."""

    name = "activation"
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {name: {"function": name} for name in ACTIVATIONS}
    params = (Param("function", activation, required=True, form="relu, sigmoid, ...", help="The activation function."),)
    primary = "function"
    category = Category.ELEMENTWISE
    example = ("55x55x96", "relu")
    output_rule = "= input"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return str(p["function"])

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan(activation_steps(p["function"]))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x, in_place=True)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del p, ctx
        return Closed(output=x, in_place=True)

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

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x, in_place=True)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del p, ctx
        return Closed(output=x, in_place=True)

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
    category = Category.RESHAPE
    example = ("7x7x512", "flatten")
    output_rule = "H·W·D"
    params_rule = "0"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, x, rounding
        return Plan((FLATTEN,))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return Outcome(output=Volume((), x.volume.values), rf=x.rf, jump=x.jump, in_place=True)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del p, ctx
        return Closed(output=Shape((), x.values, x.jump), in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del p, rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        values = "·".join(map(str, row.input.as_list()))
        return Working(output=(f"output = {values} = {row.input.values:,} values in one vector",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(view=True)


class Upsample(Kind):
    """Nearest-neighbour upsampling: every spatial dim times `scale`."""

    name = "upsample"
    params = (
        Param(
            "scale",
            per_dim("scale"),
            2,
            help="The factor every spatial dim is multiplied by: one number, or one per dim.",
        ),
    )
    primary = "scale"
    head = Head(rf"({DIMS})?", ("scale",), "[<N>]")
    category = Category.RESHAPE
    example = ("14x14x64", "upsample")
    output_rule = "W·scale per dim"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return f"upsample{dims_text(p['scale'])}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        scale = p["scale"] if isinstance(p["scale"], int) else tuple(float(s) for s in p["scale"])
        return Plan((ModuleStep("Upsample", (), (("scale_factor", scale), ("mode", "nearest")), "upsample"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        v = x.volume
        need_spatial(v, "upsample")
        scale = expand(p["scale"], v, "scale")
        spatial = tuple(w * s for w, s in zip(v.spatial, scale, strict=True))
        jump = tuple(whole(Fraction(j) / s) for j, s in zip(x.jump, scale, strict=True))
        return Outcome(output=Volume(spatial, v.depth), rf=x.rf, jump=jump)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        need_spatial(x, "upsample")
        scale = expand(p["scale"], x, "scale")
        spatial = tuple(w * s for w, s in zip(x.spatial, scale, strict=True))
        jump = tuple(None if j is None else whole(Fraction(j) / s) for j, s in zip(x.jump, scale, strict=True))
        return Closed(output=Shape(spatial, x.depth, jump))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        names = formula_names(len(x.spatial))
        scale = per(p["scale"], len(x.spatial))
        return Working(
            output=tuple(f"{n}2 = {w}·{s} = {o}" for n, w, s, o in zip(names, x.spatial, scale, y.spatial, strict=True))
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()  # each output value is one input value: the gradient needs no tensor


class PixelShuffle(Kind):
    """Depth to space (PyTorch's PixelShuffle): H×W×C·r² → rH×rW×C, no weights."""

    name = "pixel_shuffle"
    params = (
        Param(
            "factor",
            positive("factor"),
            2,
            help="r, the upscale factor: each r·r group of channels becomes an r×r patch of one channel.",
        ),
    )
    primary = "factor"
    head = Head(r"(\d+)?", ("factor",), "[<r>]")
    category = Category.RESHAPE
    example = ("56x56x64", "pixel_shuffle2")
    output_rule = "rH×rW×D1/r² (2-D inputs)"
    params_rule = "0"

    def label(self, p: Params) -> str:
        return f"pixel_shuffle{p['factor']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan((ModuleStep("PixelShuffle", (p["factor"],), stem="shuffle"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        v, r = x.volume, p["factor"]
        # PyTorch shuffles the last two dims only: (N, C·r², H, W) → (N, C, H·r, W·r).
        if len(v.spatial) != 2:  # noqa: PLR2004 - height and width
            msg = f"pixel_shuffle needs a 2-D volume (height, width, depth), but its input is {v}"
            raise LayerFailure("needs-2d-input", msg)
        if v.depth % (r * r):
            msg = f"pixel_shuffle{r} needs a depth divisible by r² = {r * r}, but the input {v} has {v.depth}"
            raise LayerFailure("depth-not-divisible", msg)
        spatial = tuple(w * r for w in v.spatial)
        # Each output value is one input value: the field stays, the grid gets r times finer.
        jump = tuple(whole(Fraction(j) / r) for j in x.jump)
        return Outcome(output=Volume(spatial, v.depth // (r * r)), rf=x.rf, jump=jump)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        del ctx
        r: int = p["factor"]
        if len(x.spatial) != 2:  # noqa: PLR2004 - height and width
            msg = f"pixel_shuffle needs a 2-D volume (height, width, depth), but its input is {x}"
            raise LayerFailure("needs-2d-input", msg)
        depth = x.static_depth("pixel_shuffle")
        if depth % (r * r):
            msg = f"pixel_shuffle{r} needs a depth divisible by r² = {r * r}, but the input {x} has {depth}"
            raise LayerFailure("depth-not-divisible", msg)
        jump = tuple(None if j is None else whole(Fraction(j) / r) for j in x.jump)
        return Closed(output=Shape(tuple(w * r for w in x.spatial), Expr.of(depth // (r * r)), jump))

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        x, y = row.input, row.output
        assert x is not None  # noqa: S101 - a computed row has both
        assert y is not None  # noqa: S101
        r = p["factor"]
        names = formula_names(len(x.spatial))
        return Working(
            output=(
                *(f"{n}2 = {w}·{r} = {o}" for n, w, o in zip(names, x.spatial, y.spatial, strict=True)),
                f"D2 = D1/r² = {x.depth}/{r * r} = {y.depth}",
            )
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep()  # each output value is one input value: the gradient needs no tensor
