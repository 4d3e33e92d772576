"""Closed forms: a layer's sizes and counts as exact formulas of symbolic input sizes (H, W).

The algebra lives in convcalc.algebra (expressions, their conditions, how they are written);
this module is where the kinds take it from, beside their `apply`.
"""

from __future__ import annotations

from convcalc.algebra.conditions import Closed, Condition, Relation, Shape, at_least, equal, residue
from convcalc.algebra.expr import ONE, Atom, Expr, Floor, Monomial, NotClosed, Sym, floors, product

__all__ = [
    "ONE",
    "Atom",
    "Closed",
    "Condition",
    "Expr",
    "Floor",
    "Monomial",
    "NotClosed",
    "Relation",
    "Shape",
    "Sym",
    "at_least",
    "equal",
    "floors",
    "product",
    "residue",
]
