"""Expectations (DESIGN §2.4): answers and budgets written beside a layer or the whole spec.

    expect: {output: 55x55x96, params: 34944}     exact
    expect: {params: 138M, memory: 61MB}          rounded: holds when the true value, rounded to
                                                  the digits written, equals it
    expect: {params: "<= 10M"}                    a bound (<, <=, >, >=)
    expect: {activations: ~800K}                  about: holds when the true value, rounded to
                                                  the significant digits written (never fewer
                                                  than two), equals it: 802,816 is ~800K
    expect: {fits: false}                         the stride does not fit (a worksheet's answer)

k/M/G/T are powers of 1000; kB/MB/GB/TB bytes are powers of 1000, KiB/MiB/GiB/TiB of 1024.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.kinds.params import describe
from convcalc.spec.common import suggest
from convcalc.spec.yamlpos import PosMap

if TYPE_CHECKING:
    from convcalc.report import Exact

NUMBER_KEYS = ("params", "weights", "biases", "buffers", "macs", "flops", "activations", "memory")
KEYS = ("output", *NUMBER_KEYS, "rf", "fits")
COUNT_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_UNITS = {
    "": 1, "B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip
VALUE = re.compile(r"(<=|>=|<|>|=|==|~)?\s*(\d[\d,_]*(?:\.\d+)?)\s*([A-Za-z]*)")
# "About" keeps at least two significant digits: the lecture's 800K for 802,816 values and 25K for
# 25,088 hold, while ~800K for 780,000 does not (it is ~780K).
ABOUT_FIGURES = 2


@dataclass(frozen=True, slots=True)
class Expectation:
    """One expected value: `op` is =, ~ (rounded), about, <, <=, > or >=."""

    path: str  # "" for the whole spec
    key: str
    text: str  # as written
    op: str
    number: Fraction  # for numeric keys, in base units (values, bytes)
    decimals: int  # for ~: the digits written after the point
    scale: int  # for ~: the unit written
    shape: tuple[int, ...]  # for output and rf
    at: Location
    figures: int = 0  # for about: the significant digits written

    def holds(self, actual: int | tuple[Exact, ...]) -> bool:
        """Whether the true value satisfies this expectation."""
        if isinstance(actual, tuple):
            want = self.shape * len(actual) if self.key == "rf" and len(self.shape) == 1 else self.shape
            return actual == want
        value = Fraction(actual)
        if self.op == "about":
            return about(value, self.figures) == self.number
        if self.op == "~":
            # Round half up to the digits written: 138,357,544 is 138M; 60,950,432 B is 61MB.
            shift = 10**self.decimals
            rounded = Fraction(int(value / self.scale * shift + Fraction(1, 2)), shift)
            return rounded * self.scale == self.number
        return {
            "=": value == self.number,
            "<": value < self.number,
            "<=": value <= self.number,
            ">": value > self.number,
            ">=": value >= self.number,
        }[self.op]


def significant(digits: str) -> int:
    """The significant digits of a number as written: 800 has one, 3.2 two, 3.20 three, 0.05 one."""
    whole, _, frac = digits.partition(".")
    written = (whole + frac).lstrip("0")
    return max(len(written if frac else written.rstrip("0")), 1)


def about(value: Fraction, figures: int) -> Fraction:
    """`value` rounded half up to `figures` significant digits, but never fewer than two."""
    if value <= 0:
        return value
    figures = max(figures, ABOUT_FIGURES)
    magnitude = len(str(int(value))) if value >= 1 else 0  # digits before the point
    step = Fraction(10) ** (magnitude - figures)
    return int(value / step + Fraction(1, 2)) * step


def _fits(value: Any, path: str, at: Location) -> Expectation:
    if not isinstance(value, bool):
        msg = f"expected fits must be true or false (false: the stride does not fit), not {describe(value)}"
        raise SpecError(msg, at)
    return Expectation(path, "fits", str(value).lower(), "=", Fraction(int(value)), 0, 1, (), at)


def _shape(value: Any, key: str, at: Location) -> tuple[int, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, int) and not isinstance(v, bool) for v in value) and value:
        return tuple(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\s*x\s*\d+)*\s*", value):
        return tuple(int(v) for v in value.split("x"))
    msg = f"expected {key} must be a volume such as 55x55x96 (or 1000), not {describe(value)}"
    raise SpecError(msg, at)


def parse_one(key: str, value: Any, path: str, at: Location) -> Expectation:
    """One `key: value` of an `expect:` mapping."""
    text = str(value).strip()
    if key == "fits":
        return _fits(value, path, at)
    if key in {"output", "rf"}:
        return Expectation(path, key, text, "=", Fraction(0), 0, 1, _shape(value, key, at), at)
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        msg = f"expected {key} must be a number such as 760, 138M or '<= 10M', not {describe(value)}"
        raise SpecError(msg, at)
    match = VALUE.fullmatch(text)
    units = BYTE_UNITS if key == "memory" else COUNT_UNITS
    if match is None or match.group(3) not in units:
        hint = "bytes, e.g. 61MB, 58MiB or '<= 100MB'" if key == "memory" else "e.g. 760, 138M, 15.47G or '<= 10M'"
        msg = f"cannot read expected {key} {describe(value)}: write {hint}"
        raise SpecError(msg, at)
    op, digits, unit = match.groups()
    digits = digits.replace(",", "").replace("_", "")
    scale = units[unit]
    number = Fraction(Decimal(digits)) * scale
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    if op == "~":
        return Expectation(path, key, text, "about", number, decimals, scale, (), at, significant(digits))
    if op in {None, "=", "=="}:
        op = "=" if unit in {"", "B"} and decimals == 0 else "~"
    return Expectation(path, key, text, op, number, decimals, scale, (), at)


def parse_expect(value: Any, path: str, at: Location) -> tuple[Expectation, ...]:
    """An `expect:` mapping."""
    if not isinstance(value, PosMap):
        msg = f"`expect:` maps what to check ({', '.join(KEYS)}) to its expected value"
        raise SpecError(msg, at)
    found = []
    for key, item in value.items():
        if key not in KEYS:
            msg = f"cannot expect '{key}'; {suggest(str(key), KEYS)}expectations are about: {', '.join(KEYS)}"
            raise SpecError(msg, value.key_at[key])
        found.append(parse_one(key, item, path, value.at(key)))
    return tuple(found)
