"""What autograd keeps of a layer for backward: each kind's `saved` rule returns a `Keep`.

The rules were measured with PyTorch 2.13.0 on CPU, float32, in train mode, under
`torch.autograd.graph.saved_tensors_hooks` (docs/training-memory.md; tests/test_training_oracle.py
measures every kind and every built-in spec again). A `Keep` names tensors by their place, not by
their bytes, because a tensor kept by two ops counts once: a conv keeps its input, which is
usually the output a relu keeps. The walk in convcalc.engine.training gives each row's input and
output a tensor identity and counts each tensor once; the other fields are tensors only this row
holds (a max pool's indices, batchnorm's statistics, the pre-activation a fused silu keeps).
"""

from __future__ import annotations

from dataclasses import dataclass

from convcalc.options import ActivationFunction, Keeps


@dataclass(frozen=True, slots=True)
class Keep:
    """What one row keeps for backward, per image unless said otherwise.

    `values` are in the activations' type (4 B in float32), `indices` are int64 (8 B), `masks`
    are dropout masks (the activations' type on CPU, 1 B on CUDA), `stats` float32 per image
    (groupnorm's mean and 1/std), `fixed_stats` float32 not multiplied by the batch (batchnorm's),
    `fixed_values` in the activations' type, not multiplied by the batch (a mask for the batch).
    """

    input: bool = False  # the row's input tensor
    output: bool = False  # the row's output tensor
    values: int = 0
    indices: int = 0
    masks: int = 0
    stats: int = 0
    fixed_stats: int = 0
    fixed_values: int = 0
    view: bool = False  # the output is the input's tensor (a view, or no op at all)


# What each activation's backward reads, measured (PyTorch's derivatives.yaml agrees): "output"
# for the functions whose derivative is written in their result, "input" for the others; softsign
# is Python (x / (1 + |x|)) and keeps its input and 1 + |x|; identity is no op at all. Each
# activation says which in convcalc.options.ActivationFunction.
def _keeping(keeps: Keeps) -> frozenset[str]:
    return frozenset(a.value for a in ActivationFunction if a.keeps is keeps)


KEEPS_OUTPUT = _keeping(Keeps.OUTPUT)
KEEPS_INPUT_AND_ONE_MORE = _keeping(Keeps.INPUT_AND_ONE_MORE)
NO_OP = _keeping(Keeps.NOTHING)


def standalone(function: str, values: int) -> Keep:
    """An activation row of its own over `values`: its input and output are report rows' tensors."""
    if function in NO_OP:
        return Keep(view=True)
    if function in KEEPS_OUTPUT:
        return Keep(output=True)
    return Keep(input=True, values=values if function in KEEPS_INPUT_AND_ONE_MORE else 0)


def fused(keep: Keep, function: str | None, values: int) -> Keep:
    """`keep` of a conv, deconv or fc, with its fused activation over `values` (its output's).

    The activation's input is the layer's result before it, a tensor no row shows: kept, it is
    `values` more of this row's own.
    """
    if function is None or function in NO_OP:
        return keep
    if function in KEEPS_OUTPUT:
        return Keep(input=keep.input, output=True, values=keep.values)
    more = 2 * values if function in KEEPS_INPUT_AND_ONE_MORE else values
    return Keep(input=keep.input, values=keep.values + more)
