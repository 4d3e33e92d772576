"""Small helpers the spec readers share."""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.errors import SpecError

if TYPE_CHECKING:
    from convcalc.spec.yamlpos import PosMap


def suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """'did you mean 'conv'? ' when a choice is close, else ''."""
    import difflib  # noqa: PLC0415 - only when a message is written: not on the way of a good spec

    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def check_keys(m: PosMap, allowed: tuple[str, ...], where: str) -> None:
    """Unknown keys are errors (a misspelt key must not be silently ignored)."""
    for key in m:
        if key not in allowed:
            known = ", ".join(map(str, allowed))
            msg = f"unknown key '{key}' in {where}; {suggest(str(key), allowed)}allowed: {known}"
            raise SpecError(msg, m.key_at[key])
