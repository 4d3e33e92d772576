"""A sliding window's geometry and rule, shared by conv and pool (deconv: its text): windows, sizes, working."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from math import prod
from typing import TYPE_CHECKING

from convcalc.algebra.sizes import Size, as_int, ceildiv, floordiv
from convcalc.kinds.base import Params, dim_names, expand, formula_names
from convcalc.kinds.rule import coarser, grown
from convcalc.kinds.saved import Keep
from convcalc.kinds.stride import larger_than_input, stride_problems
from convcalc.kinds.window import Window, numerator, same_padding
from convcalc.options import Rounding

if TYPE_CHECKING:
    from collections.abc import Iterable

    from convcalc.kinds.closed import Shape
    from convcalc.kinds.flow import Problem
    from convcalc.kinds.rule import Given, Jumps, Need
    from convcalc.report import Exact
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


@dataclass(slots=True)  # not frozen: made per layer and per size (never changed)
class Slide:
    """A window layer's geometry per dim, from its parameters: F, S, dilation, F' and padding.

    `pads` is None for `same` (TensorFlow's rule), whose padding depends on the input's size.
    """

    size: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    effective: tuple[int, ...]
    pads: tuple[tuple[int, int], ...] | None


def slide(p: Params, x: Volume | Shape | Given) -> Slide:
    """The geometry of a conv or pool for input x; a pool's stride defaults to its size."""
    size = expand(p["size"], x, "size")
    stride = size if p.get("stride") is None else expand(p["stride"], x, "stride")
    dilation = expand(p.get("dilation", 1), x, "dilation")
    effective = tuple(d * (f - 1) + 1 for d, f in zip(dilation, size, strict=True))
    pad = p.get("pad", 0)
    if pad == "same":
        return Slide(size, stride, dilation, effective, None)
    if pad == "valid":
        return Slide(size, stride, dilation, effective, ((0, 0),) * len(x.spatial))
    return Slide(size, stride, dilation, effective, tuple((q, q) for q in expand(pad, x, "pad")))


def sliding_windows(p: Params, x: Volume) -> list[Window]:
    """The window of a conv or pool in each spatial dim, with numbers: input size, F', stride, padding.

    The engine, `--explain` and the PyTorch translator all slide the same windows, from `slide`.
    """
    g = slide(p, x)
    pads = (
        g.pads
        if g.pads is not None
        else [same_padding(w, k, s) for w, k, s in zip(x.spatial, g.effective, g.stride, strict=True)]
    )
    return [Window(w, k, s, lo, hi) for w, k, s, (lo, hi) in zip(x.spatial, g.effective, g.stride, pads, strict=True)]


def window_rule(
    p: Params, x: Given, need: Need, kind: str, g: Slide
) -> tuple[tuple[Size, ...], tuple[Exact, ...] | None, Jumps]:
    """A window layer's output sizes, receptive field and jump, for numbers and closed forms alike.

    Size: ⌊numerator/S⌋ + 1 (convcalc.kinds.window: floor's span, or PyTorch's ceil rule); `same`:
    ⌈W/S⌉, whose padding makes the stride fit by construction (nothing to report). Needs: at least
    one window; under strict no remainder, under floor none of the real input dropped (not
    padding, nor what a window narrower than its stride skips anyway): the numeric engine's
    errors and warnings, in convcalc.kinds.stride's words.
    """
    rounding = p.get("rounding") or x.ctx.rounding
    rf, jump = grown(x, g.effective), coarser(x.jump, g.stride)
    if g.pads is None:
        return tuple(ceildiv(w, s) for w, s in zip(x.spatial, g.stride, strict=True)), rf, jump
    names = dim_names(len(x.spatial))
    out: list[Size] = []
    for name, w, k, s, (lo, hi) in zip(names, x.spatial, g.effective, g.stride, g.pads, strict=True):
        span = w + lo + hi - k
        top = numerator(span, k, s, hi, rounding)
        # Under ceil, PyTorch still gives one window when it sticks out past the end (W=1, F=2).
        need.at_least("window-larger-than-input", top, 0, why=partial(_larger, name, (w, k, s, lo, hi), kind))
        out.append(floordiv(top, s) + 1)
        if rounding is not Rounding.CEIL:
            allowed = range(1) if rounding is Rounding.STRICT else range(hi + max(s - k, 0) + 1)
            need.residue("stride-does-not-fit", span, s, allowed)
    need.report(partial(_stride_report, names, x.spatial, g, out, rounding))
    return tuple(out), rf, jump


def _numbers(spatial: Iterable[Size], g: Slide) -> list[Window]:
    assert g.pads is not None  # noqa: S101 - `same` has no problems to report
    return [
        Window(as_int(w), k, s, lo, hi)
        for w, k, s, (lo, hi) in zip(spatial, g.effective, g.stride, g.pads, strict=True)
    ]


def _larger(name: str, window: tuple[Size, int, int, int, int], kind: str) -> str:
    w, k, s, lo, hi = window
    return larger_than_input(name, Window(as_int(w), k, s, lo, hi), kind)


def _stride_report(
    names: tuple[str, ...], spatial: tuple[Size, ...], g: Slide, out: list[Size], rounding: Rounding
) -> list[Problem]:
    return stride_problems(_numbers(spatial, g), names, tuple(as_int(o) for o in out), rounding)


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
