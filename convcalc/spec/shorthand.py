"""The one-string layer notation of the VGG paper, extended with options (DESIGN §2.2).

    conv3-64 s1 p1     deconv4-64 s2 p1 op0     maxpool3 s2 ceil     fc-4096     relu

A string becomes (name, raw parameters); the loader converts and checks the values exactly as
it does for the long form, so both forms give the same errors. The heads, the options and the
grammar shown in messages are made from the layer kinds (convcalc/kinds): each kind states its
head's numbers (`Kind.head`) and each parameter how it is written (`Param.spelling`).
"""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError, cut
from convcalc.kinds.params import DIMS
from convcalc.kinds.registry import REGISTERED

if TYPE_CHECKING:
    from collections.abc import Iterator

    from convcalc.kinds.base import Kind

WHERE = 'the whole shorthand: docs/spec.md, "Shorthand"'


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
_BY_NAME = {name: k for k in REGISTERED for name in k.names}
# One of each option as it is usually written: what a token too far from any option is compared with.
_WORDS = ("s1", "s2", "p0", "p1", "psame", "pvalid", "d1", "d2", "g2", "gdw", "op0", "op1", "floor", "ceil", "strict")
_CHARS = "123456789x0spdgoabcefhijklmnqrtuvwyz"  # digits first (`s` becomes `s1`), then the options' letters
# The long form's names written as a token: `stride2` is `s2`, `pad=1` is `p1`.
_LONG = re.compile(r"(stride|padding|pad|dilation|groups|group|output_padding)[=:_-]?(.+)")
_LETTER = {"stride": "s", "padding": "p", "pad": "p", "dilation": "d", "groups": "g", "group": "g"}
_EDITABLE = 12  # longer tokens are compared with _WORDS only


def _edits(token: str) -> Iterator[str]:
    """Every string one edit away: deletions, swaps of neighbours, substitutions, insertions."""
    n = len(token)
    yield from (token[:i] + token[i + 1 :] for i in range(n))
    yield from (token[:i] + token[i + 1] + token[i] + token[i + 2 :] for i in range(n - 1))
    yield from (token[:i] + c + token[i + 1 :] for i in range(n) for c in _CHARS)
    yield from (token[:i] + c + token[i:] for i in range(n + 1) for c in _CHARS)


def closest(token: str, kind: Kind | None) -> str | None:
    """The valid option nearest a misspelt token: one edit away for the layer's kind, else a usual one."""
    spelled = [p.spelling for p in kind.params if p.spelling] if kind else []
    patterns = [re.compile(sp.pattern) for sp in spelled] if kind else [p for p, _ in OPTIONS]
    long = _LONG.fullmatch(token)
    if long:
        written = _LETTER.get(long.group(1), "op") + long.group(2)
        if any(p.fullmatch(written) for p in patterns):
            return written
    if len(token) <= _EDITABLE:
        for edit in _edits(token):
            if any(p.fullmatch(edit) for p in patterns):
                return edit
    words = [w for w in _WORDS if any(p.fullmatch(w) for p in patterns)]
    found = difflib.get_close_matches(token, words, n=1)
    return found[0] if found else None


def _unknown_token(token: str, text: str, name: str) -> str:
    """A short message: the token, the nearest valid one, how this kind is written, where the rest is."""
    kind = _BY_NAME.get(name)
    near = closest(token, kind)
    msg = f"unknown token '{cut(token)}' in '{cut(text)}'"
    then = "; "
    if near:
        msg, then = f"{msg}; did you mean '{near}'?", " "
    if kind is not None and not any(p.spelling for p in kind.params):
        msg += f"{then}{name} takes no options"
    elif kind is not None and kind.summary:
        bare = [p.spelling.grammar for p in kind.params if p.spelling and not p.spelling.prefix]
        ending = f", then {' or '.join(bare)}" if bare else ""
        msg += f"{then}{name} is written {kind.summary}{ending}"
    return f"{msg} ({WHERE})"


def _value(text: str) -> Any:
    return int(text) if text.isdigit() else text


def parse(text: str, at: Location) -> tuple[str, dict[str, Any]]:
    """Split a shorthand string into its layer name and raw parameters."""
    tokens = text.strip().lower().split()
    if not tokens:
        msg = f"empty layer; write a layer such as conv3-64 p1, maxpool, relu or fc-10 ({WHERE})"
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
            raise SpecError(_unknown_token(token, text, name), at)
    return name, params
