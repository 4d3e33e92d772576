"""What the page asks of convcalc, run in the browser by Pyodide (and by the tests in CPython).

Each function takes text and returns one JSON string (no Python objects cross into JavaScript):
the HTML of the notebook's table, the checks and diagnostics with their lines, the figure's SVG,
the sizes that fit, or the working of the one-layer calculator. Nothing here reads a file but
the built-in specs, and nothing is fetched.
"""

from __future__ import annotations

import contextlib
import html
import io
import json
from typing import TYPE_CHECKING, Any

from convcalc.errors import ConvcalcError

if TYPE_CHECKING:
    from convcalc.report import Report
    from convcalc.spec.model import Spec

SOURCE = "spec.yaml"  # the editor's text, as messages name it


def builtins() -> str:
    """The built-in specs' names and texts, to start from: [{"name": …, "text": …}]."""
    from convcalc.builtins import builtin_names, specs_dir  # noqa: PLC0415
    from convcalc.spec.loader import read_text  # noqa: PLC0415

    return json.dumps(
        [{"name": n, "text": read_text(f"{specs_dir()}/{n}.yaml", f"specs/{n}.yaml")} for n in builtin_names()]
    )


def _errors(error: ConvcalcError) -> list[dict[str, Any]]:
    return [
        {
            "line": e.location.line if e.location else None,
            "column": e.location.column if e.location else None,
            "message": e.message,
            "text": e.line(),
        }
        for e in error.all
    ]


def _pre(text: str) -> str:
    return f'<pre class="plain">{html.escape(text)}</pre>'


def _checks(report: Report) -> list[dict[str, Any]]:
    return [
        {
            "ok": c.ok,
            "name": c.name or "network",
            "key": c.key,
            "expected": c.expected,
            "actual": "x".join(map(str, c.actual)) if isinstance(c.actual, tuple) else c.actual,
            "line": c.line,
            "cause": c.cause,
        }
        for c in report.checks
    ]


def _diagnostics(report: Report) -> list[dict[str, Any]]:
    from convcalc.report import Severity  # noqa: PLC0415

    return [
        {"severity": d.severity.value, "message": d.message, "line": d.line, "column": d.column, "path": d.path}
        for d in report.diagnostics
        if d.severity is not Severity.NOTE
    ]


def _sizes(spec: Spec) -> list[str]:
    """`convcalc fit`'s answer: the input sizes that fit, per axis, with the layers behind them."""
    if not spec.input.spatial:
        return [f"the input {spec.input} is a vector: there are no strides to fit"]
    from convcalc.engine.symbolic import analyze_closed  # noqa: PLC0415
    from convcalc.kinds.closed import NotClosed  # noqa: PLC0415
    from convcalc.render.sizes import axis_report, describe  # noqa: PLC0415

    try:
        closed = analyze_closed(spec, every_axis=True)
        return describe(closed, spec, axis_report(closed, spec))
    except ConvcalcError as error:
        return [f"no closed form: {error.message}"]
    except NotClosed as error:
        return [f"no closed form: {error}"]


def _symbolic_table(spec: Spec) -> str:
    from rich.console import Console  # noqa: PLC0415

    from convcalc.engine.symbolic import analyze_closed  # noqa: PLC0415
    from convcalc.render import closed  # noqa: PLC0415

    console = Console(file=io.StringIO(), record=True, width=100, color_system=None, force_jupyter=False, _environ={})
    closed.render_table(analyze_closed(spec), console)
    return console.export_html(inline_styles=True, code_format='<pre class="table"><code>{code}</code></pre>')


def spec_result(text: str) -> str:
    """Everything the page shows for the editor's text, as JSON.

    {"ok", "errors": [...], "table": html, "rows", "params", "checks": [...], "diagnostics": [...],
    "figure": svg, "sizes": [lines]}; with errors (the spec cannot be read) only "errors".
    """
    from convcalc.api import analyze  # noqa: PLC0415
    from convcalc.render.html import report_html  # noqa: PLC0415
    from convcalc.render.svg import render_readable  # noqa: PLC0415
    from convcalc.spec.loader import load_spec  # noqa: PLC0415

    try:
        spec = load_spec(SOURCE, text)
        if spec.symbols and not spec.example:
            return json.dumps(
                {"ok": True, "errors": [], "table": _symbolic_table(spec), "symbolic": True, "sizes": _sizes(spec)}
            )
        report = analyze(spec)
    except ConvcalcError as error:
        return json.dumps({"ok": False, "errors": _errors(error)})
    return json.dumps(
        {
            "ok": report.ok,
            "errors": [],
            "name": report.name,
            "table": report_html(report),
            "rows": len(report.rows),
            "params": report.totals.params,
            "macs": report.totals.macs,
            "checks": _checks(report),
            "diagnostics": _diagnostics(report),
            "figure": render_readable(report).svg,
            "sizes": _sizes(spec),
        }
    )


def report_json(text: str) -> str:
    """`convcalc show --format json` of a spec's text, or of a built-in spec by its name."""
    from convcalc.api import analyze  # noqa: PLC0415

    try:
        return json.dumps(analyze(text).to_dict(), sort_keys=True)
    except ConvcalcError as error:
        return json.dumps({"errors": _errors(error)})


def layer_result(volume: str, layers: str) -> str:
    """The one-layer calculator: `convcalc layer VOLUME LAYER...`, worked out, as JSON.

    `layers` holds one layer per line (or separated by `;`). {"ok", "html", "text"}.
    """
    from convcalc.cli import main  # noqa: PLC0415

    args = ["layer", volume.strip(), *[t.strip() for t in layers.replace(";", "\n").splitlines() if t.strip()]]
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main.main(args, prog_name="convcalc", standalone_mode=True)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
    text = out.getvalue() + err.getvalue()
    return json.dumps({"ok": code == 0, "code": code, "text": text, "html": _pre(text)})
