"""Joining volumes: residual add, Inception's and DenseNet's concat, squeeze-excitation's multiply.

The multiply broadcasts as NumPy and PyTorch do: each dim agrees or is 1.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from convcalc.kinds.base import LayerFailure, Outcome, State
from convcalc.spec.model import Merge
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.report import Exact


def _grid(v: Volume, n: int) -> tuple[int, ...]:
    """A vector broadcasts as 1x1xC."""
    return v.spatial or (1,) * n


def _refuse(merge: Merge, parts: list[tuple[str, State]], why: str) -> LayerFailure:
    shown = " and ".join(f"{s.volume} from {where}" for where, s in parts)
    verb = {Merge.ADD: "add", Merge.CONCAT: "concatenate", Merge.MULTIPLY: "multiply"}[merge]
    return LayerFailure("merge-mismatch", f"cannot {verb} {shown}: {why}")


def _broadcast(parts: list[tuple[str, State]]) -> Volume:
    n = max(len(s.volume.spatial) for _, s in parts)
    dims = [(*_grid(s.volume, n), s.volume.depth) for _, s in parts]
    if len({len(d) for d in dims}) != 1:
        raise _refuse(Merge.MULTIPLY, parts, "they have different numbers of dims")
    out = []
    for sizes in zip(*dims, strict=True):
        wide = {x for x in sizes if x != 1}
        if len(wide) > 1:
            raise _refuse(Merge.MULTIPLY, parts, "each dim must agree or be 1 (broadcasting)")
        out.append(wide.pop() if wide else 1)
    return Volume(tuple(out[:-1]), out[-1])


def merge(kind: Merge, parts: list[tuple[str, State]]) -> Outcome:
    """The merged output; `parts` are (where it comes from, its state), for messages."""
    volumes = [s.volume for _, s in parts]
    if kind is Merge.ADD:
        if len(set(volumes)) != 1:
            raise _refuse(kind, parts, "an add needs the same volume")
        out = volumes[0]
    elif kind is Merge.CONCAT:
        if len({v.spatial for v in volumes}) != 1:
            raise _refuse(kind, parts, "a concat needs the same spatial size")
        out = Volume(volumes[0].spatial, sum(v.depth for v in volumes))
    else:
        out = _broadcast(parts)
    # The merged volume has seen what its widest branch saw.
    rf = tuple(max(dim) for dim in zip(*(s.rf for _, s in parts), strict=True))
    jump: tuple[Exact, ...] = tuple(max(dim) for dim in zip(*(s.jump for _, s in parts), strict=True))
    return Outcome(output=out, rf=rf, jump=jump)


def crop_start(size: int, target: int) -> int:
    """Where a centred crop of `size` to `target` starts: the odd row or column goes at the end.

    ⌊(size − target)/2⌋, as U-Net implementations write `(h - th) // 2` and as `pad: same` puts
    its odd pixel on the right/bottom. torchvision's CenterCrop rounds half to even instead
    (`int(round(d / 2.0))`), so its odd row alternates sides (d = 1 starts at 0, d = 3 at 2).
    """
    return (size - target) // 2


def crop(skip: tuple[str, State], body: tuple[str, State]) -> Outcome:
    """U-Net's copy and crop: the skip cut to the body's spatial size, centred; depth kept.

    A view of the skip in PyTorch (`narrow`): no params, no MACs, no new activations. Each output
    position is an input position, so the receptive field and jump are the skip's.
    """
    (where, s), (body_where, b) = skip, body
    have, want = s.volume.spatial, b.volume.spatial
    head = f"cannot crop {s.volume} from {where} to the spatial size of {b.volume} from {body_where}"
    if not have or len(have) != len(want):
        msg = f"{head}: a crop cuts spatial dims, and both need the same number of them"
        raise LayerFailure("crop-mismatch", msg)
    if any(h < w for h, w in zip(have, want, strict=True)):
        msg = f"{head}: the skip is smaller than the body, and a crop only cuts (make the body smaller, or pad less)"
        raise LayerFailure("crop-mismatch", msg)
    return Outcome(output=Volume(want, s.volume.depth), rf=s.rf, jump=s.jump, in_place=True)


def product_values(volumes: list[Volume]) -> int:
    """The values of the broadcast product of `volumes` (checked by `merge` already)."""
    n = max(len(v.spatial) for v in volumes)
    dims = [(*_grid(v, n), v.depth) for v in volumes]
    return prod(max(sizes) for sizes in zip(*dims, strict=True))


def saved(kind: Merge, grads: list[bool]) -> list[tuple[str, int]]:
    """What a merge keeps for backward, given which of its operands need a gradient (measured, PyTorch 2.13).

    ("operand", i) is the i-th operand; ("product", k) the product of operands 0..k, a tensor of
    its own. An add or a concat keeps nothing (their gradients are the incoming gradient, or
    slices of it). A multiply is a chain a·b·c...: each step keeps one factor for the other's
    gradient, when the other needs one (PyTorch's MulBackward0).
    """
    if kind is not Merge.MULTIPLY:
        return []
    kept: list[tuple[str, int]] = []
    left_grad = grads[0]
    for i in range(1, len(grads)):
        left = ("operand", 0) if i == 1 else ("product", i - 1)
        if grads[i]:
            kept.append(left)
        if left_grad:
            kept.append(("operand", i))
        left_grad = left_grad or grads[i]
    return kept
