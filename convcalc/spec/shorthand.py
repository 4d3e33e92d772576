"""The one-string layer notation of the VGG paper, extended with options (DESIGN §2.2).

    conv3-64 s1 p1     deconv4-64 s2 p1 op0     maxpool3 s2 ceil     fc-4096     relu

A string becomes (name, raw parameters); the loader converts and checks the values exactly as
it does for the long form, so both forms give the same errors. The heads, the options and the
grammar shown in messages are made from the layer kinds (convcalc/kinds): each kind states its
head's numbers (`Kind.head`) and each parameter how it is written (`Param.spelling`).
"""

from __future__ import annotations

import re
from typing import Any

from convcalc.errors import Location, SpecError, cut
from convcalc.kinds.params import DIMS
from convcalc.kinds.registry import REGISTERED


def _heads() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    """Per kind with numbers in its head: (any of its names)(its numbers)."""
    return [
        (re.compile(f"({'|'.join(map(re.escape, k.names))}){k.head.pattern}"), k.head.keys)
        for k in REGISTERED
        if k.head is not None
    ]


def _options() -> list[tuple[re.Pattern[str], str]]:
    """Every spelled parameter of every kind, once (stride is `s<S>` wherever it appears)."""
    found: dict[tuple[str, str], None] = {}
    for kind in REGISTERED:
        for p in kind.params:
            if p.spelling is not None:
                found[(p.spelling.pattern, p.name)] = None
    return [(re.compile(pattern), name) for pattern, name in found]


def _grammar() -> str:
    """What the messages show: every kind's shorthand, then the token any window layer may end with."""
    words = [k.summary for k in REGISTERED if k.summary]
    trailing = sorted(
        {p.spelling.grammar for k in REGISTERED for p in k.params if p.spelling and not p.spelling.prefix}
    )
    also = [f"{k.name} is also {', '.join(a for a, preset in k.aliases.items() if not preset)}" for k in REGISTERED]
    also = [a for a in also if not a.endswith("also ")]
    return f"{', '.join(words)}; F may be AxB; a last {' or '.join(trailing)} sets rounding; {'; '.join(also)}"


HEADS = _heads()
OPTIONS = _options()
GRAMMAR = _grammar()


def _value(text: str) -> Any:
    return int(text) if text.isdigit() else text


def parse(text: str, at: Location) -> tuple[str, dict[str, Any]]:
    """Split a shorthand string into its layer name and raw parameters."""
    tokens = text.strip().lower().split()
    if not tokens:
        msg = f"empty layer; write one of: {GRAMMAR}"
        raise SpecError(msg, at)
    head, *rest = tokens
    bare = re.fullmatch(rf"(conv|deconv)({DIMS})-?", head)
    if bare:
        msg = f"'{head}' has no filter count: write {bare.group(1)}<F>-<K>, e.g. {bare.group(1)}{bare.group(2)}-64"
        raise SpecError(msg, at)
    name, params = head, {}
    for pattern, keys in HEADS:
        match = pattern.fullmatch(head)
        if match:
            name = match.group(1)
            params = {k: _value(v) for k, v in zip(keys, match.groups()[1:], strict=True) if v is not None}
            break
    for token in rest:
        for pattern, key in OPTIONS:
            match = pattern.fullmatch(token)
            if match:
                if key in params:
                    msg = f"'{cut(token)}' sets {key} a second time in '{cut(text)}'"
                    raise SpecError(msg, at)
                params[key] = _value(match.group(1))
                break
        else:
            msg = f"unknown token '{cut(token)}' in '{cut(text)}'; the shorthand is: {GRAMMAR}"
            raise SpecError(msg, at)
    return name, params
