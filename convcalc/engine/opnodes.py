"""The autograd nodes of convcalc.engine.recorder's ops: their names, a multiply's temporaries, F.pad's size, layouts.

Strides (measured): a slice that is not contiguous (a channel chunk at batch 2 or more, a
channels-last tensor after layernorm over channels' permutes) reshapes as an alias
(ReshapeAliasBackward0); ops keep a channels-last input's layout (LayerNorm, Linear and views
excepted); a global pool's mean of one is followed by as_strided (AsStridedBackward1, its
backward a new gradient). A join of three operands or more has two partial sums live at once.
An element-wise op's result and gradient are laid out as TensorIterator lays them out (as their
operand, or the gradient they receive), where convcalc.engine.layout knows it; a 1-d pool is the
2-d pool between an unsqueeze and a squeeze; GroupNorm copies an input not contiguous in its
suggested format (tokens stored N x L x D) and keeps the copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.engine.layout import Layout

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.engine.autograd import Graph
    from convcalc.engine.recorder import Forward
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
# The node of each function the kinds' plans call that records one (recorder.function).
NAMED = {
    "F.pad": "ConstantPadNdBackward0",
    "F.relu": "ReluBackward0",
    "F.silu": "SiluBackward0",
    "F.gelu": "GeluBackward0",
    "F.hardswish": "HardswishBackward0",
    "F.hardsigmoid": "HardsigmoidBackward0",
    "torch.tanh": "TanhBackward0",
    "torch.sigmoid": "SigmoidBackward0",
}
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


def copied(x: Tensor, row: LayerRow) -> bool:
    """Whether `contiguous(x.suggest_memory_format())` copies: channels last counts for a 2-d or 3-d grid only."""
    assert row.input is not None  # noqa: S101 - computed
    return (x.strided and not x.channels_last) or (x.channels_last and len(row.input.spatial) == 1)


def like(out: Tensor, x: Tensor) -> None:
    """An element-wise op's result: x's order of dims, where x's layout is known (convcalc.engine.layout)."""
    out.strided, out.channels_last = x.strided, x.channels_last
    out.layout = x.layout.like() if isinstance(x.layout, Layout) else None
    if isinstance(out.layout, Layout) and len(out.layout.shape) == 4:  # noqa: PLR2004 - N x C x H x W
        out.channels_last = out.layout.channels_last


def like_grad(graph: Graph, x: Tensor) -> Callable[[list[Tensor]], list[Tensor | None]]:
    """An element-wise op's backward: x's new gradient, laid out as the gradient it receives (TensorIterator)."""
    n = x.bytes

    def backward(g: list[Tensor]) -> list[Tensor | None]:
        t = graph.fresh(n)
        like(t, g[0] if g[0].storage.bytes >= n else x)  # the loss's expanded seed: the other operand's
        return [t, None]

    return backward


def viewed(g: Tensor, *, flips: bool) -> Tensor:
    """A view op's backward: a view of the gradient; a permute's swaps channels last and first."""
    v = g.view()
    if flips and g.storage.bytes >= g.bytes:
        v.channels_last = v.strided = not g.channels_last
    return v


def wrapped(  # noqa: PLR0913, PLR0917 - Forward.recorded's arguments
    f: Forward, cls: str, row: LayerRow, x: Tensor, params: list[Tensor], keep: Keep
) -> Tensor:
    """A 1-d pool, F.*_pool1d: unsqueeze(-2), the 2-d pool, squeeze(-2); a GroupNorm whose input copies first."""
    if cls == "GroupNorm":  # F.group_norm's input.contiguous(its suggested format), kept by the norm
        copy = f.out(x.bytes, f.node("CloneBackward0", row.path, [x], lambda g: [g[0]]))
        out = f.recorded(cls, row, copy, params, keep)
        copy.drop()
        return out
    wide = x.view(fn=f.node("UnsqueezeBackward0", row.path, [x], lambda g: [g[0].view()])).hold()
    if isinstance(x.layout, Layout):  # its strides say whether the 2-d op sees channels last
        wide.channels_last = x.layout.unsqueeze(-2).channels_last
    pooled = f.recorded(cls[:-2] + "2d", row, wide, params, keep)
    wide.drop()
    out = pooled.view(fn=f.node("SqueezeBackward1", row.path, [pooled], lambda g: [g[0].view()])).hold()
    pooled.drop()
    return out


def kept(out: Tensor, x: Tensor, cls: str, row: LayerRow) -> None:
    """A module's result keeps a channels-last input's layout (LayerNorm's not); on 3-d tensors only dropout's does."""
    assert row.input is not None  # noqa: S101 - computed
    flat = len(row.input.spatial) == 1 and not cls.endswith("2d")
    out.channels_last = x.channels_last and cls != "LayerNorm" and (not flat or cls.startswith("Dropout"))
    if cls.startswith("Dropout"):
        like(out, x)
