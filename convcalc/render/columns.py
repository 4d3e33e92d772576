"""`show --columns`: the per-row figures a table, a Markdown table or a CSV file shows, in order.

Like torchinfo's `col_names`, one closed vocabulary (an enum), converted where the user's text
comes in: an unknown name fails there, with the valid ones listed. Each column has its heading,
its cell as the tables write it (the lecture's 3.2M and 1,728) and its cell as CSV writes it
(exact integers). Rows are the report's: a column only chooses what of each row is shown.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from convcalc.errors import UnknownColumnError
from convcalc.kinds.registry import KINDS
from convcalc.render import numbers

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.kinds.window import Window
    from convcalc.report import LayerRow


class Column(str, Enum):
    """A per-row figure of the report."""

    OUTPUT = "output"
    ACTIVATIONS = "activations"
    MEMORY = "memory"
    PARAMS = "params"
    WEIGHTS = "weights"
    BIASES = "biases"
    BUFFERS = "buffers"
    MACS = "macs"
    FLOPS = "flops"
    RF = "rf"
    JUMP = "jump"
    KERNEL = "kernel"
    STRIDE = "stride"
    PAD = "pad"
    SAVED = "saved"

    @property
    def heading(self) -> str:
        """The column's heading in a table."""
        return _HEADINGS.get(self, self.value.capitalize())


_HEADINGS = {Column.MACS: "MACs", Column.FLOPS: "FLOPs", Column.RF: "RF", Column.SAVED: "Saved"}

# What `show` has always shown: the lecture's volume, its activations, params, MACs and the field.
DEFAULT = (Column.OUTPUT, Column.ACTIVATIONS, Column.PARAMS, Column.MACS, Column.RF)
# The columns CSV has always written.
CSV_DEFAULT = tuple(c for c in Column if c not in {Column.KERNEL, Column.STRIDE, Column.PAD, Column.SAVED})


def parse(text: str) -> tuple[Column, ...]:
    """`output,activations,weights` as columns, in the order given."""
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    if not names:
        raise UnknownColumnError("no column named: give one or more of " + ", ".join(c.value for c in Column))
    known = {c.value: c for c in Column}
    unknown = [n for n in names if n not in known]
    if unknown:
        listed = ", ".join(repr(n) for n in unknown)
        msg = f"unknown column{'s' * (len(unknown) > 1)} {listed}; the columns are " + ", ".join(known)
        raise UnknownColumnError(msg)
    return tuple(dict.fromkeys(known[n] for n in names))


def _windows(row: LayerRow) -> list[Window] | None:
    kind = KINDS.get(row.kind)
    if kind is None or row.input is None or row.output is None:
        return None
    return kind.windows(row.config, row.input)


def _window_cell(row: LayerRow, part: Callable[[Window], str]) -> str:
    """The kernel, stride or padding per dim, for rows that slide a window; '' for the others."""
    windows = _windows(row)
    if not windows:
        return ""
    texts = [part(w) for w in windows]
    return texts[0] if len(set(texts)) == 1 else "x".join(texts)


def _pad(w: Window) -> str:
    return str(w.pad_lo) if w.pad_lo == w.pad_hi else f"{w.pad_lo}/{w.pad_hi}"


def _saved(row: LayerRow, write: Callable[[int], str]) -> str:
    return "" if row.saved is None else write(row.saved)


def table_cell(column: Column, row: LayerRow, *, binary: bool = False) -> str:
    """The cell as the table and the Markdown table show it."""
    cells: dict[Column, Callable[[], str]] = {
        Column.OUTPUT: lambda: numbers.volume(row.output),
        Column.ACTIVATIONS: lambda: numbers.compact(row.activations),
        Column.MEMORY: lambda: numbers.size(row.memory, binary=binary),
        Column.PARAMS: lambda: numbers.grouped(row.params),
        Column.WEIGHTS: lambda: numbers.grouped(row.weights),
        Column.BIASES: lambda: numbers.grouped(row.biases),
        Column.BUFFERS: lambda: numbers.grouped(row.buffers),
        Column.MACS: lambda: numbers.compact(row.macs),
        Column.FLOPS: lambda: numbers.compact(row.flops),
        Column.SAVED: lambda: _saved(row, lambda n: numbers.size(n, binary=binary)),
    }
    return cells[column]() if column in cells else _common(column, row)


def csv_cell(column: Column, row: LayerRow) -> str | int:
    """The cell as CSV writes it: exact integers, shapes as 224x224x64."""
    numbers_of: dict[Column, int] = {
        Column.ACTIVATIONS: row.activations,
        Column.MEMORY: row.memory,
        Column.PARAMS: row.params,
        Column.WEIGHTS: row.weights,
        Column.BIASES: row.biases,
        Column.BUFFERS: row.buffers,
        Column.MACS: row.macs,
        Column.FLOPS: row.flops,
    }
    if column in numbers_of:
        return numbers_of[column]
    if column is Column.OUTPUT:
        return numbers.volume(row.output)
    if column is Column.SAVED:
        return _saved(row, str)
    return _common(column, row)


def _common(column: Column, row: LayerRow) -> str:
    """The cells both forms write alike: receptive field, jump and the window's parts."""
    if column is Column.RF:
        return numbers.per_dim(row.rf)
    if column is Column.JUMP:
        return numbers.per_dim(row.jump)
    if column is Column.KERNEL:
        return _window_cell(row, lambda w: str(w.kernel))
    if column is Column.STRIDE:
        return _window_cell(row, lambda w: str(w.stride))
    return _window_cell(row, _pad)


RIGHT = frozenset(Column) - {Column.OUTPUT}  # numbers line up on the right
