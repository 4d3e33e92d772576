"""The spec's layers as the importer builds them, before they are YAML: a layer, or a block of layers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Leaf:
    """One layer: its kind and the parameters written (the defaults left out)."""

    kind: str
    params: dict[str, Any]
    name: str | None
    overrides: bool = False  # sets what the spec's defaults set otherwise: long form
    reads: list[Leaf | None] | None = None  # `from:` (importer/wired.py): the layers it reads, None the input
    referenced: bool = False  # a later layer reads it by its name
    model_name: str = ""  # the model's name for the op whose value it gives


@dataclass(slots=True)
class Composite:
    """residual, parallel or repeat, with its parts and the model's name for it."""

    kind: str
    parts: list[list[Node]]  # residual: body, shortcut; parallel: branches; repeat: one copy
    options: dict[str, Any] = field(default_factory=dict)
    name: str | None = None


Node = Leaf | Composite


def prefix(names: list[str]) -> str:
    """The dotted path every name starts with (layer1.0 for layer1.0.conv1, layer1.0.bn1)."""
    if not names:
        return ""
    split = [n.split(".") for n in names]
    common: list[str] = []
    for parts in zip(*split, strict=False):
        if len(set(parts)) != 1:
            break
        common.append(parts[0])
    if len(names) == 1:
        common = common[:-1]
    return ".".join(common)
