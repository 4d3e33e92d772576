"""Closed forms: a layer's sizes and counts as exact formulas of symbolic input sizes (H, W).

The algebra lives in convcalc.algebra (expressions, their conditions, how they are written);
this module names it for the symbolic engine and the renderers. The kinds' rules compute with it
through convcalc.algebra.sizes and convcalc.kinds.rule (one rule for numbers and closed forms).
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
