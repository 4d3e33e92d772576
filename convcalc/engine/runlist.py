"""Lists of runs of residue classes, the parts of a SizeSet (convcalc.engine.runs).

A run (first, last, k1, k2) of modulus M holds the sizes r + M·k with first ≤ r ≤ last and
k1 ≤ k ≤ k2 (k2 None: unbounded); a list holds each residue in at most one run, sorted.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import pairwise
from typing import TYPE_CHECKING

from convcalc.algebra.expr import NotClosed

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

Run = tuple[int, int, int, int | None]

# The largest modulus a set may have (strides whose product passes it are refused), and the
# most runs one operation may make: both far past any network, and both keep a hostile spec cheap.
MAX_MODULUS = 2**40
MAX_RUNS = 200_000


def cdiv(a: int, b: int) -> int:
    """⌈a/b⌉ for b > 0."""
    return -(-a // b)


def too_many() -> NotClosed:
    """The refusal of an operation past MAX_RUNS."""
    return NotClosed(f"the sizes that fit break into more than {MAX_RUNS:,} pieces (convcalc's limit)")


class Gap(Exception):  # noqa: N818 - control flow between joined and SizeSet.union
    """Two intervals of one class with a gap: a modulus `factor` times finer joins them."""

    def __init__(self, factor: int) -> None:
        super().__init__(factor)
        self.factor = factor


def merge(runs: Iterable[Run]) -> tuple[Run, ...]:
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


def positive(runs: Iterable[Run]) -> Iterator[Run]:
    """The runs' positive sizes: k ≥ 0, and residue 0 from k = 1."""
    for a, b, k1, k2 in runs:
        k1 = max(k1, 0)  # noqa: PLW2901 - the same run, clipped
        if a == 0 and k1 == 0:
            yield 0, 0, 1, k2
            if b > 0:
                yield 1, b, 0, k2
        else:
            yield a, b, k1, k2


def clip(run: Run, lo: int, hi: int | None, m: int) -> Iterator[Run]:
    """The run's sizes within lo..hi: k ≥ ⌈(lo − r)/m⌉ changes once across the run, as does the top."""
    a, b, k1, k2 = run
    cuts = sorted(
        {a, b + 1, *(c for c in (lo % m, None if hi is None else hi % m + 1) if c is not None and a < c <= b)}
    )
    for s, e in pairwise(cuts):
        low = max(k1, cdiv(lo - s, m))
        top = k2 if hi is None else (hi - s) // m if k2 is None else min(k2, (hi - s) // m)
        if top is None or low <= top:
            yield s, e - 1, low, top


def lift(mm: int, runs: Iterable[Run], m: int) -> list[Run]:
    """Runs of modulus mm written with modulus m, a multiple of it: f copies, k split as k = j + f·k'."""
    if m == mm:
        return list(runs)
    f = m // mm
    out: list[Run] = []
    for a, b, k1, k2 in runs:
        cuts = sorted({0, f, k1 % f, *(() if k2 is None else (k2 % f + 1,))})
        for j0, j1 in pairwise(cuts):
            if j0 >= j1 or j1 > f:
                continue
            low = cdiv(k1 - j0, f)
            top = None if k2 is None else (k2 - j0) // f
            if top is not None and low > top:
                continue
            if a == 0 and b == mm - 1:  # a whole period: the copies touch
                out.append((j0 * mm, j1 * mm - 1, low, top))
                continue
            if len(out) + (j1 - j0) > MAX_RUNS:
                raise too_many()
            out.extend((a + j * mm, b + j * mm, low, top) for j in range(j0, j1))
    out.sort()
    return out


def meet(mm: int, small: tuple[Run, ...], big: list[Run], m: int) -> list[Run]:
    """Small's runs (modulus mm) copied to modulus m and met with each of big's, only where big has sizes."""
    f = m // mm
    firsts = [a for a, *_ in small]
    out: list[Run] = []
    for a, b, k1, k2 in big:
        for j in range(a // mm, b // mm + 1):
            base = j * mm
            lo_r, hi_r = max(a, base) - base, min(b, base + mm - 1) - base
            i = max(bisect_right(firsts, lo_r) - 1, 0)
            for sa, sb, sk1, sk2 in small[i:]:
                if sa > hi_r:
                    break
                s, e = max(sa, lo_r), min(sb, hi_r)
                if s > e:
                    continue
                low = max(k1, cdiv(sk1 - j, f))
                tops = [t for t in (k2, None if sk2 is None else (sk2 - j) // f) if t is not None]
                top = min(tops) if tops else None
                if top is None or low <= top:
                    out.append((s + base, e + base, low, top))
            if len(out) > MAX_RUNS:
                raise too_many()
    return out


def joined(x: list[Run], y: list[Run]) -> list[Run]:
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
                raise Gap(n1 - k1)
            k2 = None if k2 is None or n2 is None else max(k2, n2)
        out.append((s, e - 1, k1, k2))
    return list(merge(out))


def _at(runs: list[Run], firsts: list[int], r: int) -> list[tuple[int, int | None]]:
    i = bisect_right(firsts, r) - 1
    return [runs[i][2:]] if i >= 0 and runs[i][1] >= r else []


def bounds(m: int, runs: tuple[Run, ...]) -> tuple[int, int | None]:
    """The least size of the runs, and the most (None: unbounded)."""
    least = min(a + m * k1 for a, _, k1, _ in runs)
    tops = [None if k2 is None else b + m * k2 for _, b, _, k2 in runs]
    return least, None if None in tops else max(t for t in tops if t is not None)


def is_exact(m: int, runs: tuple[Run, ...], least: int, most: int | None) -> bool:
    """Whether the runs are their residues' pattern cut to least..most (each run's ends say it)."""
    for a, b, k1, k2 in runs:
        if k1 != cdiv(least - a, m) or k1 != cdiv(least - b, m):
            return False
        if (k2 is None) != (most is None):
            return False
        if most is not None and (k2 != (most - a) // m or k2 != (most - b) // m):
            return False
    return True


def pattern_of(runs: tuple[Run, ...]) -> tuple[tuple[int, int], ...]:
    """The residues the runs hold, as maximal runs first..last (their bounds left out)."""
    out: list[tuple[int, int]] = []
    for a, b, *_ in runs:
        if out and out[-1][1] + 1 == a:
            out[-1] = (out[-1][0], b)
        else:
            out.append((a, b))
    return tuple(out)


def period(m: int, pattern: tuple[tuple[int, int], ...]) -> int:
    """The smallest divisor d of m for which the residue pattern repeats every d."""
    count = sum(b - a + 1 for a, b in pattern)
    ends = dict(pattern)
    step = max(len(pattern) // 64, 1)
    sample = [(a, b) for a, b in pattern[::step] if a > 0 and b < m - 1]
    for d in divisors(m):
        if d == m:
            return m
        if count % (m // d):
            continue
        # Some runs first, spread over the pattern: moved by d, each must be a run again.
        if not all(ends.get((a + d) % m) == (a + d) % m + b - a for a, b in sample if (a + d) % m + b - a < m - 1):
            continue
        if shifted(pattern, d, m) == pattern:
            return d
    return m  # pragma: no cover - m is its own divisor


def shifted(pattern: tuple[tuple[int, int], ...], d: int, m: int) -> tuple[tuple[int, int], ...]:
    """The residue pattern moved by d, modulo m."""
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
    return pattern_of(tuple((a, b, 0, None) for a, b in out))


def divisors(n: int) -> list[int]:
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


def near(run: Run, m: int, n: int, count: int) -> list[int]:
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
