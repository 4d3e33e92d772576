"""The built-in kinds' ONNX operators: each node read as a layer and checked against the shapes it reads.

Each kind names these readers in its `onnx_ops` (convcalc.kinds.vocab). A node that is malformed
(a conv whose weight does not fit its input's channels, pads that are not a begin and an end per
spatial dim, a pool with no kernel) is refused with `node.bad`, which names it, since a spec
written from it would compute something else; None is a node that is well formed but no layer
convcalc can write (uneven padding, a weight computed at run time). No onnx here: the node is
read as the importer gives it.
"""

from __future__ import annotations

from math import prod
from typing import Any

from convcalc.kinds.vocab import Layer, OnnxNode, OnnxOp, always
from convcalc.options import ActivationFunction

INPUTS_WITH_BIAS = 3  # Conv's and Gemm's inputs: X, W and B
BN_INPUTS = 5  # X, scale, B, mean, var


def _one(values: list[int]) -> Any:
    """One number when every dim has the same, else a list."""
    return values[0] if len(set(values)) == 1 else values


def _window(node: OnnxNode, n: int, *, default_stride: Any = 1) -> dict[str, Any] | None:
    """stride, pad, dilation from ONNX's strides, pads (begins then ends) and dilations; None if uneven."""
    found: dict[str, Any] = {}
    strides = _one(node.ints("strides", n, 1, 1))
    if strides != default_stride:
        found["stride"] = strides
    pads = node.ints("pads", 2 * n, 0, 0)
    dilations = _one(node.ints("dilations", n, 1, 1))
    if pads[:n] != pads[n:] or node.attrs.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
        return None  # uneven or automatic padding: not one `pad`
    if any(pads):
        found["pad"] = _one(pads[:n])
    if dilations != 1:
        found["dilation"] = dilations
    return found


def _conv_checks(node: OnnxNode, w: list[int]) -> tuple[int, int, int]:
    """A conv's weight against its input and its attributes: its spatial dims, group and input channels."""
    t = node.proto.op_type
    n = len(w) - 2
    if n < 1:
        msg = f"its weight has dims {'x'.join(map(str, w))}: filters, channels, then the kernel's dims"
        raise node.bad(msg)
    if node.dims and len(node.dims) != len(w):
        msg = f"its weight has {len(w)} dims, its input {len(node.dims)}: a conv's are as many"
        raise node.bad(msg)
    group = node.attrs.get("group", 1)
    if not isinstance(group, int) or group < 1 or (t == "Conv" and w[0] % group):
        msg = f"group {group!r} must be a whole number that divides the {w[0]} filters"
        raise node.bad(msg)
    depth = w[1] * group if t == "Conv" else w[0]
    if node.channels() and node.channels() != depth:
        shown = "x".join(map(str, w))
        msg = f"its weight {shown} (group {group}) reads {depth} channels; its input has {node.channels()}"
        raise node.bad(msg)
    if "kernel_shape" in node.attrs and node.attrs["kernel_shape"] != w[2:]:
        msg = f"kernel_shape {node.attrs['kernel_shape']!r} is not its weight's {w[2:]}"
        raise node.bad(msg)
    return n, group, depth


def conv(node: OnnxNode) -> Layer | None:
    """Conv and ConvTranspose, with even pads and no output_padding."""
    t = node.proto.op_type
    w = node.sizes[1] if len(node.sizes) > 1 else None
    if len(node.proto.input) < 2:  # noqa: PLR2004 - X and W
        raise node.bad("a conv reads its input and its weight")
    if w is None:
        return None  # a weight computed at run time: no layer convcalc can write
    n, group, depth = _conv_checks(node, w)
    filters = w[0] if t == "Conv" else w[1] * group
    bias = node.sizes[2] if len(node.sizes) > INPUTS_WITH_BIAS - 1 else None
    if bias is not None and prod(bias) != filters:
        msg = f"its bias has {prod(bias):,} values for {filters} filters"
        raise node.bad(msg)
    window = _window(node, n)
    if window is None or (t == "ConvTranspose" and any(node.ints("output_padding", n, 0, 0))):
        return None
    found: dict[str, Any] = {"filters": filters, "size": _one(w[2:]), **window}
    if group != 1:
        found["groups"] = "depthwise" if group == depth == filters else group
    if (len(node.proto.input) < INPUTS_WITH_BIAS or not node.proto.input[2]) and not node.zero_bias:
        found["bias"] = False
    return {"conv" if t == "Conv" else "deconv": found}


def pool(node: OnnxNode) -> Layer | None:
    """MaxPool and AveragePool (`ceil_mode`)."""
    kernel = node.attrs.get("kernel_shape")
    if not isinstance(kernel, list) or not kernel:
        raise node.bad("a pool needs kernel_shape, one size per spatial dim")
    n = len(node.dims) - 2 if node.dims else len(kernel)
    size = _one(node.ints("kernel_shape", n, 1, 1))
    window = _window(node, n, default_stride=size)
    if window is None:
        return None
    found: dict[str, Any] = {"size": size, **window}
    if node.attrs.get("ceil_mode"):
        found["rounding"] = "ceil"
    return {"maxpool" if node.proto.op_type == "MaxPool" else "avgpool": found}


def gemm(node: OnnxNode) -> Layer | None:
    """Gemm with transB=1."""
    b = node.sizes[1] if len(node.sizes) > 1 else None
    if len(node.proto.input) < 2:  # noqa: PLR2004 - A and B
        raise node.bad("a Gemm reads its input and its weight")
    if b is None or node.attrs.get("transB") != 1 or node.attrs.get("transA"):
        return None
    if len(b) != 2:  # noqa: PLR2004 - units x features
        msg = f"its weight has dims {'x'.join(map(str, b))}: a Gemm's has two"
        raise node.bad(msg)
    if len(node.dims) == 2 and node.dims[1] and node.dims[1] != b[1]:  # noqa: PLR2004 - N x features
        msg = f"its weight {b[0]}x{b[1]} reads {b[1]:,} features; its input has {node.dims[1]:,}"
        raise node.bad(msg)
    bias = node.sizes[2] if len(node.sizes) > INPUTS_WITH_BIAS - 1 else None
    if bias is not None and prod(bias) not in {1, b[0]}:
        msg = f"its bias has {prod(bias):,} values for {b[0]:,} units"
        raise node.bad(msg)
    biased = len(node.proto.input) >= INPUTS_WITH_BIAS or node.zero_bias
    return {"fc": {"units": b[0], **({} if biased else {"bias": False})}}


def batchnorm(node: OnnxNode) -> Layer:
    """BatchNormalization: its four weights have one value per channel."""
    if len(node.proto.input) != BN_INPUTS:
        raise node.bad("a BatchNormalization reads its input, scale, bias, mean and variance")
    for name, size in zip(node.proto.input[1:], node.sizes[1:], strict=True):
        if size is not None and node.channels() and prod(size) != node.channels():
            msg = f"{name} has {prod(size):,} values; its input has {node.channels():,} channels"
            raise node.bad(msg)
    return {"bn": None}


def reduce(node: OnnxNode) -> Layer | None:
    """ReduceMean / ReduceMax over every spatial dim: the dynamo exporter's global pools (x.mean((2, 3)))."""
    axes = node.attrs.get("axes")
    if len(node.proto.input) > 1 and node.proto.input[1]:
        axes = node.values.get(node.proto.input[1])
        axes = None if axes is None else [int(a) for a in axes.reshape(-1)]
    rank = len(node.dims)
    if axes is not None and (not isinstance(axes, list) or not all(isinstance(a, int) for a in axes)):
        msg = f"axes {axes!r} must be whole numbers, the dims it reduces"
        raise node.bad(msg)
    if axes is None or rank < 3:  # noqa: PLR2004 - N, C and a spatial dim
        return None
    if sorted(a % rank for a in axes) == list(range(2, rank)):
        return {"gap" if node.proto.op_type == "ReduceMean" else "gmp": None}
    return None


def clip(node: OnnxNode) -> Layer | None:
    """ReLU6 is Clip(0, 6); other bounds are no activation convcalc has."""
    found = [node.values.get(i) for i in node.proto.input[1:3]]
    bounds = [float(v.reshape(-1)[0]) if v is not None and v.size == 1 else None for v in found]
    if bounds == [0.0, 6.0] or (node.attrs.get("min"), node.attrs.get("max")) == (0.0, 6.0):
        return {"relu6": None}
    return None


def _flattens(node: OnnxNode) -> bool:
    """A Reshape to N x (everything else): the dynamo exporter's torch.flatten(x, 1)."""
    d, o = node.dims, node.out
    return len(d) > 1 and len(o) == 2 and all(d) and o == (d[0], prod(d[1:]))  # noqa: PLR2004 - N x features


def flatten(node: OnnxNode) -> Layer | None:
    """Flatten at axis 1, and a Reshape to N x (everything else): the dynamo exporter's torch.flatten(x, 1)."""
    if node.proto.op_type == "Flatten":
        return {"flatten": None} if node.attrs.get("axis", 1) == 1 else None
    return {"flatten": None} if _flattens(node) else None


def global_pool(node: OnnxNode) -> Layer:
    """GlobalAveragePool and GlobalMaxPool."""
    return {"gap" if "Average" in node.proto.op_type else "gmp": None}


def lrn(node: OnnxNode) -> Layer:
    """LRN: its size is a whole number of at least 1."""
    size = node.attrs.get("size")
    if not isinstance(size, int) or size < 1:
        msg = f"size {size!r} must be a whole number of at least 1"
        raise node.bad(msg)
    return {"lrn": size}


def activation_ops() -> tuple[OnnxOp, ...]:
    """Every activation's ONNX operators (convcalc.options.ActivationFunction); ReLU6's Clip is `clip`."""
    return tuple(OnnxOp(a.onnx, always({a.value: None})) for a in ActivationFunction if a.onnx)
