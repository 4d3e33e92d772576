"""Sets of input sizes: {h0 ≤ H ≤ h1, H mod M ∈ R}, solved from a network's conditions.

Every condition a layer states (convcalc.kinds.closed) is, on a residue class H = M·t + r with M
a multiple of the floors' periods, affine in t: a·t + b ≥ 0, a·t + b = 0, or (a·t + b) mod S
in a set, with a a multiple of S. So on each class the sizes that fit are an interval of t,
and a network's set is, per residue class modulo the lcm of its periods, an interval of H.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import lcm
from typing import TYPE_CHECKING

from convcalc.kinds.closed import NotClosed, Relation

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from convcalc.kinds.closed import Condition

# Past this modulus the per-class work stops being instant; a network needs strides whose
# product passes it (3^13, 2^20) to get there.
MAX_MODULUS = 1_048_576


@dataclass(frozen=True, slots=True)
class Summary:
    """A size set in the issue's form, and whether that form is the whole truth."""

    least: int | None  # None: the set is empty
    most: int | None  # None: unbounded (or empty)
    modulus: int
    residues: tuple[int, ...]
    exact: bool  # False: the classes have different bounds; SizeSet.pieces() gives them


@dataclass(frozen=True, slots=True)
class SizeSet:
    """Positive sizes H with H mod modulus = r and lo ≤ H ≤ hi, per residue r it holds.

    `classes` maps a residue to its (lo, hi), both ≡ r (hi None: unbounded); a residue not in it
    holds no size.
    """

    modulus: int
    classes: Mapping[int, tuple[int, int | None]]

    @staticmethod
    def everything(modulus: int = 1) -> SizeSet:
        """Every positive size, written with the given modulus."""
        return SizeSet(modulus, {r: (r or modulus, None) for r in range(modulus)})

    def __contains__(self, n: object) -> bool:
        if not isinstance(n, int):
            return False
        bounds = self.classes.get(n % self.modulus)
        return bounds is not None and bounds[0] <= n and (bounds[1] is None or n <= bounds[1])

    @property
    def empty(self) -> bool:
        return not self.classes

    def intersect(self, other: SizeSet) -> SizeSet:
        m = lcm(self.modulus, other.modulus)
        if m > MAX_MODULUS:
            msg = f"the sizes that fit repeat only every {m:,} (over convcalc's limit of {MAX_MODULUS:,})"
            raise NotClosed(msg)
        out: dict[int, tuple[int, int | None]] = {}
        for r in range(m):
            a = self.classes.get(r % self.modulus)
            b = other.classes.get(r % other.modulus)
            if a is None or b is None:
                continue
            lo = max(a[0], b[0])
            his = [h for h in (a[1], b[1]) if h is not None]
            hi = min(his) if his else None
            snapped = _snap(lo, hi, m, r)
            if snapped is not None:
                out[r] = snapped
        return SizeSet(m, out)

    def issubset(self, other: SizeSet) -> bool:
        """Whether every size of self is in other."""
        return self.intersect(other) == self.intersect(SizeSet.everything(lcm(self.modulus, other.modulus)))

    def summary(self) -> Summary:
        """min, max, the smallest modulus and its residues; `exact` when they say it all."""
        if not self.classes:
            return Summary(None, None, 1, (), exact=True)
        least = min(lo for lo, _ in self.classes.values())
        his = [hi for _, hi in self.classes.values()]
        most = None if None in his else max(h for h in his if h is not None)
        for d in _divisors(self.modulus):
            residues = {r % d for r in self.classes}
            if all(
                self.classes.get(r) == (_snap(least, most, self.modulus, r) if r % d in residues else None)
                for r in range(self.modulus)
            ):
                return Summary(least, most, d, tuple(sorted(residues)), exact=True)
        return Summary(least, most, self.modulus, tuple(sorted(self.classes)), exact=False)

    def pieces(self) -> list[tuple[int, int, int | None]]:
        """(residue, lo, hi) per class modulo the full modulus."""
        return [(r, lo, hi) for r, (lo, hi) in sorted(self.classes.items())]

    def members(self, limit: int) -> Iterator[int]:
        """The sizes in the set up to `limit`, ascending."""
        for n in range(1, limit + 1):
            if n in self:
                yield n

    def nearest(self, n: int, count: int) -> list[int]:
        """The `count` sizes of the set nearest n (ties: the smaller first)."""
        found: set[int] = set()
        for r, (lo, hi) in self.classes.items():
            below = n - (n - r) % self.modulus
            for c in (below, below + self.modulus, below - self.modulus, below + 2 * self.modulus):
                if lo <= c and (hi is None or c <= hi):
                    found.add(c)
            found.add(lo)
            if hi is not None:
                found.add(hi)
        return sorted(found, key=lambda c: (abs(c - n), c))[:count]


def _snap(lo: int, hi: int | None, m: int, r: int) -> tuple[int, int | None] | None:
    """[lo, hi] narrowed to the sizes ≡ r (mod m); None when none is left."""
    first = lo + (r - lo) % m
    last = None if hi is None else hi - (hi - r) % m
    if last is not None and first > last:
        return None
    return first, last


def _divisors(n: int) -> list[int]:
    small = [d for d in range(1, int(n**0.5) + 1) if n % d == 0]
    return sorted({*small, *(n // d for d in small)})


def solve(condition: Condition, sym: str, others: Mapping[str, int]) -> SizeSet:
    """The sizes of `sym` for which the condition holds, the other symbols at the given values."""
    expr = condition.expr.substitute({k: v for k, v in others.items() if k != sym})
    if expr.symbols() - {sym}:
        missing = ", ".join(sorted(expr.symbols() - {sym}))
        msg = f"the condition {condition.text()} ties {sym} to {missing}, which has no value to judge it at"
        raise NotClosed(msg)
    m = expr.period(sym)
    if condition.relation is Relation.RESIDUE:
        m = lcm(m, (expr.slope(sym) / condition.modulus).denominator)
    if m > MAX_MODULUS:
        msg = f"the condition {condition.text()} repeats only every {m:,} sizes (convcalc's limit: {MAX_MODULUS:,})"
        raise NotClosed(msg)
    classes: dict[int, tuple[int, int | None]] = {}
    for r in range(m):
        a, b = expr.on_class(sym, m, r)
        t_lo, t_hi = _interval(condition, a, b)
        t_lo = max(t_lo, 0 if r >= 1 else 1)  # sizes start at 1
        if t_hi is not None and t_lo > t_hi:
            continue
        classes[r] = (m * t_lo + r, None if t_hi is None else m * t_hi + r)
    return SizeSet(m, classes)


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
