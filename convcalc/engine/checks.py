"""Expectations against the report: each becomes a Check that holds or not (DESIGN §2.4).

Where a stride does not fit under strict rounding, the layer has no output size: the table goes
on with floor's, but an answer about that layer's size (output, activations, memory, MACs,
FLOPs) fails (`fits: false` is the answer), and a failed answer about a layer after it is a
knock-on error of that layer (`Check.cause`), counted apart.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convcalc.fold import fold_rows
from convcalc.kinds.base import LayerFailure
from convcalc.kinds.registry import KINDS
from convcalc.report import Check, Diagnostic, Exact, LayerRow, Report, Severity

if TYPE_CHECKING:
    from convcalc.spec.expect import Expectation

# What follows from a layer's output size, and so has no true value when its stride does not fit.
SIZED = frozenset({"output", "activations", "memory", "macs", "flops"})

Actual = int | tuple[Exact, ...] | None


def fits(row: LayerRow) -> bool:
    """Whether every sliding window of the row covers its padded input exactly (DESIGN §3)."""
    kind = KINDS.get(row.kind)
    if kind is None or row.input is None:
        return True
    try:
        windows = kind.windows(row.config, row.input)
    except LayerFailure:
        return True  # the layer's own error (a kernel too large...) is not a stride's
    return not any(w.remainder for w in windows or ())


ANSWERED = "stride-does-not-fit-answered"  # the error, acknowledged by a `fits: false` that holds: a note


def unfit(row: LayerRow) -> bool:
    """The row's stride does not fit and strict rounding made it an error: its sizes are floor's stand-ins."""
    return any(
        (d.code == "stride-does-not-fit" and d.severity is Severity.ERROR) or d.code == ANSWERED
        for d in row.diagnostics
    )


def downstream(source: str, path: str) -> bool:
    """Whether the layer at `path` (a later row, a composite, or "" for the network) sees `source`'s output."""
    if path == "":
        return True
    s, p = source.split("."), path.split(".")
    k = 0
    while k < min(len(s), len(p)) and s[k] == p[k]:
        k += 1
    if k in {len(s), len(p)}:  # one holds the other: a composite and a layer in it, or its merge row
        return True
    if (k > 0 and s[k - 1] == "branches") or {s[k], p[k]} == {"layers", "shortcut"}:
        return False  # side by side: a parallel's branches, a residual's body and shortcut
    return s[k].isdigit() and p[k].isdigit() and int(p[k]) > int(s[k])


def causes(report: Report) -> dict[str, str]:
    """Each row whose stride does not fit (strict), and the first such row it follows from (itself if none).

    After a stride that does not fit, the sizes are floor's stand-ins: a later stride that does not
    fit on them (AlexNet at 224: MAX POOL1, 2 and 3 after CONV1) is a knock-on error of the first.
    """
    found: dict[str, str] = {}
    for r in report.rows:
        if unfit(r):
            found[r.path] = next((root for s, root in found.items() if downstream(s, r.path)), r.path)
    return found


def _whole(report: Report, key: str) -> Actual:
    t = report.totals
    if key == "output":
        return None if t.output is None else tuple(t.output.as_list())
    if key == "memory":
        return t.forward_bytes
    if key == "rf":
        return report.rows[-1].rf if t.output is not None else None
    if key == "fits":
        return all(fits(r) for r in report.rows)
    value: int = getattr(t, key)
    return value


def _of_row(row: LayerRow, key: str, rows: list[LayerRow]) -> Actual:
    if row.output is None:
        return None
    if key == "output":
        return tuple(row.output.as_list())
    if key == "rf":
        return row.rf
    if key == "fits":
        return all(fits(r) for r in rows)
    value: int = getattr(row, key)
    return value


def _under(expectations: tuple[Expectation, ...], report: Report, groups: set[str]) -> dict[str, list[LayerRow]]:
    """The rows under each composite that has an expectation, found in one pass over the rows."""
    wanted = {e.path for e in expectations if e.path in groups}
    under: dict[str, list[LayerRow]] = {path: [] for path in wanted}
    if wanted:
        for r in report.rows:
            parts = r.path.split(".")
            for end in range(1, len(parts) + 1):
                prefix = ".".join(parts[:end])
                if prefix in wanted:
                    under[prefix].append(r)
    return under


def evaluate(expectations: tuple[Expectation, ...], report: Report) -> tuple[Check, ...]:
    """Check every expectation; a layer's is about its row, or its rows folded when composite."""
    by_path = {r.path: r for r in report.rows}
    groups = {g.path: g for g in report.groups}
    under = _under(expectations, report, set(groups))
    roots = causes(report)
    checks = []
    for e in expectations:
        name = report.name
        if e.path == "":
            actual = _whole(report, e.key)
        else:
            rows = under.get(e.path) or ([by_path[e.path]] if e.path in by_path else [])
            row: LayerRow | None = fold_rows(groups[e.path], rows) if e.path in under and rows else by_path.get(e.path)
            actual = None if row is None else _of_row(row, e.key, rows)
            name = groups[e.path].name if e.path in groups else row.name if row else e.path
        ok = actual is not None and e.holds(actual)
        cause = ""
        if e.key in SIZED and e.path in roots:  # no size to answer: `fits: false` is the answer
            ok, cause = False, roots[e.path]
        elif not ok and e.key != "fits":
            cause = next((root for s, root in roots.items() if s != e.path and downstream(s, e.path)), "")
        checks.append(Check(e.path, e.key, e.text, actual, ok, e.at.file, e.at.line, e.at.column, name, cause))
    return tuple(checks)


def acknowledge(report: Report) -> Report:
    """A stride that does not fit, answered by a `fits: false` that holds: a note, not an error.

    The lecture's own question (7x7 input, 3x3 filter, stride 3) is a worksheet whose right answer
    is that the stride does not fit: `check` exits 0 for it. The `fits: false` of a layer answers
    its row, of a composite the rows under it, of the network every row. The sizes after it are
    still floor's stand-ins (a later answer that rests on them is still a knock-on error).
    """
    answered = [c.path for c in report.checks if c.key == "fits" and c.ok and c.actual is False]
    if not answered:
        return report

    def covered(path: str) -> bool:
        return any(a in {"", path} or path.startswith(f"{a}.") for a in answered)

    def note(d: Diagnostic) -> Diagnostic:
        if d.code != "stride-does-not-fit" or d.severity is not Severity.ERROR or not covered(d.path):
            return d
        message = f"{d.message.split('; ', 1)[0]}, as the answer `fits: false` says (the design error is the answer)"
        return replace(d, severity=Severity.NOTE, code=ANSWERED, message=message)

    rows = tuple(replace(r, diagnostics=tuple(map(note, r.diagnostics))) for r in report.rows)
    return replace(report, rows=rows, diagnostics=tuple(d for r in rows for d in r.diagnostics))
