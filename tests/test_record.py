"""`@record`, the cheap frozen value class that stands in for `@dataclass(frozen=True)`."""

from __future__ import annotations

import copy
import pickle
from typing import ClassVar

import pytest

from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze
from convcalc.record import factory, record, replace
from convcalc.volume import Volume


@record
class Point:
    x: int
    y: int
    label: str = "p"


def test_init_defaults_and_keywords() -> None:
    p = Point(1, 2)
    assert (p.x, p.y, p.label) == (1, 2, "p")
    assert Point(y=2, x=1, label="q").label == "q"
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'y'"):
        Point(1)  # type: ignore[call-arg]


def test_value_equality_and_hash() -> None:
    assert Point(1, 2) == Point(1, 2)
    assert Point(1, 2) != Point(1, 3)
    other: object = (1, 2, "p")
    assert Point(1, 2) != other  # not a tuple
    assert len({Point(1, 2), Point(1, 2), Point(2, 1)}) == 2
    assert Volume((7, 7), 512) == Volume((7, 7), 512)
    assert {Volume((7, 7), 512): "a"}[Volume((7, 7), 512)] == "a"


def test_repr_and_replace() -> None:
    assert repr(Point(1, 2)) == "Point(x=1, y=2, label='p')"
    moved = replace(Point(1, 2), y=5)
    assert moved == Point(1, 5)
    with pytest.raises(TypeError, match="unexpected keyword argument 'z'"):
        replace(Point(1, 2), z=3)


@record
class Base:
    a: int
    b: int = 2


@record
class Derived(Base):
    c: str = "c"
    kinds: ClassVar[tuple[str, ...]] = ("x",)
    tags: dict[str, int] = factory(dict)


def test_inherited_fields_class_vars_and_factories() -> None:
    d = Derived(1, 3, "z")
    assert (d.a, d.b, d.c) == (1, 3, "z")
    assert Derived(1).tags is not Derived(1).tags  # made afresh, not shared
    assert repr(Derived(1)) == "Derived(a=1, b=2, c='c', tags={})"
    match d:
        case Derived(1, 3, c):
            assert c == "z"
        case _:
            pytest.fail("positional patterns follow the fields")


def test_reports_pickle_and_copy() -> None:
    report = analyze(open_spec("resnet18"))
    assert pickle.loads(pickle.dumps(report)) == report  # noqa: S301 - our own bytes
    assert copy.deepcopy(report) == report
