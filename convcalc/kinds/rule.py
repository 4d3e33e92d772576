"""One shape rule per kind, run over numbers and over closed forms (issue 24).

A kind states its arithmetic once, as `Kind.rule(p, x, need)`, on sizes that are ints or closed
forms (`convcalc.algebra.sizes.Size`: the algebra composes like int). What the layer needs of its
input's size goes through `need`:

- `need.at_least(code, value, least, why=...)` and `need.residue(code, value, modulus, allowed,
  why=...)`: the numeric backend (`Check`) evaluates them and raises `LayerFailure(code, why())`
  where they break; the symbolic backend (`Record`) records them as conditions of the closed form.
- A residue without `why` is one the layer reports as a diagnostic rather than a failure (the
  stride that does not fit): `need.report(...)` gives the numeric backend its words, `Check`
  notes which such residues broke (`unmet`), and `Record` keeps the condition.

`numeric` and `symbolic` are the two thin calls `Kind.apply` and `Kind.closed` make.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Protocol, cast

from convcalc.algebra.conditions import Closed, Condition, Shape, at_least, equal, residue
from convcalc.algebra.expr import Expr
from convcalc.algebra.sizes import Size, as_expr, as_int, multiply
from convcalc.kinds.flow import Context, LayerFailure, Outcome, Problem, State, whole
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from convcalc.kinds.base import Kind, Params
    from convcalc.report import Exact

Jumps = tuple["Exact | None", ...]


# Not frozen: made per layer and per size, where a frozen dataclass's __init__ costs (never changed).
@dataclass(slots=True)
class Given:
    """A layer's input as its rule reads it: the same fields for a State and for a Shape."""

    source: Volume | Shape
    spatial: tuple[Size, ...]
    depth: Size
    jump: Jumps  # None where it depends on the input's size (closed forms only)
    rf: tuple[Exact, ...] | None  # numbers only: receptive fields have no closed form
    ctx: Context

    @staticmethod
    def of_state(x: State, ctx: Context) -> Given:
        v = x.volume
        return Given(v, v.spatial, v.depth, x.jump, x.rf, ctx)

    @staticmethod
    def of_shape(x: Shape, ctx: Context) -> Given:
        return Given(x, x.spatial, x.depth, x.jump, None, ctx)

    @property
    def numbers(self) -> bool:
        """Whether the sizes are numbers (the numeric backend), not closed forms."""
        return isinstance(self.source, Volume)

    @property
    def values(self) -> Size:
        return multiply(self.spatial) * self.depth

    def static_depth(self, kind: str) -> int:
        """The depth as a number, for a kind that needs it; NotClosed after a flatten of sizes."""
        return self.source.depth if isinstance(self.source, Volume) else self.source.static_depth(kind)

    def __str__(self) -> str:
        return str(self.source)


@dataclass(slots=True)
class Sizes:
    """What a rule computes: the output and the counts, as numbers or closed forms."""

    spatial: tuple[Size, ...]
    depth: Size
    jump: Jumps
    rf: tuple[Exact, ...] | None = None  # None: the input's (numbers only)
    weights: Size = 0
    biases: Size = 0
    buffers: Size = 0
    macs: Size = 0
    bias_adds: Size = 0
    in_place: bool = False


class Need(Protocol):
    """What a rule asks of its input's size, as the backend running it takes it."""

    def at_least(self, code: str, value: Size, least: int, *, why: Callable[[], str]) -> None:
        """Value ≥ least, else the layer fails with why()."""

    def equal(self, code: str, value: Size, target: int, *, why: Callable[[], str]) -> None:
        """Value = target, else the layer fails with why() (a position embedding's length)."""

    def residue(
        self,
        code: str,
        value: Size,
        modulus: int,
        allowed: Iterable[int],
        *,
        why: Callable[[], str] | None = None,
    ) -> None:
        """Value mod modulus in allowed, else the layer fails with why() (or, without why, reports it)."""

    def report(self, problems: Callable[[], list[Problem]]) -> None:
        """The diagnostics of the numeric backend (a closed form's conditions already say it)."""


class Check:
    """The numeric backend: a condition that breaks raises, or is reported."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.unmet: list[str] = []  # residues without `why` that broke: reported by `report`

    def at_least(self, code: str, value: Size, least: int, *, why: Callable[[], str]) -> None:
        if as_int(value) < least:
            raise LayerFailure(code, why())

    def equal(self, code: str, value: Size, target: int, *, why: Callable[[], str]) -> None:
        if as_int(value) != target:
            raise LayerFailure(code, why())

    def residue(
        self,
        code: str,
        value: Size,
        modulus: int,
        allowed: Iterable[int],
        *,
        why: Callable[[], str] | None = None,
    ) -> None:
        if as_int(value) % modulus in set(allowed):
            return
        if why is not None:
            raise LayerFailure(code, why())
        self.unmet.append(code)

    def report(self, problems: Callable[[], list[Problem]]) -> None:
        self.problems += problems()


class Record:
    """The symbolic backend: each need is a condition on the input's size."""

    def __init__(self) -> None:
        self.conditions: list[Condition] = []

    def at_least(self, code: str, value: Size, least: int, *, why: Callable[[], str]) -> None:
        del why  # the condition is the closed form's words for it
        self.conditions += at_least(code, as_expr(value), least)

    def equal(self, code: str, value: Size, target: int, *, why: Callable[[], str]) -> None:
        del why
        self.conditions += equal(code, as_expr(value), Expr.of(target))

    def residue(
        self,
        code: str,
        value: Size,
        modulus: int,
        allowed: Iterable[int],
        *,
        why: Callable[[], str] | None = None,
    ) -> None:
        del why
        self.conditions += residue(code, as_expr(value), modulus, allowed)

    def report(self, problems: Callable[[], list[Problem]]) -> None:
        del problems  # numbers' words: the conditions recorded already say when they apply


def numeric(kind: Kind, p: Params, x: State, ctx: Context) -> Outcome:
    """`Kind.apply`: the rule over numbers."""
    need = Check()
    out = kind.rule(p, Given.of_state(x, ctx), need)
    counts = (out.weights, out.biases, out.buffers, out.macs, out.bias_adds)
    weights, biases, buffers, macs, bias_adds = (c if type(c) is int else as_int(c) for c in counts)
    spatial = out.spatial if all(type(s) is int for s in out.spatial) else tuple(map(as_int, out.spatial))
    if None in out.jump:  # pragma: no cover - a State's jumps are all numbers
        msg = "a numeric jump is unknown"
        raise ValueError(msg)
    return Outcome(
        output=Volume(cast("tuple[int, ...]", spatial), as_int(out.depth)),
        rf=x.rf if out.rf is None else out.rf,
        jump=cast("tuple[Exact, ...]", out.jump),
        weights=weights,
        biases=biases,
        buffers=buffers,
        macs=macs,
        bias_adds=bias_adds,
        in_place=out.in_place,
        problems=need.problems,
    )


def symbolic(kind: Kind, p: Params, x: Shape, ctx: Context) -> Closed:
    """`Kind.closed`: the rule over closed forms."""
    need = Record()
    out = kind.rule(p, Given.of_shape(x, ctx), need)
    return Closed(
        output=Shape(tuple(as_expr(s) for s in out.spatial), as_expr(out.depth), out.jump),
        weights=as_expr(out.weights),
        biases=as_expr(out.biases),
        buffers=as_expr(out.buffers),
        macs=as_expr(out.macs),
        bias_adds=as_expr(out.bias_adds),
        in_place=out.in_place,
        conditions=need.conditions,
    )


def known(jump: Exact | None) -> Exact:
    """A jump of the numeric backend, a number."""
    if jump is None:  # pragma: no cover - a State's jumps are all numbers
        msg = "a numeric jump is unknown"
        raise ValueError(msg)
    return jump


def finer(jump: Jumps, factors: Iterable[int]) -> Jumps:
    """The jump on a grid `factor` times finer per dim (deconv, upsample, pixel shuffle)."""
    return tuple(None if j is None else whole(Fraction(j) / f) for j, f in zip(jump, factors, strict=True))


def coarser(jump: Jumps, factors: Iterable[int]) -> Jumps:
    """The jump after a stride per dim."""
    return tuple(None if j is None else j * f for j, f in zip(jump, factors, strict=True))


def grown(x: Given, kernels: Iterable[int]) -> tuple[Exact, ...] | None:
    """The receptive field after windows of `kernels` per dim (numbers only)."""
    if x.rf is None:
        return None
    return tuple(r + (k - 1) * known(j) for r, j, k in zip(x.rf, x.jump, kernels, strict=True))


def whole_input(x: Given) -> tuple[Exact, ...]:
    """The receptive field of a layer that sees the whole input, one value per dim of x (numbers only).

    The input's extent per dim; over tokens, whose one dim is no dim of the image, its widest side.
    """
    extent = x.ctx.input_spatial
    return extent if len(extent) == len(x.spatial) else (max(extent, default=1),) * len(x.spatial)
