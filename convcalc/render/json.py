"""The JSON report of DESIGN §6 and docs/json.md: plain data, keys sorted, no rich.

A numeric report is schema_version 1 (keys are only ever added to it); the symbolic report of
`render/closed.py` has the same keys, with formulas for values, as schema_version 2.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from convcalc.render.steplines import fit_dict, step_dict
from convcalc.render.training import PRECISIONS

if TYPE_CHECKING:
    from convcalc.report import Check, Diagnostic, Exact, LayerRow, Report, Training
    from convcalc.volume import Volume

SCHEMA_VERSION = 1


def _exact(value: Exact) -> int | str:
    """Whole numbers as numbers; a fraction (after a deconv) as "3/2"."""
    return value.numerator if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _shape(v: Volume | None) -> list[int] | None:
    return None if v is None else v.as_list()


def diagnostic(d: Diagnostic) -> dict[str, Any]:
    """One diagnostic as a JSON object."""
    return {
        "severity": d.severity.value,
        "code": d.code,
        "message": d.message,
        "path": d.path,
        "file": d.file,
        "line": d.line,
        "column": d.column,
    }


def check(c: Check) -> dict[str, Any]:
    """One expectation and whether it holds."""
    actual = [_exact(v) for v in c.actual] if isinstance(c.actual, tuple) else c.actual
    return {
        "path": c.path,
        "key": c.key,
        "expected": c.expected,
        "actual": actual,
        "ok": c.ok,
        "file": c.file,
        "line": c.line,
        "column": c.column,
        "name": c.name,
        "knock_on": c.knock_on,  # failed only because an earlier stride does not fit
        "cause": c.cause,  # that layer's path (its own when its stride does not fit), "" when none
    }


def row(r: LayerRow) -> dict[str, Any]:
    """One layer row as a JSON object (with `saved` when training memory was computed)."""
    data = {
        "index": r.index,
        "path": r.path,
        "name": r.name,
        "kind": r.kind,
        "label": r.label,
        "input": _shape(r.input),
        "output": _shape(r.output),
        "params": r.params,
        "weights": r.weights,
        "biases": r.biases,
        "buffers": r.buffers,
        "activations": r.activations,
        "memory": r.memory,
        "macs": r.macs,
        "flops": r.flops,
        "rf": [_exact(v) for v in r.rf],
        "jump": [_exact(v) for v in r.jump],
        "line": r.line,
        "column": r.column,
        "diagnostics": [diagnostic(d) for d in r.diagnostics],
        "depth": r.depth,
    }
    if r.saved is not None:
        data["saved"] = r.saved
    return data


def training(t: Training, limit: int | None) -> dict[str, Any]:
    """The training block: bytes, the parts and their sum (not a bound of the peak); `max_batch` with a limit.

    With float32, `step`: the step's timeline and its peak (render.steplines), and `max_batch` from the peak.
    """
    data: dict[str, Any] = {
        "optimizer": t.optimizer,
        "precision": t.precision,
        "counts": PRECISIONS[t.precision],
        "device": t.device,
        "batch": t.batch,
        "weights": t.weights,
        "buffers": t.buffers,
        "gradients": t.gradients,
        "optimizer_state": t.optimizer_state,
        "saved": t.saved,
        "saved_per_image": t.saved_per_image,
        "saved_fixed": t.saved_fixed,
        "total": t.total,
    }
    if t.checkpointed:
        data["checkpointed"] = t.checkpointed
        data["recompute_macs"] = t.recompute_macs
    if t.fit is not None:
        data["max_batch"] = fit_dict(t.fit)
    elif limit is not None:
        data["max_batch"] = {"limit": limit, "batch": t.max_batch(limit), "from": "sum"}
    if t.step is not None:
        data["step"] = step_dict(t.step)
    if t.step_unavailable:
        data["step_unavailable"] = list(t.step_unavailable)
    return data


def document(report: Report) -> dict[str, Any]:
    """`Report.to_dict()`: the document of `show --format json`, with this convcalc's version."""
    from convcalc import __version__  # noqa: PLC0415 - the package is loaded before any report exists

    return report_dict(report, __version__)


def report_dict(report: Report, version: str, *, limit: int | None = None) -> dict[str, Any]:
    """The whole report as plain data (with `training` when it was computed)."""
    t = report.totals
    data = {
        "schema_version": SCHEMA_VERSION,
        "convcalc": version,
        "name": report.name,
        "description": report.description,
        "source": report.source,
        "batch": report.batch,
        "dtype": report.dtype,
        "bytes_per_value": report.bytes_per_value,
        "ok": report.ok,
        "symbols": [],  # the symbolic report's: its names, the sizes it holds at, where it checks its answers
        "example": None,
        "sizes": None,
        "layers": [row(r) for r in report.rows],
        "totals": {
            "params": t.params,
            "weights": t.weights,
            "biases": t.biases,
            "buffers": t.buffers,
            "trainable": t.params,
            "non_trainable": t.buffers,
            "activations": t.activations,
            "forward_bytes": t.forward_bytes,
            "backward_bytes": t.backward_bytes,
            "params_bytes": t.params_bytes,
            "macs": t.macs,
            "flops": t.flops,
            "output": _shape(t.output),
        },
        "diagnostics": [diagnostic(d) for d in report.diagnostics],
        "checks": [check(c) for c in report.checks],
    }
    if report.training is not None:
        data["training"] = training(report.training, limit)
    return data


def render_json(report: Report, version: str, *, limit: int | None = None) -> str:
    """The report as JSON with sorted keys: indented, but one line per layer.

    One line per layer keeps a 100,000-layer report readable with grep and fast to write (the C
    encoder does each line; Python's indenting encoder is many times slower).
    """
    return dumps(report_dict(report, version, limit=limit), rows="layers")


def dumps(data: dict[str, Any], *, rows: str) -> str:
    """JSON with sorted keys, indented, but with each item of the list under `rows` on one line."""
    fields = []
    for key, value in sorted(data.items()):
        if key == rows and value:
            lines = ",\n".join("    " + json.dumps(r, sort_keys=True, ensure_ascii=False) for r in value)
            text = f"[\n{lines}\n  ]"
        else:
            text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False).replace("\n", "\n  ")
        fields.append(f"  {json.dumps(key)}: {text}")
    return "{\n" + ",\n".join(fields) + "\n}\n"
