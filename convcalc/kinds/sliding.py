"""A sliding window's geometry, shared by conv, deconv and pool: pads, windows, closed forms, working."""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from convcalc.kinds.base import (
    Params,
    expand,
    formula_names,
)
from convcalc.kinds.closed import Condition, Expr, Shape, at_least, residue
from convcalc.kinds.saved import Keep
from convcalc.kinds.window import Window, same_padding
from convcalc.options import Rounding

if TYPE_CHECKING:
    from fractions import Fraction

    from convcalc.volume import Volume


def dims_text(value: int | tuple[int, ...]) -> str:
    """3 or 1x7, as the shorthand writes a per-dim value."""
    return str(value) if isinstance(value, int) else "x".join(map(str, value))


def options_text(p: Params, *, stride_default: object = 1) -> str:
    """The shorthand options of a window layer that differ from their defaults."""
    out = []
    if p["stride"] != stride_default:
        out.append(f"s{dims_text(p['stride'])}")
    pad = p.get("pad", 0)
    if pad != 0:
        out.append(f"p{pad}" if isinstance(pad, str) else f"p{dims_text(pad)}")
    if p.get("dilation", 1) != 1:
        out.append(f"d{dims_text(p['dilation'])}")
    if p.get("output_padding", 0) != 0:
        out.append(f"op{dims_text(p['output_padding'])}")
    g = p.get("groups", 1)
    if g != 1:
        out.append("gdw" if g == "depthwise" else f"g{g}")
    if p.get("rounding") is not None:
        out.append(p["rounding"].value)
    return "".join(f" {o}" for o in out)


def pads(p: Params, x: Volume, effective: tuple[int, ...], stride: tuple[int, ...]) -> list[tuple[int, int]]:
    """(before, after) padding per spatial dim; `same` as TensorFlow computes it."""
    pad = p["pad"]
    if pad == "same":
        return [same_padding(w, k, s) for w, k, s in zip(x.spatial, effective, stride, strict=True)]
    if pad == "valid":
        return [(0, 0)] * len(x.spatial)
    return [(q, q) for q in expand(pad, x, "pad")]


def sliding_windows(p: Params, x: Volume) -> list[Window]:
    """The window of a conv or pool in each spatial dim: input size, F', stride, padding.

    A pool's stride defaults to its size. The engine, `--explain` and the PyTorch translator all
    slide the same windows, from here.
    """
    size = expand(p["size"], x, "size")
    stride = size if p.get("stride") is None else expand(p["stride"], x, "stride")
    dilation = expand(p.get("dilation", 1), x, "dilation")
    effective = tuple(d * (f - 1) + 1 for d, f in zip(dilation, size, strict=True))
    return [
        Window(w, k, s, lo, hi)
        for w, k, s, (lo, hi) in zip(x.spatial, effective, stride, pads(p, x, effective, stride), strict=True)
    ]


def closed_windows(
    p: Params, x: Shape, rounding: Rounding
) -> tuple[tuple[Expr, ...], tuple[Fraction | int | None, ...], list[Condition]]:
    """The closed-form twin of sliding_windows + window_dims: output sizes, jumps, conditions.

    Floor: ⌊span/S⌋ + 1 with span = W + P_lo + P_hi − F'. Ceil, PyTorch's rule included (the
    last window is dropped when it would start in the right padding, i.e. when the remainder is
    at most e = P_hi − F' + S): ⌊(span + S − 1 − c)/S⌋ + 1 with c = e clamped to [0, S − 1].
    `same`: ⌈W/S⌉. The conditions are where window_dims raises or reports an error or a warning.
    """
    size = expand(p["size"], x, "size")
    stride = size if p.get("stride") is None else expand(p["stride"], x, "stride")
    dilation = expand(p.get("dilation", 1), x, "dilation")
    effective = tuple(d * (f - 1) + 1 for d, f in zip(dilation, size, strict=True))
    pad = p.get("pad", 0)
    same = pad == "same"
    pads = (0,) * len(x.spatial) if same or pad == "valid" else expand(pad, x, "pad")
    rounding = p.get("rounding") or rounding
    out: list[Expr] = []
    conditions: list[Condition] = []
    for w, k, s, q in zip(x.spatial, effective, stride, pads, strict=True):
        if same:
            out.append((w + s - 1).floordiv(s))
            continue
        span = w + 2 * q - k
        if rounding is Rounding.CEIL:
            c = min(max(q - k + s, 0), s - 1)
            out.append((span + s - 1 - c).floordiv(s) + 1)
            conditions += at_least("window-larger-than-input", span + s - 1 - c, 0)
            continue
        out.append(span.floordiv(s) + 1)
        conditions += at_least("window-larger-than-input", span, 0)
        # Strict: any remainder is an error. Floor: a warning once real input (not padding, nor
        # what a window narrower than its stride skips anyway) is dropped (_stride_problems).
        allowed = range(1) if rounding is Rounding.STRICT else range(q + max(s - k, 0) + 1)
        conditions += residue("stride-does-not-fit", span, s, allowed)
    jump = tuple(None if j is None else j * s for j, s in zip(x.jump, stride, strict=True))
    return tuple(out), jump, conditions


def framework_pads(windows: list[Window], rounding: Rounding, *, is_pool: bool) -> list[tuple[int, int]]:
    """(before, after) padding per dim for a framework that floors (PyTorch).

    A conv under `ceil` gets padding at the end, so that flooring gives ceil's size; pools have
    PyTorch's ceil_mode instead. The translator and the exporter both pad from here.
    """
    if rounding is Rounding.CEIL and not is_pool:
        return [
            (w.pad_lo, max(w.pad_hi, (w.output(rounding) - 1) * w.stride + w.kernel - w.size - w.pad_lo))
            for w in windows
        ]
    return [(w.pad_lo, w.pad_hi) for w in windows]


def kept_input(p: Params, x: Volume, rounding: Rounding, *, is_pool: bool) -> Keep:
    """A conv's or pool's input, kept for backward: itself, or the copy F.pad makes when uneven."""
    windows = sliding_windows(p, x)
    pads = framework_pads(windows, rounding, is_pool=is_pool)
    if all(lo == hi for lo, hi in pads):
        return Keep(input=True)
    return Keep(values=prod(w.size + lo + hi for w, (lo, hi) in zip(windows, pads, strict=True)) * x.depth)


def window_working(p: Params, x: Volume, rounding: Rounding) -> tuple[str, ...]:
    """H2 = W2 = (W1 − F + 2P)/S + 1 = 32, for a conv or pool, rounding shown where it applies."""
    names = formula_names(len(x.spatial))
    rounding = p.get("rounding") or rounding
    work = []
    for w in sliding_windows(p, x):
        got = w.output(rounding)
        if p.get("pad") == "same":  # TensorFlow's rule: ceil(W/S) windows, the padding to match
            total = w.pad_lo + w.pad_hi
            padding = f"max(({got} − 1)·{w.stride} + {w.kernel} − {w.size}, 0) = {total}"
            work.append(f"⌈{w.size}/{w.stride}⌉ = {got} (same: padding {padding})")
            continue
        if w.exact == got:
            rounded = ""
        elif rounding is Rounding.STRICT:  # strict does not round: no size; the row goes on with floor's
            rounded = f": the stride does not fit, so there is no output size (floor's {got} stands in below)"
        else:
            rounded = f" → {got} ({rounding.value})"
        work.append(f"{w.formula()}{rounded}")
    if len(set(work)) == 1:  # a square input: H2 = W2 = ...
        return (" = ".join(f"{name}2" for name in names) + f" = {work[0]}",)
    return tuple(f"{name}2 = {text}" for name, text in zip(names, work, strict=True))
