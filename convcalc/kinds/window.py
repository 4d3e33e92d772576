"""Sliding-window arithmetic for one spatial dim, exactly (DESIGN §3).

    W2 = (W1 - F' + P_lo + P_hi) / S + 1,   F' = dilation * (F - 1) + 1

The lecture writes the symmetric case (W - F + 2P)/S + 1. When the numerator is not a multiple
of S the stride does not fit: the last r = numerator mod S padded positions are never covered.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from convcalc.algebra.sizes import Size, as_int, floordiv
from convcalc.options import Rounding


def decimal(value: Fraction) -> str:
    """A rational as the lecture writes it: 54.25, 2.33, 7."""
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.2f}".rstrip("0")


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's `same`: W2 = ceil(W1 / S); the odd pixel of padding goes last."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def numerator(span: Size, kernel: int, stride: int, pad_hi: int, rounding: Rounding) -> Size:
    """What the output size floors by S, less 1: span = W − F' + P_lo + P_hi; under ceil more.

    Ceil is PyTorch's ceil_mode (pooling_output_shape): one more window when the stride does not
    fit, unless that window would start inside the right padding, i.e. unless the remainder is at
    most e = P_hi − F' + S: ⌊(span + S − 1 − c)/S⌋ with c = e clamped to [0, S − 1]. The same
    formula serves numbers and closed forms; `numerator(...) ≥ 0` is what gives one window at all.
    """
    if rounding is not Rounding.CEIL:
        return span
    return span + stride - 1 - min(max(pad_hi - kernel + stride, 0), stride - 1)


def window_output(span: Size, kernel: int, stride: int, pad_hi: int, rounding: Rounding) -> Size:
    """The output size: ⌊numerator/S⌋ + 1 (floor and strict: ⌊span/S⌋ + 1)."""
    return floordiv(numerator(span, kernel, stride, pad_hi, rounding), stride) + 1


@dataclass(frozen=True, slots=True)
class Window:
    """A window of `kernel` (effective size) sliding over `size` positions padded on both ends."""

    size: int
    kernel: int
    stride: int
    pad_lo: int
    pad_hi: int

    @property
    def span(self) -> int:
        """How far the window's first position can travel: W - F' + P_lo + P_hi."""
        return self.size + self.pad_lo + self.pad_hi - self.kernel

    @property
    def exact(self) -> Fraction:
        """The formula's value before any rounding."""
        return Fraction(self.span, self.stride) + 1

    @property
    def remainder(self) -> int:
        """Padded positions at the end that no window covers (0 when the stride fits)."""
        return self.span % self.stride

    @property
    def uncovered_input(self) -> int:
        """How many of the uncovered positions are real input rather than padding."""
        return max(self.remainder - self.pad_hi, 0)

    def output(self, rounding: Rounding) -> int:
        """The output size under a rounding policy (the caller checks span >= 0)."""
        return as_int(window_output(self.span, self.kernel, self.stride, self.pad_hi, rounding))

    def formula(self) -> str:
        """The arithmetic with the numbers filled in: (224 - 11)/4 + 1 = 54.25, (56 - 3 + 2*1)/2 + 1."""
        if self.pad_lo == self.pad_hi == 0:
            pads = ""  # the lecture's (N - F)/stride + 1
        elif self.pad_lo == self.pad_hi:
            pads = f" + 2·{self.pad_lo}"
        else:
            pads = f" + {self.pad_lo} + {self.pad_hi}"
        return f"({self.size} − {self.kernel}{pads})/{self.stride} + 1 = {decimal(self.exact)}"

    def fitting_sizes(self) -> tuple[int, int]:
        """The nearest input sizes below and above for which this window's stride fits."""
        return self.size - self.remainder, self.size + self.stride - self.remainder
