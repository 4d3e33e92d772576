"""What every layer kind shares: the state it receives, the outcome it returns, its base class."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from convcalc.kinds.vocab import Vocabulary
from convcalc.options import Rounding
from convcalc.report import Exact, Severity

if TYPE_CHECKING:
    from convcalc.kinds.closed import Closed, Shape
    from convcalc.kinds.params import Param
    from convcalc.kinds.plan import Plan
    from convcalc.kinds.saved import Keep
    from convcalc.kinds.window import Window
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

Params = Mapping[str, Any]

# Names of the spatial dims and of one step along each, by how many spatial dims there are.
_DIM_NAMES = {1: ("length",), 2: ("height", "width"), 3: ("time", "height", "width")}
_UNITS = {"length": "position", "time": "frame", "height": "row", "width": "column"}


def whole(value: Exact) -> Exact:
    """A fraction that is a whole number, as an int (ints are much faster to compute with)."""
    return value.numerator if value.denominator == 1 else value


# The lecture's names in formulas: W2 = (W1 − F + 2P)/S + 1, H2 likewise.
_FORMULA_NAMES = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}


def formula_names(n: int) -> tuple[str, ...]:
    """H, W... for n spatial dims, as the formulas name them."""
    return _FORMULA_NAMES.get(n, tuple(f"X{i + 1}" for i in range(n)))


def dim_names(n: int) -> tuple[str, ...]:
    """height, width... for n spatial dims."""
    return _DIM_NAMES.get(n, tuple(f"dim {i + 1}" for i in range(n)))


@dataclass(frozen=True, slots=True)
class State:
    """What flows from layer to layer: the volume, and the receptive field and jump per dim."""

    volume: Volume
    rf: tuple[Exact, ...]
    jump: tuple[Exact, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """Spec-wide settings a layer needs."""

    rounding: Rounding
    input_spatial: tuple[int, ...]
    batch: int = 1


@dataclass(frozen=True, slots=True)
class Problem:
    """A diagnostic before the engine attaches the layer's place to it."""

    severity: Severity
    code: str
    message: str


class Outcome:
    """What a layer computes from its input (the kind fills it in; the walker reads it)."""

    __slots__ = ("bias_adds", "biases", "buffers", "in_place", "jump", "macs", "output", "problems", "rf", "weights")

    def __init__(  # noqa: PLR0913 - one argument per number a layer reports
        self,
        output: Volume,
        rf: tuple[Exact, ...],
        jump: tuple[Exact, ...],
        *,
        weights: int = 0,
        biases: int = 0,
        buffers: int = 0,
        macs: int = 0,
        bias_adds: int = 0,
        in_place: bool = False,
        problems: list[Problem] | None = None,
    ) -> None:
        self.output = output
        self.rf = rf
        self.jump = jump
        self.weights = weights
        self.biases = biases
        self.buffers = buffers
        self.macs = macs
        self.bias_adds = bias_adds
        self.in_place = in_place  # adds no activation memory (in place, or a view)
        self.problems: list[Problem] = [] if problems is None else problems


class LayerFailure(Exception):  # noqa: N818 - a design error, not a program error
    """The layer cannot be computed for this input: the analysis stops at it."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


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
    head, its arithmetic (`apply`), its worked formula (`working`), its PyTorch plan (`plan`) and
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
    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        """The output and costs of this layer for input state x."""

    @abstractmethod
    def closed(self, p: Params, x: Shape, ctx: Context) -> Closed:
        """`apply` for symbolic sizes: the output and costs as closed forms, and the conditions.

        The conditions are what the layer needs of its input's size to give no error and no
        warning (docs/symbolic.md). Raises NotClosed when a size cannot be written in closed form,
        LayerFailure when the layer fails whatever the size.
        """

    @abstractmethod
    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        """The arithmetic of a computed row, with its numbers (Working() when there is none to show)."""

    @abstractmethod
    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        """What autograd keeps of a computed row for backward, in train mode (convcalc.kinds.saved).

        Measured with PyTorch 2.13.0 on CPU for the row's PyTorch plan (docs/training-memory.md).
        """

    def windows(self, p: Params, x: Volume) -> list[Window] | None:
        """The sliding window per spatial dim, for kinds that slide one (conv, pool); else None."""
        del p, x
        return None


def expand(value: int | tuple[int, ...], x: Volume | Shape, what: str) -> tuple[int, ...]:
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


def need_spatial(x: Volume | Shape, kind: str) -> None:
    """Window layers need height and width (or length, or time): a vector has none."""
    if not x.spatial:
        msg = f"{kind} needs a volume with spatial dims, but its input is the vector {x}"
        raise LayerFailure("needs-spatial-input", msg)


def window_dims(
    windows: list[Window],
    x: State,
    rounding: Rounding,
    kind: str,
    *,
    same: bool = False,
) -> tuple[tuple[int, ...], tuple[Exact, ...], tuple[Exact, ...], list[Problem]]:
    """Output sizes, receptive field and jump of a window layer, with what to say about it.

    `same` padding (TensorFlow's rule) is chosen to give ceil(W/S) windows: the stride fits by
    construction, and what the windows skip at the end is what that rule skips (its padding is
    never negative), so no stride problem is reported.
    """
    names = dim_names(len(windows))
    for name, w in zip(names, windows, strict=True):
        # Under ceil, PyTorch still gives one window when it sticks out past the end (W=1, F=2).
        if w.span < 0 and not (rounding is Rounding.CEIL and w.output(rounding) >= 1):
            msg = (
                f"{name}: the {w.kernel}-wide {kind} window is larger than the padded input "
                f"({w.size} + {w.pad_lo + w.pad_hi} padding): {w.formula()}"
            )
            raise LayerFailure("window-larger-than-input", msg)
    sizes = tuple(w.output(rounding) for w in windows)
    rf = tuple(r + (w.kernel - 1) * j for r, j, w in zip(x.rf, x.jump, windows, strict=True))
    jump = tuple(j * w.stride for j, w in zip(x.jump, windows, strict=True))
    return sizes, rf, jump, [] if same else _stride_problems(windows, names, sizes, rounding)


def _stride_problems(
    windows: list[Window],
    names: tuple[str, ...],
    sizes: tuple[int, ...],
    rounding: Rounding,
) -> list[Problem]:
    misfits = [(n, w, s) for n, w, s in zip(names, windows, sizes, strict=True) if w.remainder]
    if not misfits:
        return []
    # Square inputs give the same arithmetic in every dim: say it once.
    same = len({(w.size, w.kernel, w.stride, w.pad_lo, w.pad_hi) for _, w, _ in misfits}) == 1
    first = misfits[0][1]
    formula = first.formula() if same else "; ".join(f"{n}: {w.formula()}" for n, w, _ in misfits)
    tails = _tails([(n, w.remainder) for n, w, _ in misfits])
    only_padding = all(w.uncovered_input == 0 for _, w, _ in misfits)
    # A window narrower than its stride skips stride - F' positions between windows anyway
    # (torchvision's 1x1/2 downsample); losing no more than that at the end is nothing new.
    only_gaps = all(w.uncovered_input <= max(w.stride - w.kernel, 0) for _, w, _ in misfits)
    gappy = next((w for _, w, _ in misfits if w.uncovered_input), first)
    skipped = gappy.stride - gappy.kernel
    gaps = f"a {gappy.kernel}-wide window with stride {gappy.stride} skips {skipped} in every {gappy.stride} anyway"
    if rounding is Rounding.CEIL:
        got = "x".join(map(str, sizes))
        if all(s == w.span // w.stride + 1 for _, w, s in misfits):
            # PyTorch's rule: the extra window would start inside the right padding.
            msg = f"{formula}: {got} under ceil too, as the extra window would start in the padding"
        else:
            msg = f"{formula}: rounded up to {got} (ceil)"
        return [Problem(Severity.NOTE, "stride-rounded-up", msg)]
    if rounding is Rounding.FLOOR:
        got = "x".join(map(str, sizes))
        if only_padding:
            msg = f"{formula}: floored to {got}; {tails} dropped (only padding)"
            return [Problem(Severity.NOTE, "stride-does-not-fit", msg)]
        if only_gaps:
            msg = f"{formula}: floored to {got}; {tails} dropped ({gaps})"
            return [Problem(Severity.NOTE, "stride-does-not-fit", msg)]
        msg = f"{formula}: floored to {got}; of the input, {tails} dropped (never covered)"
        return [Problem(Severity.WARNING, "stride-does-not-fit", msg)]
    if only_padding:
        advice = "That is only padding, so no input is lost: `rounding: floor` is safe here."
    elif only_gaps:
        advice = f"As {gaps}, `rounding: floor` is safe here."
    else:
        lo, hi = first.fitting_sizes()
        sizes_that_fit = f"{lo} or {hi}" if lo >= first.kernel else str(hi)
        advice = (
            # Of this layer only: a size that fits here may fail later (AlexNet's 223 at MAX POOL1).
            f"An input of {sizes_that_fit} (not {first.size}) would fit this layer (`convcalc fit` finds the "
            "sizes the whole network fits); "
            f"or set `rounding: floor` to drop {'them' if tails.endswith('are') else 'it'}, as PyTorch does."
        )
    msg = f"{formula}: the stride does not fit; {tails} never covered. {advice}"
    return [Problem(Severity.ERROR, "stride-does-not-fit", msg)]


def _tails(misfits: list[tuple[str, int]]) -> str:
    """'the last row and column are', 'the last 2 rows and the last column are', 'the last row is'."""
    counts = {r for _, r in misfits}

    def last(r: int, unit: str) -> str:
        return f"the last {unit}" if r == 1 else f"the last {r} {unit}s"

    if len(counts) == 1:
        r = counts.pop()
        units = " and ".join(_UNITS.get(n, "position") for n, _ in misfits)
        text = (
            f"the last {units}"
            if r == 1
            else f"the last {r} " + " and ".join(_UNITS.get(n, "position") + "s" for n, _ in misfits)
        )
        plural = r > 1 or len(misfits) > 1
    else:
        text = " and ".join(last(r, _UNITS.get(n, "position")) for n, r in misfits)
        plural = True
    return f"{text} {'are' if plural else 'is'}"
