"""A size is a number or a closed form: the arithmetic a shape rule needs, written once for both.

Expr composes like int under + − ×; floor division is the one operation they spell differently
(`//` and `Expr.floordiv`), so a rule divides through `floordiv` and `ceildiv`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

from convcalc.algebra.expr import Expr

if TYPE_CHECKING:
    from collections.abc import Iterable

Size: TypeAlias = "int | Expr"


def floordiv(value: Size, d: int) -> Size:
    """⌊value/d⌋ for d ≥ 1."""
    return value // d if isinstance(value, int) else value.floordiv(d)


def ceildiv(value: Size, d: int) -> Size:
    """⌈value/d⌉ for d ≥ 1."""
    return floordiv(value + (d - 1), d)


def multiply(values: Iterable[Size]) -> Size:
    """The product of sizes: a number while every one is."""
    out: Size = 1
    for v in values:
        out = out * v
    return out


def as_int(value: Size) -> int:
    """A size known to be a number, as an int (the numeric backend's sizes are)."""
    if isinstance(value, int):
        return value
    constant = value.constant
    if constant is None:
        msg = f"{value.text()} is not a number"
        raise TypeError(msg)
    return constant


def as_expr(value: Size) -> Expr:
    """A size as a closed form (the symbolic backend's sizes are)."""
    return Expr.of(value)
