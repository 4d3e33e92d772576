"""Sets of input sizes stored as runs of residue classes, never as one entry per residue.

A set of positive sizes with modulus M is a list of runs (first, last, k1, k2): the sizes
r + M·k with first ≤ r ≤ last and k1 ≤ k ≤ k2 (k2 None: unbounded). Each residue lies in at most
one run, so each residue class holds one interval of sizes, as before; but a chain of strides
2, 3, 5, …, 17 (modulus 510,510) is one run, and a bound H ≥ 223 is one run of modulus 1. Every
operation costs the number of runs, not the modulus (issue 22, D7).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from math import lcm
from typing import TYPE_CHECKING

from convcalc.algebra.expr import NotClosed
from convcalc.engine import runlist as rl
from convcalc.engine.runlist import MAX_MODULUS, MAX_RUNS, Run

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

__all__ = ["MAX_MODULUS", "MAX_RUNS", "Run", "SizeSet", "Summary"]


@dataclass(frozen=True, slots=True)
class Summary:
    """A size set in the issue's form, and whether that form is the whole truth."""

    least: int | None  # None: the set is empty
    most: int | None  # None: unbounded (or empty)
    modulus: int
    runs: tuple[tuple[int, int], ...]  # the residues mod `modulus`, as runs first..last
    exact: bool  # False: the classes have different bounds; SizeSet.pieces() gives them

    @property
    def count(self) -> int:
        """How many residues."""
        return sum(b - a + 1 for a, b in self.runs)

    @property
    def residues(self) -> tuple[int, ...]:
        """The residues one by one (there may be many: see `count`)."""
        return tuple(r for a, b in self.runs for r in range(a, b + 1))


class SizeSet:
    """Positive sizes, per residue class modulo `modulus` one interval, stored as runs."""

    __slots__ = ("_firsts", "modulus", "runs")

    def __init__(
        self, modulus: int, classes: Mapping[int, tuple[int, int | None]] | None = None, *, runs: Iterable[Run] = ()
    ) -> None:
        """`classes`: residue → (lo, hi), both ≡ residue (hi None: unbounded); or the runs."""
        out = list(runs)
        for r, (lo, hi) in (classes or {}).items():
            out.append((r, r, (lo - r) // modulus, None if hi is None else (hi - r) // modulus))
        self.modulus = modulus
        self.runs: tuple[Run, ...] = rl.merge(sorted(out))
        self._firsts = [a for a, *_ in self.runs]

    @staticmethod
    def everything(modulus: int = 1) -> SizeSet:
        """Every positive size, written with the given modulus."""
        return SizeSet(modulus, runs=rl.positive([(0, modulus - 1, 0, None)]))

    @staticmethod
    def of_runs(modulus: int, runs: Iterable[Run]) -> SizeSet:
        """The positive sizes of the runs (k below 0, and 0 itself, dropped), at the smallest modulus found."""
        return _reduced(modulus, list(rl.positive(runs)))

    def __repr__(self) -> str:
        return f"SizeSet({self.modulus}, runs={list(self.runs)!r})"

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int) or n < 1:
            return False
        r, k = n % self.modulus, n // self.modulus
        i = bisect_right(self._firsts, r) - 1
        if i < 0:
            return False
        _, b, k1, k2 = self.runs[i]
        return r <= b and k1 <= k and (k2 is None or k <= k2)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SizeSet):
            return NotImplemented
        if self.modulus == other.modulus:
            return self.runs == other.runs
        m = lcm(self.modulus, other.modulus)
        return rl.merge(rl.lift(self.modulus, self.runs, m)) == rl.merge(rl.lift(other.modulus, other.runs, m))

    __hash__ = None  # type: ignore[assignment]  # compared by value, never a key

    @property
    def empty(self) -> bool:
        return not self.runs

    def intersect(self, other: SizeSet) -> SizeSet:
        """The sizes in both."""
        m = lcm(self.modulus, other.modulus)
        if m > MAX_MODULUS:
            msg = f"the sizes that fit repeat only every {m:,} (over convcalc's limit of {MAX_MODULUS:,})"
            raise NotClosed(msg)
        if self.empty or other.empty:
            return SizeSet(1)
        small, big = sorted((self, other), key=lambda s: s.modulus)
        if small.modulus == 1:  # a bound: each run is cut in at most three
            ((_, _, lo, hi),) = small.runs
            out = [piece for run in big.runs for piece in rl.clip(run, lo, hi, big.modulus)]
        else:
            out = rl.meet(small.modulus, small.runs, rl.lift(big.modulus, big.runs, m), m)
        return _reduced(m, rl.merge(sorted(out)))

    def union(self, other: SizeSet) -> SizeSet:
        """The sizes in either; refused when a class would hold two separate intervals."""
        m = lcm(self.modulus, other.modulus)
        if m > MAX_MODULUS:
            msg = f"the sizes that fit repeat only every {m:,} (over convcalc's limit of {MAX_MODULUS:,})"
            raise NotClosed(msg)
        while True:
            try:
                mine, theirs = rl.lift(self.modulus, self.runs, m), rl.lift(other.modulus, other.runs, m)
                return _reduced(m, rl.joined(mine, theirs))
            except rl.Gap as gap:  # a finer modulus puts the two intervals in classes of their own
                m *= gap.factor
            if m > MAX_MODULUS:
                msg = "the sizes that fit are not one interval per residue class at any modulus convcalc allows"
                raise NotClosed(msg)

    def issubset(self, other: SizeSet) -> bool:
        """Whether every size of self is in other."""
        return self.intersect(other) == self

    def summary(self) -> Summary:
        """min, max, the smallest modulus and its residues; `exact` when they say it all."""
        if not self.runs:
            return Summary(None, None, 1, (), exact=True)
        least, most = rl.bounds(self.modulus, self.runs)
        if not rl.is_exact(self.modulus, self.runs, least, most):
            return Summary(least, most, self.modulus, rl.pattern_of(self.runs), exact=False)
        d = rl.period(self.modulus, rl.pattern_of(self.runs))
        pattern = tuple((a, min(b, d - 1)) for a, b in rl.pattern_of(self.runs) if a < d)
        return Summary(least, most, d, pattern, exact=True)

    def pieces(self) -> list[tuple[int, int, int, int | None]]:
        """(first, last, lo, hi) per run: the sizes H with H mod modulus in first..last and lo ≤ H ≤ hi."""
        m = self.modulus
        return [(a, b, a + m * k1, None if k2 is None else b + m * k2) for a, b, k1, k2 in self.runs]

    def ascending(self, start: int = 1) -> Iterator[int]:
        """The sizes of the set from `start` on, ascending (an endless iterator when unbounded)."""
        m = self.modulus
        k = max(start, 1) // m
        while True:
            live = [run for run in self.runs if run[3] is None or run[3] >= k]
            if not live:
                return
            k = max(k, min(run[2] for run in live))
            for a, b, k1, k2 in live:
                if k1 <= k and (k2 is None or k <= k2):
                    yield from range(max(a + m * k, start), b + m * k + 1)
            k += 1

    def members(self, limit: int) -> Iterator[int]:
        """The sizes in the set up to `limit`, ascending."""
        for n in self.ascending():
            if n > limit:
                return
            yield n

    def nearest(self, n: int, count: int) -> list[int]:
        """The `count` sizes of the set nearest n (ties: the smaller first)."""
        found: set[int] = set()
        for run in self.runs:
            found.update(rl.near(run, self.modulus, n, count))
        return sorted(found, key=lambda c: (abs(c - n), c))[:count]


def _reduced(m: int, runs: Iterable[Run]) -> SizeSet:
    """The set at the smallest modulus its pattern repeats by, when the pattern and two bounds say it all."""
    s = SizeSet(m, runs=runs)
    if m == 1 or s.empty:
        return s if not s.empty else SizeSet(1)
    least, most = rl.bounds(m, s.runs)
    if not rl.is_exact(m, s.runs, least, most):
        return s
    d = rl.period(m, rl.pattern_of(s.runs))
    if d == m:
        return s
    pattern = [(a, min(b, d - 1), 0, None) for a, b in rl.pattern_of(s.runs) if a < d]
    return SizeSet(d, runs=[p for run in pattern for p in rl.clip(run, least, most, d)])
