"""General graphs in a list of layers (issue 25): `from: [name, ...]` and merge items.

A layer (or composite, or block call) may read an earlier output of its list by name instead of
the one just before it, `- {layer: conv1-48, from: [input]}`; an item `{merge: concat, from:
[a, b, c]}` joins several. Names are the `name:`s written in the same list (the latest earlier
one of that name, as a program's variable), and `input` is the list's input (the spec's input at
the top level, a block's input in a block). They resolve to positions here, while the spec is
read: a name that is not earlier in the list is an error at its place, so an edge only points
back and no cycle can be written. The series-parallel forms (`residual:`, `parallel:`) stay the
shorthand where they fit; a list that writes no `from:` is read as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.kinds.params import activation, choice, describe, text
from convcalc.spec.common import check_keys, suggest
from convcalc.spec.layers import module_name
from convcalc.spec.model import Junction, Merge, Wired
from convcalc.spec.yamlpos import PosList, PosMap

if TYPE_CHECKING:
    from convcalc.spec.model import Node

INPUT = "input"  # the list's input, as `from:` names it (a layer of that name is never found)
JUNCTION_KEYS = ("merge", "from", "activation", "name", "expect", "module")


def wired(nodes: tuple[Node, ...]) -> bool:
    """Whether a list's nodes name what they read (a general graph's list)."""
    return any(isinstance(n, (Junction, Wired)) for n in nodes)


def is_junction(item: Any) -> bool:
    """Whether a list item is a merge of earlier outputs: `{merge: ..., from: [...]}`."""
    return isinstance(item, PosMap) and "merge" in item


class Names:
    """The names written in one list so far, and the position of each (the latest)."""

    def __init__(self) -> None:
        self.at: dict[str, int] = {}
        self.count = 0  # items read so far (including those that failed: positions stay the written ones)

    def sources(self, item: PosMap, *, least: int = 1, most: int | None = None) -> tuple[int, ...]:
        """The positions `from:` names (-1: the list's input), checked."""
        raw, at = item["from"], item.at("from")
        if isinstance(raw, str):  # one name: from: a
            raw, one = PosList(at), raw
            raw.append(one)
            raw.item_at.append(at)
        if not isinstance(raw, PosList) or not raw:
            msg = f"`from:` takes a list of names of earlier layers of this list (or {INPUT}), e.g. from: [{INPUT}]"
            raise SpecError(msg, at)
        if len(raw) < least:
            msg = f"a merge joins two or more earlier outputs; `from:` names {len(raw)}"
            raise SpecError(msg, at)
        if most is not None and len(raw) > most:
            msg = (
                f"a layer reads one input, and `from:` names {len(raw)}: join them first with "
                f"`{{merge: concat, from: [...]}}` (or add, multiply), then read that"
            )
            raise SpecError(msg, at)
        found: list[int] = []
        for name, where in zip(raw, raw.item_at, strict=True):
            found.append(self.find(name, where))
        return tuple(found)

    def find(self, name: Any, at: Location) -> int:
        """The position of an earlier item named `name` in this list."""
        if not isinstance(name, str):
            msg = f"`from:` names earlier layers, not {describe(name)}"
            raise SpecError(msg, at)
        if name == INPUT:
            return -1
        if name in self.at:
            return self.at[name]
        known = [INPUT, *self.at]
        msg = (
            f"`from:` names '{name}', which is no earlier layer of this list; {suggest(name, known)}"
            f"the names before it: {', '.join(known)} (a layer is named with `name:`, and read after it)"
        )
        raise SpecError(msg, at)

    def named(self, item: Any) -> None:
        """After an item is read (or refused): its `name:`, if it has one, now names its position."""
        if isinstance(item, PosMap) and isinstance(item.get("name"), str) and item["name"] != INPUT:
            self.at[item["name"]] = self.count
        self.count += 1


def junction(item: PosMap, at: Location, path: str, names: Names) -> Junction:
    """`{merge: concat, from: [a, b], activation: relu}`: a merge row at the item's path."""
    check_keys(item, JUNCTION_KEYS, "a merge of earlier layers")
    merge = choice(Merge, "merge")(item["merge"], item.at("merge"))
    if "from" not in item:
        msg = "a merge item names what it joins: `from: [a, b]` (earlier layers' names, or input)"
        raise SpecError(msg, at)
    sources = names.sources(item, least=2)
    act = activation(item["activation"], item.at("activation")) if item.get("activation") else None
    name = text("name")(item["name"], item.at("name")) if "name" in item else merge.value.upper()
    return Junction(name, merge, sources, act, at, path, module_name(item))


def reading(node: Node, item: Any, names: Names) -> Node:
    """A node read from an item with `from: [a]`: the node reading position a (as is when a is the one before)."""
    if not isinstance(item, PosMap) or "from" not in item:
        return node
    (source,) = names.sources(item, most=1)
    if source == names.count - 1 or isinstance(node, (Junction, Wired)):
        return node  # the one just before: what a list reads anyway
    return Wired(node, source)
