"""A spec as a PyTorch module, for the oracle tests and for export. Only this module imports torch.

    from convcalc.pytorch import to_module
    built = to_module(spec)          # built.module: nn.Module; built.by_path: path -> submodule

Every row of convcalc's report has a submodule whose output is that row's output (a leaf layer
with its fused activation, or the composite that merges), so a forward hook can compare shapes.
convcalc notions PyTorch lacks are mapped to what PyTorch does: `strict` and `floor` rounding are
PyTorch's floor; `ceil` is `ceil_mode` on pools and extra right padding on convs; TensorFlow's
asymmetric `same` padding is an explicit pad before the layer; a channel `layernorm` is
GroupNorm(1, C), which normalises the same values with the same 2·C parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError
from convcalc.kinds.base import expand
from convcalc.kinds.conv import framework_pads, sliding_windows
from convcalc.options import PoolType, Rounding
from convcalc.spec.model import LayerSpec, Merge, Node, Residual, Sequence, Spec

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.report import LayerRow
    from convcalc.volume import Volume

_ACTIVATIONS: dict[str, Any] = {
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "leaky_relu": nn.LeakyReLU,
    "elu": nn.ELU,
    "selu": nn.SELU,
    "celu": nn.CELU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "swish": nn.SiLU,
    "mish": nn.Mish,
    "sigmoid": nn.Sigmoid,
    "hardsigmoid": nn.Hardsigmoid,
    "tanh": nn.Tanh,
    "hardtanh": nn.Hardtanh,
    "hardswish": nn.Hardswish,
    "softplus": nn.Softplus,
    "softsign": nn.Softsign,
    "softmax": lambda: nn.Softmax(dim=1),
    "log_softmax": lambda: nn.LogSoftmax(dim=1),
    "identity": nn.Identity,
}


def activation(name: str) -> nn.Module:
    """The PyTorch module of an activation function."""
    return _ACTIVATIONS[name]()  # type: ignore[no-any-return]


class Pad(nn.Module):
    """Explicit padding, (before, after) per spatial dim in the spec's order."""

    def __init__(self, pads: list[tuple[int, int]], value: float = 0.0) -> None:
        super().__init__()
        # F.pad takes the last dim first.
        self.pads = [p for lo_hi in reversed(pads) for p in lo_hi]
        self.value = value

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded: torch.Tensor = nn.functional.pad(x, self.pads, value=self.value)
        return padded


class Residual_(nn.Module):  # noqa: N801 - named after the spec's `residual:`
    """y = merge(body(x), shortcut(x)), then the activation."""

    def __init__(self, body: nn.Module, shortcut: nn.Module, merge: Merge, act: nn.Module) -> None:
        super().__init__()
        self.body, self.shortcut, self.merge, self.act = body, shortcut, merge, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.act(join(self.merge, [self.body(x), self.shortcut(x)]))
        return out


class Parallel_(nn.Module):  # noqa: N801 - named after the spec's `parallel:`
    """Branches over one input, merged."""

    def __init__(self, branches: list[nn.Module], merge: Merge) -> None:
        super().__init__()
        self.branches, self.merge = nn.ModuleList(branches), merge

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return join(self.merge, [b(x) for b in self.branches])


def join(merge: Merge, outs: list[torch.Tensor]) -> torch.Tensor:
    """Add, concatenate along channels, or multiply with broadcasting (a vector as C x 1 x 1)."""
    if merge is Merge.CONCAT:
        return torch.cat(outs, dim=1)
    rank = max(t.dim() for t in outs)
    outs = [t.reshape(*t.shape, *([1] * (rank - t.dim()))) for t in outs]
    result = outs[0]
    for t in outs[1:]:
        result = result + t if merge is Merge.ADD else result * t
    return result


@dataclass
class Built:
    """The module, and the submodule whose output is each report row's output."""

    module: nn.Module
    by_path: dict[str, nn.Module]


class _Builder:
    def __init__(self, spec: Spec) -> None:
        report = analyze(spec)
        if report.totals.output is None:
            msg = "the spec has a layer convcalc cannot compute; fix it before building a module"
            raise ConvcalcError(msg)
        self.rows: dict[str, LayerRow] = {r.path: r for r in report.rows}
        self.spec = spec
        self.by_path: dict[str, nn.Module] = {}

    def seq(self, nodes: tuple[Node, ...]) -> nn.Module:
        return nn.Sequential(*(self.node(n) for n in nodes)) if nodes else nn.Identity()

    def node(self, n: Node) -> nn.Module:
        if isinstance(n, LayerSpec):
            module = self.leaf(n, self.rows[n.path])
        elif isinstance(n, Sequence):
            return self.seq(n.layers)
        elif isinstance(n, Residual):
            shortcut = self.projection(n) if n.shortcut == "auto" else self.seq(n.shortcut)  # type: ignore[arg-type]
            act = activation(n.activation) if n.activation else nn.Identity()
            module = Residual_(self.seq(n.layers), shortcut, n.merge, act)
        else:
            module = Parallel_([self.seq(b) for b in n.branches], n.merge)
        self.by_path[n.path] = module
        return module

    def projection(self, n: Residual) -> nn.Module:
        conv_row = self.rows.get(f"{n.path}.shortcut.0")
        if conv_row is None:
            return nn.Identity()
        assert conv_row.input is not None  # noqa: S101 - every row but the input has one
        assert conv_row.output is not None  # noqa: S101
        dims = len(conv_row.input.spatial)
        stride = tuple(expand(conv_row.config["stride"], conv_row.input, "stride"))
        conv = _CONV[dims](conv_row.input.depth, conv_row.output.depth, 1, stride=stride, bias=False)
        bn = _BN[dims](conv_row.output.depth)
        self.by_path[conv_row.path] = conv
        self.by_path[f"{n.path}.shortcut.1"] = bn
        return nn.Sequential(conv, bn)

    def leaf(self, layer: LayerSpec, row: LayerRow) -> nn.Module:
        x = row.input
        assert x is not None  # noqa: S101 - every row but the input has one
        rounding = layer.params.get("rounding") or self.spec.rounding
        parts = _LEAVES[layer.kind](layer.params, x, rounding)
        if layer.params.get("activation"):
            parts.append(activation(layer.params["activation"]))
        module = parts[0] if len(parts) == 1 else nn.Sequential(*parts)
        self.by_path[layer.path] = module
        return module


Params = Any


def _windowed(p: Params, x: Volume, rounding: Rounding, *, is_pool: bool) -> list[nn.Module]:
    """Conv or pool; explicit padding where PyTorch's own cannot say it."""
    n = len(x.spatial)

    def per(value: int | tuple[int, ...]) -> tuple[int, ...]:
        return (value,) * n if isinstance(value, int) else value

    size, dilation = per(p["size"]), per(p["dilation"])
    windows = sliding_windows(p, x)
    stride = tuple(w.stride for w in windows)
    pads = framework_pads(windows, rounding, is_pool=is_pool)  # no ceil_mode on convs: padding
    parts: list[nn.Module] = []
    padding: tuple[int, ...] = tuple(lo for lo, _ in pads)
    if any(lo != hi for lo, hi in pads):
        fill = float("-inf") if is_pool and p["type"] is PoolType.MAX else 0.0
        parts.append(Pad(pads, fill))
        padding = (0,) * n
    ceil_mode = is_pool and rounding is Rounding.CEIL
    if not is_pool:
        groups = _groups(p, x)
        conv = _CONV[n](
            x.depth,
            p["filters"],
            size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            groups=groups,
            bias=p["bias"],
        )
        parts.append(conv)
    elif p["type"] is PoolType.MAX:
        parts.append(_MAXPOOL[n](size, stride=stride, padding=padding, dilation=dilation, ceil_mode=ceil_mode))
    else:
        parts.append(_AVGPOOL[n](size, stride=stride, padding=padding, ceil_mode=ceil_mode))
    return parts


def _deconv(p: Params, x: Volume, _: Rounding) -> list[nn.Module]:
    pad = 0 if p["pad"] == "valid" else p["pad"]
    return [
        _DECONV[len(x.spatial)](
            x.depth, p["filters"], p["size"], stride=p["stride"], padding=pad,
            output_padding=p["output_padding"], groups=_groups(p, x), bias=p["bias"], dilation=p["dilation"],
        )
    ]  # fmt: skip


def _norm(p: Params, x: Volume, _: Rounding) -> list[nn.Module]:
    # A channel layernorm normalises what GroupNorm(1, C) does, with the same 2*C parameters.
    return [nn.GroupNorm(p.get("groups", 1), x.depth, affine=p["affine"])]


def _upsample(p: Params, x: Volume, _: Rounding) -> list[nn.Module]:
    del x
    scale = p["scale"] if isinstance(p["scale"], int) else tuple(float(s) for s in p["scale"])
    return [nn.Upsample(scale_factor=scale, mode="nearest")]


_LEAVES: dict[str, Callable[[Params, Volume, Rounding], list[nn.Module]]] = {
    "conv": lambda p, x, r: _windowed(p, x, r, is_pool=False),
    "pool": lambda p, x, r: _windowed(p, x, r, is_pool=True),
    "deconv": _deconv,
    "global_pool": lambda p, x, _: [_ADAPTIVE[p["type"]][len(x.spatial)](1)],
    "adaptive_pool": lambda p, x, _: [_ADAPTIVE[p["type"]][len(x.spatial)](p["output"])],
    "fc": lambda p, x, _: [nn.Flatten(), nn.Linear(x.values, p["units"], bias=p["bias"])],
    "batchnorm": lambda p, x, _: [_BN[max(len(x.spatial), 1)](x.depth, affine=p["affine"])],
    "lrn": lambda p, x, _: [nn.LocalResponseNorm(p["size"])],
    "layernorm": _norm,
    "groupnorm": _norm,
    "activation": lambda p, x, _: [activation(p["function"])],
    "dropout": lambda p, x, _: [nn.Dropout(p["p"])],
    "flatten": lambda p, x, _: [nn.Flatten()],
    "upsample": _upsample,
}


def _groups(p: Any, x: Volume) -> int:
    return x.depth if p["groups"] == "depthwise" else int(p["groups"])


_CONV: dict[int, Any] = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}
_DECONV: dict[int, Any] = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}
_MAXPOOL: dict[int, Any] = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}
_AVGPOOL: dict[int, Any] = {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d}
_BN: dict[int, Any] = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}
_ADAPTIVE: dict[PoolType, dict[int, Any]] = {
    PoolType.AVG: {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d},
    PoolType.MAX: {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d},
}


def to_module(spec: Spec) -> Built:
    """Build the spec as an nn.Module (in evaluation mode)."""
    builder = _Builder(spec)
    module = builder.seq(spec.layers)
    module.eval()
    return Built(module, builder.by_path)


def zero_input(spec: Spec) -> torch.Tensor:
    """A batch of one zero input, N x C x spatial (PyTorch's order)."""
    v = spec.input
    return torch.zeros(1, v.depth, *v.spatial)


def shape_of(t: torch.Tensor) -> list[int]:
    """A tensor's shape in convcalc's order: spatial dims, then channels (a vector: [N])."""
    return [*t.shape[2:], t.shape[1]]
