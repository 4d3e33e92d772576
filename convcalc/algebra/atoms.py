"""The atoms of closed forms: an input symbol (H, W) and a floor of a polynomial; monomials of them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Union

if TYPE_CHECKING:
    from convcalc.algebra.expr import Expr


class NotClosed(Exception):  # noqa: N818 - a property of the network, reported to the user
    """A size that cannot be written as a closed form of the input's symbols."""


class Sym:
    """One symbolic input size: H, W."""

    __slots__ = ("key", "name")

    def __init__(self, name: str) -> None:
        self.name = name
        self.key = (0, name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sym) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.key)


class Floor:
    """⌊num/den⌋, with num an Expr and den > 1; made only by Expr.floordiv, which keeps it canonical."""

    __slots__ = ("den", "key", "num")

    def __init__(self, num: Expr, den: int) -> None:
        self.num = num
        self.den = den
        self.key = (1, den, num.python())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Floor) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)


Atom = Union[Sym, Floor]  # noqa: UP007 - a runtime alias
# A product of atoms with their powers, in a canonical order.
Monomial = tuple[tuple[Atom, int], ...]
ONE: Monomial = ()
