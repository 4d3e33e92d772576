"""The layers the importer writes, before they are YAML: layers and composites (write.py makes them)."""

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
