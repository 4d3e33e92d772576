"""The layer kinds by name, and the other names the spec format accepts (DESIGN §2.1).

Adding a kind: write its class (a subclass of convcalc.kinds.base.Kind) and add one line to
REGISTERED below. Everything else (the shorthand grammar, the JSON Schema, the docs' table of
kinds, explain, draw, export) reads the class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.kinds import conv, deconv, dense, norm, opaque, pool, resample, simple

if TYPE_CHECKING:
    from convcalc.kinds.base import Kind

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
    opaque.Opaque(),
)

KINDS: dict[str, Kind] = {k.name: k for k in REGISTERED}

# Other names for a kind, with the parameters the name implies.
ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    alias: (k.name, dict(preset)) for k in REGISTERED for alias, preset in k.aliases.items()
}


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
