"""The memory timeline of one inference pass (issue 26): live bytes after every call, and the peak.

Eager PyTorch frees a storage when its last reference goes, so the live bytes of a forward pass
follow from the program that runs it. The timeline reads the spec's PyTorch program (convcalc.
bridges.program, the walk's backend that `convcalc.pytorch.to_module` runs and `convcalc
export` writes) and follows `Network.run` in eval mode under `torch.no_grad()`, on float32:

- live all along: the parameters and buffers, and the input (its caller holds it);
- a statement reads its source into a local and applies its calls one by one: each call makes
  its output (a view makes none: flatten, squeeze, narrow, eval dropout, identity) while its input
  is still held; the input goes when the local moves on, unless a name still holds it;
- the names (`x`, `identity`, `shortcut`, `branch1`, ...) hold their value until a statement
  assigns them again: a residual's skip lives across its block, DenseNet's input until the next
  layer's `identity = x`, GoogLeNet's branches until the next inception's;
- a merge makes its result (k - 1 results for k operands of add or multiply, each freed by the
  next), then its activation;
- what a module call makes and frees inside itself, which its kind states (`Kind.scratch`): a max
  pool's int64 indices, which PyTorch computes and drops even under no_grad; group norm's mean
  and rstd; lrn's squares, padded squares and powers.

Each event is a call: `live` right after it returns (its output made, its input not yet
released), `high` the most during it. The peak is the highest `high`. Measured against PyTorch
by tests/test_peak_oracle.py (slow): every storage from the ATen op that makes it to its release.
docs/peak-memory.md has the model and its limits.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING

from convcalc.bridges.program import Apply, Invoke, Join, program
from convcalc.kinds.registry import KINDS
from convcalc.spec.model import Merge

if TYPE_CHECKING:
    from convcalc.bridges.program import Call, Program
    from convcalc.kinds.plan import FunctionStep
    from convcalc.report import LayerRow, Report
    from convcalc.spec.model import Spec
    from convcalc.volume import Volume

_FLOAT = 4  # convcalc.pytorch builds float32 modules
_COUNT = 8  # batchnorm's num_batches_tracked
# Calls that return a view of their input (or the input itself): no storage of their own.
_VIEWS = {
    ".unsqueeze",
    ".squeeze",
    ".narrow",
    ".view",
    ".reshape",
    "torch.flatten",
    ".flatten",
    ".transpose",
    ".permute",
    ".select",
    ".unflatten",
}
_SAME = {"Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "Identity"}  # eval mode: the input itself


@dataclass(frozen=True, slots=True)
class Event:
    """One call of the forward: the row it computes, what ran, live bytes after it and the most during it."""

    row: str
    call: str
    live: int
    high: int


@dataclass(frozen=True, slots=True)
class Peak:
    """The inference timeline: the peak, its event, and what is live throughout."""

    batch: int
    weights: int  # parameters, float32
    buffers: int  # batchnorm's running statistics and counts
    input: int
    peak: int
    row: str  # the row whose call reaches the peak
    call: str
    events: tuple[Event, ...]


class _Storage:
    __slots__ = ("bytes",)

    def __init__(self, size: int) -> None:
        self.bytes = size


class _Value:
    """A tensor: its storage (shared by views) and its shape (channels, then spatial dims)."""

    __slots__ = ("shape", "storage")

    def __init__(self, storage: _Storage, shape: tuple[int, ...]) -> None:
        self.storage = storage
        self.shape = shape


def _shape(v: Volume) -> tuple[int, ...]:
    return (v.depth, *v.spatial)


class _Run:
    def __init__(self, report: Report, prog: Program, fixed: int, x: _Value) -> None:
        self.rows = {r.path: r for r in report.rows}
        self.modules = {a.path: a.module for a in prog.attributes}
        self.batch = report.batch
        self.fixed = fixed
        self.input = x
        self.names: dict[str, _Value] = {"x": x}
        self.local = x  # Network.run's `value`: the value being computed on
        self.events: list[Event] = []

    def live(self, *more: _Value) -> int:
        held = [self.input, self.local, *self.names.values(), *more]
        return self.fixed + sum({id(v.storage): v.storage.bytes for v in held}.values())

    def made(self, shape: tuple[int, ...]) -> _Value:
        return _Value(_Storage(self.batch * prod(shape) * _FLOAT), shape)

    def event(self, row: str, call: str, out: _Value, transient: int = 0) -> None:
        live = self.live(out)
        self.events.append(Event(row, call, live, live + transient))

    def apply(self, s: Apply) -> None:
        self.local = self.names[s.source]
        marks = sorted(s.rows)
        for done, call in enumerate(s.calls, 1):
            row = next(self.rows[path] for at, path in marks if at >= done)
            self.local = self.call(call, row, self.local, last=any(at == done for at, _ in marks))
        self.names[s.target] = self.local

    def call(self, c: Call, row: LayerRow, x: _Value, *, last: bool) -> _Value:
        assert row.output is not None  # noqa: S101 - a program is made of a computed report
        out_shape = _shape(row.output)
        if isinstance(c, Invoke):
            step = self.modules[c.path]
            if step.cls in _SAME:
                self.event(row.path, step.cls, x)
                return x
            out = self.made(out_shape)
            # What the op makes and drops before it returns (max pool indices, lrn's temporaries): the kind's own.
            self.event(row.path, step.cls, out, KINDS[row.kind].scratch(row.config, row, self.batch))
            return out
        name = c.function
        if name in _VIEWS:
            out = _Value(x.storage, out_shape if last else x.shape)
            self.event(row.path, name, out)
            return out
        if name == ".new_zeros":  # the opaque kind's stand-in: one image's zeros, whatever the batch
            out = _Value(_Storage(prod(out_shape) * _FLOAT), out_shape)
        else:  # F.pad: the padded input; an activation: the input's shape
            out = self.made(_padded(x.shape, c) if name == "F.pad" else x.shape)
        # F.softsign is Python, x / (x.abs() + 1): the sum is held while the quotient is made.
        self.event(row.path, name, out, out.storage.bytes if name == "F.softsign" else 0)
        return out

    def join(self, s: Join) -> None:
        row = self.rows[s.row]
        assert row.output is not None  # noqa: S101 - a program is made of a computed report
        shape = _shape(row.output)
        # One call, join(): concat makes its result; k operands of add or multiply make k - 1,
        # each held while the next is made (so two at once from three operands on).
        result = self.made(shape)
        held = 1 if s.merge is Merge.CONCAT else len(s.sources) - 1
        self.event(s.row, s.merge.value, result, result.storage.bytes * min(held - 1, 1))
        self.local = result
        for step in s.then:
            out = self.made(shape)
            self.event(s.row, step.function, out)
            self.local = out
        self.names[s.target] = self.local


def _padded(shape: tuple[int, ...], pad: FunctionStep) -> tuple[int, ...]:
    """F.pad's output: the flat pads apply to the last dims first, two per dim."""
    flat = pad.args[0]
    assert isinstance(flat, tuple)  # noqa: S101 - a pad step's argument
    dims = list(shape)
    for i in range(len(flat) // 2):
        dims[-1 - i] += int(flat[2 * i]) + int(flat[2 * i + 1])
    return tuple(dims)


def timeline(spec: Spec, report: Report) -> Peak | None:
    """One inference pass's timeline (batch of the report); None when a row failed."""
    if report.totals.output is None:
        return None
    prog = program(spec, report)
    # The parameters and buffers of the rows that own a module (an opaque row's stand-in has none).
    owned = {a.row for a in prog.attributes}
    rows = [r for r in report.rows if r.path in owned]
    weights = sum(r.params for r in rows) * _FLOAT
    buffers = sum(r.buffers * _FLOAT + (_COUNT if r.buffers else 0) for r in rows)
    x = _Value(_Storage(report.batch * spec.input.values * _FLOAT), _shape(spec.input))
    run = _Run(report, prog, weights + buffers, x)
    for s in prog.statements:
        if isinstance(s, Join):
            run.join(s)
        else:
            run.apply(s)
    top = max(run.events, key=lambda e: e.high)
    return Peak(
        batch=report.batch,
        weights=weights,
        buffers=buffers,
        input=x.storage.bytes,
        peak=top.high,
        row=top.row,
        call=top.call,
        events=tuple(run.events),
    )
