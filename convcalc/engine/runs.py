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
from itertools import pairwise
from math import lcm
from typing import TYPE_CHECKING

from convcalc.algebra.expr import NotClosed

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

Run = tuple[int, int, int, int | None]

# The largest modulus a set may have (strides whose product passes it are refused), and the
# most runs one operation may make: both far past any network, and both keep a hostile spec cheap.
MAX_MODULUS = 2**40
MAX_RUNS = 200_000


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


def _too_many() -> NotClosed:
    return NotClosed(f"the sizes that fit break into more than {MAX_RUNS:,} pieces (convcalc's limit)")


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
        self.runs: tuple[Run, ...] = _merge(sorted(out))
        self._firsts = [a for a, *_ in self.runs]

    @staticmethod
    def everything(modulus: int = 1) -> SizeSet:
        """Every positive size, written with the given modulus."""
        return SizeSet(modulus, runs=_positive([(0, modulus - 1, 0, None)]))

    @staticmethod
    def of_runs(modulus: int, runs: Iterable[Run]) -> SizeSet:
        """The positive sizes of the runs (k below 0, and 0 itself, dropped), at the smallest modulus found."""
        return _reduced(modulus, list(_positive(runs)))

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
        return _merge(_lift(self, m)) == _merge(_lift(other, m))

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
            out = [piece for run in big.runs for piece in _clip(run, lo, hi, big.modulus)]
        else:
            out = _meet(small, _lift(big, m), m)
        return _reduced(m, _merge(sorted(out)))

    def union(self, other: SizeSet) -> SizeSet:
        """The sizes in either; refused when a class would hold two separate intervals."""
        m = lcm(self.modulus, other.modulus)
        if m > MAX_MODULUS:
            msg = f"the sizes that fit repeat only every {m:,} (over convcalc's limit of {MAX_MODULUS:,})"
            raise NotClosed(msg)
        while True:
            try:
                return _reduced(m, _joined(_lift(self, m), _lift(other, m)))
            except _Gap as gap:  # a finer modulus puts the two intervals in classes of their own
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
        least, most = _bounds(self)
        if not _is_exact(self, least, most):
            return Summary(least, most, self.modulus, _pattern(self.runs), exact=False)
        d = _period(self.modulus, _pattern(self.runs))
        pattern = tuple((a, min(b, d - 1)) for a, b in _pattern(self.runs) if a < d)
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
            found.update(_near(run, self.modulus, n, count))
        return sorted(found, key=lambda c: (abs(c - n), c))[:count]


class _Gap(Exception):  # noqa: N818 - control flow within this module
    """Two intervals of one class with a gap: a modulus `factor` times finer joins them."""

    def __init__(self, factor: int) -> None:
        super().__init__(factor)
        self.factor = factor


def _merge(runs: Iterable[Run]) -> tuple[Run, ...]:
    """Sorted runs with the empty ones dropped and neighbours of the same bounds joined."""
    out: list[Run] = []
    for a, b, k1, k2 in runs:
        if k2 is not None and k1 > k2:
            continue
        if out and out[-1][1] + 1 == a and out[-1][2:] == (k1, k2):
            out[-1] = (out[-1][0], b, k1, k2)
        else:
            out.append((a, b, k1, k2))
    return tuple(out)


def _positive(runs: Iterable[Run]) -> Iterator[Run]:
    """The runs' positive sizes: k ≥ 0, and residue 0 from k = 1."""
    for a, b, k1, k2 in runs:
        k1 = max(k1, 0)  # noqa: PLW2901 - the same run, clipped
        if a == 0 and k1 == 0:
            yield 0, 0, 1, k2
            if b > 0:
                yield 1, b, 0, k2
        else:
            yield a, b, k1, k2


def _clip(run: Run, lo: int, hi: int | None, m: int) -> Iterator[Run]:
    """The run's sizes within lo..hi: k ≥ ⌈(lo − r)/m⌉ changes once across the run, as does the top."""
    a, b, k1, k2 = run
    cuts = sorted(
        {a, b + 1, *(c for c in (lo % m, None if hi is None else hi % m + 1) if c is not None and a < c <= b)}
    )
    for s, e in pairwise(cuts):
        low = max(k1, _cdiv(lo - s, m))
        top = k2 if hi is None else (hi - s) // m if k2 is None else min(k2, (hi - s) // m)
        if top is None or low <= top:
            yield s, e - 1, low, top


def _lift(s: SizeSet, m: int) -> list[Run]:
    """The set's runs written with modulus m, a multiple of its own: f copies, k split as k = j + f·k'."""
    if m == s.modulus:
        return list(s.runs)
    mm, f = s.modulus, m // s.modulus
    out: list[Run] = []
    for a, b, k1, k2 in s.runs:
        cuts = sorted({0, f, k1 % f, *(() if k2 is None else (k2 % f + 1,))})
        for j0, j1 in pairwise(cuts):
            if j0 >= j1 or j1 > f:
                continue
            low = _cdiv(k1 - j0, f)
            top = None if k2 is None else (k2 - j0) // f
            if top is not None and low > top:
                continue
            if a == 0 and b == mm - 1:  # a whole period: the copies touch
                out.append((j0 * mm, j1 * mm - 1, low, top))
                continue
            if len(out) + (j1 - j0) > MAX_RUNS:
                raise _too_many()
            out.extend((a + j * mm, b + j * mm, low, top) for j in range(j0, j1))
    out.sort()
    return out


def _meet(small: SizeSet, big: list[Run], m: int) -> list[Run]:
    """Small's copies (modulus m) met with each of big's runs, made only where big has sizes."""
    mm, f = small.modulus, m // small.modulus
    firsts = small._firsts  # noqa: SLF001 - the same class's index
    out: list[Run] = []
    for a, b, k1, k2 in big:
        for j in range(a // mm, b // mm + 1):
            base = j * mm
            lo_r, hi_r = max(a, base) - base, min(b, base + mm - 1) - base
            i = max(bisect_right(firsts, lo_r) - 1, 0)
            for sa, sb, sk1, sk2 in small.runs[i:]:
                if sa > hi_r:
                    break
                s, e = max(sa, lo_r), min(sb, hi_r)
                if s > e:
                    continue
                low = max(k1, _cdiv(sk1 - j, f))
                tops = [t for t in (k2, None if sk2 is None else (sk2 - j) // f) if t is not None]
                top = min(tops) if tops else None
                if top is None or low <= top:
                    out.append((s + base, e + base, low, top))
            if len(out) > MAX_RUNS:
                raise _too_many()
    return out


def _joined(x: list[Run], y: list[Run]) -> list[Run]:
    """The union of two run lists of one modulus; per residue the intervals must touch."""
    cuts = sorted({c for a, b, *_ in (*x, *y) for c in (a, b + 1)})
    indexed = [(runs, [a for a, *_ in runs]) for runs in (x, y)]
    out: list[Run] = []
    for s, e in pairwise(cuts):
        got = [kk for runs, firsts in indexed for kk in _at(runs, firsts, s)]
        if not got:
            continue
        got.sort(key=lambda kk: kk[0])
        (k1, k2), rest = got[0], got[1:]
        for n1, n2 in rest:
            if k2 is not None and n1 > k2 + 1:
                raise _Gap(n1 - k1)
            k2 = None if k2 is None or n2 is None else max(k2, n2)
        out.append((s, e - 1, k1, k2))
    return list(_merge(out))


def _at(runs: list[Run], firsts: list[int], r: int) -> list[tuple[int, int | None]]:
    i = bisect_right(firsts, r) - 1
    return [runs[i][2:]] if i >= 0 and runs[i][1] >= r else []


def _bounds(s: SizeSet) -> tuple[int, int | None]:
    m = s.modulus
    least = min(a + m * k1 for a, _, k1, _ in s.runs)
    tops = [None if k2 is None else b + m * k2 for _, b, _, k2 in s.runs]
    return least, None if None in tops else max(t for t in tops if t is not None)


def _is_exact(s: SizeSet, least: int, most: int | None) -> bool:
    """Whether the set is its residues' pattern cut to least..most (each run's ends say it)."""
    m = s.modulus
    for a, b, k1, k2 in s.runs:
        if k1 != _cdiv(least - a, m) or k1 != _cdiv(least - b, m):
            return False
        if (k2 is None) != (most is None):
            return False
        if most is not None and (k2 != (most - a) // m or k2 != (most - b) // m):
            return False
    return True


def _pattern(runs: tuple[Run, ...]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b, *_ in runs:
        if out and out[-1][1] + 1 == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def _period(m: int, pattern: tuple[tuple[int, int], ...]) -> int:
    """The smallest divisor d of m for which the residue pattern repeats every d."""
    count = sum(b - a + 1 for a, b in pattern)
    ends = dict(pattern)
    step = max(len(pattern) // 64, 1)
    sample = [(a, b) for a, b in pattern[::step] if a > 0 and b < m - 1]
    for d in _divisors(m):
        if d == m:
            return m
        if count % (m // d):
            continue
        # Some runs first, spread over the pattern: moved by d, each must be a run again.
        if not all(ends.get((a + d) % m) == (a + d) % m + b - a for a, b in sample if (a + d) % m + b - a < m - 1):
            continue
        if _shifted(pattern, d, m) == pattern:
            return d
    return m  # pragma: no cover - m is its own divisor


def _shifted(pattern: tuple[tuple[int, int], ...], d: int, m: int) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in pattern:
        a2, b2 = a + d, b + d
        if a2 >= m:
            out.append((a2 - m, b2 - m))
        elif b2 >= m:
            out += [(a2, m - 1), (0, b2 - m)]
        else:
            out.append((a2, b2))
    out.sort()
    return _pattern(tuple((a, b, 0, None) for a, b in out))


def _reduced(m: int, runs: Iterable[Run]) -> SizeSet:
    """The set at the smallest modulus its pattern repeats by, when the pattern and two bounds say it all."""
    s = SizeSet(m, runs=runs)
    if m == 1 or s.empty:
        return s if not s.empty else SizeSet(1)
    least, most = _bounds(s)
    if not _is_exact(s, least, most):
        return s
    d = _period(m, _pattern(s.runs))
    if d == m:
        return s
    pattern = [(a, min(b, d - 1), 0, None) for a, b in _pattern(s.runs) if a < d]
    return SizeSet(d, runs=[p for run in pattern for p in _clip(run, least, most, d)])


def _divisors(n: int) -> list[int]:
    """The divisors of n, ascending, from its factors (a modulus is a product of small strides)."""
    factors: dict[int, int] = {}
    p, rest = 2, n
    while p * p <= rest:
        while rest % p == 0:
            factors[p] = factors.get(p, 0) + 1
            rest //= p
        p += 1 if p == 2 else 2  # noqa: PLR2004 - then the odd numbers
    if rest > 1:
        factors[rest] = factors.get(rest, 0) + 1
    out = [1]
    for q, e in factors.items():
        out = [d * q**i for d in out for i in range(e + 1)]
    return sorted(out)


def _near(run: Run, m: int, n: int, count: int) -> list[int]:
    """Up to `count` sizes of the run at or below n, and as many above."""
    a, b, k1, k2 = run
    lo, hi = a + m * k1, None if k2 is None else b + m * k2
    out: list[int] = []
    h = n if hi is None else min(n, hi)
    while len(out) < count and h >= lo:
        k, r = divmod(h, m)
        h = h if a <= r <= b else (b + m * k if r > b else b + m * (k - 1))
        if h < lo:
            break
        out.append(h)
        h -= 1
    up: list[int] = []
    h = max(n + 1, lo)
    while len(up) < count and (hi is None or h <= hi):
        k, r = divmod(h, m)
        h = h if a <= r <= b else (a + m * k if r < a else a + m * (k + 1))
        if hi is not None and h > hi:
            break
        up.append(h)
        h += 1
    return out + up
