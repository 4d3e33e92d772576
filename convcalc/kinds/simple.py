"""Layer kinds without windows: fully connected, normalisations, activations, reshapes."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, ClassVar

from convcalc.kinds.base import Context, Kind, LayerFailure, Outcome, Params, State, expand, need_spatial, whole
from convcalc.kinds.conv import dims_text
from convcalc.kinds.params import ACTIVATION, BIAS, Param, activation, boolean, per_dim, positive, probability
from convcalc.kinds.plan import FLATTEN, FunctionStep, ModuleStep, Plan, changed, spatial_class
from convcalc.kinds.plan import activation as activation_steps
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.options import Rounding


def unchanged(x: State, *, in_place: bool = False) -> Outcome:
    """The input volume passes through."""
    return Outcome(output=x.volume, rf=x.rf, jump=x.jump, in_place=in_place)


class FullyConnected(Kind):
    """Every output unit sees every input value: in*units weights, units biases."""

    name = "fc"
    params = (Param("units", positive("units"), required=True, form="the number of output units"), BIAS, ACTIVATION)
    primary = "units"
    summary = "fc-<N>"

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
        # An fc unit sees the whole input image (and whatever its input already saw).
        rf = tuple(max(r, w) for r, w in zip(x.rf, ctx.input_spatial, strict=True))
        return Outcome(
            output=Volume((), units),
            rf=rf,
            jump=x.jump,
            weights=inputs * units,
            biases=units if p["bias"] else 0,
            macs=inputs * units,
            bias_adds=units if p["bias"] else 0,
        )


class _ChannelNorm(Kind):
    """A normalisation with a learnable scale and shift per channel (when affine)."""

    running_stats: ClassVar[bool] = False

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        # A channel layernorm normalises what GroupNorm(1, C) does, with the same 2*C parameters.
        del rounding
        norm = ModuleStep("GroupNorm", (p.get("groups", 1), x.depth), changed(("affine", p["affine"], True)), "norm")
        return Plan((norm,))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del ctx
        out = unchanged(x)
        depth = x.volume.depth
        if p["affine"]:
            out.weights, out.biases = depth, depth
        if self.running_stats:
            # Running mean and variance: saved with the model, never trained.
            out.buffers = 2 * depth
        return out


class BatchNorm(_ChannelNorm):
    """Batch normalisation: 2*D1 learnable, plus 2*D1 running statistics (buffers)."""

    name = "batchnorm"
    params = (Param("affine", boolean("affine"), default=True),)
    running_stats = True

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
    params = (Param("affine", boolean("affine"), default=True),)


class GroupNorm(_ChannelNorm):
    """Group normalisation: channels in `groups` groups, 2*D1 learnable."""

    name = "groupnorm"
    params = (
        Param("groups", positive("groups"), required=True, form="the number of groups"),
        Param("affine", boolean("affine"), default=True),
    )
    primary = "groups"

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        if x.volume.depth % p["groups"]:
            msg = f"groups {p['groups']} does not divide the {x.volume.depth} channels"
            raise LayerFailure("groups-do-not-divide", msg)
        return super().apply(p, x, ctx)


class LocalResponseNorm(Kind):
    """AlexNet's local response normalisation across `size` neighbouring channels: no weights."""

    name = "lrn"
    params = (Param("size", positive("size"), 5),)
    primary = "size"

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


class Activation(Kind):
    """An element-wise function: no weights, and no extra memory (computed in place)."""

    name = "activation"
    params = (Param("function", activation, required=True, form="relu, sigmoid, ..."),)
    primary = "function"

    def label(self, p: Params) -> str:
        return str(p["function"])

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan(activation_steps(p["function"]))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x, in_place=True)


class Dropout(Kind):
    """Dropout: the same volume, no weights, no extra memory at inference."""

    name = "dropout"
    params = (Param("p", probability, 0.5),)
    primary = "p"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan((ModuleStep("Dropout", (), changed(("p", p["p"], 0.5)), "dropout"),))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x, in_place=True)


class Flatten(Kind):
    """A view of the volume as one vector: no copy."""

    name = "flatten"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del p, x, rounding
        return Plan((FLATTEN,))

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return Outcome(output=Volume((), x.volume.values), rf=x.rf, jump=x.jump, in_place=True)


class Upsample(Kind):
    """Nearest-neighbour upsampling: every spatial dim times `scale`."""

    name = "upsample"
    params = (Param("scale", per_dim("scale"), 2),)
    primary = "scale"

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


KINDS: tuple[Kind, ...] = (
    FullyConnected(),
    BatchNorm(),
    LayerNorm(),
    GroupNorm(),
    LocalResponseNorm(),
    Activation(),
    Dropout(),
    Flatten(),
    Upsample(),
)
