"""Repeated diagnostics capped in text: the first SHOWN of a kind, then how many more there were.

A spec of 50,000 layers whose strides do not fit printed 50,000 messages (11 MB, seconds of a
terminal's time) that say one thing. Text for people (show's table and Markdown, check's text
and github annotations, the diagnostics on stderr) says the first SHOWN of each kind — a
severity and a code — then `… and 49,980 more stride-does-not-fit errors`. JSON and CSV are data:
they keep every diagnostic. docs/limits.md says so.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from convcalc.render.numbers import grouped

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from convcalc.report import Diagnostic

SHOWN = 20  # of each kind


class Cap:
    """Counts diagnostics by kind as they are printed; says which to print and how many were left out."""

    def __init__(self, shown: int = SHOWN) -> None:
        self.shown = shown
        self.seen: Counter[tuple[str, str]] = Counter()

    def admit(self, d: Diagnostic) -> bool:
        """Whether to print this diagnostic (it is counted either way)."""
        key = (d.severity.value, d.code)
        self.seen[key] += 1
        return self.seen[key] <= self.shown

    def filter(self, diagnostics: Iterable[Diagnostic]) -> Iterator[Diagnostic]:
        """The diagnostics to print, in their order."""
        return (d for d in diagnostics if self.admit(d))

    def more(self) -> list[str]:
        """`… and 49,980 more stride-does-not-fit errors`, a line per kind with some left out."""
        lines = []
        for (severity, code), count in self.seen.items():
            left = count - self.shown
            if left > 0:
                lines.append(f"… and {grouped(left)} more {code} {severity}{'s' * (left != 1)}")
        return lines
