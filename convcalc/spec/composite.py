"""Composite layers (DESIGN §2.3): `repeat`, `residual`, `parallel`, and calls of `blocks:`."""

from __future__ import annotations

import re
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from convcalc.errors import ConvcalcError, Location, SpecError
from convcalc.kinds import registry
from convcalc.kinds.params import activation, choice, describe, integer, text
from convcalc.spec import graph
from convcalc.spec.blocks import Block, Built, read_block, substitute
from convcalc.spec.builtin_blocks import SOURCE as BUILTIN_SOURCE
from convcalc.spec.builtin_blocks import builtin_blocks
from convcalc.spec.checkpoint import checkpointed
from convcalc.spec.common import check_keys, suggest
from convcalc.spec.layers import LAYER_KEYS, MAX_LAYERS, LayerReader, module_name, written
from convcalc.spec.model import Merge, Node, Parallel, Residual, Sequence, Shortcut
from convcalc.spec.yamlpos import PosList, PosMap

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

COMPOSITES = ("repeat", "residual", "parallel")
# The keys each composite, and a block definition, may have (unknown keys are errors).
REPEAT_KEYS = ("repeat", "layers", "name", "expect", "module", "from", "checkpoint")
RESIDUAL_KEYS = ("layers", "shortcut", "merge", "activation")
PARALLEL_KEYS = ("branches", "merge")
# Deeper nesting than this is surely a mistake; it also keeps recursion far from Python's limit.
MAX_NESTING = 50
MAX_ERRORS = 20  # mistakes reported from one file; more would bury the first ones


class NodeReader(LayerReader):
    """Reads layers of any kind, composites included, into the spec's tree of nodes."""

    def __init__(self, source: str) -> None:
        super().__init__(source)
        self.blocks: dict[str, Block] = {}
        self.calls: list[str] = []
        self.nesting = 0
        self.sizes: dict[str, int] = {}
        self.built = Built()

    def read_blocks(self, value: Any, at: Location) -> None:
        """Keep the block definitions; their layers are read at each call."""
        if not isinstance(value, PosMap):
            raise SpecError("`blocks:` maps a block name to {args: ..., layers: [...]}", at)
        taken = {*registry.known_names(), *COMPOSITES, "name"}
        for name, body in value.items():
            where = value.key_at[name]
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][\w-]*", name):
                msg = f"block name {describe(name)} must be a word (letters, digits, _ or -)"
                raise SpecError(msg, where)
            if name.lower() in taken:
                msg = f"block name '{name}' is already a layer kind; choose another name"
                raise SpecError(msg, where)
            if not isinstance(body, PosMap):
                msg = f"block '{name}' must be a mapping with `layers:` (and `args:`)"
                raise SpecError(msg, value.at(name))
            self.blocks[name] = read_block(name, body, where)

    def block(self, word: str) -> Block | None:
        """The block a word calls: the spec's own, else a built-in one (the transformer's)."""
        return self.blocks.get(word) or builtin_blocks().get(word)

    def unknown(self, name: str) -> str:
        """The message for a layer word that names nothing, blocks included."""
        base = super().unknown(name)
        if not self.blocks:
            return base
        blocks = ", ".join(self.blocks)
        hint = suggest(name, list(self.blocks))
        if hint:
            return f"unknown layer kind or block '{name}'; {hint}blocks: {blocks}"
        return f"{base}; blocks: {blocks}"

    def size_of(self, word: str, seen: set[str]) -> int:
        """The least number of leaf layers a call of `word` makes (1 for a plain layer)."""
        block = self.block(word)
        if block is None or word in seen:
            return 1
        if word not in self.sizes:
            self.sizes[word] = _size(block.layers, lambda w: self.size_of(w, {*seen, word}))
        return self.sizes[word]

    def nodes(self, items: Any, at: Location, what: str, path_of: Callable[[int], str]) -> tuple[Node, ...]:
        """A list of layers."""
        if not isinstance(items, PosList):
            msg = f"{what} must be a list of layers"
            raise SpecError(msg, at)
        nodes: list[Node] = []
        errors: _Errors = {}
        names = graph.Names()  # `from:` reads the names written before it in this list
        for i, (item, item_at) in enumerate(zip(items, items.item_at, strict=True)):
            # A mistake in one layer does not hide the next layers' mistakes: all are reported.
            try:
                if graph.is_junction(item):
                    self.expect(item, path_of(i))
                    nodes.append(graph.junction(item, item_at, path_of(i), names))
                else:
                    nodes.append(graph.reading(checkpointed(self.node(item, item_at, path_of(i)), item), item, names))
            except SpecError as exc:  # noqa: PERF203 - costs only when there is a mistake
                if self.note(errors, exc):
                    break
            finally:
                names.named(item)
        _raise(errors)
        return tuple(nodes)

    def note(self, errors: _Errors, exc: SpecError) -> bool:
        """Keep a mistake (a block's once, not once per call); True when it is time to stop."""
        errors.update(((e.location, e.message), e) for e in exc.all)
        # Past the layer limit, each later layer would only say so again.
        return len(errors) >= MAX_ERRORS or self.count > MAX_LAYERS

    def each(self, reads: list[Callable[[], T]]) -> list[T]:
        """The results of several independent reads (a body and a shortcut; branches), or all their mistakes."""
        results: list[T] = []
        errors: _Errors = {}
        for read in reads:
            try:
                results.append(read())
            except SpecError as exc:  # noqa: PERF203 - costs only when there is a mistake
                if self.note(errors, exc):
                    break
        _raise(errors)
        return results

    def node(self, item: Any, at: Location, path: str) -> Node:
        """One layer, leaf or composite."""
        self.nesting += 1
        try:
            if self.nesting > MAX_NESTING:
                msg = f"layers are nested more than {MAX_NESTING} levels deep, convcalc's limit"
                raise SpecError(msg, at)
            self.expect(item, path)
            if isinstance(item, PosMap):
                if "repeat" in item:
                    return self.repeat(item, at, path)
                keys = [k for k in item if k not in LAYER_KEYS]
                if keys == ["residual"]:
                    return self.residual(item, at, path)
                if keys == ["parallel"]:
                    return self.parallel(item, at, path)
                if len(keys) == 1 and self.block(keys[0]):
                    return self.call(item, keys[0], at, path)
            elif isinstance(item, str) and self.block(item.strip()):
                return self.call(PosMap(at), item.strip(), at, path)
            return self.leaf(written(item, at), at, path)
        finally:
            self.nesting -= 1

    def _name(self, item: PosMap, default: str) -> str:
        return text("name")(item["name"], item.at("name")) if "name" in item else default

    def repeat(self, item: PosMap, at: Location, path: str) -> Sequence:
        """`repeat: N` with `layers:` beside it, unrolled."""
        check_keys(item, REPEAT_KEYS, "a repeat")
        count = integer(item["repeat"], item.at("repeat"), least=1, what="repeat")
        if "layers" not in item:
            raise SpecError("a repeat needs `layers:` beside `repeat:`", at)
        before = self.count
        first = self.nodes(item["layers"], item.at("layers"), "`layers:`", under(f"{path}.0"))
        per = max(self.count - before, 1)
        if before + per * count > MAX_LAYERS:
            msg = f"repeat: {count:,} times {per:,} layers is more than {MAX_LAYERS:,} layers, convcalc's limit"
            raise SpecError(msg, item.at("repeat"))
        copies = [first]
        copies += [
            self.nodes(item["layers"], item.at("layers"), "`layers:`", under(f"{path}.{r}")) for r in range(1, count)
        ]
        if graph.wired(copies[0]):  # `from:` counts places in its own list: each copy stays one
            unnamed = f"repeat ×{count}"
            copies = [(Sequence("repeat", unnamed, c, at, f"{path}.{r}"),) for r, c in enumerate(copies)]
        layers = tuple(n for c in copies for n in c)
        return Sequence("repeat", self._name(item, f"repeat ×{count}"), layers, at, path, module_name(item))

    def residual(self, item: PosMap, at: Location, path: str) -> Residual:
        """`residual: {layers, shortcut, merge, activation}`."""
        body = item["residual"]
        if not isinstance(body, PosMap):
            raise SpecError("`residual:` needs a mapping with `layers:` (and shortcut, merge, activation)", at)
        check_keys(body, RESIDUAL_KEYS, "a residual")
        if "layers" not in body:
            raise SpecError("a residual needs `layers:`", body.here)
        raw = body.get("shortcut")
        what = "`shortcut:` ([] or identity, auto, crop, or a list of layers)"
        reads: list[Callable[[], tuple[Node, ...]]] = [
            lambda: self.nodes(body["layers"], body.at("layers"), "`layers:`", under(f"{path}.layers"))
        ]
        made = {s.value: s for s in Shortcut}
        if raw not in (None, "identity", [], *made):
            reads.append(lambda: self.nodes(raw, body.at("shortcut"), what, under(f"{path}.shortcut")))
        layers, *read_shortcut = self.each(reads)
        shortcut = made[raw] if isinstance(raw, str) and raw in made else (read_shortcut[0] if read_shortcut else ())
        merge = choice(Merge, "merge")(body.get("merge", "add"), body.at("merge"))
        if shortcut is Shortcut.CROP and merge is Merge.MULTIPLY:
            msg = (
                "shortcut: crop cuts the input to the body's spatial size for `merge: concat` (U-Net) "
                "or `merge: add`; a multiply broadcasts instead: choose concat or add"
            )
            raise SpecError(msg, body.at("shortcut"))
        act = activation(body["activation"], body.at("activation")) if body.get("activation") else None
        return Residual(self._name(item, "residual"), layers, shortcut, merge, act, at, path, module_name(item))

    def parallel(self, item: PosMap, at: Location, path: str) -> Parallel:
        """`parallel: {branches: [[...], [...]], merge}`."""
        body = item["parallel"]
        if not isinstance(body, PosMap):
            raise SpecError("`parallel:` needs a mapping with `branches:` (and merge)", at)
        check_keys(body, PARALLEL_KEYS, "a parallel")
        branches = body.get("branches")
        if not isinstance(branches, PosList) or not branches:
            raise SpecError("`branches:` must be a list of branches, each a list of layers", body.at("branches"))
        read = tuple(
            self.each(
                [
                    partial(self.nodes, branch, branch_at, f"branch {b}", under(f"{path}.branches.{b}"))
                    for b, (branch, branch_at) in enumerate(zip(branches, branches.item_at, strict=True))
                ]
            )
        )
        merge = choice(Merge, "merge")(body.get("merge", "concat"), body.at("merge"))
        return Parallel(self._name(item, "parallel"), read, merge, at, path, module_name(item))

    def call(self, item: PosMap, word: str, at: Location, path: str) -> Node:
        """A call of a block: its layers with `${arg}` replaced by the call's values."""
        block = self.block(word)
        assert block is not None  # noqa: S101 - node() calls a block only
        given = item.get(word)
        if given is None:
            given = PosMap(at)
        if not isinstance(given, PosMap):
            msg = f"the arguments of block '{word}' must be a mapping, e.g. {word}: {{...}}"
            raise SpecError(msg, item.at(word))
        check_keys(given, tuple(block.args), f"the call of block '{word}'")
        values = {**block.args, **given}
        missing = [k for k, v in values.items() if v is None]
        if missing:
            msg = f"block '{word}' needs {', '.join(f'`{k}`' for k in missing)}"
            raise SpecError(msg, item.at(word))
        if word in self.calls:
            cycle = " → ".join([*self.calls[self.calls.index(word) :], word])
            msg = f"block '{word}' calls itself ({cycle})"
            raise SpecError(msg, at)
        size = self.size_of(word, set())
        if self.count + size > MAX_LAYERS:
            msg = f"block '{word}' expands to {size:,} layers or more, beyond convcalc's limit of {MAX_LAYERS:,}"
            raise SpecError(msg, at)
        layers = substitute(block.layers, block.at, values, word, self.built)
        name = self._name(item, word)
        module = module_name(item)
        single = len(layers) == 1
        self.calls.append(word)
        try:
            # A block of one layer (a residual, say) is that layer, named after the call.
            nodes = self.nodes(layers, block.at, f"block '{word}'", (lambda _: path) if single else under(path))
        except SpecError as exc:
            raise _at_call(exc, word, item.at(word)) if word not in self.blocks else exc from None
        finally:
            self.calls.pop()
        if single and isinstance(nodes[0], (Sequence, Residual, Parallel)):
            return replace(nodes[0], name=name, at=at, module=module or nodes[0].module)
        return Sequence("block", name, nodes, at, path, module)


_Errors = dict[tuple[Location | None, str], ConvcalcError]


def _at_call(exc: SpecError, word: str, at: Location) -> ConvcalcError:
    """A built-in block's mistakes, placed at the call whose arguments made them (its text is no file of the user's)."""
    placed = [
        SpecError(f"{e.message} (in the built-in block '{word}', from this call's arguments)", at)
        if e.location is not None and e.location.file == BUILTIN_SOURCE
        else e
        for e in exc.all
    ]
    first = placed[0]
    first.more = tuple(placed[1:])
    return first


def _raise(errors: _Errors) -> None:
    """Raise the first mistake, carrying the others."""
    if errors:
        first, *rest = list(errors.values())[:MAX_ERRORS]
        first.more = tuple(rest)
        raise first


def _size(item: Any, size_of: Callable[[str], int]) -> int:
    """How many leaf layers an item of a block stands for, at least (unknown counts as 1)."""
    if isinstance(item, str):
        return size_of(item.strip())
    if isinstance(item, PosList):
        return sum(_size(i, size_of) for i in item)
    if not isinstance(item, PosMap):
        return 1
    if "repeat" in item:
        count = item["repeat"] if isinstance(item["repeat"], int) and not isinstance(item["repeat"], bool) else 1
        return max(count, 1) * _size(item.get("layers", []), size_of)
    keys = [k for k in item if k not in LAYER_KEYS]
    body = item[keys[0]] if len(keys) == 1 else None
    if keys in (["residual"], ["parallel"]) and isinstance(body, PosMap):
        parts = (
            [body.get("layers", []), body.get("shortcut", [])] if keys == ["residual"] else [body.get("branches", [])]
        )
        return sum(_size(p, size_of) for p in parts if isinstance(p, PosList)) + 1
    return size_of(str(keys[0])) if len(keys) == 1 else 1


def under(prefix: str) -> Callable[[int], str]:
    """Paths of the layers in a list: prefix.0, prefix.1, ..."""
    return lambda i: f"{prefix}.{i}"
