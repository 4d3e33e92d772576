"""`--depth N`: rows nested deeper than N folded into one row per composite layer.

A folded row sums its rows' params, activations, memory and MACs; its output is the composite's
output (that of its last row). Totals do not change.
"""

from __future__ import annotations

from dataclasses import replace

from convcalc.report import Group, LayerRow, Report


def _owner(path: str, groups: dict[str, Group]) -> Group | None:
    """The group whose path is `path` or one of its dotted prefixes."""
    parts = path.split(".")
    for end in range(1, len(parts) + 1):
        group = groups.get(".".join(parts[:end]))
        if group is not None:
            return group
    return None


def fold_rows(group: Group, rows: list[LayerRow]) -> LayerRow:
    """The rows of a composite layer as one row."""
    last = rows[-1]
    return LayerRow(
        index=0,
        path=group.path,
        name=group.name,
        kind=group.kind,
        label=group.kind,
        input=rows[0].input,
        output=last.output,
        weights=sum(r.weights for r in rows),
        biases=sum(r.biases for r in rows),
        buffers=sum(r.buffers for r in rows),
        activations=sum(r.activations for r in rows),
        memory=sum(r.memory for r in rows),
        macs=sum(r.macs for r in rows),
        flops=sum(r.flops for r in rows),
        rf=last.rf,
        jump=last.jump,
        line=group.line,
        column=group.column,
        diagnostics=tuple(d for r in rows for d in r.diagnostics),
        depth=group.depth,
        saved=None if any(r.saved is None for r in rows) else sum(r.saved or 0 for r in rows),
    )


def fold(report: Report, depth: int) -> Report:
    """The report with every composite at nesting level depth - 1 shown as one row."""
    outer = {g.path: g for g in report.groups if g.depth == depth - 1}
    rows: list[LayerRow] = []
    pending: list[LayerRow] = []
    current: Group | None = None
    for row in report.rows:
        group = _owner(row.path, outer) if row.depth >= depth - 1 else None
        if current is not None and group is not current:
            rows.append(fold_rows(current, pending))
            pending = []
        current = group
        if group is None:
            rows.append(row)
        else:
            pending.append(row)
    if current is not None:
        rows.append(fold_rows(current, pending))
    renumbered = tuple(replace(r, index=i) for i, r in enumerate(rows))
    groups = tuple(g for g in report.groups if g.depth < depth - 1)
    return replace(report, rows=renumbered, groups=groups)
