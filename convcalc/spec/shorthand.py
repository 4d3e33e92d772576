"""The one-string layer notation of the VGG paper, extended with options (DESIGN §2.2).

    conv3-64 s1 p1     deconv4-64 s2 p1 op0     maxpool3 s2 ceil     fc-4096     relu

A string becomes (name, raw parameters); the loader converts and checks the values exactly as
it does for the long form, so both forms give the same errors.
"""

from __future__ import annotations

import re
from typing import Any

from convcalc.errors import Location, SpecError

GRAMMAR = (
    "conv<F>-<K> [s<S>] [p<P>|psame|pvalid] [d<D>] [g<G>|gdw], deconv<F>-<K> [s<S>] [p<P>] [op<O>], "
    "maxpool[<F>] [s<S>] [p<P>], avgpool[<F>] ..., fc-<N>, upsample[<N>], gap, gmp, flatten, "
    "dropout, bn, lrn, relu (or any activation); F may be AxB; a last floor|ceil|strict sets rounding"
)

_DIMS = r"\d+(?:x\d+)*"
HEADS: list[tuple[re.Pattern[str], tuple[str, ...]]] = [
    (re.compile(rf"(conv|deconv|conv_transpose)({_DIMS})-(\d+)"), ("size", "filters")),
    (re.compile(rf"(maxpool|avgpool|pool)({_DIMS})?"), ("size",)),
    (re.compile(r"(fc|dense|linear)-?(\d+)"), ("units",)),
    (re.compile(rf"(upsample)({_DIMS})?"), ("scale",)),
    (re.compile(rf"(adaptive_avgpool|adaptive_maxpool)({_DIMS})"), ("output",)),
]
OPTIONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(rf"op({_DIMS})"), "output_padding"),
    (re.compile(rf"s({_DIMS})"), "stride"),
    (re.compile(rf"p({_DIMS}|same|valid)"), "pad"),
    (re.compile(rf"d({_DIMS})"), "dilation"),
    (re.compile(r"g(\d+|dw)"), "groups"),
    (re.compile(r"(floor|ceil|strict)"), "rounding"),
]


def _value(text: str) -> Any:
    return int(text) if text.isdigit() else text


def parse(text: str, at: Location) -> tuple[str, dict[str, Any]]:
    """Split a shorthand string into its layer name and raw parameters."""
    tokens = text.strip().lower().split()
    if not tokens:
        msg = f"empty layer; write one of: {GRAMMAR}"
        raise SpecError(msg, at)
    head, *rest = tokens
    bare = re.fullmatch(rf"(conv|deconv)({_DIMS})-?", head)
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
                    msg = f"'{token}' sets {key} a second time in '{text}'"
                    raise SpecError(msg, at)
                params[key] = _value(match.group(1))
                break
        else:
            msg = f"unknown token '{token}' in '{text}'; the shorthand is: {GRAMMAR}"
            raise SpecError(msg, at)
    return name, params
