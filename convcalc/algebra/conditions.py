"""What flows through the symbolic walk (Shape), what a layer computes (Closed), what it needs (Condition)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from convcalc.algebra.expr import ONE, Expr, NotClosed, product

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Shape:
    """What flows from layer to layer in the symbolic walk: sizes as closed forms, and the jump.

    A jump is None where it depends on the input's size (after a global or adaptive pool).
    """

    spatial: tuple[Expr, ...]
    depth: Expr
    jump: tuple[Fraction | int | None, ...] = ()

    @property
    def values(self) -> Expr:
        return product(self.spatial) * self.depth

    def __str__(self) -> str:
        return "x".join(e.text() for e in (*self.spatial, self.depth))

    def static_depth(self, kind: str) -> int:
        """The depth as a number: what a kind that needs it (groups, pixel shuffle) reads."""
        depth = self.depth.constant
        if depth is None:
            msg = f"{kind} needs a depth that is a number, but here it is {self.depth.text()} (from a flatten)"
            raise NotClosed(msg)
        return depth


class Relation(str, Enum):
    """What a condition asks of its expression."""

    AT_LEAST = "≥"  # expr ≥ 0
    ZERO = "="  # expr = 0
    RESIDUE = "mod"  # expr mod modulus ∈ allowed


@dataclass(frozen=True, slots=True)
class Condition:
    """What a layer needs of its input's size to give no error and no warning.

    `code` is the diagnostic the numeric engine gives where the condition does not hold.
    """

    code: str
    expr: Expr
    relation: Relation
    modulus: int = 1
    allowed: frozenset[int] = frozenset({0})
    # ZERO only: or one of these = 0 (a multiply's sizes agree, or one of them is 1)
    alternatives: tuple[Expr, ...] = ()

    def symbols(self) -> set[str]:
        """The symbols the condition reads."""
        out = self.expr.symbols()
        for alt in self.alternatives:
            out |= alt.symbols()
        return out

    def holds(self, env: Mapping[str, int]) -> bool:
        """Whether the condition holds at the given sizes."""
        value = self.expr.evaluate(env)
        if self.relation is Relation.AT_LEAST:
            return value >= 0
        if self.relation is Relation.ZERO:
            return value == 0 or any(alt.evaluate(env) == 0 for alt in self.alternatives)
        return value % self.modulus in self.allowed

    def python(self) -> str:
        """The condition as a Python boolean expression of the symbols."""
        if self.relation is Relation.AT_LEAST:
            return f"{self.expr.python()} >= 0"
        if self.relation is Relation.ZERO:
            return " or ".join(f"{e.python()} == 0" for e in (self.expr, *self.alternatives))
        return f"({self.expr.python()}) % {self.modulus} in {sorted(self.allowed)}"

    def text(self) -> str:
        """H − 11 ≡ 0 (mod 4); ⌊(H + 1)/4⌋ ≥ 3; ⌊H/2⌋ − ⌊(H + 1)/2⌋ = 0."""
        c = self.expr.terms.get(ONE, 0)
        body = self.expr - c
        if self.relation is Relation.RESIDUE:
            allowed = sorted(self.allowed)
            if len(allowed) == 1:
                return f"{self.expr.text()} ≡ {allowed[0]} (mod {self.modulus})"
            if allowed == list(range(allowed[-1] + 1)):
                return f"{self.expr.text()} mod {self.modulus} ≤ {allowed[-1]}"
            return f"{self.expr.text()} mod {self.modulus} ∈ {{{', '.join(map(str, allowed))}}}"
        if self.relation is Relation.AT_LEAST:
            return f"{body.text()} ≥ {-c:,}"
        return " or ".join(_zero_text(e) for e in (self.expr, *self.alternatives))


def _zero_text(e: Expr) -> str:
    c = e.terms.get(ONE, 0)
    return f"{(e - c).text()} = {-c:,}"


@dataclass(slots=True)
class Closed:
    """What a layer computes from a symbolic input: the closed-form twin of Outcome."""

    output: Shape
    weights: Expr = field(default_factory=lambda: Expr.of(0))
    biases: Expr = field(default_factory=lambda: Expr.of(0))
    buffers: Expr = field(default_factory=lambda: Expr.of(0))
    macs: Expr = field(default_factory=lambda: Expr.of(0))
    bias_adds: Expr = field(default_factory=lambda: Expr.of(0))
    in_place: bool = False
    conditions: list[Condition] = field(default_factory=list)


def at_least(code: str, expr: Expr, least: int) -> list[Condition]:
    """Expr ≥ least; nothing to ask when it is a number that holds."""
    value = expr - least
    if value.constant is not None:
        return [] if value.constant >= 0 else [Condition(code, value, Relation.AT_LEAST)]
    return [Condition(code, value, Relation.AT_LEAST)]


def equal(code: str, a: Expr, b: Expr) -> list[Condition]:
    """A = b; nothing to ask when they are the same expression."""
    diff = a - b
    return [] if diff == 0 else [Condition(code, diff, Relation.ZERO)]


def residue(code: str, expr: Expr, modulus: int, allowed: Iterable[int]) -> list[Condition]:
    """Expr mod modulus in allowed; nothing to ask when every residue is allowed."""
    kept = frozenset(a for a in allowed if 0 <= a < modulus)
    if len(kept) == modulus:
        return []
    return [Condition(code, expr, Relation.RESIDUE, modulus, kept)]
