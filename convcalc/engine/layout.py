"""Shapes and strides of a tensor, as ATen computes them, for the ops whose copies depend on them (engine/attnsteps.py).

A `reshape` is a view when ATen's computeStride (aten/src/ATen/TensorUtils.cpp) finds strides for
the new shape, else a copy; `contiguous` copies unless the tensor is contiguous (dims of size 1
ignored); an element-wise op's result keeps the order of a dense operand's dims (TensorIterator),
else is contiguous.
"""

from __future__ import annotations

from math import prod
from typing import NamedTuple

_GRID = 4  # N x C x H x W, where channels last is a memory format


class Layout(NamedTuple):
    """A tensor's sizes and strides, in elements."""

    shape: tuple[int, ...]
    strides: tuple[int, ...]

    def transpose(self, a: int, b: int) -> Layout:
        s, t = list(self.shape), list(self.strides)
        s[a], s[b] = s[b], s[a]
        t[a], t[b] = t[b], t[a]
        return Layout(tuple(s), tuple(t))

    def permute(self, dims: tuple[int, ...]) -> Layout:
        return Layout(tuple(self.shape[d] for d in dims), tuple(self.strides[d] for d in dims))

    def unsqueeze(self, d: int) -> Layout:
        d %= len(self.shape) + 1
        stride = self.strides[d] * self.shape[d] if d < len(self.shape) else 1
        return Layout((*self.shape[:d], 1, *self.shape[d:]), (*self.strides[:d], stride, *self.strides[d:]))

    def squeeze(self, d: int) -> Layout:
        d %= len(self.shape)
        if self.shape[d] != 1:
            return self
        return Layout(self.shape[:d] + self.shape[d + 1 :], self.strides[:d] + self.strides[d + 1 :])

    def select(self, d: int) -> Layout:
        return Layout(self.shape[:d] + self.shape[d + 1 :], self.strides[:d] + self.strides[d + 1 :])

    @property
    def contiguous(self) -> bool:
        expected = 1
        for n, s in zip(reversed(self.shape), reversed(self.strides), strict=True):
            if n == 1:
                continue
            if s != expected:
                return False
            expected *= n
        return True

    @property
    def dense(self) -> bool:
        """Non-overlapping and dense: a permutation of a contiguous tensor (dims of size 1 aside)."""
        expected = 1
        for d in sorted((d for d in range(len(self.shape)) if self.shape[d] != 1), key=lambda d: self.strides[d]):
            if self.strides[d] != expected:
                return False
            expected *= self.shape[d]
        return True

    @property
    def channels_last(self) -> bool:
        """A 4-d tensor's strides read as channels last (c10's is_channels_last_strides_2d)."""
        low = 0
        for d in (1, 3, 2, 0):
            if self.strides[d] < low or (d == 0 and low == self.strides[1]):
                return False
            low = self.strides[d] * (max(1, self.shape[d]))
        return self.strides[1] != 0

    def view(self, shape: tuple[int, ...]) -> Layout | None:
        """The view of this tensor as `shape`, or None where reshape must copy (ATen's computeStride)."""
        strides = _compute_stride(self.shape, self.strides, shape)
        return None if strides is None else Layout(shape, strides)

    def like(self, *, scalar: bool = False) -> Layout:
        """An element-wise op's result on this tensor (operands laid out as it, or a number), as TensorIterator gives.

        Operands of one shape take its fast setups (a contiguous, channels-last contiguous or
        dense operand); with a number (a 0-dim tensor, `scalar`) or else, its dims sorted
        (_sorted). Tested against PyTorch on random permutations, slices and dims of 1.
        """
        if not scalar and self.contiguous:
            return contiguous(self.shape)
        if not scalar and len(self.shape) == _GRID and self.transpose(1, 3).transpose(1, 2).contiguous:
            return contiguous((self.shape[0], self.shape[2], self.shape[3], self.shape[1])).permute((0, 3, 1, 2))
        if not scalar and self.dense:
            return self
        strides = [0] * len(self.shape)
        step = 1
        for d in _sorted(self):
            strides[d] = step
            step *= self.shape[d]
        return Layout(self.shape, tuple(strides))


def _sorted(lay: Layout) -> list[int]:
    """reorder_dimensions: dims innermost first, by an insertion sort that swaps where strides (then sizes) say."""

    def swap(d0: int, d1: int) -> int:
        s0, s1 = lay.strides[d0], lay.strides[d1]
        if s0 == 0 or s1 == 0:
            return 0
        if s0 != s1:
            return 1 if s0 > s1 else -1
        return 1 if lay.shape[d0] > lay.shape[d1] else 0

    perm = list(range(len(lay.shape) - 1, -1, -1))
    for i in range(1, len(perm)):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = swap(perm[d0], perm[d1])
            if c < 0:
                break
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
    return perm


def contiguous(shape: tuple[int, ...]) -> Layout:
    """A contiguous tensor of these sizes."""
    strides = []
    step = 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return Layout(shape, tuple(reversed(strides)))


def _compute_stride(old: tuple[int, ...], strides: tuple[int, ...], new: tuple[int, ...]) -> tuple[int, ...] | None:
    if prod(old) == 0:  # pragma: no cover - a volume has no empty dim
        return None
    out = [0] * len(new)
    view_d = len(new) - 1
    base = strides[-1] if strides else 1
    tensor_numel = view_numel = 1
    for d in range(len(old) - 1, -1, -1):
        tensor_numel *= old[d]
        if d == 0 or (old[d - 1] != 1 and strides[d - 1] != tensor_numel * base):
            while view_d >= 0 and (view_numel < tensor_numel or new[view_d] == 1):
                out[view_d] = view_numel * base
                view_numel *= new[view_d]
                view_d -= 1
            if view_numel != tensor_numel:
                return None
            if d > 0:
                base = strides[d - 1]
                tensor_numel = view_numel = 1
    return None if view_d != -1 else tuple(out)
