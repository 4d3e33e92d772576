"""Which convcalc layer a traced torch.fx node is: torch.nn's modules, and functions and tensor methods.

fx.py traces the model and runs it on the meta device; each node it keeps becomes an Op here.
"""

from __future__ import annotations

from typing import Any

from convcalc.bridges.importer.graph import Op

# torch.nn's activation modules and functions, by convcalc's name (convcalc.options.ACTIVATIONS).
ACTIVATION_MODULES = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "SELU": "selu",
    "CELU": "celu",
    "GELU": "gelu",
    "SiLU": "silu",
    "Mish": "mish",
    "Sigmoid": "sigmoid",
    "Hardsigmoid": "hardsigmoid",
    "Tanh": "tanh",
    "Hardtanh": "hardtanh",
    "Hardswish": "hardswish",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
    "Identity": "identity",
}
ACTIVATION_FUNCTIONS = {"relu", "relu_", "relu6", "leaky_relu", "elu", "selu", "celu", "gelu", "silu", "mish"} | {
    "sigmoid",
    "hardsigmoid",
    "tanh",
    "hardtanh",
    "hardswish",
    "softplus",
    "softsign",
    "softmax",
    "log_softmax",
}
MERGES = {"add": "add", "iadd": "add", "cat": "concat", "concat": "concat", "mul": "multiply", "imul": "multiply"}
VIEWS = {"contiguous", "clone"}


def op_of(node: Any, at: int, inputs: tuple[int, ...], modules: dict[str, Any]) -> Op | None:
    """The op of a traced node; None for a node that gives no tensor (x.shape, x.size(0))."""
    shape = node.meta.get("convcalc_shape")
    if shape is None:
        return None
    op = Op(at, node.name, str(node.target), inputs, _shape(shape), tuple(int(d) for d in shape))
    if node.op == "placeholder":
        op.op = "input"
    elif node.op == "call_module":
        _module(op, modules[node.target], str(node.target))
    elif node.op in {"call_function", "call_method"}:
        _function(op, node)
    return op


def _shape(size: Any) -> tuple[int, ...]:
    """N x C x spatial as convcalc writes it: spatial, then C (N x C: C)."""
    dims = [int(d) for d in size]
    if len(dims) < 2:  # noqa: PLR2004 - N and C
        return tuple(dims)
    return (*dims[2:], dims[1])


def _ints(value: Any) -> int | list[int]:
    """One number when every dim has the same, else a list (as a spec writes per-dim values)."""
    if isinstance(value, int):
        return value
    values = [int(v) for v in value]
    return values[0] if len(set(values)) == 1 else values


def _module(op: Op, m: Any, path: str) -> None:  # noqa: C901, PLR0912 - one branch per torch.nn class
    cls = type(m).__name__
    op.op, op.name, op.module = cls, path, True
    op.weights = sum(p.numel() for p in m.parameters())
    if cls.startswith("Conv") and cls[-2:] in {"1d", "2d", "3d"} and m.padding_mode == "zeros":
        transposed = cls.startswith("ConvTranspose")
        conv: dict[str, Any] = {"filters": m.out_channels, "size": _ints(m.kernel_size)}
        conv.update(_window(m.stride, m.padding, m.dilation))
        if m.groups != 1:
            conv["groups"] = "depthwise" if m.groups == m.in_channels == m.out_channels else m.groups
        if transposed and any(m.output_padding):
            conv["output_padding"] = _ints(m.output_padding)
        if m.bias is None:
            conv["bias"] = False
        op.layer = {"deconv" if transposed else "conv": conv}
    elif cls[:-2] in {"MaxPool", "AvgPool"} and cls[-2:] in {"1d", "2d", "3d"}:
        pool: dict[str, Any] = {"size": _ints(m.kernel_size)}
        pool.update(
            _window(m.stride or m.kernel_size, m.padding, getattr(m, "dilation", 1), default_stride=pool["size"])
        )
        if m.ceil_mode:
            pool["rounding"] = "ceil"
        op.layer = {"maxpool" if cls.startswith("Max") else "avgpool": pool}
    elif cls[:-2] in {"AdaptiveAvgPool", "AdaptiveMaxPool"}:
        out = _ints(m.output_size)
        kind = "avg" if "Avg" in cls else "max"
        op.layer = {f"g{kind[0]}p": None} if out == 1 else {"adaptive_pool": {"type": kind, "output": out}}
    elif cls == "Linear":
        op.layer = {"fc": {"units": m.out_features, **({"bias": False} if m.bias is None else {})}}
    elif cls.startswith("BatchNorm") and m.track_running_stats:
        op.layer = {"bn": None if m.affine else {"affine": False}}
    elif cls == "GroupNorm":
        op.layer = {"groupnorm": {"groups": m.num_groups, **({} if m.affine else {"affine": False})}}
    elif cls == "LocalResponseNorm":
        op.layer = {"lrn": m.size}
    elif cls in ACTIVATION_MODULES:
        op.layer = {ACTIVATION_MODULES[cls]: None}
    elif cls.startswith("Dropout"):
        op.layer = {"dropout": None if m.p == 0.5 else m.p}  # noqa: PLR2004 - PyTorch's default
    elif cls == "Flatten" and m.start_dim == 1 and m.end_dim == -1:
        op.layer = {"flatten": None}
    elif cls == "PixelShuffle":
        op.layer = {"pixel_shuffle": m.upscale_factor}
    elif cls == "Upsample" and m.mode == "nearest" and m.scale_factor is not None:
        scale = m.scale_factor
        if all(float(s).is_integer() for s in (scale if isinstance(scale, tuple) else (scale,))):
            op.layer = {"upsample": _ints(scale if isinstance(scale, tuple) else int(scale))}


def _window(stride: Any, padding: Any, dilation: Any, default_stride: Any = 1) -> dict[str, Any]:
    """A window's stride, pad and dilation, each only when it is not the default."""
    found: dict[str, Any] = {}
    if _ints(stride) != default_stride:
        found["stride"] = _ints(stride)
    if isinstance(padding, str):
        if padding == "same":
            found["pad"] = "same"
    elif _ints(padding) != 0:
        found["pad"] = _ints(padding)
    if _ints(dilation) != 1:
        found["dilation"] = _ints(dilation)
    return found


def _function(op: Op, node: Any) -> None:
    target = node.target
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    where = "method" if node.op == "call_method" else getattr(target, "__module__", "") or ""
    op.op = f".{name}" if node.op == "call_method" else f"{_space(where)}{name}"
    args = node.args
    if name in ACTIVATION_FUNCTIONS:
        op.layer = {name.rstrip("_"): None}
    elif name in MERGES and (name in {"cat", "concat"} or sum(hasattr(a, "op") for a in args) > 1):
        if name in {"cat", "concat"} and node.kwargs.get("dim", args[1] if len(args) > 1 else 0) not in {1, -3}:
            return
        op.merge = MERGES[name]
    elif name == "flatten" and _flattens(node):
        op.layer = {"flatten": None}
    elif name in {"adaptive_avg_pool2d", "adaptive_max_pool2d"}:
        size = _ints(node.kwargs.get("output_size", args[1] if len(args) > 1 else None) or 0)
        kind = "avg" if "avg" in name else "max"
        op.layer = {f"g{kind[0]}p": None} if size == 1 else {"adaptive_pool": {"type": kind, "output": size}}
    elif name == "dropout":
        p = node.kwargs.get("p", args[1] if len(args) > 1 else 0.5)
        op.layer = {"dropout": None if p == 0.5 else p}  # noqa: PLR2004 - PyTorch's default
    elif name in VIEWS:
        op.view = True
    elif name == "narrow":
        op.crop = True


def _space(module: str) -> str:
    """How a function is known: torch.cat, F.relu, operator.add."""
    if module.startswith("torch.nn.functional"):
        return "F."
    if module.startswith("torch"):
        return "torch."
    return f"{module.lstrip('_')}." if module else ""  # _operator.add is operator.add


def _flattens(node: Any) -> bool:
    """torch.flatten(x, 1) or x.flatten(1): everything but the batch in one vector."""
    start = node.kwargs.get("start_dim", node.args[1] if len(node.args) > 1 else 0)
    end = node.kwargs.get("end_dim", node.args[2] if len(node.args) > 2 else -1)  # noqa: PLR2004
    return bool(start == 1 and end == -1)
