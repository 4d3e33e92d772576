"""Per symbol, the sizes that fit: each condition solved (convcalc.engine.sizes), then met.

A condition that ties two symbols (layer norm's "more than one value" over the whole volume,
4·H·W − 8·H − 8·W ≥ -14) is judged with the other symbols at the spec's own sizes; a symbolic
spec without an example gives none, so there the others stand at the least size of their own
sets (issue 22, D4): the sizes a sweep of one axis holds the others at, and, since such a count
only grows with the sizes, where the condition is hardest.
"""

from __future__ import annotations

from itertools import islice, product
from typing import TYPE_CHECKING

from convcalc.algebra.conditions import Condition, Relation
from convcalc.algebra.expr import NotClosed
from convcalc.engine.sizes import SizeSet, solve

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from convcalc.engine.broadcast import Broadcast
    from convcalc.engine.symbolic import Limit

_CHECKED = 1_000  # sizes at which a multiply's widest branch may be 1, checked one by one


class Solver:
    """Solves each (condition, symbol, values) once: Inception's branches repeat their conditions."""

    def __init__(self, error: Callable[[Limit, str], Exception]) -> None:
        self.error = error
        self.cache: dict[tuple[object, ...], SizeSet] = {}

    def one(self, limit: Limit, sym: str, values: Mapping[str, int]) -> SizeSet:
        c = limit.condition
        used = tuple(sorted((k, v) for k, v in values.items() if k != sym and k in c.symbols()))
        key = (sym, c.expr, c.relation, c.modulus, c.allowed, c.alternatives, used)
        if key not in self.cache:
            try:
                self.cache[key] = solve(c, sym, dict(used))
            except NotClosed as e:
                raise self.error(limit, str(e)) from None
        return self.cache[key]

    def meet(self, found: SizeSet, other: SizeSet, limit: Limit) -> SizeSet:
        """The sizes in both, a set past convcalc's limits refused at the condition that made it."""
        try:
            return found.intersect(other)
        except NotClosed as e:
            raise self.error(limit, str(e)) from None


def solve_sets(
    limits: list[Limit], named: tuple[str, ...], given: Mapping[str, int], solver: Solver, *, fits: bool
) -> tuple[dict[str, SizeSet], dict[str, list[tuple[Limit, SizeSet]]]]:
    """Per symbol its set and each condition on it with its own set; `fits` False: nothing fits."""
    start = SizeSet.everything() if fits else SizeSet(1)
    own: dict[str, SizeSet] = {}
    for sym in named:  # first the conditions each symbol decides alone (or with numbers)
        found = start
        for limit in limits:
            syms = limit.condition.symbols()
            if sym in syms and syms - {sym} <= set(given):
                found = solver.meet(found, solver.one(limit, sym, given), limit)
        own[sym] = found
    values = dict(given)
    for sym in named:
        if sym not in values and not own[sym].empty:
            values[sym] = next(own[sym].ascending())
    sets: dict[str, SizeSet] = {}
    solved: dict[str, list[tuple[Limit, SizeSet]]] = {}
    for sym in named:
        found, mine = own[sym], solved.setdefault(sym, [])
        for limit in limits:
            syms = limit.condition.symbols()
            if sym not in syms:
                continue
            mine.append((limit, _tied(limit, sym, syms, values, solver)))
            if not syms - {sym} <= set(given):
                found = solver.meet(found, mine[-1][1], limit)
        sets[sym] = found
    return sets, solved


def _tied(limit: Limit, sym: str, syms: set[str], values: Mapping[str, int], solver: Solver) -> SizeSet:
    """The condition's set, the others at their values; none where another has no size that fits."""
    return solver.one(limit, sym, values) if syms - {sym} <= set(values) else SizeSet(1)


def check_broadcasts(checks: list[tuple[Limit, Broadcast]], sets: Mapping[str, SizeSet], solver: Solver) -> None:
    """Refuse a multiply whose output formula is wrong at a size that fits (its widest branch is 1 there)."""
    for limit, check in checks:
        (sym,) = check.widest.symbols()
        found = sets.get(sym)
        if found is None or found.empty:
            continue
        try:
            where = solve(Condition("merge-mismatch", check.widest - 1, Relation.ZERO), sym, {}).intersect(found)
        except NotClosed as e:
            raise solver.error(limit, str(e)) from None
        most = where.summary().most
        if where.empty:
            continue
        if most is None or len(sizes := list(islice(where.ascending(), _CHECKED + 1))) > _CHECKED:
            msg = f"a multiply's branch {check.widest.text()} is 1 at too many sizes to give its size one formula"
            raise solver.error(limit, msg)
        for n, other in product(sizes, check.others):
            value = other.substitute({sym: n})
            if value != 1:
                msg = (
                    f"a multiply's size has no single formula: at {sym} = {n} its branch {check.widest.text()} "
                    f"is 1 and another is {value.text()}"
                )
                raise solver.error(limit, msg)
