"""The built-in kinds' torch.nn modules and torch functions: how their attributes become a layer's parameters.

Each kind names these readers in its `torch_modules` and `torch_functions` (convcalc.kinds.vocab);
`convcalc import` calls them on a traced model's modules and calls. No torch here: a module's
attributes are read by name.
"""

from __future__ import annotations

from typing import Any

from convcalc.kinds.vocab import Call, Layer, TorchFunction, TorchModule, always, ints
from convcalc.options import ActivationFunction

DIMS = ("1d", "2d", "3d")
DROPOUT_P = 0.5  # PyTorch's default


def spatial(*stems: str) -> tuple[str, ...]:
    """Conv1d, Conv2d, Conv3d ...: PyTorch's classes of a module for 1 to 3 spatial dims."""
    return tuple(f"{stem}{d}" for stem in stems for d in DIMS)


def window(stride: Any, padding: Any, dilation: Any, default_stride: Any = 1) -> dict[str, Any]:
    """A window's stride, pad and dilation, each only when it is not the default."""
    found: dict[str, Any] = {}
    if ints(stride) != default_stride:
        found["stride"] = ints(stride)
    if isinstance(padding, str):
        if padding == "same":
            found["pad"] = "same"
    elif ints(padding) != 0:
        found["pad"] = ints(padding)
    if ints(dilation) != 1:
        found["dilation"] = ints(dilation)
    return found


def conv(m: Any) -> Layer | None:
    """Conv*d and ConvTranspose*d with zero padding (groups, `depthwise`, output_padding, no bias)."""
    if m.padding_mode != "zeros":
        return None
    transposed = type(m).__name__.startswith("ConvTranspose")
    found: dict[str, Any] = {"filters": m.out_channels, "size": ints(m.kernel_size)}
    found.update(window(m.stride, m.padding, m.dilation))
    if m.groups != 1:
        found["groups"] = "depthwise" if m.groups == m.in_channels == m.out_channels else m.groups
    if transposed and any(m.output_padding):
        found["output_padding"] = ints(m.output_padding)
    if m.bias is None:
        found["bias"] = False
    return {"deconv" if transposed else "conv": found}


def pool(m: Any) -> Layer:
    """MaxPool*d and AvgPool*d (`ceil_mode` is `rounding: ceil`)."""
    found: dict[str, Any] = {"size": ints(m.kernel_size)}
    found.update(window(m.stride or m.kernel_size, m.padding, getattr(m, "dilation", 1), default_stride=found["size"]))
    if m.ceil_mode:
        found["rounding"] = "ceil"
    return {"maxpool" if type(m).__name__.startswith("Max") else "avgpool": found}


def pool_call(call: Call) -> Layer | None:
    """F.max_pool2d(x, size, stride, padding, dilation, ceil_mode) and F.avg_pool2d(x, size, stride, padding, ceil)."""
    avg = "avg" in call.name
    if call.arg(6, "return_indices", default=False) or (avg and call.arg(6, "divisor_override", None) is not None):
        return None
    found: dict[str, Any] = {"size": ints(call.arg(1, "kernel_size", 1))}
    stride = call.arg(2, "stride", None) or found["size"]
    dilation = 1 if avg else call.arg(4, "dilation", 1)
    found.update(window(stride, call.arg(3, "padding", 0), dilation, default_stride=found["size"]))
    if call.arg(4 if avg else 5, "ceil_mode", default=False):
        found["rounding"] = "ceil"
    return {"avgpool" if avg else "maxpool": found}


def rank(value: Any) -> int:
    """The number of dims of a traced call's tensor argument (its fx node's shape, as fx.py records it), else 0."""
    return len(getattr(value, "meta", {}).get("convcalc_shape", ()))


def mean_call(call: Call) -> Layer | None:
    """x.mean((2, 3)) and torch.mean(x, (2, 3)), keepdim or not: the mean over every spatial dim is a global pool."""
    dims = call.arg(1, "dim", None)
    n = rank(call.args[0]) if call.args else 0
    dims = (dims,) if isinstance(dims, int) else dims
    if n < 3 or not isinstance(dims, (tuple, list)) or not all(isinstance(d, int) for d in dims):  # noqa: PLR2004
        return None
    return {"gap": None} if sorted(d % n for d in dims) == list(range(2, n)) else None


def layer_norm_call(call: Call) -> Layer | None:
    """F.layer_norm(x, (C,), weight, bias) on a vector (N x C): layernorm over its channels."""
    shape: tuple[int, ...] = getattr(call.args[0], "meta", {}).get("convcalc_shape", ()) if call.args else ()
    normalized = call.arg(1, "normalized_shape", None)
    if len(shape) != 2 or not isinstance(normalized, (tuple, list)) or list(normalized) != [shape[1]]:  # noqa: PLR2004
        return None
    affine = call.arg(2, "weight", None) is not None
    return {"layernorm": None if affine else {"affine": False}}


def _adaptive(kind: str, output: Any) -> Layer:
    out = ints(output)
    return {f"g{kind[0]}p": None} if out == 1 else {"adaptive_pool": {"type": kind, "output": out}}


def adaptive(m: Any) -> Layer:
    """AdaptiveAvgPool*d and AdaptiveMaxPool*d: a global pool when the output is 1."""
    return _adaptive("avg" if "Avg" in type(m).__name__ else "max", m.output_size)


def adaptive_call(call: Call) -> Layer:
    """F.adaptive_avg_pool2d(x, size) and F.adaptive_max_pool2d."""
    return _adaptive("avg" if "avg" in call.name else "max", call.arg(1, "output_size", None) or 0)


def linear(m: Any) -> Layer:
    """Linear."""
    return {"fc": {"units": m.out_features, **({"bias": False} if m.bias is None else {})}}


def batchnorm(m: Any) -> Layer | None:
    """BatchNorm*d with running statistics (without, it normalizes by the batch's: no convcalc kind)."""
    if not m.track_running_stats:
        return None
    return {"bn": None if m.affine else {"affine": False}}


def groupnorm(m: Any) -> Layer:
    """GroupNorm."""
    return {"groupnorm": {"groups": m.num_groups, **({} if m.affine else {"affine": False})}}


def lrn(m: Any) -> Layer:
    """LocalResponseNorm."""
    return {"lrn": m.size}


def _dropout(p: float) -> Layer:
    return {"dropout": None if p == DROPOUT_P else p}


def dropout(m: Any) -> Layer:
    """Dropout, Dropout1d/2d/3d."""
    return _dropout(m.p)


def dropout_call(call: Call) -> Layer:
    """F.dropout(x, p)."""
    return _dropout(call.arg(1, "p", DROPOUT_P))


def flatten(m: Any) -> Layer | None:
    """Flatten() with its defaults: everything but the batch in one vector."""
    return {"flatten": None} if m.start_dim == 1 and m.end_dim == -1 else None


def flatten_call(call: Call) -> Layer | None:
    """torch.flatten(x, 1) or x.flatten(1)."""
    flat = call.arg(1, "start_dim", 0) == 1 and call.arg(2, "end_dim", -1) == -1
    return {"flatten": None} if flat else None


def pixel_shuffle(m: Any) -> Layer:
    """PixelShuffle."""
    return {"pixel_shuffle": m.upscale_factor}


def upsample(m: Any) -> Layer | None:
    """Upsample, nearest, by whole scale factors."""
    scale = m.scale_factor
    if m.mode != "nearest" or scale is None:
        return None
    scales = scale if isinstance(scale, tuple) else (scale,)
    if not all(float(s).is_integer() for s in scales):
        return None
    return {"upsample": ints(tuple(int(s) for s in scales) if isinstance(scale, tuple) else int(scale))}


def activation_modules() -> tuple[TorchModule, ...]:
    """Every activation's torch.nn classes (convcalc.options.ActivationFunction)."""
    return tuple(TorchModule(a.modules, always({a.value: None})) for a in ActivationFunction if a.modules)


def activation_functions() -> tuple[TorchFunction, ...]:
    """Every activation's torch functions and tensor methods (F.relu, torch.sigmoid, x.relu_())."""
    return tuple(TorchFunction(a.functions, always({a.value: None})) for a in ActivationFunction if a.functions)


def stochastic_depth(m: Any) -> Layer:
    """torchvision.ops.StochasticDepth."""
    return {"stochastic_depth": {"p": float(m.p), **({} if m.mode == "row" else {"mode": m.mode})}}


def stochastic_depth_call(call: Call) -> Layer:
    """torchvision.ops.stochastic_depth(x, p, mode, training): the layer whatever `training` is."""
    mode = call.arg(2, "mode", "row")
    return {"stochastic_depth": {"p": float(call.arg(1, "p", 0.0)), **({} if mode == "row" else {"mode": mode})}}


def channel_shuffle(m: Any) -> Layer:
    """ChannelShuffle."""
    return {"channel_shuffle": int(m.groups)}


def channel_shuffle_call(call: Call) -> Layer:
    """F.channel_shuffle(x, groups), torch.native_channel_shuffle (and ShuffleNet's own function of that name)."""
    return {"channel_shuffle": int(call.arg(1, "groups", 1))}


def layernorm2d(m: Any) -> Layer | None:
    """LayerNorm2d, torchvision's (ConvNeXt): nn.LayerNorm over the channels of each position."""
    if len(m.normalized_shape) != 1 or (m.elementwise_affine and m.bias is None):
        return None  # over more dims than the channels, or a scale without its shift
    return {"layernorm": {"over": "channels", **({} if m.elementwise_affine else {"affine": False})}}


def multihead_attention(m: Any) -> Layer | None:
    """nn.MultiheadAttention as the `attention` kind computes it: one width for q, k and v, no added key or zero.

    The call's own arguments (query is key is value, no mask, need_weights) are the importer's to read.
    """
    if not m._qkv_same_embed_dim or m.bias_k is not None or m.add_zero_attn:  # noqa: SLF001 - torch's own flag
        return None
    found: dict[str, Any] = {"heads": int(m.num_heads)}
    if m.in_proj_bias is None:
        found["bias"] = False
    if m.dropout:
        found["dropout"] = float(m.dropout)
    return {"attention": found}


_MLP = ("Linear", None, "Dropout", "Linear", "Dropout")


def mlp_block(m: Any) -> Layer | None:
    """MLPBlock, torchvision's ViT's (and TokenMLP, convcalc's own): Linear, activation, Dropout, Linear, Dropout.

    The `mlp` kind: from D to `hidden` and back to D, both Linears with a bias, one dropout probability.
    """
    parts = list(m.children())
    names = [type(p).__name__ for p in parts]
    if len(parts) != len(_MLP) or any(want and name != want for want, name in zip(_MLP, names, strict=True)):
        return None
    first, _, drop, second, last = parts
    kind = next((a for a in ActivationFunction if names[1] in a.modules and not a.kwargs), None)
    if (
        kind is None
        or second.out_features != first.in_features
        or second.in_features != first.out_features
        or first.bias is None
        or second.bias is None
        or drop.p != last.p
    ):
        return None
    found: dict[str, Any] = {"hidden": int(first.out_features)}
    if kind is not ActivationFunction.GELU:
        found["activation"] = kind.value
    if drop.p:
        found["dropout"] = float(drop.p)
    return {"mlp": found}


def self_attention(m: Any) -> Layer | None:
    """SelfAttention, convcalc's own (an exported spec's, convcalc.bridges.modules): its need_weights an attribute."""
    layer = multihead_attention(m)
    if layer is not None and not m.need_weights:
        layer["attention"]["need_weights"] = False
    return layer


def class_token(m: Any) -> Layer:
    """ClassToken, convcalc's own (an exported spec's)."""
    del m
    return {"cls_token": None}


def position_embedding(m: Any) -> Layer:
    """PositionEmbedding, convcalc's own (an exported spec's): learned for its weight's tokens.

    Its weight is read from named_parameters: while fx traces, `m.weight` is a traced value, not the parameter.
    """
    return {"pos_embed": {"length": int(dict(m.named_parameters())["weight"].shape[1])}}


def select_call(call: Call) -> Layer | None:
    """`x.select(2, 0)` on tokens N x D x L (an exported spec's class_token_out): the first token."""
    if rank(call.args[0] if call.args else None) != 3 or call.arg(2, "index", None) != 0:  # noqa: PLR2004
        return None
    return {"class_token_out": None} if call.arg(1, "dim", None) in {2, -1} else None
