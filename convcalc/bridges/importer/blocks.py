"""`blocks:` for residual and parallel blocks that differ only in their numbers (ResNet's stages).

Works on the spec's YAML values: two composites whose text is the same once every number is
hidden are one block; a number that differs between them is an argument (`${filters}`), named
after what it is in the layer (filters, stride, pad, size, units); one that is the same stays.
"""

from __future__ import annotations

import json
import re
from typing import Any

NUMBER = re.compile(r"\d+")
COMPOSITES = ("residual", "parallel")
# Shorthand: the letters before a number say what it is (conv3-64 s2 p1: size, filters, stride, pad).
_WHAT = (
    (re.compile(r"^(?:conv|deconv)(?:\d+x)*$"), "size"),
    (re.compile(r"-$"), "filters"),
    (re.compile(r"(?:^| )s$"), "stride"),
    (re.compile(r"(?:^| )p$"), "pad"),
    (re.compile(r"(?:^| )d$"), "dilation"),
    (re.compile(r"(?:^| )g$"), "groups"),
    (re.compile(r"pool$"), "size"),
)


def _skeleton(value: Any) -> Any:
    """The value with every number hidden (names and repeat counts kept)."""
    if isinstance(value, dict):
        return {k: v if k in {"name", "repeat", "from"} else _skeleton(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_skeleton(v) for v in value]
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return "#"
    if isinstance(value, str):
        return NUMBER.sub("#", value)
    return value


def _numbers(value: Any, key: str = "") -> list[tuple[str, int]]:
    """Every hidden number in order, with what it is."""
    if isinstance(value, dict):
        return [n for k, v in value.items() if k not in {"name", "repeat"} for n in _numbers(v, k)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v, key)]
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [(key or "n", value)]
    if isinstance(value, str):
        return [(_what(value[: m.start()]), int(m.group())) for m in NUMBER.finditer(value)]
    return []


def _what(before: str) -> str:
    for pattern, what in _WHAT:
        if pattern.search(before):
            return what
    return "n"


def _fill(value: Any, names: list[str | None], at: list[int], key: str = "") -> Any:
    """The value with the numbers that are arguments written as ${name} (in the same order as _numbers)."""
    if isinstance(value, dict):
        return type(value)((k, v if k in {"name", "repeat"} else _fill(v, names, at, k)) for k, v in value.items())
    if isinstance(value, list):
        return [_fill(v, names, at, key) for v in value]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        return value
    if isinstance(value, int):
        name = names[at[0]]
        at[0] += 1
        return f"${{{name}}}" if name else value

    def one(m: re.Match[str]) -> str:
        name = names[at[0]]
        at[0] += 1
        return f"${{{name}}}" if name else m.group()

    return NUMBER.sub(one, value)


def _candidates(layers: list[Any], found: list[tuple[list[Any], int]]) -> None:
    """Every composite in the layers (nested ones too), as (its list, its index)."""
    for n, layer in enumerate(layers):
        if not isinstance(layer, dict):
            continue
        kind = next((k for k in COMPOSITES if k in layer), None)
        if kind is not None:
            found.append((layers, n))
            body = layer[kind]
            for part in [body.get("layers", []), body.get("shortcut", []), *body.get("branches", [])]:
                if isinstance(part, list):
                    _candidates(part, found)
        elif "repeat" in layer:
            _candidates(layer["layers"], found)


def make_blocks(layers: list[Any], flow: type[dict[str, Any]] = dict) -> dict[str, Any]:
    """Replace composites that differ only in numbers by calls of blocks; the blocks, by name."""
    found: list[tuple[list[Any], int]] = []
    _candidates(layers, found)
    families: dict[str, list[tuple[list[Any], int]]] = {}
    for owner, n in found:
        body = {k: v for k, v in owner[n].items() if k != "name"}
        families.setdefault(json.dumps(_skeleton(body), sort_keys=True), []).append((owner, n))
    blocks: dict[str, Any] = {}
    for members in families.values():
        if len(members) < 2:  # noqa: PLR2004 - a block pays from its second use
            continue
        bodies = [{k: v for k, v in o[n].items() if k != "name"} for o, n in members]
        columns = list(zip(*(_numbers(b) for b in bodies), strict=True))
        names: list[str | None] = []
        args: dict[tuple[int, ...], str] = {}
        for column in columns:
            values = tuple(v for _, v in column)
            if len(set(values)) == 1:
                names.append(None)
                continue
            if values not in args:
                what = column[0][0]
                taken = sum(a.rstrip("0123456789") == what for a in args.values())
                args[values] = what if not taken else f"{what}{taken + 1}"
            names.append(args[values])
        name = f"block{len(blocks) + 1}"
        blocks[name] = {"args": flow(dict.fromkeys(args.values())), "layers": [_fill(bodies[0], names, [0])]}
        for (owner, n), member in zip(members, range(len(members)), strict=True):
            call = flow({name: flow({a: values[member] for values, a in args.items()}) or None})
            if "name" in owner[n]:
                call["name"] = owner[n]["name"]
            owner[n] = call
    return blocks
