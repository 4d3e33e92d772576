"""Expectations (DESIGN §2.4): answers and budgets written beside a layer or the whole spec.

    expect: {output: 55x55x96, params: 34944}     exact
    expect: {params: 138M, memory: 61MB}          rounded: holds when the true value, rounded to
                                                  the last significant digit written, equals it
    expect: {activations: 800K}                   a whole number's trailing zeros past its second
                                                  digit only hold places: 800K is rounded to tens
                                                  of thousands (802,816 is 800K, 780,000 is not)
    expect: {activations: ~800K}                  the same (the lecture's "about"; `~760` rounds a
                                                  number that has no unit: 755 to 764)
    expect: {params: "<= 10M"}                    a bound (<, <=, >, >=)
    expect: {fits: false}                         the stride does not fit (a worksheet's answer)

k/M/G/T are powers of 1000; kB/MB/GB/TB bytes are powers of 1000, KiB/MiB/GiB/TiB of 1024.
"""

from __future__ import annotations

import re
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.kinds.params import describe
from convcalc.spec.common import suggest
from convcalc.spec.yamlpos import PosMap

if TYPE_CHECKING:
    from collections.abc import Iterator

    from convcalc.report import Exact

NUMBER_KEYS = ("params", "weights", "biases", "buffers", "macs", "flops", "activations", "memory")
KEYS = ("output", *NUMBER_KEYS, "rf", "fits")
COUNT_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
BYTE_UNITS = {
    "": 1, "B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip
VALUE = re.compile(r"(<=|>=|<|>|=|==|~)?\s*(\d[\d,_]*(?:\.\d+)?)\s*([A-Za-z]*)")
# A whole number's trailing zeros are ambiguous (800 may have one, two or three significant
# digits). They are read as significant up to the second digit, the precision of the lecture's
# slides (3.2M, 1.6M, 25K): 800K holds for 802,816 values and 100K for 100,352, while 800K for
# 780,000 does not (that is 780K). To mean one digit, write it with a point: 0.8M.
PLACEHOLDER_AFTER = 2


@dataclass(frozen=True, slots=True)
class Expectation:
    """One expected value: `op` is =, ~ (rounded), <, <=, > or >=."""

    path: str  # "" for the whole spec
    key: str
    text: str  # as written
    op: str
    number: Fraction  # for numeric keys, in base units (values, bytes)
    step: Fraction  # for ~: the place of the last significant digit written, in base units
    shape: tuple[int, ...]  # for output and rf
    at: Location

    def holds(self, actual: int | tuple[Exact, ...]) -> bool:
        """Whether the true value satisfies this expectation."""
        if isinstance(actual, tuple):
            want = self.shape * len(actual) if self.key == "rf" and len(self.shape) == 1 else self.shape
            return actual == want
        value = Fraction(actual)
        if self.op == "~":
            # Round half up to the last significant digit written: 138,357,544 is 138M; 60,950,432 B
            # is 61MB (not 93MB); 802,816 is 800K (to tens of thousands) and 933,130 is 0.9M.
            return rounded(value, self.step) == self.number
        return {
            "=": value == self.number,
            "<": value < self.number,
            "<=": value <= self.number,
            ">": value > self.number,
            ">=": value >= self.number,
        }[self.op]


def significant(digits: str) -> int:
    """The significant digits of a number as written: 3.2 has two, 3.20 three, 0.05 one, 25 two.

    A whole number's trailing zeros count up to its second digit: 800 and 80 have two, 8 one.
    """
    whole, point, frac = digits.partition(".")
    if point:
        return max(len((whole + frac).lstrip("0")), 1)
    whole = whole.lstrip("0") or "0"
    return max(len(whole.rstrip("0")), min(PLACEHOLDER_AFTER, len(whole)))


def step_of(digits: str) -> Fraction:
    """The place of the last significant digit written: 1/10 for 3.2, 10 for 800, 1 for 25."""
    whole, point, frac = digits.partition(".")
    if point:
        return Fraction(1, 10 ** len(frac))
    whole = whole.lstrip("0") or "0"
    return Fraction(10 ** (len(whole) - significant(whole)))


def rounded(value: Fraction, step: Fraction) -> Fraction:
    """`value` rounded half up to a multiple of `step`: 802,816 to 10,000 is 800,000."""
    return int(value / step + Fraction(1, 2)) * step


def _fits(value: Any, path: str, at: Location) -> Expectation:
    if not isinstance(value, bool):
        msg = f"expected fits must be true or false (false: the stride does not fit), not {describe(value)}"
        raise SpecError(msg, at)
    return Expectation(path, "fits", str(value).lower(), "=", Fraction(int(value)), Fraction(1), (), at)


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
        return Expectation(path, key, text, "=", Fraction(0), Fraction(1), _shape(value, key, at), at)
    if isinstance(value, bool) or not isinstance(value, (int, str, float)):
        msg = f"expected {key} must be a number such as 760, 138M or '<= 10M', not {describe(value)}"
        raise SpecError(msg, at)
    match = VALUE.fullmatch(text)
    units = BYTE_UNITS if key == "memory" else COUNT_UNITS
    if match is None or match.group(3) not in units:
        hint = "bytes, e.g. 61MB, 58MiB or '<= 100MB'" if key == "memory" else "e.g. 760, 138M, 15.47G or '<= 10M'"
        about = re.fullmatch(r"(?:about|approx\.?|approximately|ca\.?|≈)\s*(\S.*)", text, flags=re.IGNORECASE)
        if about:  # the words of the slide: the rounded form says it (800K holds for 802,816)
            hint = f"{about.group(1)} or ~{about.group(1)} (a rounded value is read as about)"
        msg = f"cannot read expected {key} {describe(value)}: write {hint}"
        raise SpecError(msg, at)
    op, digits, unit = match.groups()
    digits = digits.replace(",", "").replace("_", "")
    scale = units[unit]
    number = Fraction(Decimal(digits)) * scale
    if op in {None, "=", "=="}:
        op = "=" if unit in {"", "B"} and "." not in digits else "~"
    return Expectation(path, key, text, op, number, step_of(digits) * scale, (), at)


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An answer that could not be read: the question it answers (`path`, `key`; "" for no question) and why."""

    path: str
    key: str
    error: SpecError


# While a student's file is read for grading (docs/grading.md), each answer is read on its own
# and the unreadable ones are kept here instead of ending the reading of the file.
_LENIENT: ContextVar[list[Unreadable] | None] = ContextVar("lenient", default=None)


@contextmanager
def lenient() -> Iterator[list[Unreadable]]:
    """Read `expect:` mappings answer by answer: the ones that cannot be read are listed, not raised."""
    kept: list[Unreadable] = []
    token = _LENIENT.set(kept)
    try:
        yield kept
    finally:
        _LENIENT.reset(token)


def _split(answer: PosMap, keys: list[Any], k: int) -> int:
    """How many entries after `keys[k]` YAML split off its number at commas (`params: 73,856` in `{…}`)."""
    n = 0
    while k + n + 1 < len(keys):
        nxt = keys[k + n + 1]
        digits = isinstance(nxt, int) and not isinstance(nxt, bool) and 0 <= nxt < 1000  # noqa: PLR2004
        if not digits or answer[nxt] is not None:
            break
        n += 1
    return n


def read_each(value: PosMap, path: str, *, blank: bool) -> tuple[list[Expectation], list[Unreadable]]:
    """An `expect:` mapping's answers, each read on its own; the unreadable ones in the file's order.

    `blank`: an answer left empty (`params:`) is no answer, not an unreadable one.
    """
    found: list[Expectation] = []
    bad: list[Unreadable] = []
    keys = list(value)
    k = 0
    while k < len(keys):
        key, item = keys[k], value[keys[k]]
        split = _split(value, keys, k) if isinstance(item, int) and not isinstance(item, bool) else 0
        k += 1 + split
        if key not in KEYS:
            msg = f"cannot expect '{key}'; {suggest(str(key), KEYS)}expectations are about: {', '.join(KEYS)}"
            bad.append(Unreadable(path, "", SpecError(msg, value.key_at[key])))
        elif split:
            written = ",".join([str(item), *(f"{n:03d}" for n in keys[k - split : k])])
            msg = (
                f"`{key}: {written}` inside {{…}}: YAML splits it at the comma ({key} {item}, "
                f"then `{keys[k - split]}`); write {written.replace(',', '')} or quote it: '{written}'"
            )
            bad.append(Unreadable(path, str(key), SpecError(msg, value.at(key))))
        elif item is not None or not blank:
            try:
                found.append(parse_one(str(key), item, path, value.at(key)))
            except SpecError as exc:
                bad.append(Unreadable(path, str(key), exc))
    return found, bad


def mapping(value: Any, at: Location) -> PosMap:
    """An `expect:` (or a student's answers to one layer), which must be a mapping."""
    if not isinstance(value, PosMap):
        msg = f"`expect:` maps what to check ({', '.join(KEYS)}) to its expected value"
        raise SpecError(msg, at)
    return value


def parse_expect(value: Any, path: str, at: Location) -> tuple[Expectation, ...]:
    """An `expect:` mapping: its first unreadable answer is an error (kept, while reading `lenient`)."""
    kept = _LENIENT.get()
    found, bad = read_each(mapping(value, at), path, blank=kept is not None)
    if kept is None and bad:
        raise bad[0].error
    if kept is not None:
        kept += bad
    return tuple(found)
