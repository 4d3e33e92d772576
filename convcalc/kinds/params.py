"""Parameter types of layer kinds: each converts a raw YAML value or raises a SpecError there."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError, cut
from convcalc.options import ACTIVATIONS, PoolType, Rounding

if TYPE_CHECKING:
    from enum import Enum

# Larger than any real layer; smaller than what would make the arithmetic or the memory explode.
MAX_VALUE = 10_000_000

Convert = Callable[[Any, Location], Any]


# A per-dim value in shorthand: 3, or 1x7 (one number per spatial dim).
DIMS = r"\d+(?:x\d+)*"


@dataclass(frozen=True, slots=True)
class Spelling:
    """How the shorthand writes a parameter after the head: `s2`, `p1`, `psame`, `gdw`, `ceil`."""

    prefix: str  # the letters before the value; "" for a bare word (`ceil`)
    values: str  # a regular expression of the value, one group's worth (DIMS, `\d+|dw`)
    grammar: str  # as the grammar shows it: `s<S>`, `p<P>|psame|pvalid`

    @property
    def pattern(self) -> str:
        """The whole token as a regular expression, the value in group 1."""
        return f"{self.prefix}({self.values})"


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a layer kind: its name, converter, default (required if none) and help."""

    name: str
    convert: Convert
    default: Any = None
    required: bool = False
    # What the error message shows as the expected form.
    form: str = ""
    # One or two sentences for the JSON Schema (editors' hover) and the docs.
    help: str = ""
    # How shorthand writes it after the head, if it can.
    spelling: Spelling | None = None


def describe(value: Any) -> str:
    """A raw value as an error message quotes it."""
    if isinstance(value, bool):
        return f"'{str(value).lower()}' (a boolean)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    if value is None:
        return "an empty value"
    return f"'{cut(str(value))}'"


def integer(value: Any, at: Location, *, least: int, what: str) -> int:
    """A whole number >= least and <= MAX_VALUE (YAML booleans are not numbers)."""
    if isinstance(value, str) and re.fullmatch(r"[+-]?\d+", value.strip()):
        value = int(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        msg = f"{what} must be a whole number, not {describe(value)}"
        raise SpecError(msg, at)
    if value < least:
        bound = "positive" if least == 1 else f"at least {least}"
        msg = f"{what} must be {bound}, got {value}"
        raise SpecError(msg, at)
    if value > MAX_VALUE:
        msg = f"{what} {value:,} is larger than convcalc's limit of {MAX_VALUE:,}"
        raise SpecError(msg, at)
    return value


@dataclass(frozen=True, slots=True)
class Whole:
    """A whole number from `least` up to MAX_VALUE."""

    what: str
    least: int = 1

    def __call__(self, value: Any, at: Location) -> int:
        return integer(value, at, least=self.least, what=self.what)


def positive(what: str) -> Convert:
    """A whole number >= 1."""
    return Whole(what, least=1)


def count(what: str) -> Convert:
    """A whole number >= 0."""
    return Whole(what, least=0)


@dataclass(frozen=True, slots=True)
class PerDim:
    """One number for every spatial dim, or a list (or `AxB`) with one per dim."""

    what: str
    least: int = 1

    def __call__(self, value: Any, at: Location) -> int | tuple[int, ...]:
        if isinstance(value, str) and "x" in value:
            parts = value.split("x")
            if not all(p.strip().isdigit() for p in parts):
                msg = f"{self.what} must be a number or AxB, not '{value}'"
                raise SpecError(msg, at)
            value = parts
        if isinstance(value, list):
            if not value:
                msg = f"{self.what} must not be an empty list"
                raise SpecError(msg, at)
            return tuple(integer(v, at, least=self.least, what=self.what) for v in value)
        return integer(value, at, least=self.least, what=self.what)


def per_dim(what: str, least: int = 1) -> Convert:
    """One number for every spatial dim, or a list (or `AxB`) with one per dim."""
    return PerDim(what, least)


def padding(value: Any, at: Location) -> int | tuple[int, ...] | str:
    """`same`, `valid`, a number, or one number per spatial dim."""
    if isinstance(value, str) and value.strip().lower() in {"same", "valid"}:
        return value.strip().lower()
    try:
        return per_dim("pad", least=0)(value, at)  # type: ignore[no-any-return]
    except SpecError:
        msg = f"pad must be a number, a list of numbers, 'same' or 'valid', not {describe(value)}"
        raise SpecError(msg, at) from None


def groups(value: Any, at: Location) -> int | str:
    """A number of groups, or `depthwise` (as many groups as input channels)."""
    if isinstance(value, str) and value.strip().lower() in {"depthwise", "dw"}:
        return "depthwise"
    return integer(value, at, least=1, what="groups")


@dataclass(frozen=True, slots=True)
class Flag:
    """True or false."""

    what: str

    def __call__(self, value: Any, at: Location) -> bool:
        if not isinstance(value, bool):
            msg = f"{self.what} must be true or false, not {describe(value)}"
            raise SpecError(msg, at)
        return value


def boolean(what: str) -> Convert:
    """True or false."""
    return Flag(what)


@dataclass(frozen=True, slots=True)
class Choice:
    """One of an enum's values, in any case."""

    enum: type[Enum]
    what: str

    def __call__(self, value: Any, at: Location) -> Enum:
        try:
            return self.enum(str(value).strip().lower())
        except ValueError:
            allowed = ", ".join(e.value for e in self.enum)
            msg = f"{self.what} must be one of {allowed}, not {describe(value)}"
            raise SpecError(msg, at) from None


def choice(enum: type[Enum], what: str) -> Convert:
    """One of an enum's values."""
    return Choice(enum, what)


def activation(value: Any, at: Location) -> str:
    """The name of an activation function."""
    name = str(value).strip().lower()
    if isinstance(value, bool) or name not in ACTIVATIONS:
        msg = f"unknown activation {describe(value)}; known: {', '.join(ACTIVATIONS)}"
        raise SpecError(msg, at)
    return name


def probability(value: Any, at: Location) -> float:
    """A number in [0, 1)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1:
        msg = f"p must be a number from 0 up to (not including) 1, not {describe(value)}"
        raise SpecError(msg, at)
    return float(value)


@dataclass(frozen=True, slots=True)
class Text:
    """A short piece of text (a number is read as its text)."""

    what: str

    def __call__(self, value: Any, at: Location) -> str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            msg = f"{self.what} must be text, not {describe(value)}"
            raise SpecError(msg, at)
        return str(value)


def text(what: str) -> Convert:
    """A short piece of text."""
    return Text(what)


ROUNDING = Param(
    "rounding",
    choice(Rounding, "rounding"),
    None,
    help="strict, floor or ceil for this layer, when its stride does not fit.",
    spelling=Spelling("", "floor|ceil|strict", "floor|ceil|strict"),
)
POOL_TYPE = Param("type", choice(PoolType, "type"), PoolType.MAX, help="max or avg.")
ACTIVATION = Param(
    "activation", activation, None, help="An activation fused into this row: no extra row, no extra memory."
)
BIAS = Param("bias", boolean("bias"), default=True, help="Whether the layer adds a bias per output (default true).")


def stride(default: int | None) -> Param:
    """S, the step between windows (None: as wide as the window, as pools have it)."""
    return Param(
        "stride",
        per_dim("stride"),
        default,
        help="S, the step between windows: one number, or one per dim"
        + (" (default: the window size)." if default is None else "."),
        spelling=Spelling("s", DIMS, "s<S>"),
    )


def pad(grammar: str = "p<P>|psame|pvalid") -> Param:
    """P, the zero padding on each side."""
    return Param(
        "pad",
        padding,
        0,
        help="P, zero padding on each side: a number, one per dim, same (TensorFlow's rule) or valid (0).",
        spelling=Spelling("p", f"{DIMS}|same|valid", grammar),
    )


def dilation() -> Param:
    """The spacing of a window's taps."""
    return Param(
        "dilation",
        per_dim("dilation"),
        1,
        help="The spacing of the window's taps (1: none); the effective size is dilation*(F-1)+1.",
        spelling=Spelling("d", DIMS, "d<D>"),
    )
