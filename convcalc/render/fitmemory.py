"""`show --train --fit-memory SIZE`: the blocks to checkpoint (convcalc.engine.fitmemory) as lines and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.render import numbers

if TYPE_CHECKING:
    from convcalc.engine.fitmemory import Candidate, Fit


def _names(blocks: tuple[Candidate, ...]) -> str:
    return ", ".join(f"{b.name} ({b.path})" if b.name != b.path else b.path for b in blocks)


def fit_lines(fit: Fit, figure: str, *, binary: bool) -> list[tuple[str, str]]:
    """The answer, then what it costs; `figure` names the peak the search compared (the step's peak)."""

    def size(n: int) -> str:
        text = numbers.size(n, binary=binary)
        return f"{text} ({n:,} B)" if n != fit.limit and text == numbers.size(fit.limit, binary=binary) else text

    limit = size(fit.limit)
    if fit.blocks is None:
        if not fit.candidates:
            head = f"none fits: the spec has no block to checkpoint, and {figure} is {size(fit.baseline)}, over {limit}"
        else:
            every = (
                f"all {fit.candidates:,} blocks checkpointed" if fit.candidates > 1 else "its one block checkpointed"
            )
            head = f"none fits: with {every}, {figure} is {size(fit.peak)}, over {limit}"
        return [("Fit memory", head), ("  without", f"{size(fit.baseline)} with nothing checkpointed")]
    if not fit.blocks:
        return [("Fit memory", f"fits in {limit} with nothing checkpointed: {figure} is {size(fit.baseline)}")]
    n = len(fit.blocks)
    lines = [
        ("Fit memory", f"checkpoint {n:,} block{'s' if n != 1 else ''} to fit in {limit}: {_names(fit.blocks)}"),
        ("  memory", f"{size(fit.peak)}, {figure}; {size(fit.baseline)} with nothing checkpointed"),
        ("  recompute", f"{numbers.precise(fit.recompute_macs)} MACs run again in backward, the least that fits"),
    ]
    if not fit.exact:
        lines.append(("  search", f"stopped after {fit.tried:,} choices: the cheapest found, not proven the least"))
    return lines


def fit_dict(fit: Fit, figure: str) -> dict[str, Any]:
    """JSON's `fit_memory`: the limit, the blocks (null when none fits) and their figures."""
    blocks = None if fit.blocks is None else [{"path": b.path, "name": b.name, "macs": b.macs} for b in fit.blocks]
    return {
        "limit": fit.limit,
        "figure": figure,
        "fits": fit.blocks is not None,
        "blocks": blocks,
        "peak": fit.peak,
        "baseline": fit.baseline,
        "recompute_macs": fit.recompute_macs,
        "candidates": fit.candidates,
        "tried": fit.tried,
        "exact": fit.exact,
    }
