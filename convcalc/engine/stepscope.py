"""Which kinds the training step's timeline does not follow to the byte (convcalc.engine.recorder).

tests/test_step_oracle.py measures the timeline against PyTorch's allocator; the kinds below
run ops the recorder does not follow op by op yet, so a report with any of them has no step
figure (`show --train` says so and gives the sum of the parts; docs/peak-memory.md):

the token kinds' expands and broadcast adds (cls_token, pos_embed, tokens, grid),
nn.MultiheadAttention's fused and unfused paths (attention), and a token MLP whose activation is
not GELU, ReLU, Tanh or none (softsign is Python, several ops): the transformer block is made of
these. patchify and the other MLPs are followed (convcalc.engine.tokensteps).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.engine.tokensteps import MLP_ACTIVATIONS

if TYPE_CHECKING:
    from convcalc.report import Report

_TOKEN_KINDS = frozenset({"cls_token", "pos_embed", "tokens", "grid", "attention"})


def unmodelled(report: Report) -> tuple[str, ...]:
    """The kinds of the report's rows the step's timeline does not follow to the byte, in order, once each."""
    found: list[str] = []
    for r in report.rows:
        other_mlp = r.kind == "mlp" and str(r.config["activation"]) not in MLP_ACTIVATIONS
        if (r.kind in _TOKEN_KINDS or other_mlp) and r.kind not in found:
            found.append(r.kind)
    return tuple(found)
