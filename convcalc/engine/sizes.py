"""Sets of input sizes: {h0 ≤ H ≤ h1, H mod M ∈ R}, solved from a network's conditions.

Every condition a layer states (convcalc.kinds.closed) is, on a residue class H = M·t + r with M
a multiple of the floors' periods, affine in t: a·t + b ≥ 0, a·t + b = 0, or (a·t + b) mod S
in a set, with a a multiple of S. So on each class the sizes that fit are an interval of t,
and a network's set is, per residue class modulo the lcm of its periods, an interval of H.

The classes are never listed one by one (issue 22, D7): a condition whose floors are of H alone,
⌊(H + A)/M⌋, is constant between the points where one of its floors steps, so each stretch of
residues between two steps is one run of the set (convcalc.engine.runs). Only a condition with a
floor of a floor, or with H beside its floors, is solved class by class, up to ENUMERATED classes.
"""

from __future__ import annotations

from itertools import pairwise
from math import gcd, lcm
from typing import TYPE_CHECKING

from convcalc.algebra.conditions import Condition, Relation
from convcalc.algebra.expr import Expr, Floor, NotClosed, Sym
from convcalc.engine.runs import MAX_MODULUS, MAX_RUNS, Run, SizeSet, Summary

if TYPE_CHECKING:
    from collections.abc import Mapping

# The most residue classes a condition is solved over one by one (a floor of a floor, or H beside
# a floor); past it the condition is refused, as a set past MAX_MODULUS is.
ENUMERATED = 1_048_576

__all__ = ["ENUMERATED", "MAX_MODULUS", "SizeSet", "Summary", "binding", "solve"]


def solve(condition: Condition, sym: str, others: Mapping[str, int]) -> SizeSet:
    """The sizes of `sym` for which the condition holds, the other symbols at the given values."""
    if condition.alternatives:  # any of them = 0: the union of their sets
        out = SizeSet(1)
        for e in (condition.expr, *condition.alternatives):
            out = out.union(solve(Condition(condition.code, e, Relation.ZERO), sym, others))
        return out
    expr = condition.expr.substitute({k: v for k, v in others.items() if k != sym})
    if expr.symbols() - {sym}:
        missing = ", ".join(sorted(expr.symbols() - {sym}))
        msg = f"the condition {condition.text()} ties {sym} to {missing}, which has no value to judge it at"
        raise NotClosed(msg)
    floors = _floors_of(expr, sym)
    if floors is not None:
        return _by_steps(condition, expr, sym, floors)
    slope = expr.terms.get(((Sym(sym), 1),), 0)
    if condition.relation is Relation.RESIDUE and slope and (expr - Expr.symbol(sym) * slope).constant is not None:
        return _affine_residue(condition, slope, expr.terms.get((), 0))
    return _by_classes(condition, expr, sym)


def _affine_residue(condition: Condition, c: int, e: int) -> SizeSet:
    """(c·H + e) mod S in the allowed set: for each allowed a, c·H ≡ a − e (mod S) is one class of H."""
    s = condition.modulus
    g = gcd(c, s)
    m = s // g
    runs: list[Run] = []
    for a in condition.allowed:
        if (a - e) % g == 0:
            r = ((a - e) // g * pow(c // g, -1, m)) % m
            runs.append((r, r, 0, None))
    return SizeSet.of_runs(m, sorted(set(runs)))


def _floors_of(expr: Expr, sym: str) -> list[tuple[int, int, int]] | None:
    """(c, A, M) per term c·⌊(H + A)/M⌋ when the expression is such terms and a number; else None."""
    out: list[tuple[int, int, int]] = []
    for m, c in expr.terms.items():
        if not m:
            continue
        if len(m) != 1 or m[0][1] != 1 or isinstance(m[0][0], Sym):
            return None
        atom = m[0][0]
        assert isinstance(atom, Floor)  # noqa: S101 - an atom is a symbol or a floor
        rest = atom.num - Expr.symbol(sym)
        if rest.constant is None:
            return None
        out.append((c, rest.constant, atom.den))
    return out


def _by_steps(condition: Condition, expr: Expr, sym: str, floors: list[tuple[int, int, int]]) -> SizeSet:
    """Between two steps of its floors the expression is a number: one run per stretch of residues."""
    period = lcm(1, *(d for _, _, d in floors))
    steps = sum(period // d for _, _, d in floors)
    if period > MAX_MODULUS or steps > MAX_RUNS:
        return _by_classes(condition, expr, sym)
    grow = sum(c * (period // d) for c, _, d in floors)  # E(H + period) = E(H) + grow
    cuts = sorted({0, period, *((-a) % d + j * d for _, a, d in floors for j in range(period // d))})
    copies = 1
    if condition.relation is Relation.RESIDUE:
        copies = condition.modulus // gcd(grow, condition.modulus)
    modulus = period * copies
    if modulus > MAX_MODULUS or (len(cuts) - 1) * copies > MAX_RUNS:
        msg = (
            f"the condition {condition.text()} repeats only every {modulus:,} sizes (convcalc's limit: {MAX_MODULUS:,})"
        )
        raise NotClosed(msg)
    e0 = expr.terms.get((), 0)
    runs: list[Run] = []
    for s, e in pairwise(cuts):
        value = e0 + sum(c * ((s + a) // d) for c, a, d in floors)
        for j in range(copies):
            t_lo, t_hi = _interval(condition, grow * copies, value + j * grow)
            runs.append((s + j * period, e - 1 + j * period, t_lo, t_hi))
    return SizeSet.of_runs(modulus, runs)


def _by_classes(condition: Condition, expr: Expr, sym: str) -> SizeSet:
    """Class by class, on the classes modulo the expression's period (and the condition's)."""
    m = expr.period(sym)
    if condition.relation is Relation.RESIDUE:
        m = lcm(m, (expr.slope(sym) / condition.modulus).denominator)
    if m > ENUMERATED:
        msg = f"the condition {condition.text()} repeats only every {m:,} sizes (convcalc's limit: {ENUMERATED:,})"
        raise NotClosed(msg)
    runs: list[Run] = []
    for r in range(m):
        a, b = expr.on_class(sym, m, r)
        t_lo, t_hi = _interval(condition, a, b)
        runs.append((r, r, t_lo, t_hi))
    return SizeSet.of_runs(m, runs)


_NONE = (1, 0)  # an empty interval of t
_ALL: tuple[int, int | None] = (-(10**30), None)


def _interval(condition: Condition, a: int, b: int) -> tuple[int, int | None]:
    """The t for which a·t + b meets the condition, as an interval (lo > hi when empty)."""
    if condition.relation is Relation.RESIDUE:
        return _ALL if b % condition.modulus in condition.allowed else _NONE
    if condition.relation is Relation.ZERO:
        if a == 0:
            return _ALL if b == 0 else _NONE
        return (-b // a, -b // a) if b % a == 0 else _NONE
    if a > 0:  # a·t ≥ −b
        return -(b // a), None
    if a == 0:
        return _ALL if b >= 0 else _NONE
    return -(10**30), b // -a  # t ≤ b/(−a)


def binding(sets: list[SizeSet]) -> list[bool]:
    """Which conditions' sets shape the whole: a set the others already imply is not binding.

    From the last to the first, a set is dropped when the sets before it and those kept after it
    fall inside it: of two equal sets, the earlier layer's is kept.
    """
    # A set met before (the same object: repeated conditions share one) or holding every size
    # binds nothing; the rest are judged.
    seen: set[int] = set()
    judged: list[int] = []
    for i, own in enumerate(sets):
        if id(own) not in seen and own != SizeSet.everything(own.modulus):
            judged.append(i)
        seen.add(id(own))
    before = [SizeSet.everything()]
    for i in judged[:-1]:
        before.append(before[-1].intersect(sets[i]))
    kept = [False] * len(sets)
    after = SizeSet.everything()
    for n in range(len(judged) - 1, -1, -1):
        i = judged[n]
        if not before[n].intersect(after).issubset(sets[i]):
            kept[i] = True
            after = after.intersect(sets[i])
    return kept
