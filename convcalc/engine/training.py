"""Training memory (DESIGN §4): weights, gradients, optimizer state and what autograd keeps.

What autograd keeps is counted the way PyTorch holds it: each row's output is a tensor, each
kind's `saved` rule (convcalc.kinds.saved) says which tensors the row keeps, and a tensor kept
by two ops (a relu's output, which the next conv keeps as its input) counts once. A tensor's
bytes go to the row that made it (the input's to row 0); the other bytes a rule names (indices,
statistics, masks, a pre-activation) to the row that keeps them. An op none of whose inputs
needs a gradient (a pool right after the input) is not recorded, and keeps nothing.

A backend of the walk (convcalc.engine.walk), which follows the spec's PyTorch program
(convcalc.bridges.program): activations are not in place, a residual's shortcut is its input,
`shortcut: auto` projects as the walk decides (the report's rows), a concat puts the shortcut
first. docs/training-memory.md has the rules, how they were measured,
and the limits.
"""

from __future__ import annotations

from dataclasses import replace
from enum import Enum
from typing import TYPE_CHECKING, NoReturn

from convcalc.engine import autocast
from convcalc.engine.checkpoint import Op, leaf_op, makes, recomputed
from convcalc.engine.merge import product_values
from convcalc.engine.merge import saved as merge_saved
from convcalc.engine.walk import Group, Measure, Refusal, measured, not_its_report, walk
from convcalc.kinds.registry import KINDS
from convcalc.kinds.saved import Keep, fused
from convcalc.options import Rounding
from convcalc.report import Training
from convcalc.spec.model import Junction, LayerSpec, Merge, Parallel, Residual, Spec

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.report import LayerRow, Report
    from convcalc.volume import Volume


class Optimizer(str, Enum):
    """torch.optim's optimizers, by the state they keep per parameter."""

    SGD = "sgd"
    MOMENTUM = "momentum"  # SGD with momentum: a momentum buffer
    ADAM = "adam"  # exp_avg and exp_avg_sq, and a step count per parameter tensor
    ADAMW = "adamw"

    @property
    def slots(self) -> int:
        """Values of state per parameter."""
        return {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}[self.value]


class Precision(str, Enum):
    """How values are stored in training."""

    FP32 = "fp32"
    BF16 = "bf16"  # everything in bfloat16 (weights, gradients, state, activations)
    FP16_MIXED = "fp16-mixed"  # 16-bit activations, weights and gradients; float32 master weights and state
    AMP = "amp"  # torch.amp autocast: float32 weights, gradients and state; 16-bit where autocast casts


class Device(str, Enum):
    """Where training runs: it changes dropout's mask (and which state is on the device)."""

    CPU = "cpu"
    CUDA = "cuda"


# Bytes per value: (activations, weights, gradients, optimizer state, master weights). Mixed
# precision follows the ZeRO paper (Rajbhandari et al. 2020, §3.1): fp16 weights and gradients,
# fp32 master weights, momentum and variance, "16 bytes per parameter" with Adam.
_BYTES = {
    Precision.FP32: (4, 4, 4, 4, 0),
    Precision.BF16: (2, 2, 2, 2, 0),
    Precision.FP16_MIXED: (2, 2, 2, 4, 4),
    Precision.AMP: (2, 4, 4, 4, 0),  # activations: per op (convcalc.engine.autocast)
}
_INDEX = 8  # a max pool's indices are int64
_STAT = 4  # normalisation statistics are float32 (PyTorch's accumulate type)
_STEP = 4  # Adam's `step`: a float32 scalar tensor per parameter tensor, on the host
_COUNT = 8  # batchnorm's num_batches_tracked: an int64 scalar per layer
_CUDA_MASK = 1  # CUDA's fused dropout keeps a bool mask (PyTorch's native_dropout, not measured)


class _Tensor:
    """A tensor of the forward pass: values per image, bytes per value, whether it needs a gradient, its maker.

    `at` is the row whose output it is (a view's, where `row` made the storage it shares with `base`).
    """

    __slots__ = ("at", "base", "grad", "row", "size", "values")

    def __init__(self, values: int, size: int, *, grad: bool, row: str) -> None:
        self.values = values
        self.size = size
        self.grad = grad
        self.row = row
        self.at = row
        self.base = self

    def view(self, at: str, values: int | None = None) -> _Tensor:
        """The same storage, as the output of row `at` (of `values` of it: a chunk's channels; else all)."""
        out = _Tensor(self.values if values is None else values, self.size, grad=self.grad, row=self.row)
        out.at, out.base = at, self.base
        return out


class _Walk:
    def __init__(self, report: Report, precision: Precision, device: Device) -> None:
        self.rows = {r.path: r for r in report.rows}
        self.rounding = Rounding(report.rounding)
        self.act = _BYTES[precision][0]
        self.amp = precision is Precision.AMP
        self.cuda = device is Device.CUDA
        self.kept: dict[int, _Tensor] = {}
        self.per_image: dict[str, int] = dict.fromkeys(self.rows, 0)
        self.fixed: dict[str, int] = dict.fromkeys(self.rows, 0)
        self.quiet = False  # inside a `checkpoint: true` block: its ops keep nothing (torch.utils.checkpoint)
        self.ops: list[Op] = []  # the open block's, for what backward runs again
        self.recompute = 0
        self.checkpointed = 0
        self.macs = {path: r.macs for path, r in self.rows.items()}

    def keep(self, t: _Tensor) -> None:
        t = t.base
        if self.quiet:
            return
        if id(t) not in self.kept:
            self.kept[id(t)] = t
            self.per_image[t.row] += t.values * t.size

    def more(self, row: str, keep: Keep, size: int) -> None:
        """The bytes a rule names beside its input and output, `values` of `size` bytes: this row's own."""
        if self.quiet:
            return
        mask = _CUDA_MASK if self.cuda else size
        self.per_image[row] += keep.values * size + keep.indices * _INDEX + keep.masks * mask + keep.stats * _STAT
        self.fixed[row] += keep.fixed_stats * _STAT + keep.fixed_values * size

    def enter(self, group: Group, x: _Tensor) -> _Tensor:
        if group.checkpoint:  # checkpoint saves the block's input, whether it needs a gradient or not
            self.keep(x)
            self.quiet, self.ops = True, []
            self.checkpointed += 1
        return x

    def leave(self, group: Group, out: _Tensor) -> _Tensor:
        if group.checkpoint:
            self.quiet = False
            self.recompute += recomputed(self.ops, self.macs)
        return out

    def path(self, group: Group, which: str, x: _Tensor, walk: Callable[[_Tensor], _Tensor]) -> _Tensor:  # noqa: ARG002
        return walk(x)

    def measure(self, x: _Tensor) -> Measure:
        return measured(self.rows[x.at])

    def refuse(self, n: Residual, x: _Tensor, refusal: Refusal) -> NoReturn:  # noqa: ARG002 - the protocol's
        not_its_report(n, refusal)

    def crop(self, n: Residual, x: _Tensor, body: _Tensor) -> _Tensor:  # noqa: ARG002 - the protocol's
        return x.view(f"{n.path}.shortcut.0")  # U-Net's crop is a view of the input (narrow): autograd keeps nothing

    def hold(self, x: _Tensor, name: str) -> _Tensor:  # noqa: ARG002 - the protocol's
        return x

    def merge(self, group: Residual | Parallel | Junction, parts: list[tuple[str, _Tensor]]) -> _Tensor:
        tensors = [t for _, t in parts]
        if isinstance(group, Residual) and group.merge is Merge.CONCAT:
            tensors.reverse()  # PyTorch's order: the shortcut (old features) first
        activation = None if isinstance(group, Parallel) else group.activation
        return self.join(self.rows[group.path], group.merge, tensors, activation)

    def leaf(self, layer: LayerSpec, x: _Tensor) -> _Tensor:
        row = self.rows[layer.path]
        assert row.output is not None  # noqa: S101 - training() walks computed reports only
        keep = KINDS[row.kind].saved(row.config, row, self.rounding)
        grad = x.grad or row.params > 0
        size = autocast.op_type(row, x.size, cuda=self.cuda) if self.amp else x.size
        then = self.then_type(row, size)
        values = row.output.values
        out = x.view(row.path, values) if keep.view else _Tensor(values, then, grad=grad, row=row.path)
        if self.quiet:
            self.ops.append(leaf_op(row.path, keep, recorded=grad, weights=row.params > 0))
        if grad and not self.quiet:  # else autograd records nothing
            if keep.input and size == x.size:
                self.keep(x)
            elif keep.input:  # autocast's cast of the input: a copy of this row's own
                self.per_image[row.path] += x.values * size
            if keep.output:
                self.keep(out)
            # A fused activation autocast runs in float32 keeps its input as a float32 copy.
            pre = fused(Keep(), row.config.get("activation"), row.output.values).values if then != size else 0
            self.more(row.path, replace(keep, values=keep.values - pre), size)
            self.per_image[row.path] += pre * then
            if self.amp:
                self.fixed[row.path] += autocast.weight_copy(row, input_grad=x.grad)
        return out

    def then_type(self, row: LayerRow, size: int) -> int:
        """The type of the row's output: its op's, or a fused activation's that autocast runs in float32."""
        if not self.amp or not autocast.lowered(row):
            return size
        return autocast.activation_type(row.config.get("activation"), cuda=self.cuda) or size

    def join(self, row: LayerRow, merge: Merge, parts: list[_Tensor], activation: str | None) -> _Tensor:
        assert row.output is not None  # noqa: S101 - training() walks computed reports only
        volumes = self.volumes(merge, parts)
        if self.quiet:
            recorded = any(t.grad for t in parts)
            made = fused(Keep(), activation, row.output.values)
            before = bool(merge_saved(merge, [t.grad for t in parts]))
            self.ops.append(Op(row.path, before=before, after=recorded and makes(made)))
        for what, i in merge_saved(merge, [t.grad for t in parts]):
            if what == "operand":
                self.keep(parts[i])
            else:  # a product of the first operands: a tensor of this row's own
                self.more(row.path, Keep(values=product_values(volumes[: i + 1])), max(t.size for t in parts[: i + 1]))
        grad = any(t.grad for t in parts)
        size = max(t.size for t in parts)  # the widest type: a merge promotes
        joined = _Tensor(row.output.values, size, grad=grad, row=row.path)
        then = fused(Keep(), activation, row.output.values)
        if then == Keep() or not grad:
            return joined
        if self.amp:
            size = autocast.activation_type(activation, cuda=self.cuda) or size
        out = _Tensor(row.output.values, size, grad=grad, row=row.path)
        if then.output:
            self.keep(out)
        self.more(row.path, then, size)
        return out

    def volumes(self, merge: Merge, parts: list[_Tensor]) -> list[Volume]:
        """The operands' volumes, from the rows whose outputs they are (only a multiply needs them)."""
        if merge is not Merge.MULTIPLY:
            return []
        made = (self.rows[t.at].output for t in parts)  # a view's own volume (a chunk's), not its storage's
        return [v for v in made if v is not None]  # each is made by a computed row


def training(  # noqa: PLR0913 - the spec, its report, and the three options of `show`, and whether rows are wanted
    spec: Spec,
    report: Report,
    *,
    optimizer: Optimizer = Optimizer.SGD,
    precision: Precision = Precision.FP32,
    device: Device = Device.CPU,
    per_row: bool = True,
) -> Report:
    """The report with the training block and (`per_row`) each row's `saved` bytes; unchanged when a row failed.

    Leave out `per_row` when only the block is shown: making new rows is most of this function's time.
    """
    if report.totals.output is None:
        return report
    backend = _Walk(report, precision, device)
    first = 4 if precision is Precision.AMP else backend.act  # autocast's input is float32
    walk(spec.layers, _Tensor(spec.input.values, first, grad=False, row="input"), backend)
    _, weight, grad, state, master = _BYTES[precision]
    params = report.totals.params
    tensors = sum(_tensors(r) for r in report.rows)
    steps = _STEP * tensors if optimizer in {Optimizer.ADAM, Optimizer.ADAMW} and device is Device.CPU else 0
    norms = sum(1 for r in report.rows if r.buffers)
    block = Training(
        optimizer=optimizer.value,
        precision=precision.value,
        device=device.value,
        batch=report.batch,
        weights=params * weight,
        buffers=report.totals.buffers * (weight if precision is Precision.BF16 else 4) + _COUNT * norms,
        gradients=params * grad,
        optimizer_state=params * (optimizer.slots * state + master) + steps,
        saved_per_image=sum(backend.per_image.values()),
        saved_fixed=sum(backend.fixed.values()),
        checkpointed=backend.checkpointed,
        recompute_macs=backend.recompute,
    )
    if not per_row:
        return replace(report, training=block)
    b = report.batch
    rows = tuple(replace(r, saved=backend.per_image[r.path] * b + backend.fixed[r.path]) for r in report.rows)
    return replace(report, rows=rows, training=block)


def _tensors(r: LayerRow) -> int:
    """The row's parameter tensors: mlp's two Linears, attention's in_proj and out_proj, each a weight and a bias."""
    if r.kind in {"mlp", "attention"}:
        return 4 if r.biases else 2
    return (r.weights > 0) + (r.biases > 0)
