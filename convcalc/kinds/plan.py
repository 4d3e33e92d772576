"""A layer's PyTorch plan: its module and its forward steps, described without torch.

Every kind states its plan (`Kind.plan`); `convcalc.pytorch` builds and runs plans with torch,
and `convcalc export` writes the same plans as Python source, so the two cannot drift. A plan is
a few steps applied in order to the layer's input: at most one `ModuleStep` (a torch.nn module
the layer owns, with its parameters) and any number of `FunctionStep`s (stateless calls: an
activation, a flatten, an explicit pad). convcalc notions PyTorch lacks become what PyTorch does,
and the plan carries a note that says so (the exported file's docstring lists them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from convcalc.options import ActivationFunction, Rounding

if TYPE_CHECKING:
    from convcalc.kinds.window import Window

# An argument of a module or a function: what `repr` writes as Python (float("-inf") aside).
Arg = Union[int, float, bool, str, tuple[int, ...], tuple[float, ...], None]  # noqa: UP007 - runtime alias, Py 3.10
Kwargs = tuple[tuple[str, Arg], ...]


@dataclass(frozen=True, slots=True)
class ModuleStep:
    """A torch.nn module the layer owns: `nn.<cls>(*args, **kwargs)`, called on the value.

    `stem` names the attribute of a layer the spec does not name: conv1, conv2, fc1, bn1 ...
    `own`: the class is one of convcalc's (convcalc/bridges/modules.py, the token kinds'), not torch.nn's.
    """

    cls: str
    args: tuple[Arg, ...] = ()
    kwargs: Kwargs = ()
    stem: str = "layer"
    own: bool = False


@dataclass(frozen=True, slots=True)
class FunctionStep:
    """A stateless call on the value: `F.relu(x)`, `torch.flatten(x, 1)`, or a method `x.squeeze(-1)`.

    `function` is `F.<name>` (torch.nn.functional), `torch.<name>`, or `.<name>` for a method of
    the tensor; `args` and `kwargs` follow the value.
    """

    function: str
    args: tuple[Arg, ...] = ()
    kwargs: Kwargs = ()


Step = Union[ModuleStep, FunctionStep]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True, slots=True)
class Plan:
    """The steps from a layer's input to its output, and how they map convcalc's notions."""

    steps: tuple[Step, ...]
    notes: tuple[str, ...] = ()

    @property
    def module(self) -> ModuleStep | None:
        """The layer's module, if it has one (a plan has at most one)."""
        return next((s for s in self.steps if isinstance(s, ModuleStep)), None)


# The PyTorch function of every activation, from convcalc.options.ActivationFunction (identity: no step).
ACTIVATION_STEPS: dict[str, tuple[FunctionStep, ...]] = {
    a.value: (FunctionStep(a.torch, kwargs=a.kwargs),) if a.torch else () for a in ActivationFunction
}

FLATTEN = FunctionStep("torch.flatten", (1,))

STRICT_NOTE = "`rounding: strict` is convcalc's check that every stride fits; PyTorch floors."
CEIL_CONV_NOTE = "`rounding: ceil` on a conv: padding at the end, so that PyTorch's floor gives ceil's size."
UNEVEN_NOTE = "Uneven padding (TensorFlow's `same`) is an explicit F.pad before the layer."


def activation(name: str | None) -> tuple[FunctionStep, ...]:
    """The steps of an activation (a fused `activation:` or a standalone row); none for None."""
    return ACTIVATION_STEPS[name] if name else ()


def dims(value: int | tuple[int, ...]) -> int | tuple[int, ...]:
    """A per-dim value as PyTorch takes it: one int when every dim has it."""
    if isinstance(value, int):
        return value
    return value[0] if len(set(value)) == 1 else tuple(value)


def changed(*options: tuple[str, Arg, Arg]) -> Kwargs:
    """The keyword arguments (name, value, PyTorch's default) whose value is not the default."""
    return tuple((name, value) for name, value, default in options if value != default)


def spatial_class(stem: str, n: int) -> str:
    """Conv2d, BatchNorm1d ...: PyTorch's class for n spatial dims."""
    return f"{stem}{n}d"


def windowed(  # noqa: PLR0913 - a window layer's parts, all from the kind
    cls: str,
    args: tuple[Arg, ...],
    kwargs: Kwargs,
    *,
    windows: list[Window],
    pads: list[tuple[int, int]],
    rounding: Rounding,
    fill: float = 0.0,
    stem: str,
    stride_default: Arg = 1,
) -> Plan:
    """A conv's or pool's plan: PyTorch's own padding when even, else an explicit F.pad first."""
    notes = [STRICT_NOTE] if rounding is Rounding.STRICT else []
    steps: list[Step] = []
    padding: Arg = dims(tuple(lo for lo, _ in pads))
    if any(lo != hi for lo, hi in pads):
        notes.append(UNEVEN_NOTE)
        flat = tuple(q for lo_hi in reversed(pads) for q in lo_hi)  # F.pad takes the last dim first
        steps.append(FunctionStep("F.pad", (flat,), (("value", fill),) if fill else ()))
        padding = 0
    stride = dims(tuple(w.stride for w in windows))
    head = changed(("stride", stride, stride_default), ("padding", padding, 0))
    steps.append(ModuleStep(cls, args, head + kwargs, stem))
    return Plan(tuple(steps), tuple(notes))
