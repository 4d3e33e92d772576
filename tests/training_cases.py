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
    # ShuffleNet v2 (issue 25): a split unit, whose branch conv keeps the whole tensor its chunk
    # views, then a stride-2 unit; chunks of the input (no gradient) in any order, two convs
    # keeping views of one tensor, a chunk that passes on to a merge, uneven chunks.
    "shufflenet-units": (
        "input: 8x8x16\ndefaults: {conv: {bias: false}}\nlayers:\n  - conv1-16\n"
        "  - parallel: {branches: [[chunk0/2], [chunk1/2, conv1-8, bn, relu, conv3-8 p1 gdw, bn, conv1-8, bn, relu]]}\n"
        "  - channel_shuffle2\n"
        "  - parallel:\n      branches:\n        - [conv3-16 s2 p1 gdw, bn, conv1-8, bn, relu]\n"
        "        - [conv1-8, bn, relu, conv3-8 s2 p1 gdw, bn, conv1-8, bn, relu]\n"
        "  - channel_shuffle2\n  - gap\n  - fc-4"
    ),
    "chunks-of-the-input": (
        "input: 6x6x10\nlayers:\n"
        "  - parallel: {branches: [[chunk2/3, relu], [chunk0/3, conv1-4], [chunk1/3, conv1-4]]}\n"
        "  - parallel: {branches: [[chunk3/4], [chunk0/4, bn], [chunk1/4, relu]], merge: concat}\n  - conv1-2"
    ),
    "chunks-multiplied": (
        "input: 4x4x6\nlayers:\n  - conv1-6\n"
        "  - parallel: {branches: [[chunk0/3], [chunk1/3], [chunk2/3]], merge: multiply}"
    ),
}

# Issue 25's kinds where EfficientNet and ConvNeXt use them (nets25): stochastic depth on a
# residual branch in training (its mask; p 0 returns its input), layer scale after a conv and on
# a vector, LayerNorm over channels first, without affine, on a 1x1 grid and on a vector, and one
# block of each network (tests/test_training_oracle_zoo.py measures the whole networks).
CASES |= {
    "stochastic-depth-branches": (
        "input: 6x6x4\nlayers:\n  - residual: {layers: [conv3-4 p1, bn, {stochastic_depth: 0.2}]}\n"
        "  - residual: {layers: [conv1-4, {stochastic_depth: {p: 0.5, mode: batch}}], activation: relu}\n"
        "  - residual: {layers: [conv1-4, {stochastic_depth: 0.0}]}"
    ),
    "stochastic-depth-ranks": (
        "input: 3x4x5x2\nlayers: [conv1-2, {stochastic_depth: 0.2}, {stochastic_depth: {p: 0.3, mode: batch}}, gap,"
        " flatten, fc-4, {stochastic_depth: 0.2}]"
    ),
    "scale-places": "input: 5x5x4\nlayers: [conv1-4, gelu, scale, gap, flatten, fc-6, scale, fc-2]",
    "layernorm-channels-places": (
        "input: 5x4x6\nlayers: [{layernorm: {over: channels}}, conv1-6, {layernorm: {over: channels, affine: false}},"
        " relu, gap, {layernorm: {over: channels}}, flatten, {layernorm: {over: channels}}, fc-3]"
    ),
    "convnext-block": (
        "input: 8x8x8\nlayers:\n  - {conv: {filters: 8, size: 2, stride: 2}}\n  - {layernorm: {over: channels}}\n"
        "  - residual: {layers: [conv7-8 p3 gdw, {layernorm: {over: channels}}, conv1-32, gelu, conv1-8, scale,"
        " {stochastic_depth: 0.1}]}"
    ),
    "mbconv-block": (
        "input: 8x8x8\nlayers:\n  - residual:\n      layers:\n        - conv1-16\n        - bn\n        - silu\n"
        "        - conv3-16 p1 gdw\n        - bn\n        - silu\n"
        "        - residual: {layers: [gap, {conv: {filters: 2, size: 1, activation: silu}},"
        " {conv: {filters: 16, size: 1, activation: sigmoid}}], merge: multiply}\n"
        "        - conv1-8\n        - bn\n        - {stochastic_depth: 0.2}"
    ),
}

# Issue 27's token kinds (vit).
CASES |= {
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
        f"mlp-{name}": f"input: 16x16x3\nlayers: [patchify4-8, relu, {{mlp: {{hidden: 16, activation: {f}, dropout: {p}}}}}]"  # noqa: E501
        for name, f, p in (
            ("gelu", "gelu", 0.1),
            ("relu-no-dropout", "relu", 0.0),
            ("relu", "relu", 0.2),
            ("identity", "identity", 0.0),
            ("softsign", "softsign", 0.0),
            ("tanh", "tanh", 0.1),
        )
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
