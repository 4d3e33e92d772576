"""The typed spec: what a YAML file says, checked, with the place of every layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.errors import Location
    from convcalc.options import DType, Rounding
    from convcalc.volume import Volume


@dataclass(frozen=True)
class LayerSpec:
    """One layer: its kind (a registry name), converted parameters, display name and place."""

    kind: str
    params: Mapping[str, Any]
    name: str
    label: str
    at: Location
    path: str


@dataclass(frozen=True)
class Spec:
    """A whole network description."""

    name: str
    description: str
    source: str
    input: Volume
    batch: int
    dtype: DType
    rounding: Rounding
    layers: tuple[LayerSpec, ...]
