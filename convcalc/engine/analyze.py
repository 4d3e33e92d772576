"""The numbers: apply each layer's rule to the volume before it and sum what it costs (DESIGN §4).

The numeric backend of the walk (convcalc.engine.walk), which decides the order and rewrites
`shortcut: auto`. Composite layers are walked depth first: a residual's body, then its shortcut (`crop`: one row
of kind `crop` at P.shortcut.0, the input cut to the body's spatial size), then a merge row at
the residual's own path; a parallel's branches in order, then its merge row. A layer that
cannot be computed stops the walk there; the rows so far are kept.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from math import prod
from typing import TYPE_CHECKING, Any, NoReturn

from convcalc.engine.checks import acknowledge, evaluate
from convcalc.engine.merge import crop, crop_start, merge
from convcalc.engine.walk import Measure, Refusal, walk
from convcalc.errors import Location, SpecError
from convcalc.kinds.base import Context, LayerFailure, Outcome, Problem, State
from convcalc.kinds.registry import KINDS
from convcalc.report import Diagnostic, Group, LayerRow, Report, Severity, Totals
from convcalc.spec.model import Junction, LayerSpec, Node, Parallel, Residual, Sequence, Spec

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping


@dataclass(frozen=True, slots=True)
class _Site:
    """Where a row belongs: its layer's path, names and place, and its nesting depth."""

    path: str
    name: str
    kind: str
    label: str
    at: Location
    depth: int
    config: Mapping[str, Any] = field(default_factory=dict)


class _Stop(Exception):  # noqa: N818 - control flow, never leaves this module
    """A layer could not be computed: the walk ends."""


class _Walker:
    """The numeric backend of the walk (engine/walk.py): rows of numbers, and the groups."""

    def __init__(self, spec: Spec, *, stop_at_problem: bool = False) -> None:
        self.spec = spec
        self.stop_at_problem = stop_at_problem
        self.ctx = Context(spec.rounding, spec.input.spatial, spec.batch)
        self.bpv = spec.dtype.bytes
        self.rows: list[LayerRow] = []
        self.groups: list[Group] = []
        self.inputs: list[State] = []  # each open composite's input: its merge row's

    def enter(self, group: Sequence | Residual | Parallel, x: State) -> State:
        branches = len(group.branches) if isinstance(group, Parallel) else 0
        at = group.at
        depth = len(self.inputs)
        self.groups.append(Group(group.path, group.name, _group_kind(group), depth, at.line, at.column, branches))
        self.inputs.append(x)
        return x

    def leave(self, group: Sequence | Residual | Parallel, out: State) -> State:  # noqa: ARG002 - the protocol's
        self.inputs.pop()
        return out

    def path(self, group: Node, which: str, x: State, walk: Callable[[State], State]) -> State:  # noqa: ARG002
        return walk(x)

    def measure(self, x: State) -> Measure:
        return Measure(x.volume.spatial, x.volume.depth, x.jump, str(x.volume))

    def refuse(self, n: Residual, x: State, refusal: Refusal) -> NoReturn:
        site = _Site(n.path, n.name, n.merge.value, n.merge.value, n.at, 0)
        self.fail(site, x, LayerFailure("merge-mismatch", refusal.message))

    def leaf(self, layer: LayerSpec, x: State) -> State:
        site = _Site(layer.path, layer.name, layer.kind, layer.label, layer.at, len(self.inputs), layer.params)
        try:
            out = KINDS[layer.kind].apply(layer.params, x, self.ctx)
            _check_field(out)
        except LayerFailure as failure:
            self.fail(site, x, failure)
        self.add_row(site, x, out)
        return State(out.output, out.rf, out.jump)

    def merge(self, group: Residual | Parallel | Junction, parts: list[tuple[str, State]]) -> State:
        # The activation after the merge (ResNet's relu) is part of the merge row: its label says so.
        activation = None if isinstance(group, Parallel) else group.activation
        label = f"{group.merge.value} + {activation}" if activation else group.merge.value
        # A general graph's merge (`from:`) is a row of its list; its input, the first it joins.
        joined = isinstance(group, Junction)
        depth = len(self.inputs) - (not joined)
        site = _Site(group.path, group.name, group.merge.value, label, group.at, depth)
        x = parts[0][1] if joined else self.inputs[-1]
        try:
            out = merge(group.merge, parts)
        except LayerFailure as failure:
            self.fail(site, x, failure)
        self.add_row(site, x, out)
        return State(out.output, out.rf, out.jump)

    def hold(self, x: State, name: str) -> State:  # noqa: ARG002 - the protocol's
        return x

    def crop(self, n: Residual, x: State, body: State) -> State:
        """U-Net's copy and crop: a row of kind `crop` at P.shortcut.0, the input cut to the body's size."""
        site = _Site(f"{n.path}.shortcut.0", "CROP", "crop", "crop", n.at, len(self.inputs))
        try:
            out = crop((f"the input ({n.path})", x), (f"the body ({n.path}.layers)", body))
        except LayerFailure as failure:
            self.fail(site, x, failure)
        cut = [(a - b, crop_start(a, b)) for a, b in zip(x.volume.spatial, out.output.spatial, strict=True)]
        # As `pad: same` shows its odd pixel: 2/3 is 2 rows or columns cut before and 3 after.
        sides = [str(start) if 2 * start == d else f"{start}/{d - start}" for d, start in cut]
        label = f"crop {sides[0]}" if len(set(sides)) == 1 else f"crop {', '.join(sides)}"
        self.add_row(replace(site, label=label), x, out)
        return State(out.output, out.rf, out.jump)

    def add_row(self, site: _Site, x: State, out: Outcome) -> None:
        batch = self.spec.batch
        activations = 0 if out.in_place else out.output.values
        self.rows.append(
            LayerRow(
                index=len(self.rows), path=site.path, name=site.name, kind=site.kind, label=site.label,
                input=x.volume, output=out.output, weights=out.weights, biases=out.biases, buffers=out.buffers,
                activations=activations, memory=activations * self.bpv * batch, macs=out.macs * batch,
                flops=(2 * out.macs + out.bias_adds) * batch, rf=out.rf, jump=out.jump,
                line=site.at.line, column=site.at.column, depth=site.depth, config=site.config,
                diagnostics=tuple(_diagnostic(p, site) for p in out.problems),
            )
        )  # fmt: skip
        if self.stop_at_problem and any(p.severity is not Severity.NOTE for p in out.problems):
            raise _Stop

    def fail(self, site: _Site, x: State, failure: LayerFailure) -> NoReturn:
        problem = Problem(Severity.ERROR, failure.code, failure.message)
        self.rows.append(
            LayerRow(
                index=len(self.rows), path=site.path, name=site.name, kind=site.kind, label=site.label,
                input=x.volume, output=None, weights=0, biases=0, buffers=0, activations=0, memory=0, macs=0, flops=0,
                rf=x.rf, jump=x.jump, line=site.at.line, column=site.at.column, depth=site.depth,
                config=site.config, diagnostics=(_diagnostic(problem, site),),
            )
        )  # fmt: skip
        raise _Stop


# A receptive field or jump past this is no design: thousands of stride-2 layers over padding
# (1x1 stays 1x1 with pad 1) double the jump each time, and past about 4,300 digits Python
# refuses to even print the number. docs/limits.md lists it.
MAX_FIELD = 10**30


def _check_field(out: Outcome) -> None:
    if any(max(abs(v.numerator), v.denominator) > MAX_FIELD for v in (*out.rf, *out.jump)):
        msg = (
            "the receptive field or its jump passes 10^30 positions (or a 10^30th of one), convcalc's limit: "
            "no input is that large"
        )
        raise LayerFailure("receptive-field-too-large", msg)


def _group_kind(n: Sequence | Residual | Parallel) -> str:
    if isinstance(n, Sequence):
        return n.kind
    return "residual" if isinstance(n, Residual) else "parallel"


def _diagnostic(problem: Problem, site: _Site) -> Diagnostic:
    at = site.at
    return Diagnostic(problem.severity, problem.code, problem.message, site.path, at.file, at.line, at.column)


def _start(spec: Spec) -> State:
    ones = (1,) * len(spec.input.spatial)  # a value sees itself: rf 1, jump 1
    return State(spec.input, ones, ones)


def first_problem(spec: Spec) -> LayerRow | None:
    """The first row with an error or a warning, or None: the quick answer to "does it fit?"."""
    _numeric(spec)
    walker = _Walker(spec, stop_at_problem=True)
    try:
        walk(spec.layers, _start(spec), walker)
    except _Stop:
        return walker.rows[-1]
    return None


def _numeric(spec: Spec) -> None:
    """A symbolic input without `example:` has no numbers to compute with."""
    if spec.symbols and not spec.example:
        shown = "x".join(
            [*(s or str(n) for s, n in zip(spec.symbols, spec.input.spatial, strict=True)), str(spec.input.depth)]
        )
        msg = (
            f"the input {shown} is symbolic and this needs numbers: give the spec `example: 224x224x3` "
            "(a size for each symbol) or --input 224x224x3; `convcalc show` and `convcalc fit` take symbols"
        )
        raise SpecError(msg, spec.input_at or Location(spec.source))


def analyze(spec: Spec) -> Report:
    """Every layer's output volume, params, memory, MACs and receptive field, and the totals."""
    _numeric(spec)
    walker = _Walker(spec)
    start = _start(spec)
    values = prod(spec.input.spatial) * spec.input.depth
    walker.rows.append(
        LayerRow(
            index=0, path="input", name="INPUT", kind="input", label=str(spec.input), input=None,
            output=spec.input, weights=0, biases=0, buffers=0, activations=values,
            memory=values * walker.bpv * spec.batch, macs=0, flops=0, rf=start.rf, jump=start.jump,
            line=None, column=None, diagnostics=(),
        )
    )  # fmt: skip
    try:
        final = walk(spec.layers, start, walker)
        output = final.volume
    except _Stop:
        output = None
    rows = walker.rows
    weights = sum(r.weights for r in rows)
    biases = sum(r.biases for r in rows)
    activations = sum(r.activations for r in rows)
    totals = Totals(
        weights=weights,
        biases=biases,
        buffers=sum(r.buffers for r in rows),
        activations=activations,
        forward_bytes=activations * walker.bpv * spec.batch,
        params_bytes=(weights + biases) * walker.bpv,
        macs=sum(r.macs for r in rows),
        flops=sum(r.flops for r in rows),
        output=output,
    )
    report = Report(
        name=spec.name,
        description=spec.description,
        source=spec.source,
        batch=spec.batch,
        dtype=spec.dtype.value,
        bytes_per_value=walker.bpv,
        rows=tuple(rows),
        totals=totals,
        diagnostics=tuple(d for r in rows for d in r.diagnostics),
        groups=tuple(walker.groups),
        rounding=spec.rounding.value,
    )
    return acknowledge(replace(report, checks=evaluate(spec.expectations, report)))
