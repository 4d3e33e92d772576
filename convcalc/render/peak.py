"""`show --peak`: the inference pass's peak (convcalc.engine.timeline) as lines, Markdown and JSON."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.render import numbers
from convcalc.render.mdtext import inline

if TYPE_CHECKING:
    from rich.console import Console

    from convcalc.engine.timeline import Peak
    from convcalc.report import Report

MODE = "one forward pass in eval mode under torch.no_grad(), float32, as convcalc.pytorch builds it"


def where(p: Peak, report: Report) -> str:
    """The row of the peak, by path and name: `6 (relu)`."""
    names = {r.path: r.name for r in report.rows}
    return f"{p.row} ({names.get(p.row, p.row)}), in {p.call}"


def peak_lines(p: Peak, report: Report, *, binary: bool) -> list[tuple[str, str]]:
    """The block: the peak and where, then what is live at it."""

    def size(n: int) -> str:
        return numbers.size(n, binary=binary)

    activations = p.peak - p.weights - p.buffers - p.input
    lines = [
        ("Peak", f"{size(p.peak)} at row {where(p, report)} (inference, batch {p.batch})"),
        ("  counts", MODE),
        ("  weights", f"{size(p.weights)} (float32)"),
    ]
    if p.buffers:
        lines.append(("  buffers", f"{size(p.buffers)} (batchnorm's running statistics)"))
    lines += [
        ("  input", size(p.input)),
        ("  activations", f"{size(activations)} live at the peak (outputs, skips held, temporaries)"),
    ]
    return lines


def print_peak(lines: list[tuple[str, str]], out: Console) -> None:
    """The block under the table, as the training block is laid out."""
    from rich.table import Table  # noqa: PLC0415 - rich only for tables

    grid = Table.grid(padding=(0, 2))
    grid.add_column(no_wrap=True)
    grid.add_column()
    for label, text in lines:
        grid.add_row(label, text)
    out.print(grid)


def peak_markdown(lines: list[tuple[str, str]]) -> str:
    """The block as a Markdown list, as the training block is written."""
    (label, text), *parts = lines
    out = [f"- **{inline(label)}**: {inline(text)}"]
    out += [f"  - {inline(part.strip())}: {inline(value)}" for part, value in parts]
    return "\n".join(out) + "\n"


def peak_dict(p: Peak | None) -> dict[str, Any] | None:
    """JSON's `peak`: bytes, the row and call of the peak, and every event; None when a row failed."""
    if p is None:
        return None
    return {
        "mode": MODE,
        "batch": p.batch,
        "peak": p.peak,
        "row": p.row,
        "call": p.call,
        "weights": p.weights,
        "buffers": p.buffers,
        "input": p.input,
        "events": [{"row": e.row, "call": e.call, "live": e.live, "high": e.high} for e in p.events],
    }
