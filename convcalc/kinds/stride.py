"""What a window layer says when its stride does not fit, or its window does not fit at all.

The numeric backend's words for the conditions of the window rule (convcalc.kinds.sliding):
where the closed form records `window-larger-than-input` or `stride-does-not-fit`, these are the
messages the numeric engine gives at the sizes that break them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.flow import Problem
from convcalc.options import Rounding
from convcalc.report import Severity

if TYPE_CHECKING:
    from convcalc.kinds.window import Window

_UNITS = {"length": "position", "time": "frame", "height": "row", "width": "column"}


def larger_than_input(name: str, w: Window, kind: str) -> str:
    """Height: the 5-wide conv window is larger than the padded input (3 + 0 padding): ..."""
    return (
        f"{name}: the {w.kernel}-wide {kind} window is larger than the padded input "
        f"({w.size} + {w.pad_lo + w.pad_hi} padding): {w.formula()}"
    )


def stride_problems(
    windows: list[Window],
    names: tuple[str, ...],
    sizes: tuple[int, ...],
    rounding: Rounding,
) -> list[Problem]:
    """What to say of the windows whose stride does not fit: an error (strict), a warning or a note."""
    misfits = [(n, w, s) for n, w, s in zip(names, windows, sizes, strict=True) if w.remainder]
    if not misfits:
        return []
    # Square inputs give the same arithmetic in every dim: say it once.
    same = len({(w.size, w.kernel, w.stride, w.pad_lo, w.pad_hi) for _, w, _ in misfits}) == 1
    first = misfits[0][1]
    formula = first.formula() if same else "; ".join(f"{n}: {w.formula()}" for n, w, _ in misfits)
    tails = _tails([(n, w.remainder) for n, w, _ in misfits])
    only_padding = all(w.uncovered_input == 0 for _, w, _ in misfits)
    # A window narrower than its stride skips stride - F' positions between windows anyway
    # (torchvision's 1x1/2 downsample); losing no more than that at the end is nothing new.
    only_gaps = all(w.uncovered_input <= max(w.stride - w.kernel, 0) for _, w, _ in misfits)
    gappy = next((w for _, w, _ in misfits if w.uncovered_input), first)
    skipped = gappy.stride - gappy.kernel
    gaps = f"a {gappy.kernel}-wide window with stride {gappy.stride} skips {skipped} in every {gappy.stride} anyway"
    if rounding is Rounding.CEIL:
        got = "x".join(map(str, sizes))
        if all(s == w.span // w.stride + 1 for _, w, s in misfits):
            # PyTorch's rule: the extra window would start inside the right padding.
            msg = f"{formula}: {got} under ceil too, as the extra window would start in the padding"
        else:
            msg = f"{formula}: rounded up to {got} (ceil)"
        return [Problem(Severity.NOTE, "stride-rounded-up", msg)]
    if rounding is Rounding.FLOOR:
        got = "x".join(map(str, sizes))
        if only_padding:
            msg = f"{formula}: floored to {got}; {tails} dropped (only padding)"
            return [Problem(Severity.NOTE, "stride-does-not-fit", msg)]
        if only_gaps:
            msg = f"{formula}: floored to {got}; {tails} dropped ({gaps})"
            return [Problem(Severity.NOTE, "stride-does-not-fit", msg)]
        msg = f"{formula}: floored to {got}; of the input, {tails} dropped (never covered)"
        return [Problem(Severity.WARNING, "stride-does-not-fit", msg)]
    if only_padding:
        advice = "That is only padding, so no input is lost: `rounding: floor` is safe here."
    elif only_gaps:
        advice = f"As {gaps}, `rounding: floor` is safe here."
    else:
        lo, hi = first.fitting_sizes()
        sizes_that_fit = f"{lo} or {hi}" if lo >= first.kernel else str(hi)
        advice = (
            # Of this layer only: a size that fits here may fail later (AlexNet's 223 at MAX POOL1).
            f"An input of {sizes_that_fit} (not {first.size}) would fit this layer (`convcalc fit` finds the "
            "sizes the whole network fits); "
            f"or set `rounding: floor` to drop {'them' if tails.endswith('are') else 'it'}, as PyTorch does."
        )
    msg = f"{formula}: the stride does not fit; {tails} never covered. {advice}"
    return [Problem(Severity.ERROR, "stride-does-not-fit", msg)]


def _tails(misfits: list[tuple[str, int]]) -> str:
    """'the last row and column are', 'the last 2 rows and the last column are', 'the last row is'."""
    counts = {r for _, r in misfits}

    def last(r: int, unit: str) -> str:
        return f"the last {unit}" if r == 1 else f"the last {r} {unit}s"

    if len(counts) == 1:
        r = counts.pop()
        units = " and ".join(_UNITS.get(n, "position") for n, _ in misfits)
        text = (
            f"the last {units}"
            if r == 1
            else f"the last {r} " + " and ".join(_UNITS.get(n, "position") + "s" for n, _ in misfits)
        )
        plural = r > 1 or len(misfits) > 1
    else:
        text = " and ".join(last(r, _UNITS.get(n, "position")) for n, r in misfits)
        plural = True
    return f"{text} {'are' if plural else 'is'}"
