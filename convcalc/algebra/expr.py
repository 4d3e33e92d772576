"""Closed forms: integer polynomials over input symbols (H, W) and floors of such polynomials.

⌊(H + 1)/4⌋ − 2 is AlexNet's CONV1 output under floor, and 96·363·(⌊(H + 1)/4⌋ − 2)·(⌊(W + 1)/4⌋ − 2)
its MACs. Floors compose exactly, since for integers ⌊(⌊x/a⌋ + c)/b⌋ = ⌊(x + c·a)/(a·b)⌋, so a chain
of convs and pools stays one floor of H. On a residue class H = M·t + r, with M a multiple of every
floor's period, a size is affine in t: that is how convcalc.engine.sizes solves conditions.
"""

from __future__ import annotations

from fractions import Fraction
from math import gcd, lcm
from typing import TYPE_CHECKING

from convcalc.algebra.atoms import ONE, Atom, Floor, Monomial, NotClosed, Sym

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Mapping

__all__ = ["ONE", "Atom", "Expr", "Floor", "Monomial", "NotClosed", "Sym", "floors", "product"]


def _times(a: Monomial, b: Monomial) -> Monomial:
    if not a:
        return b
    if not b:
        return a
    powers: dict[Atom, int] = dict(a)
    for atom, n in b:
        powers[atom] = powers.get(atom, 0) + n
    return tuple(sorted(powers.items(), key=lambda item: item[0].key))


class Expr:
    """An integer polynomial over atoms; immutable, compared and hashed by its terms."""

    __slots__ = ("_hash", "terms")

    def __init__(self, terms: Mapping[Monomial, int]) -> None:
        self.terms: dict[Monomial, int] = {m: c for m, c in terms.items() if c}
        self._hash: int | None = None

    # --- building -------------------------------------------------------------------------

    @staticmethod
    def of(value: int | Expr) -> Expr:
        """A number or an expression, as an expression."""
        return value if isinstance(value, Expr) else Expr({ONE: value})

    @staticmethod
    def symbol(name: str) -> Expr:
        return Expr({((Sym(name), 1),): 1})

    def __add__(self, other: int | Expr) -> Expr:
        terms = dict(self.terms)
        for m, c in Expr.of(other).terms.items():
            terms[m] = terms.get(m, 0) + c
        return Expr(terms)

    __radd__ = __add__

    def __neg__(self) -> Expr:
        return Expr({m: -c for m, c in self.terms.items()})

    def __sub__(self, other: int | Expr) -> Expr:
        return self + -Expr.of(other)

    def __rsub__(self, other: int) -> Expr:
        return Expr.of(other) - self

    def __mul__(self, other: int | Expr) -> Expr:
        if isinstance(other, int):
            return Expr({m: c * other for m, c in self.terms.items()})
        terms: dict[Monomial, int] = {}
        for m1, c1 in self.terms.items():
            for m2, c2 in other.terms.items():
                m = _times(m1, m2)
                terms[m] = terms.get(m, 0) + c1 * c2
        return Expr(terms)

    __rmul__ = __mul__

    def floordiv(self, d: int) -> Expr:
        """⌊self/d⌋ for d ≥ 1, as a canonical closed form."""
        if d == 1:
            return self
        # self = d·Q + R with R's coefficients in [0, d): ⌊self/d⌋ = Q + ⌊R/d⌋.
        q = {m: c // d for m, c in self.terms.items()}
        r = {m: c % d for m, c in self.terms.items()}
        quotient = Expr(q)
        rest = Expr(r)
        c0 = rest.terms.pop(ONE, 0)
        if not rest.terms:
            return quotient  # 0 ≤ c0 < d
        # ⌊(g·X + c)/(g·m)⌋ = ⌊(X + ⌊c/g⌋)/m⌋ for an integer X.
        g = gcd(d, *rest.terms.values())
        inner = Expr({m: c // g for m, c in rest.terms.items()}) + c0 // g
        d //= g
        if d == 1:
            return quotient + inner
        atom = inner.single_floor()
        if atom is not None:  # ⌊(⌊x/a⌋ + c)/b⌋ = ⌊(x + c·a)/(a·b)⌋
            floor, c = atom
            return quotient + (floor.num + c * floor.den).floordiv(floor.den * d)
        return quotient + Expr({((Floor(inner, d), 1),): 1})

    def single_symbol(self) -> bool:
        """Whether the expression is one symbol alone: H."""
        ((m, c),) = self.terms.items() if len(self.terms) == 1 else ((None, 0),)
        return c == 1 and m is not None and len(m) == 1 and m[0][1] == 1 and isinstance(m[0][0], Sym)

    def single_floor(self) -> tuple[Floor, int] | None:
        """(F, c) when self is F + c for one floor atom F; else None."""
        rest = {m: c for m, c in self.terms.items() if m != ONE}
        if len(rest) != 1:
            return None
        ((m, c),) = rest.items()
        if c != 1 or len(m) != 1 or m[0][1] != 1 or not isinstance(m[0][0], Floor):
            return None
        return m[0][0], self.terms.get(ONE, 0)

    # --- reading ------------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, int):
            return self.terms == ({ONE: other} if other else {})
        return isinstance(other, Expr) and other.terms == self.terms

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self.terms.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"Expr({self.python()})"

    @property
    def constant(self) -> int | None:
        """The value when the expression has no symbol, else None."""
        if not self.terms:
            return 0
        if len(self.terms) == 1 and ONE in self.terms:
            return self.terms[ONE]
        return None

    def atoms(self) -> set[Atom]:
        return {a for m in self.terms for a, _ in m}

    def symbols(self) -> set[str]:
        out: set[str] = set()
        for atom in self.atoms():
            out |= {atom.name} if isinstance(atom, Sym) else atom.num.symbols()
        return out

    def evaluate(self, env: Mapping[str, int]) -> int:
        """The value at the given sizes."""
        return sum(c * _product(_atom_value(a, env) ** n for a, n in m) for m, c in self.terms.items())

    def substitute(self, env: Mapping[str, int]) -> Expr:
        """The expression with some symbols given values."""
        if not self.symbols() & set(env):
            return self
        out = Expr({})
        for m, c in self.terms.items():
            term = Expr.of(c)
            for atom, n in m:
                value = _atom_substitute(atom, env)
                for _ in range(n):
                    term = term * value
            out = out + term
        return out

    # --- periods: what the engine needs to solve conditions on residue classes ----------------

    def slope(self, sym: str) -> Fraction:
        """How much an expression affine in sym's atoms grows per unit of sym (on average)."""
        total = Fraction(0)
        for m, c in self.terms.items():
            if m == ONE:
                continue
            if len(m) != 1 or m[0][1] != 1:
                raise NotClosed(_NOT_AFFINE)
            total += c * _atom_slope(m[0][0], sym)
        return total

    def period(self, sym: str) -> int:
        """A modulus M such that on each class H = M·t + r the expression is affine in t."""
        out = 1
        for atom in self.atoms():
            out = lcm(out, _atom_period(atom, sym))
        return out

    def on_class(self, sym: str, modulus: int, residue: int) -> tuple[int, int]:
        """(a, b) with self(M·t + r) = a·t + b for every integer t (modulus a multiple of period)."""
        a = b = 0
        for m, c in self.terms.items():
            if m == ONE:
                b += c
                continue
            if len(m) != 1 or m[0][1] != 1:
                raise NotClosed(_NOT_AFFINE)
            da, db = _atom_on_class(m[0][0], sym, modulus, residue)
            a, b = a + c * da, b + c * db
        return a, b

    # --- writing --------------------------------------------------------------------------

    def python(self) -> str:
        """A Python integer expression (+ - * //, integers, parentheses): `(H + 1)//4 - 2`."""
        from convcalc.algebra.writing import join, python_atom  # noqa: PLC0415 - it reads these classes

        return join(self.terms, python_atom, "*", "-") or "0"

    def text(self, exact: Collection[Floor] = ()) -> str:
        """The readable form: ⌊(H + 1)/4⌋ − 2, 64·H·W; a floor in `exact` divides exactly: H/32."""
        from convcalc.algebra.writing import join, text_atom  # noqa: PLC0415 - it reads these classes

        return join(self.terms, lambda a: text_atom(a, exact), "·", "−", grouped=True) or "0"


_NOT_AFFINE = "a size that is a product of input sizes (only counts may be)"


def _product(values: Iterable[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def _atom_value(atom: Atom, env: Mapping[str, int]) -> int:
    if isinstance(atom, Sym):
        return env[atom.name]
    return atom.num.evaluate(env) // atom.den


def _atom_substitute(atom: Atom, env: Mapping[str, int]) -> Expr:
    if isinstance(atom, Sym):
        return Expr.of(env[atom.name]) if atom.name in env else Expr({((atom, 1),): 1})
    return atom.num.substitute(env).floordiv(atom.den)


def _atom_slope(atom: Atom, sym: str) -> Fraction:
    if isinstance(atom, Sym):
        return Fraction(1 if atom.name == sym else 0)
    return atom.num.slope(sym) / atom.den


def _atom_period(atom: Atom, sym: str) -> int:
    if isinstance(atom, Sym):
        return 1
    # M·slope(num) must be a multiple of den, and num itself affine on the class.
    return lcm(atom.num.period(sym), (atom.num.slope(sym) / atom.den).denominator)


def _atom_on_class(atom: Atom, sym: str, modulus: int, residue: int) -> tuple[int, int]:
    if isinstance(atom, Sym):
        if atom.name != sym:
            msg = f"the size {atom.name} has no value here"
            raise NotClosed(msg)
        return modulus, residue
    a, b = atom.num.on_class(sym, modulus, residue)
    if a % atom.den:
        msg = f"modulus {modulus} is not a period of ⌊({atom.num.python()})/{atom.den}⌋"
        raise ValueError(msg)
    return a // atom.den, b // atom.den


def product(values: Iterable[Expr | int]) -> Expr:
    """The product of sizes, as an expression."""
    out = Expr.of(1)
    for v in values:
        out = out * v
    return out


def floors(exprs: Iterable[Expr]) -> set[Floor]:
    """Every floor atom in the expressions, nested ones included."""
    out: set[Floor] = set()
    todo = list(exprs)
    while todo:
        for atom in todo.pop().atoms():
            if isinstance(atom, Floor) and atom not in out:
                out.add(atom)
                todo.append(atom.num)
    return out
