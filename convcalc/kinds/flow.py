"""What flows between the engine and a kind: the state in, the outcome out, and how a layer fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.options import Rounding
    from convcalc.report import Exact, Severity
    from convcalc.volume import Volume


def whole(value: Exact) -> Exact:
    """A fraction that is a whole number, as an int (ints are much faster to compute with)."""
    return value.numerator if value.denominator == 1 else value


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
