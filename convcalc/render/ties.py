"""The size lines of a symbolic table where a condition ties two symbols with an equality.

The engine judges a condition that ties H to W with W at a size of its own (convcalc.engine.solving:
the spec's, or the least of W's own set). For a count that only grows with the sizes (a norm's
"more than one value") that is where it is hardest; for an equality such as the position
embedding's ⌊H/16⌋·⌊W/16⌋ = 196 it is one arbitrary point (W = 16 gives H = 3,136 alone), so the
table states each symbol's own set, then the tie itself with the pairs of sizes that meet it.
"""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING

from convcalc.algebra.conditions import Relation
from convcalc.algebra.expr import NotClosed
from convcalc.engine.sizes import SizeSet, solve

if TYPE_CHECKING:
    from collections.abc import Collection

    from convcalc.algebra.conditions import Condition
    from convcalc.algebra.expr import Floor
    from convcalc.engine.symbolic import ClosedReport, Limit

SEARCHED = 4_096  # pairs of sizes looked for up to this size on each axis
_SHOWN = 3  # pairs listed, the squarest first
_TRIED = 512  # sizes of the second symbol tried


def ties(report: ClosedReport) -> list[Limit]:
    """The equalities (and residues) between two or more symbols, each condition once."""
    out: dict[object, Limit] = {}
    for limit in report.limits:
        c = limit.condition
        if len(c.symbols()) > 1 and c.relation is not Relation.AT_LEAST:
            out.setdefault((c.expr, c.relation, c.modulus, c.allowed, c.alternatives), limit)
    return list(out.values())


def free_set(report: ClosedReport, sym: str, tied: list[Limit]) -> SizeSet:
    """The symbol's set from every condition on it but the ties (each judged alone)."""
    found = SizeSet.everything()
    for limit, own in report.solved.get(sym, []):
        if limit not in tied:
            found = found.intersect(own)
    return found


def condition_text(c: Condition, exact: Collection[Floor]) -> str:
    """The condition, its floors that divide exactly as divisions: (H/16)·(W/16) = 196."""
    if c.relation is not Relation.ZERO or c.alternatives:
        return c.text()
    constant = c.expr.terms.get((), 0)
    return f"{(c.expr - constant).text(exact)} = {-constant:,}"


def pairs(syms: tuple[str, str], sets: dict[str, SizeSet], tied: list[Limit]) -> list[tuple[int, int]]:
    """Up to SEARCHED on each axis, the pairs that meet every tie on these two symbols, squarest first."""
    a, b = syms
    mine = [t.condition for t in tied if t.condition.symbols() == set(syms)]
    found: list[tuple[int, int]] = []
    for y in islice(sets[b].members(SEARCHED), _TRIED):
        xs = sets[a]
        try:
            for c in mine:
                xs = xs.intersect(solve(c, a, {b: y}))
        except NotClosed:  # too many pieces to list: the tie is stated alone
            return []
        found += [(x, y) for x in xs.members(SEARCHED)]
    return sorted(found, key=lambda p: (max(p), p))


def tie_lines(report: ClosedReport, exact: Collection[Floor]) -> tuple[dict[str, str], list[str]]:
    """Per tied symbol the note after its set, and one line per tie with the sizes that meet it."""
    tied = ties(report)
    notes: dict[str, str] = {}
    lines: list[str] = []
    for limit in tied:
        syms = tuple(s for s in dict.fromkeys(report.symbols) if s in limit.condition.symbols())
        for s in syms:
            others = ", ".join(o for o in syms if o != s)
            notes[s] = f", tied to {others} below"
        where = f"line {limit.line}" if limit.line else f"layer {limit.path}"
        text = f"tie at {limit.name} ({where}): {condition_text(limit.condition, exact)}"
        if len(syms) == 2:  # noqa: PLR2004 - a pair of sizes to list
            sets = {s: free_set(report, s, tied) for s in syms}
            found = pairs((syms[0], syms[1]), sets, tied)
            listed = ", ".join(f"{x:,}x{y:,}" for x, y in found[:_SHOWN])
            more = ", …" if len(found) > _SHOWN else ""
            up = f"{SEARCHED:,}"
            text += f", at {'x'.join(syms)} = {listed}{more}" if found else f", met by no sizes up to {up}"
        lines.append(text)
    return notes, lines
