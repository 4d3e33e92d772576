"""Which kinds the training step's timeline does not follow to the byte (convcalc.engine.recorder).

tests/test_step_oracle.py and tests/test_token_step.py measure the timeline against PyTorch's
allocator; the kinds below run ops the recorder does not follow op by op yet, so a report with
any of them has no step figure (`show --train` says so and gives the sum of the parts;
docs/peak-memory.md):

tokens and grid (a grid's flatten and a token volume's unflatten, views or copies by the layout
they meet), nn.MultiheadAttention's fused and unfused paths (attention), a token MLP whose
activation is not GELU, ReLU, Tanh or none (softsign is Python, several ops), and, once a token
kind has run, any kind on a token volume but patchify, cls_token, pos_embed, mlp, dropout,
element-wise activations, layernorm over channels, class_token_out and fc: the recorder follows
a token volume stored N x L x D (convcalc.engine.tokensteps) through those only; an mlp before
patchify or cls_token (on the spec's own tokens, stored N x D x L) is not followed either.
"""

from __future__ import annotations

from typing import TYPE_CHECKING


if TYPE_CHECKING:
    from convcalc.report import LayerRow, Report

_TOKEN_KINDS = frozenset({"tokens", "grid"})
_STORED = frozenset({"patchify", "cls_token"})  # their output is stored N x L x D
_ON_TOKENS = _STORED | {"pos_embed", "mlp", "dropout", "activation", "class_token_out", "fc", "attention"}


def _word(v: object) -> str:
    return str(getattr(v, "value", v))  # a str Enum of the kinds' vocabulary, or a plain word


def _followed_on_tokens(r: LayerRow) -> bool:
    if r.kind == "layernorm":
        return _word(r.config.get("over", "")) == "channels"
    return r.kind in _ON_TOKENS


def unmodelled(report: Report) -> tuple[str, ...]:
    """The kinds of the report's rows the step's timeline does not follow to the byte, in order, once each."""
    found: list[str] = []
    tokens = False
    for r in report.rows:
        on_tokens = tokens and r.input is not None and len(r.input.spatial) == 1
        odd = r.kind in _TOKEN_KINDS or (on_tokens and not _followed_on_tokens(r))
        if odd and r.kind not in found:
            found.append(r.kind)
        tokens = tokens or r.kind in _STORED
    return tuple(found)
