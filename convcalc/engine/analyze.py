"""The walk: apply each layer's rule to the volume before it and sum what it costs (DESIGN §4)."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING

from convcalc.engine.base import Context, LayerFailure, Outcome, Problem, State
from convcalc.engine.registry import KINDS
from convcalc.report import Diagnostic, LayerRow, Report, Severity, Totals

if TYPE_CHECKING:
    from convcalc.spec.model import LayerSpec, Spec


def analyze(spec: Spec) -> Report:
    """Every layer's output volume, params, memory, MACs and receptive field, and the totals."""
    bpv = spec.dtype.bytes
    spatial = spec.input.spatial
    state = State(spec.input, tuple(Fraction(1) for _ in spatial), tuple(Fraction(1) for _ in spatial))
    ctx = Context(spec.rounding, spatial)
    values = spec.input.values
    rows = [
        LayerRow(
            index=0, path="input", name="INPUT", kind="input", label=str(spec.input), input=None,
            output=spec.input, weights=0, biases=0, buffers=0, activations=values,
            memory=values * bpv * spec.batch, macs=0, flops=0, rf=state.rf, jump=state.jump,
            line=None, column=None, diagnostics=(),
        ),
    ]  # fmt: skip
    failed = False
    for index, layer in enumerate(spec.layers, start=1):
        try:
            out = KINDS[layer.kind].apply(layer.params, state, ctx)
        except LayerFailure as failure:
            rows.append(_failed_row(index, layer, state, Problem(Severity.ERROR, failure.code, failure.message), spec))
            failed = True
            break
        rows.append(_row(index, layer, state, out, spec))
        state = State(out.output, out.rf, out.jump)
    diagnostics = tuple(d for row in rows for d in row.diagnostics)
    weights = sum(r.weights for r in rows)
    biases = sum(r.biases for r in rows)
    activations = sum(r.activations for r in rows)
    totals = Totals(
        weights=weights,
        biases=biases,
        buffers=sum(r.buffers for r in rows),
        activations=activations,
        forward_bytes=activations * bpv * spec.batch,
        params_bytes=(weights + biases) * bpv,
        macs=sum(r.macs for r in rows),
        flops=sum(r.flops for r in rows),
        output=None if failed else state.volume,
    )
    return Report(
        name=spec.name,
        description=spec.description,
        source=spec.source,
        batch=spec.batch,
        dtype=spec.dtype.value,
        bytes_per_value=bpv,
        rows=tuple(rows),
        totals=totals,
        diagnostics=diagnostics,
    )


def _diagnostic(problem: Problem, layer: LayerSpec) -> Diagnostic:
    return Diagnostic(
        severity=problem.severity,
        code=problem.code,
        message=problem.message,
        path=layer.path,
        file=layer.at.file,
        line=layer.at.line,
        column=layer.at.column,
    )


def _row(index: int, layer: LayerSpec, x: State, out: Outcome, spec: Spec) -> LayerRow:
    activations = 0 if out.in_place else out.output.values
    return LayerRow(
        index=index,
        path=layer.path,
        name=layer.name,
        kind=layer.kind,
        label=layer.label,
        input=x.volume,
        output=out.output,
        weights=out.weights,
        biases=out.biases,
        buffers=out.buffers,
        activations=activations,
        memory=activations * spec.dtype.bytes * spec.batch,
        macs=out.macs * spec.batch,
        flops=(2 * out.macs + out.bias_adds) * spec.batch,
        rf=out.rf,
        jump=out.jump,
        line=layer.at.line,
        column=layer.at.column,
        diagnostics=tuple(_diagnostic(p, layer) for p in out.problems),
    )


def _failed_row(index: int, layer: LayerSpec, x: State, problem: Problem, spec: Spec) -> LayerRow:
    del spec
    return LayerRow(
        index=index, path=layer.path, name=layer.name, kind=layer.kind, label=layer.label,
        input=x.volume, output=None, weights=0, biases=0, buffers=0, activations=0, memory=0,
        macs=0, flops=0, rf=x.rf, jump=x.jump, line=layer.at.line, column=layer.at.column,
        diagnostics=(_diagnostic(problem, layer),),
    )  # fmt: skip
