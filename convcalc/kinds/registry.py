"""The layer kinds by name, and the aliases the spec format accepts (DESIGN §2.1).

Adding a kind: write its class in a module of this package and list it in that module's KINDS.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.kinds import conv, pool, simple
from convcalc.options import ACTIVATIONS

if TYPE_CHECKING:
    from convcalc.kinds.base import Kind

KINDS: dict[str, Kind] = {k.name: k for k in (*conv.KINDS, *pool.KINDS, *simple.KINDS)}

# Other names for a kind, with the parameters the name implies.
ALIASES: dict[str, tuple[str, dict[str, Any]]] = {
    "conv_transpose": ("deconv", {}),
    "maxpool": ("pool", {"type": "max"}),
    "avgpool": ("pool", {"type": "avg"}),
    "gap": ("global_pool", {"type": "avg"}),
    "gmp": ("global_pool", {"type": "max"}),
    "adaptive_avgpool": ("adaptive_pool", {"type": "avg"}),
    "adaptive_maxpool": ("adaptive_pool", {"type": "max"}),
    "dense": ("fc", {}),
    "linear": ("fc", {}),
    "bn": ("batchnorm", {}),
    "norm": ("lrn", {}),
    **{name: ("activation", {"function": name}) for name in ACTIVATIONS},
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
