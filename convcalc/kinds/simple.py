"""Layer kinds without windows: fully connected, normalisations, activations, reshapes."""

from __future__ import annotations

from fractions import Fraction
from typing import ClassVar

from convcalc.kinds.base import Context, Kind, LayerFailure, Outcome, Params, State, expand, need_spatial, whole
from convcalc.kinds.conv import dims_text
from convcalc.kinds.params import ACTIVATION, BIAS, Param, activation, boolean, per_dim, positive, probability
from convcalc.volume import Volume


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

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x, in_place=True)


class Dropout(Kind):
    """Dropout: the same volume, no weights, no extra memory at inference."""

    name = "dropout"
    params = (Param("p", probability, 0.5),)
    primary = "p"

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return unchanged(x, in_place=True)


class Flatten(Kind):
    """A view of the volume as one vector: no copy."""

    name = "flatten"

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
