"""The totals two reports are compared on, and `--fail-on` budgets over their change.

    params>+5%      fails when B has more than 5% more params than A
    macs>+1.5G      fails when B has more than 1.5 G more MACs (k/M/G/T are powers of 1000)
    memory>+1MB     bytes for memory: kB/MB/GB powers of 1000, KiB/MiB/GiB of 1024
    params<-10%     fails when B has lost more than 10% of A's params

Every comparison is exact (fractions.Fraction): a budget of +3.84% is not broken by a change of
3.8376...% because of a float.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from fractions import Fraction
from typing import TYPE_CHECKING

from convcalc.errors import BudgetError
from convcalc.spec.common import suggest

if TYPE_CHECKING:
    from convcalc.report import Totals


class Metric(str, Enum):
    """A total of the report; the names are those of `expect:` (DESIGN §2.4)."""

    PARAMS = "params"
    WEIGHTS = "weights"
    BIASES = "biases"
    BUFFERS = "buffers"
    ACTIVATIONS = "activations"
    MEMORY = "memory"  # forward activation bytes, as `expect: memory` checks
    MACS = "macs"
    FLOPS = "flops"

    def of(self, totals: Totals) -> int:
        """The value of this total in a report."""
        if self is Metric.MEMORY:
            return totals.forward_bytes
        value: int = getattr(totals, self.value)
        return value


@dataclass(frozen=True, slots=True)
class TotalChange:
    """One total in A and in B."""

    metric: Metric
    a: int
    b: int

    @property
    def change(self) -> int:
        """B minus A."""
        return self.b - self.a

    @property
    def percent(self) -> Fraction | None:
        """The change in percent of A; None when A is 0 and B is not (no finite percentage)."""
        if self.a == 0:
            return Fraction(0) if self.b == 0 else None
        return Fraction(100 * self.change, self.a)


_COUNT_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_BYTE_UNITS = {
    "B": 1, "kB": 10**3, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
    "KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40,
}  # fmt: skip
_BUDGET = re.compile(r"\s*([A-Za-z_]+)\s*([<>])\s*([+-]?)\s*([0-9][0-9_]*(?:\.[0-9]+)?)\s*(%|[A-Za-z]*)\s*")
FORM = (
    "write METRIC>CHANGE or METRIC<CHANGE, the change in percent or absolute (k/M/G; bytes for memory), "
    "e.g. params>+5%, macs>+10%, memory>+1MB, params>+1M or params<-10%"
)


@dataclass(frozen=True, slots=True)
class Budget:
    """`metric op limit`: broken when the change in the metric is beyond the limit."""

    text: str  # as written
    metric: Metric
    op: str  # > or <
    limit: Fraction  # signed: a percentage of A, or an absolute amount in values or bytes
    percent: bool

    def broken(self, total: TotalChange) -> bool:
        """Whether the change in `total` breaks this budget."""
        if self.percent:
            change = total.percent
            if change is None:  # from nothing to something: an infinite increase
                return self.op == ">"
        else:
            change = Fraction(total.change)
        return change > self.limit if self.op == ">" else change < self.limit


@dataclass(frozen=True, slots=True)
class BudgetResult:
    """A budget and whether the diff breaks it (not judged when A or B stops at a design error)."""

    budget: Budget
    total: TotalChange
    broken: bool
    judged: bool = True


def parse_budget(text: str) -> Budget:
    """One budget, such as `params>+5%`."""
    match = _BUDGET.fullmatch(text)
    if match is None:
        msg = f"cannot read {text!r}: {FORM}"
        raise BudgetError(msg)
    name, op, sign, digits, unit = match.groups()
    try:
        metric = Metric(name.lower())
    except ValueError:
        known = ", ".join(m.value for m in Metric)
        msg = f"unknown metric {name!r} in {text!r}; {suggest(name, [m.value for m in Metric])}metrics: {known}"
        raise BudgetError(msg) from None
    units = {**_COUNT_UNITS, **_BYTE_UNITS} if metric is Metric.MEMORY else _COUNT_UNITS
    if unit != "%" and unit not in units:
        what = "a byte unit (kB, MB, GB, KiB, MiB, GiB) or k/M/G" if metric is Metric.MEMORY else "k, M, G or T"
        msg = f"unknown unit {unit!r} in {text!r}: use %, or {what}"
        raise BudgetError(msg)
    limit = Fraction(Decimal(digits.replace("_", "")))
    if unit != "%":
        limit *= units[unit]
    return Budget(text.strip(), metric, op, -limit if sign == "-" else limit, percent=unit == "%")


def parse_budgets(texts: tuple[str, ...] | list[str]) -> tuple[Budget, ...]:
    """Budgets from repeated options, each of which may hold several separated by commas.

    An empty one is an error: in CI, `--fail-on "$BUDGET"` with BUDGET unset must not quietly
    turn the check off.
    """
    parts = [part for text in texts for part in text.split(",")]
    if any(not part.strip() for part in parts):
        msg = f"an empty budget in {', '.join(repr(t) for t in texts)}: {FORM}"
        raise BudgetError(msg)
    return tuple(parse_budget(part) for part in parts)
