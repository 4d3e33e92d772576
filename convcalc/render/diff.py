"""The text of `convcalc diff` that every format shares, and its Markdown (for a pull request).

A changed layer reads in the lecture's terms: `11x11/4 → 7x7/2` for its window (size/stride),
`filters 384 → 512` for any other hyperparameter, `conv3-64 → deconv3-64` when the kind changed.
"""

from __future__ import annotations

from enum import Enum
from fractions import Fraction
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from convcalc.diff import Alignment, Diff, Metric, RowDiff, Status, TotalChange
from convcalc.render import numbers
from convcalc.render.mdtext import inline as md_escape
from convcalc.report import Severity

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.diff import BudgetResult
    from convcalc.report import LayerRow, Report

ARROW = " → "
_THOUSAND = 1000
_TEN_THOUSAND = 10_000
MARKS = {Status.ADDED: "+", Status.REMOVED: "-", Status.CHANGED: "~", Status.SAME: ""}
HEADERS = ("", "#", "Layer", "Change", "Output", "Params", "MACs")
CHANGE = 3  # the column a table prints beneath its row
_FROM_SPEC = {2, CHANGE}  # the name and the change: text from the specs
# The totals a table shows; buffers only when a side has some. JSON has every Metric.
SHOWN = (Metric.PARAMS, Metric.BUFFERS, Metric.ACTIVATIONS, Metric.MEMORY, Metric.MACS, Metric.FLOPS)
TITLES = {
    Metric.PARAMS: "Params",
    Metric.WEIGHTS: "Weights",
    Metric.BIASES: "Biases",
    Metric.BUFFERS: "Buffers",
    Metric.ACTIVATIONS: "Activations",
    Metric.MEMORY: "Memory",
    Metric.MACS: "MACs",
    Metric.FLOPS: "FLOPs",
}


def plain(value: Any) -> Any:
    """A hyperparameter as JSON data: enums by value, tuples as lists, fractions as "3/2"."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    if isinstance(value, Fraction):
        return numbers.fraction(value) if value.denominator != 1 else value.numerator
    return value


def _value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, tuple):
        return "x".join(_value(v) for v in value)
    return str(plain(value))


def _window(row: LayerRow) -> str:
    """11x11/4: the kernel in every spatial dim, then the stride (one number when all agree)."""
    size, stride = row.config["size"], row.config["stride"]
    dims = len(row.input.spatial) if row.input is not None else 2
    kernel = _value(size) if isinstance(size, tuple) else "x".join([str(size)] * dims)
    if isinstance(stride, tuple) and len(set(stride)) == 1:
        stride = stride[0]
    return f"{kernel}/{_value(stride)}"


def hyperparameters(rd: RowDiff) -> str:
    """What changed in the layer itself; for a row of one side only, the shorthand of a windowed layer.

    (A conv's or a pool's shorthand says its kernel, stride and pad, which its volume does not;
    that of a bn, relu or fc says no more than its name and volume.)
    """
    if rd.a is None or rd.b is None:
        return rd.row.label if "size" in rd.row.config else ""
    if "kind" in rd.changed:
        return rd.a.label + ARROW + rd.b.label
    keys = {p.key for p in rd.hyperparameters}
    parts: list[str] = []
    windowed = {"size", "stride"} <= rd.a.config.keys() & rd.b.config.keys() and keys & {"size", "stride"}
    if windowed:
        parts.append(_window(rd.a) + ARROW + _window(rd.b))
    parts += [
        f"{p.key} {_value(p.a)}{ARROW}{_value(p.b)}"
        for p in rd.hyperparameters
        if not (windowed and p.key in {"size", "stride"})
    ]
    if not parts and "label" in rd.changed:
        parts.append(rd.a.label + ARROW + rd.b.label)
    return ", ".join(parts)


def _pair(rd: RowDiff, text: Callable[[LayerRow], str]) -> str:
    """`a → b` when the sides differ, else the one value."""
    sides = [text(r) for r in (rd.a, rd.b) if r is not None]
    return sides[0] if len(set(sides)) == 1 else ARROW.join(sides)


def renamed(rd: RowDiff) -> str | None:
    """A's name when the pair's names differ."""
    return rd.a.name if rd.a is not None and rd.b is not None and rd.a.name != rd.b.name else None


def _name(rd: RowDiff, *, both: bool) -> str:
    """The name, indented by nesting depth; `CONV1 → CONV1-4` when the sides differ and `both`."""
    text = numbers.display_name(rd.row)
    old = renamed(rd)
    if both and old is not None:
        text = text.replace(rd.row.name, old + ARROW + rd.row.name, 1)
    return text


def short(n: int) -> str:
    """A count in a row: 512, 1.3K, 9.4K, 21K, 138M: one style from a thousand up (numbers.compact above 10K)."""
    if abs(n) < _THOUSAND:
        return str(n)
    if abs(n) >= _TEN_THOUSAND:
        return numbers.compact(n)
    text = f"{n / _THOUSAND:.1f}"
    return ("10" if abs(float(text)) >= 10 else text) + "K"  # noqa: PLR2004 - 9,960 reads 10K


def _counts(rd: RowDiff, value: Callable[[LayerRow], int]) -> str:
    """`a → b` in the rows' style; in full (1,296 → 1,300) when the style would show the two alike."""
    values = [value(r) for r in (rd.a, rd.b) if r is not None]
    texts = [short(v) for v in values]
    if len(set(values)) == 1:
        return texts[0]
    if len(set(texts)) == 1:
        texts = [numbers.grouped(v) for v in values]
    return ARROW.join(texts)


def index(rd: RowDiff) -> str:
    """The row's number: 7, or 9→10 when B has it elsewhere."""
    return _pair(rd, lambda r: str(r.index)).replace(ARROW, "→")


def cells(rd: RowDiff, *, beneath: bool = False) -> tuple[str, ...]:
    """A row of the diff, as HEADERS lists the columns.

    `beneath` (a table, which prints the change beneath its row): the name column has B's name
    only, and the change says what A called it, so that a rename does not crowd the column out.
    """
    change = hyperparameters(rd)
    old = renamed(rd)
    if beneath and old is not None:
        change = f"renamed from {old}" + (f"; {change}" if change else "")
    return (
        MARKS[rd.status],
        index(rd),
        _name(rd, both=not beneath),
        change,
        _pair(rd, lambda r: numbers.volume(r.output)),
        _counts(rd, lambda r: r.params),
        _counts(rd, lambda r: r.macs),
    )


def shown_rows(diff: Diff, *, everything: bool) -> list[RowDiff]:
    """The rows a table shows: those that differ, or every row with --all."""
    return [r for r in diff.rows if everything or r.status is not Status.SAME]


def amount(metric: Metric, n: int, *, binary: bool = False) -> str:
    """A total as a table shows it: bytes with their unit, counts in full."""
    return numbers.size(n, binary=binary) if metric is Metric.MEMORY else numbers.grouped(n)


def percent(value: Fraction | None) -> str:
    """+3.84%, or `new` when A had none."""
    return "new" if value is None else f"{float(value):+.2f}%"


def change(total: TotalChange, *, binary: bool = False) -> str:
    """+5,309,696 (+3.84%), or `no change`."""
    if total.change == 0:
        return "no change"
    sign = "+" if total.change > 0 else "-"
    return f"{sign}{amount(total.metric, abs(total.change), binary=binary)} ({percent(total.percent)})"


def totals_shown(diff: Diff) -> list[TotalChange]:
    """The totals a table shows."""
    return [t for t in diff.totals if t.metric in SHOWN and (t.metric is not Metric.BUFFERS or t.a or t.b)]


def sides(diff: Diff) -> tuple[str, str]:
    """What to call A and B: their names; their files' names when the names are the same; else A and B."""
    a, b = diff.a.name, diff.b.name
    if a != b:
        return a, b
    files = _files(diff)
    return files if files[0] != files[1] else ("A", "B")


def _files(diff: Diff) -> tuple[str, str]:
    """The files' names (net.yaml), or their paths when the names are the same."""
    a, b = (PurePath(r.source).name for r in (diff.a, diff.b))
    return (a, b) if a != b else (diff.a.source, diff.b.source)


def origin(diff: Diff) -> str:
    """The line under the title: the two sources (unless the title is them), the batch and the type."""
    sources = diff.a.source + ARROW + diff.b.source
    return setting(diff.a, diff.b) if title(diff) == sources else f"{sources} · {setting(diff.a, diff.b)}"


def title(diff: Diff) -> str:
    """`AlexNet → ZFNet`; `before.yaml → net.yaml` when both networks have the same name."""
    a, b = (diff.a.name, diff.b.name) if diff.a.name != diff.b.name else _files(diff)
    return a + ARROW + b


def setting(a: Report, b: Report) -> str:
    """The batch and the value type: `batch 1 · float32`, or `batch 1 → 8 · float32 → float16`."""
    batch = str(a.batch) if a.batch == b.batch else f"{a.batch}{ARROW}{b.batch}"
    dtype = a.dtype if a.dtype == b.dtype else f"{a.dtype}{ARROW}{b.dtype}"
    return f"batch {batch} · {dtype}"


def budget_line(result: BudgetResult, *, binary: bool = False, quote: str = "") -> str:
    """✗ params>+3%: Params +5,309,696 (+3.84%), breaks it."""
    if not result.judged:
        return f"✗ {quote}{result.budget.text}{quote}: cannot be judged, as a design error stops A or B"
    mark, verdict = ("✗", "breaks it") if result.broken else ("✓", "holds")
    metric = TITLES[result.budget.metric]
    return f"{mark} {quote}{result.budget.text}{quote}: {metric} {change(result.total, binary=binary)}, {verdict}"


def summary(diff: Diff, *, everything: bool) -> str:
    """3 added, 0 removed, 0 changed, 22 unchanged (--all shows them)."""
    counts = {s: diff.count(s) for s in Status}
    text = (
        f"{counts[Status.ADDED]} added, {counts[Status.REMOVED]} removed, {counts[Status.CHANGED]} changed, "
        f"{counts[Status.SAME]} unchanged"
    )
    if counts[Status.SAME] and not everything:
        text += " (--all shows them)"
    return text


def notes(diff: Diff) -> list[str]:
    """What the reader should know about how the diff was made."""
    lines = []
    if diff.alignment is Alignment.POSITION:
        lines.append("The rows that differ were too many to align as sequences: they are paired by position.")
    for side, report in zip(sides(diff), (diff.a, diff.b), strict=True):
        if any(d.severity is Severity.ERROR for d in report.diagnostics):  # not a failed `expect:`
            where = f"`convcalc show {report.source}`"
            stops = "; it stops there, and its totals count the rows before" if report.totals.output is None else ""
            lines.append(f"{side} has design errors (see {where}){stops}.")
    return lines


def render_markdown(diff: Diff, *, everything: bool = False, binary: bool = False) -> str:
    """The diff as GitHub-flavoured Markdown, for a pull-request comment."""
    name_a, name_b = sides(diff)
    # Every text from a spec or a file name through mdtext.inline, as show's: no HTML, link or image (D14).
    lines = [
        f"### {md_escape(title(diff))}",
        "",
        md_escape(origin(diff)),
        "",
    ]
    rows = shown_rows(diff, everything=everything)
    if rows:
        lines += ["| " + " | ".join(HEADERS) + " |", "|:-:|--:|:--|:--|:--|--:|--:|"]
        # The name and the change come from the specs; the rest is convcalc's own numbers and marks.
        lines += [
            "| " + " | ".join(md_escape(c) if i in _FROM_SPEC else c for i, c in enumerate(cells(r))) + " |"
            for r in rows
        ]
        lines.append("")
    lines += [summary(diff, everything=everything), ""]
    lines += [f"| Total | {md_escape(name_a)} | {md_escape(name_b)} | Change |", "|:--|--:|--:|--:|"]
    for t in totals_shown(diff):
        a, b = amount(t.metric, t.a, binary=binary), amount(t.metric, t.b, binary=binary)
        lines.append(f"| {TITLES[t.metric]} | {a} | {b} | {change(t, binary=binary)} |")
    out_a, out_b = numbers.volume(diff.a.totals.output), numbers.volume(diff.b.totals.output)
    lines.append(f"| Output | {out_a} | {out_b} | {'no change' if out_a == out_b else 'changed'} |")
    if diff.budgets:
        lines += ["", "**Budgets**", ""]
        lines += [f"- {budget_line(r, binary=binary, quote='`')}" for r in diff.budgets]
    extra = notes(diff)
    if extra:
        lines += ["", *(f"> {md_escape(n)}" for n in extra)]
    return "\n".join(lines) + "\n"
