"""The symbolic engine's edges (issue 22): limits refused with a message, merges that cannot be, texts.

Each set is checked against the numeric engine or against the condition evaluated size by size.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc.algebra.conditions import Condition, Relation
from convcalc.algebra.expr import Expr, NotClosed
from convcalc.cli import main
from convcalc.engine import runlist
from convcalc.engine.analyze import first_problem
from convcalc.engine.broadcast import Broadcast
from convcalc.engine.sizes import SizeSet, solve
from convcalc.engine.solving import Solver, check_broadcasts
from convcalc.engine.symbolic import Limit, analyze_closed
from convcalc.errors import ClosedFormError, Location
from convcalc.render.sizes import axis_report, describe, set_text
from convcalc.spec.loader import load_spec
from convcalc.volume import Volume

if TYPE_CHECKING:
    from pathlib import Path

H = Expr.symbol("H")


def fits(text: str, spatial: tuple[int, ...]) -> bool:
    spec = load_spec("net.yaml", text)
    return first_problem(replace(spec, input=Volume(spatial, spec.input.depth), symbols=(), example=True)) is None


def brute(condition: Condition, upto: int = 300) -> set[int]:
    return {n for n in range(1, upto + 1) if condition.holds({"H": n})}


@pytest.mark.parametrize(
    "condition",
    [
        Condition("c", (3 * H + 1).floordiv(2) - 5, Relation.AT_LEAST),  # a floor of 3H: class by class
        Condition("c", (H + 1).floordiv(2) - H.floordiv(2), Relation.ZERO),  # even sizes: steps that never grow
        Condition("c", (H + 1).floordiv(2) - H.floordiv(2) - 1, Relation.AT_LEAST),  # odd sizes
        Condition("c", 6 * H + 4, Relation.RESIDUE, 10, frozenset({0, 3})),  # 6H ≡ 6 (mod 10): H ≡ 1 (mod 5)
        Condition("c", 4 - H, Relation.AT_LEAST),  # a top: H ≤ 4
        Condition("c", H - 7, Relation.ZERO, alternatives=(H - 3,)),  # a union of points
    ],
)
def test_each_way_of_solving_gives_the_sizes_the_condition_holds_at(condition: Condition) -> None:
    assert set(solve(condition, "H", {}).members(300)) == brute(condition)


def test_limits_are_refused_with_a_message() -> None:
    w = Expr.symbol("W")
    with pytest.raises(NotClosed, match="ties H to W, which has no value"):
        solve(Condition("c", H * w - 4, Relation.AT_LEAST), "H", {})
    many_steps = H.floordiv(2) + H.floordiv(3 * 2**19)  # 786,433 steps, then 1.5M classes
    with pytest.raises(NotClosed, match="repeats only every 1,572,864 sizes"):
        solve(Condition("c", many_steps, Relation.AT_LEAST), "H", {})
    with pytest.raises(NotClosed, match="repeats only every"):
        solve(Condition("c", H.floordiv(2**39), Relation.RESIDUE, 3, frozenset({0})), "H", {})


def test_a_set_past_the_limits_is_refused_at_its_layer() -> None:
    chain = "input: HxWx3\nlayers: [conv1-4 s1024, conv1-4 s1024, conv1-4 s1024, conv1-4 s1024, conv1-4 s1024]\n"
    result = CliRunner().invoke(main, ["fit", "-"], input=chain)
    assert result.exit_code == 2
    assert "<stdin>:2:70: error: CONV1-4: no closed form: the condition ⌈H/1099511627776⌉ − 1" in result.stderr
    branches = "[[conv1-4 s1048576], [conv1-4 s1594323]]"  # 2^20 and 3^13: each fine, both not
    both = f"input: HxWx3\nlayers:\n  - parallel: {{merge: add, branches: {branches}}}\n"
    result = CliRunner().invoke(main, ["fit", "-"], input=both)
    assert result.exit_code == 2
    assert "no closed form: the sizes that fit repeat only every 1,671,768,834,048" in result.stderr


def test_merges_that_cannot_be_fail_whatever_the_size() -> None:
    add = "input: HxWx8\nlayers:\n  - parallel: {merge: add, branches: [[], [flatten]]}\n"
    closed = analyze_closed(load_spec("net.yaml", add))
    assert closed.failure is not None
    assert "different numbers of dims" in closed.failure.message
    depths = "input: HxWx8\nlayers:\n  - parallel: {merge: multiply, branches: [[], [conv1-4]]}\n"
    closed = analyze_closed(load_spec("net.yaml", depths))
    assert closed.failure is not None
    assert "cannot multiply volumes" in closed.failure.message
    assert not fits(depths, (5, 5))


def test_a_multiply_of_two_global_pools_and_of_two_flattened_volumes() -> None:
    pools = "input: HxWx8\nlayers:\n  - parallel: {merge: multiply, branches: [[gap], [gap]]}\n"
    closed = analyze_closed(load_spec("net.yaml", pools))
    assert str(closed.output) == "1x1x8"
    flat = "input: HxWx2\nexample: 6x6x2\nlayers:\n  - parallel: {merge: multiply, branches: [[flatten], [flatten]]}\n"
    closed = analyze_closed(load_spec("net.yaml", flat))
    assert closed.output is not None
    assert closed.output.depth.python() == "2*H*W"
    branches = "[[flatten], [conv3-2, flatten]]"
    shrunk = f"input: HxWx2\nexample: 6x6x2\nlayers:\n  - parallel: {{merge: multiply, branches: {branches}}}\n"
    closed = analyze_closed(load_spec("net.yaml", shrunk), every_axis=True)
    assert list(closed.sets["H"].members(20)) == [n for n in range(1, 21) if fits(shrunk, (n, 6))]


def test_a_multiply_checked_where_its_widest_branch_is_1() -> None:
    at = Location("net.yaml", 1, 1)
    solver = Solver(lambda limit, message: ClosedFormError(message, limit.path, limit.name, at))
    limit = Limit(Condition("c", H, Relation.ZERO), "1", "parallel", 1, 1)
    check = Broadcast(H, (H.floordiv(2) + 1,))
    check_broadcasts([(limit, check)], {"H": SizeSet(1)}, solver)  # nothing fits: nothing to check
    check_broadcasts([(limit, check)], {"H": SizeSet(1, runs=[(0, 0, 3, None)])}, solver)  # never 1 there
    with pytest.raises(ClosedFormError, match="at H = 1 its branch H is 1 and another is 2"):
        check_broadcasts([(limit, Broadcast(H, (H + 1,)))], {"H": SizeSet.everything()}, solver)
    flat = Broadcast((H + 1).floordiv(2) - H.floordiv(2) + 1, (H,))
    with pytest.raises(ClosedFormError, match="is 1 at too many sizes"):
        check_broadcasts([(limit, flat)], {"H": SizeSet.everything()}, solver)
    huge = Broadcast(H.floordiv(2**39) + H.floordiv(3) + 1, (H,))
    with pytest.raises(ClosedFormError, match="repeat"):
        check_broadcasts([(limit, huge)], {"H": SizeSet.everything()}, solver)


def test_the_texts_of_sets() -> None:
    point = SizeSet(12, runs=[(5, 5, 0, 0)])
    assert set_text("H", point.summary(), point) == "H = 5"
    bounded = SizeSet(1, runs=[(0, 0, 3, 9)])
    assert set_text("H", bounded.summary(), bounded) == "3 ≤ H ≤ 9"
    ragged = SizeSet(20, runs=[(r, r, r % 3, None) for r in range(1, 19)] + [(19, 19, 5, 7)])
    text = set_text("H", ragged.summary(), ragged)
    assert text.startswith("H in 21… step 20; 42… step 20; 3… step 20; 24… step 20;")
    assert text.endswith("; … (11 more pieces)")
    wide = SizeSet(10, runs=[(1, 4, 0, None), (5, 8, 1, None)])
    assert set_text("H", wide.summary(), wide) == "H in 1… with H mod 10 in 1..4; 15… with H mod 10 in 5..8"


def test_fit_names_the_pieces_of_the_issues_far_apart_set() -> None:
    branches = "[[conv2-4 s2 p1, upsample3], [conv1-4 p50]]"
    text = f"input: HxWx3\nrounding: floor\nlayers:\n  - parallel: {{merge: add, branches: {branches}}}\n"
    spec = load_spec("net.yaml", text)
    closed = analyze_closed(spec, every_axis=True)
    lines = describe(closed, spec, axis_report(closed, spec))
    assert lines[1] == "height (H): H in 194..194 step 2; 197..197 step 2: 194, 197"
    assert [n for n in range(150, 250) if fits(text, (n, 194))] == [194, 197]


def test_runs_edges() -> None:
    s = SizeSet(4, runs=[(1, 2, 0, 3)])
    assert repr(s) == "SizeSet(4, runs=[(1, 2, 0, 3)])"
    assert s != "a set"
    assert s.nearest(100, 2) == [14, 13]
    assert s.nearest(0, 2) == [1, 2]
    assert SizeSet(3, runs=[(2, 2, 1, 1)]).nearest(5, 1) == [5]
    with pytest.raises(NotClosed, match="pieces"):
        runlist.lift(2, ((1, 1, 0, None),), 2 * (runlist.MAX_RUNS + 1))


def test_a_number_beside_a_symbol_is_judged_as_the_spec_s_own_size(tmp_path: Path) -> None:
    # `32xWx3`: the height is the spec's own, and a stride that misses it is a design error (exit 1).
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("input: 32xWx3\nlayers: [conv3-4 s2]\n")
    right = tmp_path / "right.yaml"
    right.write_text("input: 33xWx3\nlayers: [conv3-4 s2]\n")
    missed = CliRunner().invoke(main, ["fit", str(wrong)])
    assert missed.exit_code == 1
    assert "the input's own height 32 does not fit (nearest that fit: 31, 33, 29)." in missed.stdout
    held = CliRunner().invoke(main, ["fit", str(right)])
    assert held.exit_code == 0
    assert "the input's own height 33 fits." in held.stdout
    axes = json.loads(CliRunner().invoke(main, ["fit", str(wrong), "--format", "json"]).stdout)
    assert (axes["height"]["size"], axes["height"]["fits"], axes["width"]["size"]) == (32, False, None)


def test_fit_names_a_condition_by_its_level_not_its_path() -> None:
    text = CliRunner().invoke(main, ["fit", "unet"]).stdout
    assert "  level3.MAXPOOL2 (line 44): ⌊H/4⌋ − 9 ≡ 0 (mod 2)" in text
    assert "layers.3" not in text  # no dotted path where a name says it
