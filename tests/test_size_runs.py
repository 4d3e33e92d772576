"""Size sets stored as runs (issue 22, D7): every operation against the same sets listed one by one.

The reference is plain Python sets of the members up to a bound past every run's bounded part.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.algebra.conditions import Condition, Relation
from convcalc.algebra.expr import Expr, NotClosed
from convcalc.engine import runlist
from convcalc.engine.sizes import SizeSet, solve

BOUND = 400  # past every bounded part below (k ≤ 12, modulus ≤ 12), and three periods more


@st.composite
def size_sets(draw: st.DrawFn) -> SizeSet:
    """A set from random runs: the residues cut in stretches, each with its own k-interval or none."""
    m = draw(st.integers(1, 12))
    cuts = sorted(set(draw(st.lists(st.integers(1, m - 1), max_size=4)) if m > 1 else []))
    out = []
    for a, b in zip([0, *cuts], [*cuts, m], strict=True):
        if draw(st.booleans()):
            k1 = draw(st.integers(0, 6))
            k2 = draw(st.one_of(st.none(), st.integers(k1, 12)))
            out.append((a, b - 1, k1, k2))
    return SizeSet.of_runs(m, out)


def listed(s: SizeSet) -> set[int]:
    return {n for n in range(1, BOUND + 1) if n in s}


@given(size_sets())
def test_members_ascending_and_membership_agree(s: SizeSet) -> None:
    mine = listed(s)
    assert list(s.members(BOUND)) == sorted(mine)
    assert 0 not in s
    assert "3" not in s


@given(size_sets(), size_sets())
def test_intersection_union_and_subsets_are_the_sets_ones(a: SizeSet, b: SizeSet) -> None:
    both = a.intersect(b)
    assert listed(both) == listed(a) & listed(b)
    assert a.issubset(b) == (listed(a) <= listed(b))  # past BOUND both repeat what they did below it
    try:
        either = a.union(b)
    except NotClosed:
        return
    assert listed(either) == listed(a) | listed(b)
    assert either == b.union(a)


@given(size_sets())
def test_summary_and_pieces_describe_the_set(s: SizeSet) -> None:
    summary = s.summary()
    mine = listed(s)
    if summary.least is None:
        assert not mine
        return
    assert summary.least == min(mine)
    if summary.exact:
        top = summary.most if summary.most is not None else BOUND
        wanted = {n for n in range(summary.least, min(top, BOUND) + 1) if n % summary.modulus in summary.residues}
        assert wanted == mine
        assert summary.count == len(summary.residues)
    pieces = set()
    for first, last, lo, hi in s.pieces():
        top = hi if hi is not None else BOUND
        pieces |= {n for n in range(lo, min(top, BOUND) + 1) if first <= n % s.modulus <= last}
    assert pieces == mine


@given(size_sets(), st.integers(1, BOUND), st.integers(1, 4))
def test_nearest_are_the_nearest(s: SizeSet, n: int, count: int) -> None:
    mine = sorted(listed(s) | set(s.members(BOUND + 40)), key=lambda m: (abs(m - n), m))
    assert s.nearest(n, count) == mine[:count]


@given(size_sets(), st.integers(1, 60))
def test_a_set_equals_itself_written_with_a_larger_modulus(s: SizeSet, factor: int) -> None:
    wider = SizeSet(s.modulus * factor, runs=runlist.lift(s.modulus, s.runs, s.modulus * factor))
    assert wider == s
    assert listed(wider) == listed(s)
    assert SizeSet.everything(6) == SizeSet.everything()


def test_a_chain_of_prime_strides_is_one_run() -> None:
    h = Expr.symbol("H")
    found, size = SizeSet.everything(), h
    for s in (2, 3, 5, 7, 11, 13, 17):  # conv3 strict: the span before each stride divides by it
        found = found.intersect(solve(Condition("stride", size - 3, Relation.RESIDUE, s, frozenset({0})), "H", {}))
        size = (size - 3).floordiv(s) + 1
    assert found.modulus == 2 * 3 * 5 * 7 * 11 * 13 * 17
    assert len(found.runs) == 1
    first = next(found.ascending())
    assert first == next(n for n in range(1, first + 1) if _fits_the_chain(n))
    assert _fits_the_chain(first + found.modulus)
    assert first + found.modulus in found
    assert first + 2 not in found


def _fits_the_chain(n: int) -> bool:
    """conv3 with strides 2, 3, ..., 17, strict: every window lands on the last row."""
    for s in (2, 3, 5, 7, 11, 13, 17):
        if n < 3 or (n - 3) % s:
            return False
        n = (n - 3) // s + 1
    return True


def test_a_bound_on_a_huge_period_stays_one_run() -> None:
    h = Expr.symbol("H")
    found = solve(Condition("window", h.floordiv(2**30) - 2, Relation.AT_LEAST), "H", {})
    assert (found.modulus, found.runs) == (1, ((0, 0, 2**31, None),))


@pytest.mark.slow
def test_limits_are_refused_with_a_message() -> None:
    big = SizeSet(2**39, runs=[(1, 1, 0, None)])
    with pytest.raises(NotClosed, match="repeat only every"):
        big.intersect(SizeSet(3, runs=[(1, 1, 0, None)]))
    with pytest.raises(NotClosed, match="repeat only every"):
        big.union(SizeSet(3, runs=[(1, 1, 0, None)]))
    with pytest.raises(NotClosed, match="pieces"):
        SizeSet(2, runs=[(1, 1, 0, None)]).intersect(
            SizeSet(3 * runlist.MAX_RUNS, runs=[(0, 3 * runlist.MAX_RUNS - 1, 1, 5)])
        )
    with pytest.raises(NotClosed, match="at any modulus"):
        SizeSet(1, runs=[(0, 0, 1, 1)]).union(SizeSet(1, runs=[(0, 0, 2**41, None)]))
