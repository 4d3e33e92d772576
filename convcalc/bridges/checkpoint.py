"""A checkpointed block in a spec's program (issue 26): the statements torch.utils.checkpoint runs.

A block with `checkpoint: true` (spec/checkpoint.py) is a run of consecutive statements of the
program, from its input's name to its output's. `convcalc.pytorch` runs them inside
`torch.utils.checkpoint.checkpoint(..., use_reentrant=False)`, and `convcalc export` writes them
as a method of their own that `forward` checkpoints. A block's statements may read only its
input and what they assign themselves: a function of one tensor, as checkpoint wants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.errors import ConvcalcError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from convcalc.bridges.program import Statement
    from convcalc.engine.walk import Group


@dataclass(frozen=True, slots=True)
class Region:
    """Statements `start` to `stop` (not included) compute `target` from `source`: the block at `path`."""

    start: int
    stop: int
    source: str
    target: str
    path: str
    name: str


def reads(s: Statement) -> tuple[str, ...]:
    """The names a statement reads."""
    sources: tuple[str, ...] | None = getattr(s, "sources", None)  # a Join; an Apply has one source
    return sources if sources is not None else (getattr(s, "source", ""),)


def region(group: Group, statements: Sequence[Statement], start: int, source: str, target: str) -> Region:
    """The checkpointed block's statements, checked to read only its input and their own names."""
    known = {source}
    for s in statements[start:]:
        outside = [n for n in reads(s) if n not in known]
        if outside:
            msg = (
                f"{group.path}: `checkpoint: true` needs a block that reads only its input, "
                f"and this one reads {outside[0]} from outside it"
            )
            raise ConvcalcError(msg)
        known.add(s.target)
    return Region(start, len(statements), source, target, group.path, group.name)


def method_names(regions: Sequence[Region]) -> list[str]:
    """A method name per block, from its name: run_layer1, run_layer1_2 when two share it."""
    names: list[str] = []
    for r in regions:
        stem = "run_" + (re.sub(r"[^0-9a-z]+", "_", r.name.lower()).strip("_") or "block")
        name, n = stem, 1
        while name in names:
            n += 1
            name = f"{stem}_{n}"
        names.append(name)
    return names
