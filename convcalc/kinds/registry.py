"""The layer kinds by name, and the other names the spec format accepts (DESIGN §2.1).

Adding a kind: write its class (a subclass of convcalc.kinds.base.Kind) and add one line to
REGISTERED below. Everything else (the shorthand grammar, the JSON Schema, the docs' table of
kinds, explain, draw, export, and `convcalc import` through the kind's torch and ONNX names) reads
the class. `using` holds other kinds for a block (a test's kind that is not built in).
"""

from __future__ import annotations

from contextlib import contextmanager
from functools import cache
from typing import TYPE_CHECKING, Any

from convcalc.kinds import (
    attention,
    chunk,
    conv,
    deconv,
    dense,
    grid,
    norm,
    opaque,
    pool,
    regularize,
    resample,
    scale,
    shuffle,
    simple,
    tokens,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from convcalc.kinds.base import Kind
    from convcalc.kinds.vocab import Call, Layer, OnnxNode

REGISTERED: tuple[Kind, ...] = (
    conv.Conv(),
    deconv.Deconv(),
    pool.Pool(),
    pool.GlobalPool(),
    pool.AdaptivePool(),
    dense.FullyConnected(),
    norm.BatchNorm(),
    norm.LayerNorm(),
    norm.GroupNorm(),
    norm.LocalResponseNorm(),
    simple.Activation(),
    simple.Dropout(),
    simple.Flatten(),
    resample.Upsample(),
    resample.PixelShuffle(),
    regularize.StochasticDepth(),
    scale.Scale(),
    shuffle.ChannelShuffle(),
    chunk.Chunk(),
    tokens.Patchify(),
    tokens.ClassToken(),
    tokens.PositionEmbedding(),
    tokens.ClassTokenOut(),
    grid.Tokens(),
    grid.Grid(),
    attention.Attention(),
    attention.MLP(),
    opaque.Opaque(),
)

KINDS: dict[str, Kind] = {}
# Other names for a kind, with the parameters the name implies.
ALIASES: dict[str, tuple[str, dict[str, Any]]] = {}


def _install(kinds: tuple[Kind, ...]) -> None:
    """Make `kinds` the registry: KINDS and ALIASES change in place, so that every module that imported them sees it."""
    global REGISTERED  # noqa: PLW0603 - the registry is this module's state, swapped by `using`
    REGISTERED = kinds
    KINDS.clear()
    KINDS.update({k.name: k for k in kinds})
    ALIASES.clear()
    ALIASES.update({alias: (k.name, dict(preset)) for k in kinds for alias, preset in k.aliases.items()})


_install(REGISTERED)


@contextmanager
def using(kinds: Iterable[Kind]) -> Iterator[tuple[Kind, ...]]:
    """Within the block, the registry holds `kinds` instead (the built-in ones and a kind of one's own, say).

    The loader, the engine and `convcalc import` read the registry when they run, so a spec that
    names the kind loads and a model that uses its torch module imports. The shorthand grammar
    and the JSON Schema are made once, from the built-in kinds: a kind added here is written in
    long form. The registry is as it was after the block.
    """
    before = REGISTERED
    _install(tuple(kinds))
    try:
        yield REGISTERED
    finally:
        _install(before)


def resolve(name: str) -> tuple[Kind, dict[str, Any]] | None:
    """The kind a layer name stands for and the parameters it implies, or None if unknown."""
    if name in KINDS:
        return KINDS[name], {}
    if name in ALIASES:
        kind, preset = ALIASES[name]
        return KINDS[kind], dict(preset)
    return None


def known_names() -> list[str]:
    """Every name a layer may have, for error messages."""
    return sorted({*KINDS, *ALIASES})


def fill(kind: str, **given: Any) -> dict[str, Any]:
    """A kind's full parameters: its defaults with `given` on top (for layers the engine adds)."""
    return {p.name: given.get(p.name, p.default) for p in KINDS[kind].params}


def torch_modules() -> dict[str, Callable[[Any], Layer | None]]:
    """The reader of each torch.nn class name a registered kind declares (`Kind.torch_modules`)."""
    return _readers(REGISTERED, "torch_modules")


def torch_functions() -> dict[str, Callable[[Call], Layer | None]]:
    """The reader of each torch function or tensor method name a registered kind declares."""
    return _readers(REGISTERED, "torch_functions")


def onnx_ops() -> dict[str, Callable[[OnnxNode], Layer | None]]:
    """The reader of each ONNX operator type a registered kind declares."""
    return _readers(REGISTERED, "onnx_ops")


@cache
def _readers(kinds: tuple[Kind, ...], vocabulary: str) -> dict[str, Any]:
    """A framework's names as the kinds declare them: the first kind to declare a name reads it."""
    found: dict[str, Any] = {}
    for kind in kinds:
        for entry in getattr(kind, vocabulary):
            for name in getattr(entry, _NAMES[vocabulary]):
                found.setdefault(name, entry.read)
    return found


_NAMES = {"torch_modules": "classes", "torch_functions": "names", "onnx_ops": "types"}
