"""The autograd nodes of convcalc.engine.recorder's ops: their names, a multiply's temporaries, F.pad's size.

Strides (measured): a slice that is not contiguous (a channel chunk at batch 2 or more, a
channels-last tensor after layernorm over channels' permutes) reshapes as an alias
(ReshapeAliasBackward0); ops keep a channels-last input's layout (LayerNorm, Linear and views
excepted); a global pool's mean of one is followed by as_strided (AsStridedBackward1, its
backward a new gradient). A join of three operands or more has two partial sums live at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.engine.tape import Tensor
    from convcalc.kinds.plan import FunctionStep
    from convcalc.kinds.saved import Keep
    from convcalc.report import LayerRow


# The node of each module's op, by the start of its class (Conv covers ConvTranspose).
_NODES = (
    ("Conv", "ConvolutionBackward0"),
    ("BatchNorm", "NativeBatchNormBackward0"),
    ("MaxPool", "MaxPool{n}DWithIndicesBackward0"),
    ("AdaptiveMaxPool", "AdaptiveMaxPool{n}DBackward0"),
    ("AvgPool", "AvgPool{n}DBackward0"),
    ("ChannelShuffle", "ChannelShuffleBackward0"),
    ("LayerNorm", "NativeLayerNormBackward0"),
    ("GroupNorm", "NativeGroupNormBackward0"),  # layernorm over all, groupnorm
    ("Upsample", "UpsampleNearest{n}DBackward0"),  # the upsample kind's nearest mode
)
# Nodes named as PyTorch names them that keep what their kind's rule says (measured).
BY_RULE = {"ChannelShuffleBackward0", "NativeLayerNormBackward0", "NativeGroupNormBackward0"}
BY_RULE |= {f"UpsampleNearest{n}DBackward0" for n in (1, 2, 3)}


def node_name(cls: str, row: LayerRow) -> str:
    """The node a module's op records (the module docstring says what each keeps)."""
    if cls.startswith("AdaptiveAvgPool"):  # to 1 PyTorch takes the mean
        assert row.output is not None  # noqa: S101 - computed
        return "MeanBackward1" if all(d == 1 for d in row.output.spatial) else f"AdaptiveAvgPool{cls[-2]}DBackward0"
    name = next((node for start, node in _NODES if cls.startswith(start)), f"{cls}Backward")
    assert row.input is not None  # noqa: S101 - computed
    return name.format(n=cls[-2] if cls[-1] == "d" else len(row.input.spatial))


def unreduced(a: Tensor, b: Tensor, size: int) -> int:
    """A multiply's backward beside its results: a broadcast operand's gradient is the full product, then summed.

    MulBackward0 makes `b`'s (other's) gradient first (measured): `b`'s full product is gone by
    the time `a`'s is made, unless `a` needs none.
    """
    if (a.grad and a.bytes < size) or (b.grad and b.bytes < size and not a.grad):
        return size
    return 0


def padded(row: LayerRow, pad: FunctionStep) -> tuple[int, ...]:
    """F.pad's output per image: the flat pads apply to the last dims first, two per dim."""
    assert row.input is not None  # noqa: S101 - computed
    flat = pad.args[0]
    assert isinstance(flat, tuple)  # noqa: S101 - a pad step's argument
    dims = [row.input.depth, *row.input.spatial]
    for i in range(len(flat) // 2):
        dims[-1 - i] += int(flat[2 * i]) + int(flat[2 * i + 1])
    return tuple(dims)


def own_bytes(keep: Keep, batch: int) -> int:
    """The bytes of a `Keep` beside its input and output: indices, statistics, masks, values (float32)."""
    per_image = keep.values * 4 + keep.indices * 8 + keep.masks * 4 + keep.stats * 4
    return batch * per_image + (keep.fixed_stats + keep.fixed_values) * 4
