"""Rounded answers (`800K`, `~800K`), bounds and `fits:`, as a worksheet writes them (docs/homework.md)."""

from __future__ import annotations

from fractions import Fraction

import pytest

from convcalc import SpecError
from convcalc.errors import Location
from convcalc.spec.expect import parse_one, rounded, significant, step_of

AT = Location("w.yaml", 1, 1)


@pytest.mark.parametrize(
    ("digits", "figures", "step"),
    [
        ("800", 2, 10), ("80", 2, 1), ("8", 1, 1), ("8000", 2, 100), ("3.2", 2, Fraction(1, 10)),
        ("3.20", 3, Fraction(1, 100)), ("25", 2, 1), ("0.05", 1, Fraction(1, 100)), ("138", 3, 1), ("0", 1, 1),
        ("0.9", 1, Fraction(1, 10)), ("1250", 3, 10), ("007", 1, 1),
    ],
)  # fmt: skip
def test_significant_digits_as_written(digits: str, figures: int, step: Fraction) -> None:
    # A whole number's trailing zeros count up to the second digit: 800 has two, 8000 two.
    assert (significant(digits), step_of(digits)) == (figures, step)


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


def test_about_is_rounded_to_the_last_significant_digit() -> None:
    assert not about_holds("~800K", 780_000)  # that is ~780K
    assert about_holds("~780K", 780_000)
    assert not about_holds("~800K", 805_000)  # 810K to two digits
    assert about_holds("~800K", 804_999)
    assert about_holds("~800K", 795_000)
    assert not about_holds("~800K", 794_999)
    assert about_holds("~1.61M", 1_605_632)  # three digits written: three kept
    assert not about_holds("~1.60M", 1_605_632)
    assert about_holds("~61MB", 60_950_432, key="memory")
    assert about_holds("~0", 0)
    assert about_holds("~760", 764)  # a number without a unit: rounded only with the tilde
    assert not about_holds("~760", 765)


# The rule of docs/homework.md, both ways: the slide's 800K for 802,816 and 0.9M for 933,130
# hold; what is wrong at the slide's own precision (two digits) does not.
@pytest.mark.parametrize(
    ("text", "value", "key", "holds"),
    [
        ("800K", 112 * 112 * 64, "activations", True),  # 802,816
        ("0.9M", 933_130, "activations", True),
        ("900K", 933_130, "activations", False),  # two digits: 930K
        ("93MB", 60_950_432, "memory", False),  # the slide's total, against the true 61 MB
        ("61MB", 60_950_432, "memory", True),
        ("800K", 780_000, "activations", False),
        ("800K", 849_999, "activations", False),  # one digit would take it; two do not
        ("0.8M", 849_999, "activations", True),  # one digit, written with its point
        ("0.8M", 850_000, "activations", False),
        ("100K", 100_352, "activations", True),
        ("138M", 138_357_544, "params", True),
        ("15.47G", 15_470_264_320, "macs", True),
        ("15.48G", 15_470_264_320, "macs", False),
        ("1.0K", 950, "params", True),  # the place written, not the true value's digits
        ("1000", 1001, "params", False),  # no unit: exact
        ("8000B", 8001, "memory", False),  # bytes written out: exact
    ],
)  # fmt: skip
def test_rounded_answers_both_ways(text: str, value: int, key: str, *, holds: bool) -> None:
    assert about_holds(text, value, key) is holds
    if "." not in text and text[-1].isalpha() and text[-1] != "B":
        assert about_holds(f"~{text}", value, key) is holds  # the tilde says the same


def test_rounding_is_half_up() -> None:
    assert rounded(Fraction(125), Fraction(10)) == Fraction(130)
    assert rounded(Fraction(124), Fraction(10)) == Fraction(120)


# Issue 24: a bound holds exactly on its boundary or not, by its operator (`<=` turned into `<`
# must fail a test), for counts and for bytes.
@pytest.mark.parametrize(
    ("op", "holds"),  # below, on and above the boundary
    [
        ("<=", (True, True, False)),
        ("<", (True, False, False)),
        (">=", (False, True, True)),
        (">", (False, False, True)),
    ],
)
@pytest.mark.parametrize(("bound", "value", "key"), [("10M", 10**7, "params"), ("61MB", 61 * 10**6, "memory")])
def test_bounds_on_the_boundary(op: str, holds: tuple[bool, bool, bool], bound: str, value: int, key: str) -> None:
    e = parse_one(key, f"{op} {bound}", "", AT)
    assert (e.op, e.holds(value - 1), e.holds(value), e.holds(value + 1)) == (op, *holds)


@pytest.mark.parametrize(("value", "holds_for"), [(False, 0), (True, 1)])
def test_fits_reads_a_boolean(*, value: bool, holds_for: int) -> None:
    e = parse_one("fits", value, "3", AT)
    assert (e.key, e.text, e.holds(holds_for), e.holds(1 - holds_for)) == ("fits", str(value).lower(), True, False)


@pytest.mark.parametrize("value", ["no", 2.33, "does not fit", None])
def test_fits_refuses_anything_but_true_or_false(value: object) -> None:
    with pytest.raises(SpecError, match="expected fits must be true or false"):
        parse_one("fits", value, "3", AT)
