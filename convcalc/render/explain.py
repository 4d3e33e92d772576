"""The arithmetic behind a row, worked out with its numbers (`--explain`, `convcalc layer`, checks).

W2 = (32 − 5 + 2·2)/1 + 1 = 32
params = (5·5·3 + 1)·10 = 760

Each layer kind works out its own output, params and MACs (`Kind.working`, convcalc/kinds);
the memory line is the same for every row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.base import Working
from convcalc.kinds.registry import KINDS
from convcalc.render.numbers import grouped

if TYPE_CHECKING:
    from convcalc.options import Rounding
    from convcalc.report import LayerRow


def explain(row: LayerRow, rounding: Rounding, bytes_per_value: int, batch: int) -> list[str]:
    """The worked arithmetic of one row: output size, params, memory, MACs."""
    if row.input is None or row.output is None:
        return []
    kind = KINDS.get(row.kind)  # merge rows (add, concat, multiply) are not layer kinds
    work = kind.working(row.config, row, rounding) if kind is not None else Working()
    lines = [*work.output, *work.params]
    if row.activations:
        per_batch = f" × {batch}" if batch > 1 else ""
        values = "·".join(map(str, row.output.as_list()))
        lines.append(
            f"memory = {values} = {grouped(row.activations)} values × {bytes_per_value} B{per_batch}"
            f" = {grouped(row.memory)} B"
        )
    elif kind is not None:
        lines.append("memory = 0 (in place, or a view of its input)")
    if row.macs:
        lines.append(f"MACs = {work.macs} = {grouped(row.macs)}" if work.macs else f"MACs = {grouped(row.macs)}")
    return lines
