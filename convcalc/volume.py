"""The value every layer passes on: spatial dims (frameworks' order), then depth."""

from __future__ import annotations

from dataclasses import dataclass
from math import prod


@dataclass(frozen=True, slots=True)
class Volume:
    """A layer's output volume; a vector (after fc or flatten) has no spatial dims."""

    spatial: tuple[int, ...]
    depth: int

    @property
    def values(self) -> int:
        """How many numbers the volume holds (per image)."""
        return prod(self.spatial) * self.depth

    def as_list(self) -> list[int]:
        """Spatial dims then depth, as the JSON report writes shapes."""
        return [*self.spatial, self.depth]

    def __str__(self) -> str:
        return "x".join(str(n) for n in self.as_list())
