"""One shape rule per kind (issue 24): `apply` and `closed` are its two backends, nothing else.

A kind states its arithmetic once, as `Kind.rule`, over sizes that are ints or closed forms; the
numeric backend (`Check`) raises or reports where a need breaks, the symbolic one (`Record`)
keeps it as a condition. These tests hold the two backends to the same need, and the shared
window rule to PyTorch's output-size rule written out independently.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from convcalc.algebra.conditions import Relation, Shape
from convcalc.algebra.expr import Expr
from convcalc.algebra.sizes import as_expr, as_int, ceildiv, floordiv, multiply
from convcalc.kinds.base import Context, Kind, LayerFailure, State
from convcalc.kinds.registry import REGISTERED
from convcalc.kinds.rule import Check, Given, Record
from convcalc.kinds.sliding import slide, window_rule
from convcalc.kinds.window import Window
from convcalc.options import PoolType, Rounding
from convcalc.report import Severity
from convcalc.volume import Volume

H = Expr.symbol("H")
TOO_LARGE = "pad 2 is more than half the window size 2 (PyTorch allows at most 1)"


@pytest.mark.parametrize("kind", REGISTERED, ids=lambda k: k.name)
def test_no_kind_writes_its_arithmetic_twice(kind: Kind) -> None:
    """Every kind's apply and closed are Kind's: the rule over numbers and over closed forms."""
    assert type(kind).apply is Kind.apply
    assert type(kind).closed is Kind.closed
    assert "rule" in {name for cls in type(kind).__mro__[:-1] if cls is not Kind for name in vars(cls)}


def test_sizes_compute_alike_as_numbers_and_as_forms() -> None:
    assert floordiv(7, 2) == 3
    assert floordiv(H + 7, 2).evaluate({"H": 0}) == 3  # type: ignore[union-attr]
    assert ceildiv(7, 2) == 4
    assert as_expr(ceildiv(H, 2)).evaluate({"H": 7}) == 4
    assert multiply([2, 3]) == 6
    assert as_expr(multiply([H, 3])).evaluate({"H": 5}) == 15
    assert as_int(Expr.of(5)) == 5
    with pytest.raises(TypeError, match="H is not a number"):
        as_int(H)


def test_check_raises_with_the_why_and_record_keeps_the_condition() -> None:
    check, record = Check(), Record()
    check.at_least("too-small", 3, 2, why=lambda: "unused")
    with pytest.raises(LayerFailure, match=r"^at 1: too small$") as failure:
        check.at_least("too-small", 1, 2, why=lambda: "at 1: too small")
    assert failure.value.code == "too-small"
    with pytest.raises(LayerFailure, match=r"^odd$"):
        check.residue("odd", 3, 2, [0], why=lambda: "odd")
    check.residue("odd", 3, 2, [0])  # without why: noted, the layer's report says it
    check.residue("odd", 4, 2, [0])
    assert check.unmet == ["odd"]
    record.at_least("too-small", H, 2, why=lambda: "unused")
    record.residue("odd", H, 2, [0])
    record.residue("any", H, 2, [0, 1])  # every residue allowed: nothing to ask
    assert [(c.code, c.relation) for c in record.conditions] == [
        ("too-small", Relation.AT_LEAST),
        ("odd", Relation.RESIDUE),
    ]
    record.report(lambda: pytest.fail("the symbolic backend never asks for the numbers' words"))


def _pytorch_output(size: int, kernel: int, stride: int, pad: int, rounding: Rounding) -> int:
    """PyTorch's pooling_output_shape (aten/src/ATen/native/Pool.h), written out as PyTorch does."""
    ceil = rounding is Rounding.CEIL
    out = (size + 2 * pad - kernel + ((stride - 1) if ceil else 0)) // stride + 1
    if ceil and (out - 1) * stride >= size + pad:
        out -= 1  # the last window must start inside the input or the left padding
    return out


windows = st.tuples(
    st.integers(1, 40), st.integers(1, 7), st.integers(1, 5), st.integers(0, 3), st.sampled_from(list(Rounding))
)


@given(windows)
def test_the_window_rule_is_pytorchs_for_numbers_and_forms(case: tuple[int, int, int, int, Rounding]) -> None:
    size, kernel, stride, pad, rounding = case
    pad = min(pad, kernel // 2)  # PyTorch's own bound on a pool's padding (pool2d_shape_check)
    p = {"size": kernel, "stride": stride, "pad": pad, "dilation": 1, "rounding": rounding}
    ctx = Context(rounding, (size,))
    numbers = Given.of_state(State(Volume((size,), 1), (1,), (1,)), ctx)
    forms = Given.of_shape(Shape((H,), Expr.of(1), (1,)), ctx)
    check, record = Check(), Record()
    expected = _pytorch_output(size, kernel, stride, pad, rounding)
    fits = expected >= 1 and (rounding is Rounding.CEIL or size + 2 * pad >= kernel)
    if not fits:
        with pytest.raises(LayerFailure, match="window is larger than the padded input"):
            window_rule(p, numbers, check, "pool", slide(p, numbers))
    else:
        (got,), _, _ = window_rule(p, numbers, check, "pool", slide(p, numbers))
        assert got == expected
        assert Window(size, kernel, stride, pad, pad).output(rounding) == expected
    (form,), _, _ = window_rule(p, forms, record, "pool", slide(p, forms))
    larger = [c for c in record.conditions if c.code == "window-larger-than-input"]
    assert all(c.holds({"H": size}) for c in larger) == fits
    if fits:
        assert as_expr(form).evaluate({"H": size}) == expected
    # A residue the numeric backend notes as broken is one its report gives an error or a warning
    # for, and one the closed form's condition does not hold at: the two backends agree.
    stride_conditions = [c for c in record.conditions if c.code == "stride-does-not-fit"]
    if fits:
        bad = {q.code for q in check.problems if q.severity in {Severity.ERROR, Severity.WARNING}}
        assert set(check.unmet) == bad
        assert (not all(c.holds({"H": size}) for c in stride_conditions)) == bool(bad)


def test_a_pool_with_same_padding_fails_alike_at_the_sizes_its_condition_excludes() -> None:
    """maxpool2 s2 d3 psame: TensorFlow's padding exceeds half the window at odd sizes only."""
    p = {"type": PoolType.MAX, "size": 2, "stride": 2, "pad": "same", "dilation": 3, "rounding": None}
    kind = next(k for k in REGISTERED if k.name == "pool")
    record = Record()
    forms = Given.of_shape(Shape((H,), Expr.of(1), (1,)), Context(Rounding.STRICT, (9,)))
    kind.rule(p, forms, record)
    (condition,) = [c for c in record.conditions if c.code == "pad-too-large"]
    for size in range(1, 13):
        state = State(Volume((size,), 1), (1,), (1,))
        assert condition.holds({"H": size}) == (size % 2 == 0)
        if size % 2:
            with pytest.raises(LayerFailure, match=re.escape(TOO_LARGE)):
                kind.apply(p, state, Context(Rounding.STRICT, (size,)))
        else:
            kind.apply(p, state, Context(Rounding.STRICT, (size,)))
