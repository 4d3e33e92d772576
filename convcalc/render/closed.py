"""A symbolic report (`convcalc show SPEC --input HxWx3`) as a table or a JSON document."""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

from convcalc.engine.sizes import solve
from convcalc.engine.symbolic import totals
from convcalc.kinds.closed import Condition, Expr, Floor, NotClosed, Relation, floors
from convcalc.render.json import check as json_check
from convcalc.render.json import diagnostic as json_diagnostic
from convcalc.render.json import dumps
from convcalc.render.sizes import set_text
from convcalc.render.ties import free_set, tie_lines, ties

SCHEMA_VERSION = 2  # the symbolic report: its rows under `layers` since 0.2 (docs/json.md)

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from rich.console import Console

    from convcalc.engine.symbolic import ClosedReport, ClosedRow
    from convcalc.kinds.closed import Shape
    from convcalc.report import Check, Diagnostic
    from convcalc.spec.model import Spec

COUNTS = ("activations", "memory", "params", "weights", "biases", "buffers", "macs", "flops")


def exact_floors(report: ClosedReport) -> set[Floor]:
    """The floors that divide exactly at every size that fits: shown as H/32 rather than ⌊H/32⌋.

    A floor of one symbol's expression divides exactly where its numerator ≡ 0 (mod its
    denominator): a set of sizes like any condition's, and the floor is exact when the sizes that
    fit lie inside it (every class of the set, wherever it starts: issue 22, D10).
    """
    exprs = [e for r in report.rows for e in (*r.output.spatial, r.output.depth, r.macs, r.params, r.activations)]
    out: set[Floor] = set()
    for atom in floors(exprs):
        syms = atom.num.symbols()
        if len(syms) != 1:
            continue
        (sym,) = syms
        found = report.sets.get(sym)
        if found is None or found.empty:
            continue
        divides = Condition("exact", atom.num, Relation.RESIDUE, atom.den, frozenset({0}))
        try:
            if found.issubset(solve(divides, sym, {})):
                out.add(atom)
        except NotClosed:  # too many pieces to tell: the floor stays a floor, which is always true
            continue
    return out


def _text(e: Expr, exact: Collection[Floor]) -> str:
    one = e.single_floor()
    if one is not None and one[0] in exact:  # (H + 1)/4 − 2 as (H − 7)/4
        floor, c = one
        inner = (floor.num + c * floor.den).text(exact)
        return f"{inner}/{floor.den}" if inner.isidentifier() else f"({inner})/{floor.den}"
    text = e.text(exact)
    single = len(e.terms) == 1 and e.single_floor() is not None
    return text[1:-1] if single and text.startswith("(") and text.endswith(")") else text


def _expanded(e: Expr, exact: Collection[Floor]) -> str | None:
    """A count whose floors all divide exactly, as a polynomial of the symbols: 305,856·H·W."""
    poly: dict[tuple[str, ...], Fraction] = {}
    for m, c in e.terms.items():
        term: dict[tuple[str, ...], Fraction] = {(): Fraction(c)}
        for atom, n in m:
            if isinstance(atom, Floor):
                if atom not in exact or any(isinstance(a, Floor) for a in atom.num.atoms()):
                    return None
                factor = {_names(mm): Fraction(cc, atom.den) for mm, cc in atom.num.terms.items()}
            else:
                factor = {(atom.name,): Fraction(1)}
            for _ in range(n):
                term = _multiply(term, factor)
        for k, v in term.items():
            poly[k] = poly.get(k, Fraction(0)) + v
    ordered = sorted(((k, v) for k, v in poly.items() if v), key=lambda kv: (-len(kv[0]), kv[0]))
    out = ""
    for k, v in ordered:
        size = abs(v)
        top = [f"{size.numerator:,}"] if size.numerator != 1 or not k else []
        body = "·".join(top + list(k)) + (f"/{size.denominator:,}" if size.denominator != 1 else "")
        out = (("-" if v < 0 else "") + body) if not out else f"{out} {'−' if v < 0 else '+'} {body}"
    return out or "0"


def _names(m: tuple[tuple[Any, int], ...]) -> tuple[str, ...]:
    return tuple(sorted(a.name for a, n in m for _ in range(n)))


def _multiply(
    a: dict[tuple[str, ...], Fraction], b: dict[tuple[str, ...], Fraction]
) -> dict[tuple[str, ...], Fraction]:
    out: dict[tuple[str, ...], Fraction] = {}
    for ka, va in a.items():
        for kb, vb in b.items():
            k = tuple(sorted(ka + kb))
            out[k] = out.get(k, Fraction(0)) + va * vb
    return out


def _count_text(e: Expr, exact: Collection[Floor]) -> str:
    return _expanded(e, exact) or _text(e, exact)


def _shape_text(s: Shape, exact: Collection[Floor]) -> str:
    return "x".join(_text(e, exact) for e in (*s.spatial, s.depth))


def _count(row: ClosedRow, name: str) -> Expr:
    value: Expr = getattr(row, name)
    return value


def to_dict(  # noqa: PLR0913 - the document's parts, each from its own source
    report: ClosedReport,
    axes: dict[str, dict[str, Any]],
    *,
    spec: Spec | None = None,
    version: str = "",
    checks: Sequence[Check] = (),
    diagnostics: Sequence[Diagnostic] = (),
) -> dict[str, Any]:
    """The report document of docs/json.md (schema_version 2): each figure {"text": …, "python": …}.

    The keys are the numeric report's; `checks` are the spec's answers checked at its `example:`
    size, `diagnostics` the symbolic report's (`convcalc.api.symbolic_diagnostics`).
    """
    exact = exact_floors(report)
    t = totals(report)

    def both(e: Expr) -> dict[str, str]:
        return {"text": _count_text(e, exact), "python": e.python()}

    source = "" if spec is None else spec.source
    rows: list[dict[str, Any]] = [
        {
            "index": r.index,
            "path": r.path,
            "name": r.name,
            "kind": r.kind,
            "label": r.label,
            "output": both_shape(r.output, exact),
            **{name: both(_count(r, name)) for name in COUNTS},
            "line": r.line,
            "column": r.column,
            "diagnostics": [],
        }
        for r in report.rows
    ]
    ok = not any(d.severity.value == "error" for d in diagnostics) and all(c.ok for c in checks)
    return {
        "schema_version": SCHEMA_VERSION,
        "convcalc": version,
        "name": report.name,
        "description": "" if spec is None else spec.description,
        "source": source,
        "batch": report.batch,
        "dtype": "" if spec is None else spec.dtype.value,
        "bytes_per_value": report.bytes_per_value,
        "ok": ok,
        "symbols": sorted(set(filter(None, report.symbols))),
        "example": None if spec is None or not spec.example else spec.input.as_list(),
        "sizes": axes,
        "layers": rows,
        "totals": {
            **{name: both(t[name]) for name in COUNTS},
            "trainable": both(t["params"]),
            "non_trainable": both(t["buffers"]),
            "forward_bytes": both(t["memory"]),
            "backward_bytes": both(2 * t["memory"]),
            "params_bytes": both(report.bytes_per_value * t["params"]),
            "output": None if report.output is None else both_shape(report.output, exact),
        },
        "diagnostics": [json_diagnostic(d) for d in diagnostics],
        "checks": [json_check(c) for c in checks],
        "training": None,  # training memory has no symbolic form
    }


def both_shape(s: Shape, exact: Collection[Floor]) -> dict[str, Any]:
    """A volume, readable and as one Python expression per dim."""
    return {"text": _shape_text(s, exact), "python": [e.python() for e in (*s.spatial, s.depth)]}


def render_json(report: ClosedReport, axes: dict[str, dict[str, Any]], **parts: Any) -> str:
    """The JSON document as text (sorted keys, one line per layer, as the numeric report)."""
    return dumps(to_dict(report, axes, **parts), rows="layers")


def render_table(report: ClosedReport, console: Console) -> None:
    """The rows with their closed forms, the totals, and the sizes at which they hold."""
    from rich.table import Table  # noqa: PLC0415 - rich only for tables
    from rich.text import Text  # noqa: PLC0415

    from convcalc.render.layout import shown  # noqa: PLC0415

    show = shown(console)  # names from the spec: inert, never markup
    exact = exact_floors(report)
    table = Table(title=Text(show(f"{report.name}: sizes and counts as formulas")), title_justify="left")
    for header, justify in (("layer", "left"), ("output", "left"), ("params", "right"), ("MACs", "right")):
        table.add_column(header, justify=justify, overflow="fold")  # type: ignore[arg-type]
    table.add_column("activations", justify="right", overflow="fold")
    for r in report.rows:
        params = "" if r.params == 0 else _count_text(r.params, exact)
        macs = "" if r.macs == 0 else _count_text(r.macs, exact)
        acts = "" if r.activations == 0 else _count_text(r.activations, exact)
        table.add_row(Text(show(r.name)), _shape_text(r.output, exact), params, macs, acts)
    t = totals(report)
    table.add_section()
    table.add_row(
        "total",
        "",
        _count_text(t["params"], exact),
        _count_text(t["macs"], exact),
        _count_text(t["activations"], exact),
    )
    console.print(table)
    notes, lines = tie_lines(report, exact)
    tied = ties(report)
    for sym, found in report.sets.items():
        own = free_set(report, sym, tied) if sym in notes and not found.empty else found
        s = own.summary()
        note = notes.get(sym, "") if not found.empty else ""
        console.print(f"{sym}: {set_text(sym, s, own)}{note} (the formulas hold at these sizes)", highlight=False)
    for line in lines if not any(found.empty for found in report.sets.values()) else []:
        console.print(line, highlight=False)
    console.print(
        f"memory = activations × {report.bytes_per_value} B × batch {report.batch} = "
        f"{_count_text(t['memory'], exact)} B",
        highlight=False,
    )
    if report.failure is not None:
        f = report.failure
        console.print(show(f"error: {f.name}: {f.message}"), highlight=False, markup=False)
