"""What `checkpoint: true` costs in compute (issue 26): the forward that backward runs again.

torch.utils.checkpoint with `use_reentrant=False` runs the block's forward again when backward
first needs one of its saved tensors, and stops it early (`_enable_checkpoint_early_stop`, on
by default) as soon as every tensor the first forward saved has been saved again. An op saves
what it reads (its input, its weights) before it runs, and what it makes (its output, indices,
statistics, a mask, the pre-activation of a fused activation) after: so the recompute runs
every op up to the last that saves, and that one too when it saves something it makes. A block
that ends in a conv without an activation leaves that conv out (measured with
torch.utils.flop_counter, tests/test_checkpoint_oracle.py); one that ends in a relu, as a
ResNet stage does, runs it all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from convcalc.kinds.saved import Keep


@dataclass(frozen=True, slots=True)
class Op:
    """A row of a checkpointed block, in forward order: whether it saves before it runs, and after."""

    row: str
    before: bool  # what it reads: its input, its weights
    after: bool  # what it makes


def leaf_op(row: str, keep: Keep, *, recorded: bool, weights: bool) -> Op:
    """A layer's op: `recorded` when autograd records it (an input or a weight needs a gradient)."""
    if not recorded:
        return Op(row, before=False, after=False)
    return Op(row, before=keep.input or weights, after=makes(keep))


def makes(keep: Keep) -> bool:
    """Whether a rule keeps a tensor the op makes (anything but its input)."""
    return keep.output or bool(keep.values or keep.indices or keep.masks or keep.stats or keep.fixed_stats)


def recomputed(ops: Sequence[Op], macs: Mapping[str, int]) -> int:
    """The MACs backward runs again for a checkpointed block (its rows' MACs, at the report's batch)."""
    saving = [i for i, op in enumerate(ops) if op.before or op.after]
    if not saving:
        return 0  # backward never unpacks a tensor of it: nothing runs again
    last = saving[-1]
    stop = last + 1 if ops[last].after else last
    return sum(macs[op.row] for op in ops[:stop])
