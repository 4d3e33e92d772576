"""A Markdown table (for READMEs, notes and pull requests), then the totals as a list.

Every text that came from a file (names, the description, messages, paths) goes through
convcalc.render.mdtext, so that it renders as the characters it is (no HTML, no link, no image, no
cell broken); so do the cells, whatever a column shows.
"""

from __future__ import annotations

from convcalc.render import numbers
from convcalc.render.caps import Cap
from convcalc.render.columns import DEFAULT, RIGHT, Column, table_cell
from convcalc.render.inert import inert
from convcalc.render.mdtext import inline, paragraph
from convcalc.render.training import backward_text, training_lines
from convcalc.report import Report, Severity


def escape(text: str) -> str:
    """Text that stays in its table cell or line: | escaped, line breaks as spaces, controls written out.

    `diff --format markdown`'s (convcalc.render.diff); `show`'s uses convcalc.render.mdtext, which
    also makes HTML, links and images literal.
    """
    return inert(" ".join(text.splitlines())).replace("|", "\\|")


def render_markdown(
    report: Report, *, binary: bool = False, columns: tuple[Column, ...] = DEFAULT, limit: int | None = None
) -> str:
    """The report as GitHub-flavoured Markdown (the training block when the report has one)."""
    lines = [f"### {inline(report.name)}", ""]
    if report.description.strip():
        lines += [paragraph(report.description), ""]
    header = ("#", "Layer", *(c.heading for c in columns))
    align = ("--:", ":--", *("--:" if c in RIGHT else ":--" for c in columns))
    lines += ["| " + " | ".join(header) + " |", "|" + "|".join(align) + "|"]
    for r in report.rows:
        flag = " ⚠" if any(d.severity is not Severity.NOTE for d in r.diagnostics) else ""
        name = inline(numbers.display_name(r, indent="· ")) + flag
        cells = (str(r.index), name, *(inline(table_cell(c, r, binary=binary)) for c in columns))
        lines.append("| " + " | ".join(cells) + " |")
    t = report.totals

    def size(n: int) -> str:
        return numbers.size(n, binary=binary)

    lines += [
        "",
        (
            f"- **Params**: {numbers.grouped(t.params)} ({numbers.grouped(t.weights)} weights + "
            f"{numbers.grouped(t.biases)} biases; {numbers.grouped(t.buffers)} buffers)"
        ),
        f"- **Activations**: {numbers.grouped(t.activations)} values per image",
        (
            f"- **Memory** ({inline(report.dtype)}, batch {report.batch}): forward {size(t.forward_bytes)}, "
            f"params {size(t.params_bytes)}; {backward_text(report, binary=binary)}"
        ),
        f"- **MACs**: {numbers.grouped(t.macs)} ({numbers.precise(t.macs)}); FLOPs {numbers.grouped(t.flops)}",
        f"- **Output**: {numbers.volume(t.output)}",
    ]
    block = training_lines(report, binary=binary, limit=limit)
    if block:
        (label, text), *parts = block
        lines.append(f"- **{inline(label)}**: {inline(text)}")
        lines += [f"  - {inline(part.strip())}: {inline(value)}" for part, value in parts]
    shown = [d for d in report.diagnostics if d.severity is not Severity.NOTE]
    if shown:
        lines += ["", "**Diagnostics**", ""]
        cap = Cap()
        for d in cap.filter(shown):
            lines.append(f"- {d.severity.value} (row {inline(d.path)}, line {d.line}): {inline(d.message)}")
        lines += [f"- {inline(more)}" for more in cap.more()]
    return "\n".join(lines) + "\n"
