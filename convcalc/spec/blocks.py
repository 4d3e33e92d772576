"""Blocks (DESIGN §2.3): a definition under `blocks:`, its arguments, and `${name}` substituted in a call."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from convcalc.errors import Location, SpecError, cut
from convcalc.kinds.params import describe
from convcalc.spec.common import check_keys
from convcalc.spec.yamlpos import PosList, PosMap

BLOCK_KEYS = ("args", "layers")
# Text that `${...}` builds: one string, and all of a spec's calls together. A block that passes
# `x: "${x}${x}"` to itself through 40 levels would otherwise double a string 40 times.
MAX_BUILT = 10_000
MAX_BUILT_TOTAL = 1_000_000
ARG_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
ARG = re.compile(rf"\$\{{({ARG_NAME})\}}")


@dataclass(frozen=True, slots=True)
class Block:
    """A block defined under `blocks:`: its arguments (None = required) and layers."""

    name: str
    args: dict[str, Any]
    layers: PosList
    at: Location


def read_block(name: str, body: PosMap, where: Location) -> Block:
    """A block definition, checked: its arguments are words, its layers a list."""
    check_keys(body, BLOCK_KEYS, f"block '{name}'")
    args = body.get("args")
    if args is None:
        args = PosMap(body.here)
    if not isinstance(args, PosMap):
        raise SpecError("`args:` maps each argument to its default (null: required)", body.at("args"))
    for arg in args:
        if not isinstance(arg, str) or not ARG.fullmatch(f"${{{arg}}}"):
            msg = f"argument name {describe(arg)} must be a word, as ${{name}} writes it"
            raise SpecError(msg, args.key_at[arg])
    layers = body.get("layers")
    if not isinstance(layers, PosList):
        msg = f"block '{name}' needs `layers:`, a list of layers"
        raise SpecError(msg, body.at("layers"))
    return Block(name, dict(args), layers, where)


@dataclass
class Built:
    """How many characters `${...}` has built so far in a spec."""

    total: int = 0


def substitute(value: Any, at: Location, args: dict[str, Any], block: str, built: Built | None = None) -> Any:
    """A copy of a block's layers with `${name}` replaced; a string that is only `${name}` takes the value's type.

    The length of every string to be built is known before it is built, and is checked then.
    """
    built = Built() if built is None else built
    if isinstance(value, PosMap):
        out = PosMap(value.here)
        for key, item in value.items():
            out[key] = substitute(item, value.at(key), args, block, built)
        out.key_at, out.value_at = value.key_at, value.value_at
        return out
    if isinstance(value, PosList):
        seq = PosList(value.here)
        seq.extend(
            substitute(item, item_at, args, block, built) for item, item_at in zip(value, value.item_at, strict=True)
        )
        seq.item_at = value.item_at
        return seq
    if not isinstance(value, str) or "${" not in value:
        return value

    def lookup(name: str) -> Any:
        if name not in args:
            known = ", ".join(args) or "none"
            msg = f"unknown argument ${{{cut(name)}}} in block '{block}'; its arguments: {cut(known)}"
            raise SpecError(msg, at)
        return args[name]

    whole = ARG.fullmatch(value.strip())
    if whole:
        return lookup(whole.group(1))
    parts = ARG.split(value)  # text, name, text, name, ..., text
    texts = [str(lookup(p)) if i % 2 else p for i, p in enumerate(parts)]
    length = sum(map(len, texts))
    built.total += length
    if length > MAX_BUILT or built.total > MAX_BUILT_TOTAL:
        what = f"a string of {length:,} characters" if length > MAX_BUILT else f"{built.total:,} characters in all"
        limit = MAX_BUILT if length > MAX_BUILT else MAX_BUILT_TOTAL
        msg = (
            f"block '{block}' builds {what} from {cut(value)}, beyond convcalc's limit of {limit:,} "
            '(does an argument pass itself on twice, as x: "${x}${x}"?)'
        )
        raise SpecError(msg, at)
    return "".join(texts)
