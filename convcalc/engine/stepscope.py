"""Which kinds the training step's timeline does not follow to the byte (convcalc.engine.recorder).

tests/test_step_oracle.py measures the timeline against PyTorch's allocator; the kinds below
run ops the recorder does not follow op by op yet, so a report with any of them has no step
figure (`show --train` says so and gives the sum of the parts; docs/peak-memory.md):

the token kinds' transposes, copies, expands and broadcast adds (patchify, cls_token, pos_embed,
tokens, grid), nn.MultiheadAttention's fused and unfused paths (attention) and the token MLP
(mlp): the transformer block is made of these.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.report import Report

_TOKEN_KINDS = frozenset({"patchify", "cls_token", "pos_embed", "tokens", "grid", "attention", "mlp"})


def unmodelled(report: Report) -> tuple[str, ...]:
    """The kinds of the report's rows the step's timeline does not follow to the byte, in order, once each."""
    found: list[str] = []
    for r in report.rows:
        if r.kind in _TOKEN_KINDS and r.kind not in found:
            found.append(r.kind)
    return tuple(found)
