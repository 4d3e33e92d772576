"""Small helpers the spec readers share."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from convcalc.errors import SpecError

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.errors import ConvcalcError
    from convcalc.spec.yamlpos import PosMap

T = TypeVar("T")
MAX_ERRORS = 20  # mistakes reported from one file; more would bury the first ones


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """'did you mean 'conv'? ' when a choice is close, else ''."""
    import difflib  # noqa: PLC0415 - only when a message is written: not on the way of a good spec

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def check_keys(m: PosMap, allowed: tuple[str, ...], where: str) -> None:
    """Unknown keys are errors (a misspelt key must not be silently ignored): all of them at once."""
    found = Mistakes()
    for key in m:
        if key not in allowed:
            known = ", ".join(map(str, allowed))
            msg = f"unknown key '{key}' in {where}; {suggest(str(key), allowed)}allowed: {known}"
            found.add(SpecError(msg, m.key_at[key]))
    found.raise_them()


class Mistakes:
    """The mistakes found in one file, raised together: the first, carrying the others (ConvcalcError.more)."""

    def __init__(self) -> None:
        self.errors: list[ConvcalcError] = []

    def add(self, error: ConvcalcError) -> None:
        self.errors.extend(error.all)

    def attempt(self, read: Callable[[], T]) -> T:
        """`read()`, its mistakes kept; a value that is never used when it fails (raise_them raises)."""
        try:
            return read()
        except SpecError as exc:
            self.add(exc)
            return cast("T", None)

    def raise_them(self) -> None:
        """Raise the mistakes in the file's order, each once (at most MAX_ERRORS); nothing when none."""
        if not self.errors:
            return
        unique = {(str(e.location), e.message): e for e in self.errors}.values()
        first, *rest = sorted(unique, key=_place)[:MAX_ERRORS]
        first.more = tuple(rest)
        raise first


def _place(error: ConvcalcError) -> tuple[int, int]:
    """Where a mistake is, for the file's order (one without a line first)."""
    at = error.location
    return (0, 0) if at is None else (at.line or 0, at.column or 0)
