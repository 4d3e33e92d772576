"""A Markdown table (for READMEs, notes and pull requests), then the totals as a list."""

from __future__ import annotations

from convcalc.render import numbers
from convcalc.render.caps import Cap
from convcalc.render.inert import inert
from convcalc.report import Report, Severity

_HEADER = ("#", "Layer", "Output", "Activations", "Params", "MACs", "RF")
_ALIGN = ("--:", ":--", ":--", "--:", "--:", "--:", "--:")


def escape(text: str) -> str:
    """Text that stays in its table cell or line: | escaped, line breaks as spaces, controls written out."""
    return inert(" ".join(text.splitlines())).replace("|", "\\|")


def render_markdown(report: Report, *, binary: bool = False) -> str:
    """The report as GitHub-flavoured Markdown."""
    lines = [f"### {escape(report.name)}", ""]
    if report.description:
        lines += [escape(report.description), ""]
    lines += ["| " + " | ".join(_HEADER) + " |", "|" + "|".join(_ALIGN) + "|"]
    for r in report.rows:
        flag = " ⚠" if any(d.severity is not Severity.NOTE for d in r.diagnostics) else ""
        name = escape(numbers.display_name(r, indent="· ")) + flag
        cells = (
            str(r.index), name, numbers.volume(r.output), numbers.compact(r.activations),
            numbers.grouped(r.params), numbers.compact(r.macs), numbers.per_dim(r.rf),
        )  # fmt: skip
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
            f"- **Memory** ({report.dtype}, batch {report.batch}): forward {size(t.forward_bytes)}, "
            f"backward ≈ {size(t.backward_bytes)}, params {size(t.params_bytes)}"
        ),
        f"- **MACs**: {numbers.grouped(t.macs)} ({numbers.precise(t.macs)}); FLOPs {numbers.grouped(t.flops)}",
        f"- **Output**: {numbers.volume(t.output)}",
    ]
    shown = [d for d in report.diagnostics if d.severity is not Severity.NOTE]
    if shown:
        lines += ["", "**Diagnostics**", ""]
        cap = Cap()
        lines += [f"- {d.severity.value} (row {d.path}, line {d.line}): {escape(d.message)}" for d in cap.filter(shown)]
        lines += [f"- {more}" for more in cap.more()]
    return "\n".join(lines) + "\n"
