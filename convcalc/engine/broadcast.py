"""A symbolic merge's output and conditions: add and concat need equal sizes, a multiply broadcasts.

The multiply broadcasts as the numeric engine's (convcalc.engine.merge): a vector is 1x1xC, and
each dim agrees or is 1, where "is 1" may hold at some sizes only (a branch that shrinks to 1:
issue 22, D18). Its output per dim is the branch that grows fastest; where that branch is 1 while
another is not, the output would be the other, and analyze_closed refuses the spec (Broadcast).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from convcalc.algebra.conditions import Condition, Relation, Shape, equal
from convcalc.algebra.expr import Expr, NotClosed
from convcalc.spec.model import Merge

ONE = Expr.of(1)


class MergeFailure(Exception):  # noqa: N818 - a property of the network, reported as a Failure
    """Branches that cannot merge whatever the size."""


@dataclass(frozen=True, slots=True)
class Broadcast:
    """A multiply's dim whose output is `widest`: right unless widest is 1 while one of `others` is not."""

    widest: Expr
    others: tuple[Expr, ...]


def merged(kind: Merge, parts: list[Shape]) -> tuple[Shape, list[Condition], list[Broadcast]]:
    """The merged shape, what the merge needs of the sizes, and the multiply's dims to check."""
    if kind is Merge.MULTIPLY:
        return _multiply(parts)
    first = parts[0]
    if any(len(p.spatial) != len(first.spatial) for p in parts):
        msg = "the branches have different numbers of dims"
        raise MergeFailure(msg)
    conditions: list[Condition] = []
    for p in parts[1:]:
        for a, b in zip(first.spatial, p.spatial, strict=True):
            conditions += equal("merge-mismatch", a, b)
        if kind is not Merge.CONCAT:
            conditions += equal("merge-mismatch", first.depth, p.depth)
    _refuse_numbers(kind, parts, conditions)
    depth = sum((p.depth for p in parts), Expr.of(0)) if kind is Merge.CONCAT else first.depth
    return Shape(first.spatial, depth, widest_jump(parts)), conditions, []


def _multiply(parts: list[Shape]) -> tuple[Shape, list[Condition], list[Broadcast]]:
    n = max(len(p.spatial) for p in parts)
    grids = [p.spatial or (ONE,) * n for p in parts]  # a vector broadcasts as 1x1xC
    out: list[Expr] = []
    conditions: list[Condition] = []
    checks: list[Broadcast] = []
    for sizes in zip(*((*g, p.depth) for g, p in zip(grids, parts, strict=True)), strict=True):
        wide = list(dict.fromkeys(s for s in sizes if s != 1))
        if not wide:
            out.append(ONE)
            continue
        widest = max(wide, key=_growth)
        others = tuple(s for s in wide if s != widest)
        alternatives = (widest - 1,) if len(widest.symbols()) == 1 else ()
        conditions += [
            Condition("merge-mismatch", s - widest, Relation.ZERO, alternatives=(s - 1, *alternatives)) for s in others
        ]
        if others and alternatives:
            checks.append(Broadcast(widest, others))
        out.append(widest)
    _refuse_numbers(Merge.MULTIPLY, parts, [c for c in conditions if not c.symbols()])
    return Shape(tuple(out[:-1]), out[-1], widest_jump(parts)), conditions, checks


def _growth(e: Expr) -> tuple[int, Fraction, int]:
    """How fast a size grows: numbers first (they never become 1), then the steepest, then the largest."""
    if e.constant is not None:
        return (1, Fraction(0), 0)
    far = e.evaluate(dict.fromkeys(e.symbols(), _FAR))  # of two as steep, the larger (H rather than H − 1)
    try:
        return (0, sum((e.slope(s) for s in e.symbols()), Fraction(0)), far)
    except NotClosed:  # a product of sizes (a flattened depth): as steep as can be
        return (0, Fraction(10**9), far)


_FAR = 10**6


def _refuse_numbers(kind: Merge, parts: list[Shape], conditions: list[Condition]) -> None:
    if any(c.expr.constant is not None and not c.holds({}) for c in conditions):
        message = f"cannot {kind.value} volumes {' and '.join(map(str, parts))}"
        raise MergeFailure(message)


def widest_jump(parts: list[Shape]) -> tuple[Fraction | int | None, ...]:
    """A merge's jump: the largest of its branches' (None when one is not a number)."""
    return tuple(
        None if None in dim else max(d for d in dim if d is not None)
        for dim in zip(*(p.jump for p in parts), strict=True)
    )
