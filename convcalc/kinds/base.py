"""What every layer kind shares: its base class, its shorthand head, the names of dims.

The state a kind receives and the outcome it returns are in convcalc.kinds.flow (named here too,
as the engine imports them from here); the rule it states once for numbers and closed forms, and
its two backends, in convcalc.kinds.rule.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds import rule
from convcalc.kinds.amp import Autocast
from convcalc.kinds.flow import Context, LayerFailure, Outcome, Problem, State, whole
from convcalc.kinds.vocab import Vocabulary
from convcalc.options import Rounding

if TYPE_CHECKING:
    from convcalc.kinds.closed import Closed, Shape
    from convcalc.kinds.params import Param
    from convcalc.kinds.plan import Plan
    from convcalc.kinds.rule import Given, Need, Sizes
    from convcalc.kinds.saved import Keep
    from convcalc.kinds.window import Window
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

__all__ = [
    "Category",
    "Context",
    "Head",
    "Kind",
    "LayerFailure",
    "Outcome",
    "Params",
    "Problem",
    "State",
    "Working",
    "dim_names",
    "expand",
    "formula_names",
    "need_spatial",
    "per",
    "whole",
]

Params = Mapping[str, Any]

# Names of the spatial dims and of one step along each, by how many spatial dims there are.
_DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("time", "height", "width")}


# The lecture's names in formulas: W2 = (W1 − F + 2P)/S + 1, H2 likewise.
_FORMULA_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}


def formula_names(n: int) -> tuple[str, ...]:
    """H, W... for n spatial dims, as the formulas name them."""
    return _FORMULA_NAMES.get(n, tuple(f"X{i + 1}" for i in range(n)))


def dim_names(n: int) -> tuple[str, ...]:
    """height, width... for n spatial dims."""
    return _DIM_NAMES.get(n, tuple(f"dim {i + 1}" for i in range(n)))


class Category(str, Enum):
    """How `convcalc draw` shows a kind's rows."""

    CONV = "conv"  # a volume, with its kernel drawn
    POOL = "pool"  # a volume, with its window drawn when it has a size
    VECTOR = "vector"  # a bar as tall as its length (fully connected)
    ELEMENTWISE = "elementwise"  # kept inside the box before it ("+ bn, relu"), as the classic figures do
    RESHAPE = "reshape"  # a volume of its own, without a kernel (flatten, upsample, ...)


@dataclass(frozen=True, slots=True)
class Head:
    """The numbers a shorthand head carries after the kind's name: conv<F>-<K>, fc-<N>, maxpool[<F>].

    `pattern` is a regular expression with one group per key, matched right after the name.
    """

    pattern: str
    keys: tuple[str, ...]
    grammar: str  # after the name, as the grammar shows it: <F>-<K>


@dataclass(frozen=True, slots=True)
class Working:
    """A row's arithmetic worked out with its numbers, for `--explain`, `convcalc layer` and checks."""

    output: tuple[str, ...] = ()  # W2 = (32 − 5 + 2·2)/1 + 1 = 32, D2 = K = 10
    params: tuple[str, ...] = ()  # params = (5·5·3 + 1)·10 = 760
    macs: str = ""  # the product the MACs are, before " = total": 32·32·10·5·5·3


class Kind(Vocabulary, ABC):
    """A layer kind: everything convcalc knows of it, in one class (DESIGN §1).

    Its parameters (converter, default, help, shorthand spelling), its other names, its shorthand
    head, its arithmetic (`rule`, which `apply` runs over numbers and `closed` over closed forms),
    its worked formula (`working`), its PyTorch plan (`plan`) and
    its drawing category. A kind is registered by one line in convcalc/kinds/registry.py; the
    JSON Schema, the shorthand grammar and the table of kinds in docs/spec.md are made from it.
    """

    name: ClassVar[str]
    params: ClassVar[tuple[Param, ...]] = ()
    # Other names, with the parameters each implies as written in a spec (`maxpool`: type max).
    aliases: ClassVar[Mapping[str, Mapping[str, Any]]] = {}
    # The parameter a bare scalar sets in long form (`fc: 4096`).
    primary: ClassVar[str | None] = None
    # The numbers the shorthand head carries (None: the name alone, `gap`, `bn`).
    head: ClassVar[Head | None] = None
    # How the figure draws its rows.
    category: ClassVar[Category]
    # A layer of this kind in shorthand, with an input it applies to: for the docs and the tests.
    example: ClassVar[tuple[str, str]]
    # The docs' table of kinds: the output and the params, as formulas.
    # What torch.amp's autocast does with the op (convcalc.kinds.amp; `--precision amp`).
    autocast: ClassVar[Autocast] = Autocast.INPUT
    output_rule: ClassVar[str]
    params_rule: ClassVar[str]

    def label(self, p: Params) -> str:
        """The layer in shorthand notation, for names and listings."""
        del p
        return self.name

    @abstractmethod
    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        """The layer in PyTorch for input x: its module and forward steps (every kind states its own).

        `rounding` is the spec's; a layer's own `rounding:` among p comes first.
        """
        raise NotImplementedError

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a layer of this kind may have: its own, then its aliases."""
        return (self.name, *self.aliases)

    @property
    def summary(self) -> str:
        """Its shorthand: maxpool|avgpool[<F>] [s<S>] [p<P>|psame|pvalid] [d<D>]; "" if it has none.

        The names shown are the aliases that imply parameters (maxpool, gap, relu), else the name.
        """
        shown = [a for a, preset in self.aliases.items() if preset] or [self.name]
        given = {*(self.head.keys if self.head else ()), *self.aliases.get(shown[0], {})}
        if any(p.required and p.name not in given for p in self.params):
            return ""  # groupnorm's groups: long form only
        names = "|".join(shown[:2]) + ("|..." if len(shown) > 2 else "")  # noqa: PLR2004 - two, then ...
        options = [f"[{p.spelling.grammar}]" for p in self.params if p.spelling and p.spelling.prefix]
        return " ".join([names + (self.head.grammar if self.head else ""), *options])

    @abstractmethod
    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        """The layer's arithmetic, once, over sizes that are numbers or closed forms (kinds.rule).

        What it needs of its input's size goes through `need`; a failure whatever the size raises
        LayerFailure, a size with no closed form NotClosed.
        """

    def autocast_rule(self, p: Params) -> Autocast:
        """How autocast runs this layer's op: the kind's rule, unless a parameter decides it."""
        del p
        return self.autocast

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        """The output and costs of this layer for input state x: the rule over numbers."""
        return rule.numeric(self, p, x, ctx)

    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        """The rule over closed forms: the output and costs as formulas, and the conditions.

        The conditions are what the layer needs of its input's size to give no error and no
        warning (docs/symbolic.md). Raises NotClosed when a size cannot be written in closed form,
        LayerFailure when the layer fails whatever the size.
        """
        return rule.symbolic(self, p, x, ctx)

    @abstractmethod
    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        """The arithmetic of a computed row, with its numbers (Working() when there is none to show)."""

    @abstractmethod
    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        """What autograd keeps of a computed row for backward, in train mode (convcalc.kinds.saved).

        Measured with PyTorch 2.13.0 on CPU for the row's PyTorch plan (docs/training-memory.md).
        """

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """Bytes the layer's op makes and frees before it returns, in an inference pass (float32).

        0 unless the kind says otherwise; convcalc.engine.timeline adds them during the row's
        module call. Measured with PyTorch 2.13.0 on CPU (tests/test_peak_oracle.py).
        """
        del p, row, batch
        return 0

    def step_followed(self, p: Params, row: LayerRow) -> bool:
        """Whether the training step's timeline (convcalc.engine.recorder) follows this computed row's ops to the byte.

        True unless the kind says otherwise: a report with a row whose kind does not is given no
        step figure (convcalc.engine.stepscope). Measured against PyTorch's CPU allocator
        (tests/test_step_oracle.py, tests/test_token_step.py).
        """
        del p, row
        return True

    def windows(self, p: Params, x: Volume) -> list[Window] | None:
        """The sliding window per spatial dim, for kinds that slide one (conv, pool); else None."""
        del p, x
        return None


def expand(value: int | tuple[int, ...], x: Volume | Shape | Given, what: str) -> tuple[int, ...]:
    """A per-dim parameter as one value per spatial dim of the input."""
    n = len(x.spatial)
    if isinstance(value, int):
        return (value,) * n
    if len(value) != n:
        dims = "x".join(map(str, value))
        msg = f"{what} {dims} has {len(value)} values but the input {x} has {n} spatial dims"
        raise LayerFailure("dims-mismatch", msg)
    return value


def per(value: int | tuple[int, ...], n: int) -> tuple[int, ...]:
    """A per-dim value as n values, unchecked: for a row the engine has computed (else `expand`)."""
    return (value,) * n if isinstance(value, int) else value


def need_spatial(x: Volume | Shape | Given, kind: str) -> None:
    """Window layers need height and width (or length, or time): a vector has none."""
    if not x.spatial:
        msg = f"{kind} needs a volume with spatial dims, but its input is the vector {x}"
        raise LayerFailure("needs-spatial-input", msg)
