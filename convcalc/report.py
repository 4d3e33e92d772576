"""The analysis result: frozen values of raw numbers; renderers make all text from these."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Union

from convcalc.views import view

if TYPE_CHECKING:
    from collections.abc import Mapping
    from fractions import Fraction

    from convcalc.engine.steptime import Fit, Step
    from convcalc.volume import Volume


# A receptive field or a jump: a whole number, or a fraction after a deconv or an upsample.
# (Whole numbers stay ints: Fraction arithmetic is ten times slower, and 100,000-layer specs count.)
Exact = Union[int, "Fraction"]


class Severity(str, Enum):
    """How bad a diagnostic is: errors fail the design (exit 1), warnings and notes do not."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Something to tell the user about one layer (or the whole spec when path is empty)."""

    severity: Severity
    code: str
    message: str
    path: str
    file: str
    line: int | None
    column: int | None


@dataclass(frozen=True, slots=True)
class LayerRow:
    """One row of the report: a layer's output and what it costs. Row 0 is the input."""

    index: int
    path: str
    name: str
    kind: str
    label: str
    input: Volume | None
    output: Volume | None  # None when the layer could not be computed
    weights: int
    biases: int
    buffers: int
    activations: int  # values of the output volume per image; 0 for in-place and view rows
    memory: int  # activations x bytes per value x batch
    macs: int  # multiply-accumulates of weights, per image x batch
    flops: int  # 2 x macs + bias additions
    rf: tuple[Exact, ...]
    jump: tuple[Exact, ...]
    line: int | None
    column: int | None
    diagnostics: tuple[Diagnostic, ...]
    depth: int = 0  # how many composite layers (residual, parallel, repeat, block) hold this row
    config: Mapping[str, Any] = field(default_factory=dict)  # the layer's parameters, as the spec gives them
    saved: int | None = None  # bytes autograd keeps of this row's tensors in training (None: not computed)

    @property
    def params(self) -> int:
        """Learnable values: weights plus biases."""
        return self.weights + self.biases


@dataclass(frozen=True, slots=True)
class Group:
    """A composite layer: its rows are its path's and those under it (`path.` prefix)."""

    path: str
    name: str
    kind: str  # residual, parallel, repeat, block
    depth: int
    line: int | None
    column: int | None
    branches: int = 0  # a parallel's branches, the empty ones (the identity) included


@dataclass(frozen=True, slots=True)
class Check:
    """An expectation of the spec, and whether it holds."""

    path: str  # "" for the whole spec
    key: str
    expected: str  # as written
    actual: int | tuple[Exact, ...] | None  # None when the layer was not computed
    ok: bool
    file: str
    line: int | None
    column: int | None
    name: str = ""  # the layer's (or composite's, or the network's) name, as the table shows it
    # When the check fails because a stride does not fit: that layer's path (this check's own
    # path when its layer is the one; an earlier layer's when the true value rests on the sizes
    # that follow from it, a knock-on error).
    cause: str = ""

    @property
    def knock_on(self) -> bool:
        """A failure only because an earlier layer's stride does not fit."""
        return not self.ok and self.cause not in {"", self.path}


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums over the rows, with the bytes they take."""

    weights: int
    biases: int
    buffers: int
    activations: int
    forward_bytes: int
    params_bytes: int
    macs: int
    flops: int
    output: Volume | None

    @property
    def params(self) -> int:
        """Learnable values: weights plus biases."""
        return self.weights + self.biases

    @property
    def backward_bytes(self) -> int:
        """The lecture's "~x2 for bwd": gradients of every activation as well."""
        return 2 * self.forward_bytes


@dataclass(frozen=True, slots=True)
class Training:
    """The memory one training step takes, in bytes (convcalc.engine.training, DESIGN §4).

    `total_at` is the sum of these parts, a breakdown and no bound of the peak: the peak can be
    above it (transient buffers, Adam's temporaries) or below (tensors freed in backward), issue 26.
    `step` is the step's timeline and its peak (convcalc.engine.steptime; float32 only), `fit`
    the largest batch whose peak fits `--max-batch`'s limit; `step_unavailable` the kinds that
    leave a float32 report without them (convcalc.engine.stepscope).
    `saved` is what autograd keeps for backward at `batch`; it is
    `saved_per_image` × batch + `saved_fixed` (totals are affine in the batch).
    """

    optimizer: str
    precision: str
    device: str
    batch: int
    weights: int  # the parameters, in the precision's compute type
    buffers: int  # batchnorm's running statistics and its count of batches
    gradients: int
    optimizer_state: int  # for mixed precision, the float32 master weights too (ZeRO's accounting)
    saved_per_image: int
    saved_fixed: int
    step: Step | None = None
    fit: Fit | None = None
    step_unavailable: tuple[str, ...] = ()  # kinds the timeline does not follow to the byte: no `step`
    checkpointed: int = 0  # blocks with `checkpoint: true` (convcalc.engine.checkpoint)
    recompute_macs: int = 0  # the MACs backward runs again of them, at `batch`

    @property
    def static(self) -> int:
        """What does not grow with the batch."""
        return self.weights + self.buffers + self.gradients + self.optimizer_state + self.saved_fixed

    @property
    def saved(self) -> int:
        """What autograd keeps for backward at this batch."""
        return self.saved_per_image * self.batch + self.saved_fixed

    def total_at(self, batch: int) -> int:
        """Weights, buffers, gradients, optimizer state and what autograd keeps, at `batch`."""
        return self.static + self.saved_per_image * batch

    @property
    def total(self) -> int:
        """The total at this batch."""
        return self.total_at(self.batch)

    def max_batch(self, limit: int) -> int | None:
        """The largest batch whose total fits in `limit` bytes: 0 if none does, None if every one does."""
        if self.saved_per_image == 0:
            return None if self.static <= limit else 0
        return max((limit - self.static) // self.saved_per_image, 0)


@dataclass(frozen=True, slots=True)
class Report:
    """Everything `convcalc show` knows about one spec.

    In Jupyter it displays as `convcalc show`'s table (`_repr_html_`), in a rich console too
    (`__rich__`); `to_dict()` is the JSON document of `show --format json` (docs/api.md).
    """

    name: str
    description: str
    source: str
    batch: int
    dtype: str
    bytes_per_value: int
    rows: tuple[LayerRow, ...]
    totals: Totals
    diagnostics: tuple[Diagnostic, ...]
    groups: tuple[Group, ...] = ()
    checks: tuple[Check, ...] = ()
    rounding: str = "strict"  # the spec's rounding (layers may have their own)
    training: Training | None = None  # `show --train`: the memory training takes (None: not computed)

    @property
    def ok(self) -> bool:
        """True when no diagnostic is an error and every check holds."""
        return not any(d.severity is Severity.ERROR for d in self.diagnostics) and all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of `convcalc show --format json`, as Python values."""
        document: dict[str, Any] = view("document", self)
        return document

    def __repr__(self) -> str:
        return str(view("repr", self))

    def _repr_html_(self) -> str:
        return str(view("html", self))

    def __rich__(self) -> object:
        return view("rich", self)
