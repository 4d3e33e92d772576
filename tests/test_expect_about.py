"""Answers in the "about" form (`~800K`) and `fits:`, as a worksheet writes them (docs/homework.md)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from convcalc import SpecError
from convcalc.errors import Location
from convcalc.spec.expect import about, parse_one, significant

AT = Location("w.yaml", 1, 1)


@pytest.mark.parametrize(
    ("digits", "figures"), [("800", 1), ("3.2", 2), ("3.20", 3), ("25", 2), ("0.05", 1), ("138", 3), ("0", 1)]
)
def test_significant_digits_as_written(digits: str, figures: int) -> None:
    assert significant(digits) == figures


def about_holds(text: str, value: int, key: str = "activations") -> bool:
    return parse_one(key, text, "1", AT).holds(value)


# The lecture's VGG16 memory column (CS231n, "VGGNet": 224·224·64 = 3.2M, ..., 7·7·512 = 25K)
# against the true values: each holds in the about form.
SLIDE = [
    ("~150K", 224 * 224 * 3),
    ("~3.2M", 224 * 224 * 64),
    ("~800K", 112 * 112 * 64),
    ("~1.6M", 112 * 112 * 128),
    ("~400K", 56 * 56 * 128),
    ("~800K", 56 * 56 * 256),
    ("~200K", 28 * 28 * 256),
    ("~400K", 28 * 28 * 512),
    ("~100K", 14 * 14 * 512),
    ("~25K", 7 * 7 * 512),
]


@pytest.mark.parametrize(("text", "value"), SLIDE)
def test_the_slides_memory_column_holds_about(text: str, value: int) -> None:
    assert about_holds(text, value)


def test_about_keeps_two_significant_digits_at_least() -> None:
    assert not about_holds("~800K", 780_000)  # that is ~780K
    assert about_holds("~780K", 780_000)
    assert not about_holds("~800K", 849_999)
    assert about_holds("~1.61M", 1_605_632)  # three digits written: three kept
    assert not about_holds("~1.60M", 1_605_632)
    assert about_holds("~61MB", 60_950_432, key="memory")
    assert about_holds("~0", 0)


def test_without_the_tilde_the_digits_written_are_all_kept() -> None:
    # DESIGN §2.4's rounded form: 800K is three digits, and 802,816 is 803K.
    assert not about_holds("800K", 112 * 112 * 64)
    assert about_holds("3.2M", 224 * 224 * 64)


def test_about_rounds_half_up() -> None:
    assert about(Fraction(125), 1) == Fraction(130)
    assert about(Fraction(124), 1) == Fraction(120)


@pytest.mark.parametrize(("value", "holds_for"), [(False, 0), (True, 1)])
def test_fits_reads_a_boolean(*, value: bool, holds_for: int) -> None:
    e = parse_one("fits", value, "3", AT)
    assert (e.key, e.text, e.holds(holds_for), e.holds(1 - holds_for)) == ("fits", str(value).lower(), True, False)


@pytest.mark.parametrize("value", ["no", 2.33, "does not fit", None])
def test_fits_refuses_anything_but_true_or_false(value: object) -> None:
    with pytest.raises(SpecError, match="expected fits must be true or false"):
        parse_one("fits", value, "3", AT)
