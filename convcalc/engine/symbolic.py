"""The symbolic walk: every size and count as a closed form of the input's symbols (docs/symbolic.md).

A backend of the walk (convcalc.engine.walk) as convcalc.engine.analyze is, but each kind's `closed` rule replaces its
`apply`: sizes are exact formulas of H and W, and each layer states what it needs of its input's
size to give no error and no warning. Solving those conditions gives, per symbol, the set of
sizes that fit (convcalc.engine.sizes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NoReturn

from convcalc.algebra.conditions import Closed, Shape, at_least
from convcalc.algebra.expr import Expr, NotClosed, product
from convcalc.engine.broadcast import Broadcast, MergeFailure, merged
from convcalc.engine.solving import Solver, check_broadcasts, solve_sets
from convcalc.engine.walk import Group, Measure, Refusal, walk
from convcalc.errors import ClosedFormError, Location
from convcalc.kinds.base import Context, LayerFailure, dim_names, formula_names
from convcalc.kinds.registry import KINDS
from convcalc.spec.model import Junction, LayerSpec, Parallel, Residual, Spec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from convcalc.algebra.conditions import Condition
    from convcalc.engine.sizes import SizeSet


@dataclass(frozen=True, slots=True)
class ClosedRow:
    """A row of the symbolic report: the numeric LayerRow's figures as closed forms."""

    index: int
    path: str
    name: str
    kind: str
    label: str
    output: Shape
    weights: Expr
    biases: Expr
    buffers: Expr
    activations: Expr
    memory: Expr
    macs: Expr
    flops: Expr
    line: int | None
    column: int | None

    @property
    def params(self) -> Expr:
        return self.weights + self.biases


@dataclass(frozen=True, slots=True)
class Limit:
    """A condition on the input's size, with the layer that imposes it."""

    condition: Condition
    path: str
    name: str
    line: int | None
    column: int | None


@dataclass(frozen=True, slots=True)
class Failure:
    """A layer that fails whatever the input's size (groups that do not divide, ...)."""

    path: str
    name: str
    code: str
    message: str
    line: int | None
    column: int | None


@dataclass(frozen=True, slots=True)
class ClosedReport:
    """What the symbolic walk finds: rows, totals, the conditions and, per symbol, the sizes that fit."""

    name: str
    axes: tuple[str, ...]  # the spec's dims: height, width (length; time, height, width)
    symbols: tuple[str, ...]  # the symbol of each axis (two axes may share one)
    rows: tuple[ClosedRow, ...]
    output: Shape | None
    limits: tuple[Limit, ...]
    sets: Mapping[str, SizeSet]
    never: tuple[Limit, ...]  # conditions on the sizes the spec gives as numbers, which do not hold
    solved: Mapping[str, list[tuple[Limit, SizeSet]]]  # per symbol, each condition on it with its own set
    failure: Failure | None
    batch: int
    bytes_per_value: int


@dataclass(frozen=True, slots=True)
class _Site:
    """Where a row belongs."""

    path: str
    name: str
    kind: str
    label: str
    at: Location


@dataclass
class _Walker:
    spec: Spec
    ctx: Context
    rows: list[ClosedRow] = field(default_factory=list)
    limits: list[Limit] = field(default_factory=list)
    never: list[Limit] = field(default_factory=list)  # conditions on numbers that do not hold
    broadcasts: list[tuple[Limit, Broadcast]] = field(default_factory=list)  # multiplies to check

    def enter(self, group: Group, x: Shape) -> Shape:  # noqa: ARG002 - the protocol's
        return x

    def leave(self, group: Group, out: Shape) -> Shape:  # noqa: ARG002 - the protocol's
        return out

    def path(self, group: Group, which: str, x: Shape, walk: Callable[[Shape], Shape]) -> Shape:  # noqa: ARG002
        return walk(x)

    def measure(self, x: Shape) -> Measure:
        return Measure(x.spatial, x.depth, x.jump, str(x))

    def refuse(self, n: Residual, x: Shape, refusal: Refusal) -> NoReturn:  # noqa: ARG002 - the protocol's
        if refusal.closed_form:
            raise ClosedFormError(refusal.message, n.path, n.name, n.at)
        raise _Failed(Failure(n.path, n.name, "merge-mismatch", refusal.message, n.at.line, n.at.column))

    def leaf(self, layer: LayerSpec, x: Shape) -> Shape:
        try:
            out = KINDS[layer.kind].closed(layer.params, x, self.ctx)
        except NotClosed as e:
            raise ClosedFormError(str(e), layer.path, layer.name, layer.at) from None
        except LayerFailure as e:
            raise _Failed(Failure(layer.path, layer.name, e.code, e.message, layer.at.line, layer.at.column)) from None
        self.add(_Site(layer.path, layer.name, layer.kind, layer.label, layer.at), out)
        return out.output

    def crop(self, n: Residual, x: Shape, body: Shape) -> Shape:
        """The copy and crop (as analyze's): the input cut to the body's size, never under it."""
        site = _Site(f"{n.path}.shortcut.0", "CROP", "crop", "crop", n.at)
        if not x.spatial or len(x.spatial) != len(body.spatial):
            message = f"cannot crop {x} to the spatial size of {body}: both need the same number of spatial dims"
            raise _Failed(Failure(site.path, site.name, "crop-mismatch", message, n.at.line, n.at.column))
        conditions = [
            c for a, b in zip(x.spatial, body.spatial, strict=True) for c in at_least("crop-mismatch", a - b, 0)
        ]
        out = Shape(body.spatial, x.depth, x.jump)
        self.add(site, Closed(output=out, in_place=True, conditions=conditions))
        return out

    def hold(self, x: Shape, name: str) -> Shape:  # noqa: ARG002 - the protocol's
        return x

    def merge(self, group: Residual | Parallel | Junction, parts: list[tuple[str, Shape]]) -> Shape:
        activation = None if isinstance(group, Parallel) else group.activation
        label = f"{group.merge.value} + {activation}" if activation else group.merge.value
        site = _Site(group.path, group.name, group.merge.value, label, group.at)
        try:
            out, conditions, checks = merged(group.merge, [shape for _, shape in parts])
        except MergeFailure as e:
            at = site.at
            raise _Failed(Failure(site.path, site.name, "merge-mismatch", str(e), at.line, at.column)) from None
        self.add(site, Closed(output=out, conditions=conditions))
        at = site.at
        self.broadcasts += [(Limit(conditions[0], site.path, site.name, at.line, at.column), c) for c in checks]
        return out

    def add(self, site: _Site, out: Closed) -> None:
        batch, bpv = self.spec.batch, self.spec.dtype.bytes
        activations = Expr.of(0) if out.in_place else out.output.values
        at = site.at
        self.rows.append(
            ClosedRow(
                index=len(self.rows), path=site.path, name=site.name, kind=site.kind, label=site.label,
                output=out.output, weights=out.weights, biases=out.biases, buffers=out.buffers,
                activations=activations, memory=activations * (bpv * batch), macs=out.macs * batch,
                flops=(2 * out.macs + out.bias_adds) * batch, line=at.line, column=at.column,
            )
        )  # fmt: skip
        for c in out.conditions:
            limit = Limit(c, site.path, site.name, at.line, at.column)
            if c.symbols() or c.holds({}):
                self.limits.append(limit)
            elif c.code == "stride-does-not-fit":  # on sizes the spec gives: the walk goes on, as analyze's
                self.never.append(limit)
            else:  # a number: it fails whatever the size
                message = f"{c.text()} does not hold, whatever the input's size"
                raise _Failed(Failure(site.path, site.name, c.code, message, at.line, at.column))


class _Failed(Exception):  # noqa: N818 - control flow, never leaves this module
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


def symbols_of(spec: Spec, *, every_axis: bool) -> tuple[str | None, ...]:
    """Each spatial axis's symbol: the spec's own; with every_axis, H and W for numeric ones too."""
    own = spec.symbols or (None,) * len(spec.input.spatial)
    names = formula_names(len(spec.input.spatial))
    taken = {s for s in own if s}
    out: list[str | None] = []
    for name, given in zip(names, own, strict=True):
        sym = given
        if sym is None and every_axis:
            sym = name if name not in taken else f"{name}_"
            taken.add(sym)
        out.append(sym)
    return tuple(out)


def analyze_closed(spec: Spec, *, every_axis: bool = False, reference: Mapping[str, int] | None = None) -> ClosedReport:
    """The spec's rows and totals as closed forms, and the sizes that fit per symbol.

    `every_axis`: treat numeric dims as symbols too (what `fit` asks). `reference`: the values a
    condition that ties two symbols together is judged at (the spec's numbers by default).
    """
    symbols = symbols_of(spec, every_axis=every_axis)
    spatial = tuple(Expr.symbol(s) if s else Expr.of(n) for s, n in zip(symbols, spec.input.spatial, strict=True))
    ones = (1,) * len(spatial)
    start = Shape(spatial, Expr.of(spec.input.depth), ones)
    walker = _Walker(spec, Context(spec.rounding, (), spec.batch))
    walker.rows.append(
        ClosedRow(
            index=0, path="input", name="INPUT", kind="input", label=str(start), output=start,
            weights=Expr.of(0), biases=Expr.of(0), buffers=Expr.of(0), activations=start.values,
            memory=start.values * (spec.dtype.bytes * spec.batch), macs=Expr.of(0), flops=Expr.of(0),
            line=None, column=None,
        )
    )  # fmt: skip
    failure = None
    try:
        output: Shape | None = walk(spec.layers, start, walker)
    except _Failed as failed:
        failure, output = failed.failure, None
    rows = tuple(walker.rows)
    named = tuple(dict.fromkeys(s for s in symbols if s))
    # The spec's own sizes: its numbers, and a symbol's where the spec gives an example (not the
    # placeholder 1 a symbolic input holds without one: issue 22, D4).
    own = spec.symbols or (None,) * len(symbols)
    given = {
        s: n for s, n, o in zip(symbols, spec.input.spatial, own, strict=True) if s and (o is None or spec.example)
    }

    def error(limit: Limit, message: str) -> Exception:
        return ClosedFormError(message, limit.path, limit.name, _location(spec, limit))

    solver = Solver(error)
    values = dict(reference) if reference is not None else given
    fits = failure is None and not walker.never
    sets, solved = solve_sets(walker.limits, named, values, solver, fits=fits)
    check_broadcasts(walker.broadcasts, sets, solver)
    return ClosedReport(
        name=spec.name,
        axes=dim_names(len(spatial)),
        symbols=tuple(s or "" for s in symbols),
        rows=rows,
        output=output,
        limits=tuple(walker.limits),
        sets=sets,
        never=tuple(walker.never),
        solved=solved,
        failure=failure,
        batch=spec.batch,
        bytes_per_value=spec.dtype.bytes,
    )


def totals(report: ClosedReport) -> dict[str, Expr]:
    """The sums of the rows' figures (params = weights + biases): what the tables print last."""
    out = {
        name: sum((getattr(r, name) for r in report.rows), Expr.of(0))
        for name in ("weights", "biases", "buffers", "activations", "memory", "macs", "flops")
    }
    out["params"] = out["weights"] + out["biases"]
    return out


def _location(spec: Spec, limit: Limit) -> Location:
    return Location(spec.source, limit.line, limit.column)


__all__ = ["ClosedFormError", "ClosedReport", "ClosedRow", "Limit", "analyze_closed", "product"]
