"""Small networks for the training-memory tests: every kind, activation, pad, pool and merge case.

tests/test_training_oracle.py measures each with PyTorch; tests/test_training.py walks them
without torch (the rows add up, and each kind states its rule).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds import registry

if TYPE_CHECKING:
    from convcalc.kinds.base import Kind


def _one_layer(kind: Kind, *, after_conv: bool) -> str:
    """The kind's example, first (its input needs no gradient) or after a conv (it does)."""
    volume, layer = kind.example
    first = [f"conv1-{volume.split('x')[-1]}"] if after_conv and "x" in volume else []
    return f"input: {volume}\nlayers:\n" + "".join(f"  - {line}\n" for line in (*first, layer))


# Beyond each kind's example: every activation alone and fused, the padded copies an uneven pad
# makes, the pools' special cases, the merges and the activation after a residual's merge.
CASES = {
    **{
        f"{f}-alone": f"input: 6x6x4\nlayers: [conv1-4, {f}, conv1-4]"
        for f in ("relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softsign", "identity")
    },
    **{
        f"{f}-fused": f"input: 6x6x4\nlayers: [{{conv: {{filters: 4, size: 3, activation: {f}}}}}, fc-3]"
        for f in ("relu", "silu", "hardswish", "softmax", "softsign", "identity")
    },
    "same-uneven-conv": "input: 7x7x3\nlayers: [conv3-4 s2 psame, maxpool2 s2 psame]",
    "ceil-conv-and-pool": "input: 8x8x3\nrounding: ceil\nlayers: [conv3-4 s2, maxpool3 s2]",
    "pools": "input: 9x9x3\nlayers: [conv1-4, avgpool3 s2 p1, adaptive_maxpool2, adaptive_avgpool1, gmp]",
    "gap-first": "input: 5x5x3\nlayers: [gap, fc-2]",
    "pool-first": "input: 8x8x3\nlayers: [maxpool, bn, relu, lrn]",
    "lrn-vector": "input: 12\nlayers: [fc-8, lrn: 3, dropout: 0.0, dropout, fc-2]",
    "1d-and-3d": "input: {length: 16, depth: 3}\nlayers: [conv3-4, maxpool, bn, gmp]",
    "3d": "input: 4x6x6x2\nlayers: [conv3-4 p1, {groupnorm: 2}, layernorm, maxpool, upsample]",
    "deconv": "input: 4x4x8\nlayers: [{deconv: {filters: 4, size: 4, stride: 2, pad: 1, activation: tanh}}]",
    "residual-silu": (
        "input: 8x8x4\nlayers:\n  - residual: {layers: [conv3-4 p1, bn], activation: silu}\n"
        "  - residual: {layers: [conv3-8 s2 p1, bn, relu], shortcut: auto, activation: relu}\n"
        "  - residual: {layers: [conv1-4], merge: concat}\n"
        "  - residual: {layers: [conv3-4 s2 p1], shortcut: [conv1-4 s2, bn], activation: softsign}"
    ),
    "squeeze-excitation": (
        "input: 6x6x8\nlayers:\n  - conv1-8\n"
        "  - parallel: {branches: [[], [gap, fc-2, relu, fc-8, sigmoid], [conv1-8]], merge: multiply}\n"
        "  - parallel: {branches: [[conv1-8], [maxpool3 s1 p1]], merge: add}"
    ),
    "multiply-first": "input: 4x4x2\nlayers:\n  - parallel: {branches: [[], [relu]], merge: multiply}\n  - conv1-2",
    # Issue 27's token kinds: attention's two PyTorch paths with and without dropout, the MLP's activations.
    **{
        f"attention-{name}": f"input: 16x16x3\nlayers: [patchify4-8, {{attention: {{heads: 2, {a}}}}}, mlp-16]"
        for name, a in (
            ("math", "need_weights: true"),
            ("math-dropout", "dropout: 0.1"),
            ("fused", "need_weights: false"),
            ("fused-dropout", "need_weights: false, dropout: 0.1"),
        )
    },
    **{
        f"mlp-{f}": f"input: 16x16x3\nlayers: [patchify4-8, relu, {{mlp: {{hidden: 16, activation: {f}, dropout: {p}}}}}]"  # noqa: E501
        for f, p in (("gelu", 0.1), ("relu", 0.0), ("relu", 0.2), ("identity", 0.0), ("softsign", 0.0), ("tanh", 0.1))
    },
    "transformer-blocks": (
        "input: 16x16x3\nlayers:\n  - patchify4-8\n  - cls_token\n  - pos_embed-17\n  - dropout: 0.1\n"
        "  - transformer: {heads: 2, mlp: 16}\n"
        "  - transformer: {heads: 2, mlp: 16, dropout: 0.1, attention_dropout: 0.1}\n"
        "  - transformer: {heads: 4, mlp: 8, need_weights: true}\n"
        "  - {layernorm: {over: channels}}\n  - class_token_out\n  - fc-3"
    ),
}


KINDS = {
    f"{k.name}-{where}": _one_layer(k, after_conv=where == "after")
    for k in registry.REGISTERED
    for where in ("first", "after")
}
SPECS = {**KINDS, **CASES}
