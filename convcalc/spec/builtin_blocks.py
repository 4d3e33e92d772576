"""Blocks every spec may call without defining them (DESIGN §2.3): the transformer encoder block (issue 27).

They are written as a spec's `blocks:` are, and read by the same code (convcalc.spec.blocks); a
spec's own block of the same name comes first.
"""

from __future__ import annotations

from functools import cache

from convcalc.spec.blocks import Block, read_block
from convcalc.spec.yamlpos import PosMap, parse_yaml

SOURCE = "<built-in blocks>"

# torchvision's EncoderBlock (torchvision/models/vision_transformer.py), pre-norm: x + dropout(attention(ln_1(x))),
# then x + mlp(ln_2(x)); its attention is called with need_weights=False, its LayerNorms over each token.
TEXT = """\
transformer:
  args: {heads: null, mlp: null, dropout: 0.0, attention_dropout: 0.0, need_weights: false}
  layers:
    - residual:
        layers:
          - layernorm: {over: channels}
            name: ln_1
          - attention: {heads: "${heads}", dropout: "${attention_dropout}", need_weights: "${need_weights}"}
            name: self_attention
          - dropout: "${dropout}"
            name: dropout
    - residual:
        layers:
          - layernorm: {over: channels}
            name: ln_2
          - mlp: {hidden: "${mlp}", dropout: "${dropout}"}
            name: mlp
"""


@cache
def builtin_blocks() -> dict[str, Block]:
    """The built-in blocks by name."""
    data = parse_yaml(TEXT, SOURCE)
    assert isinstance(data, PosMap)  # noqa: S101 - the text above is a mapping
    return {name: read_block(name, body, data.key_at[name]) for name, body in data.items()}
