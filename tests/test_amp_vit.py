"""`--precision amp` for the ViT built-ins, byte for byte against CPU autocast (issue 27, vitfix 2).

The class token's cat and the position embedding's add join a float32 parameter to the 16-bit
patchify output, so the residual stream is float32 under autocast: each layer norm keeps a
float32 input (4·N·D bytes, not 2·N·D), the 2·N·D 16-bit values per block found missing before.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode), as tests/test_amp_oracle.py.
from test_amp_oracle import WHICH, computed, measure  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.engine.training import Precision, training

pytestmark = [pytest.mark.torch, pytest.mark.slow]

BLOCK = """\
input: 32x32x3
layers:
  - patchify: {size: 16, width: 384}
  - {LEAD}
  - pos_embed:
  - transformer: {heads: 6, mlp: 1536}
"""


@pytest.mark.parametrize("lead", ["cls_token:", "dropout: 0.0"])
def test_one_block_after_patchify(lead: str) -> None:
    """With or without the class token: the embedding's add alone makes the stream float32."""
    spec = load_spec("block.yaml", BLOCK.replace("{LEAD}", lead))
    for batch in (1, 2):
        at = replace(spec, batch=batch)
        assert computed(at) == measure(at), f"batch {batch} ({WHICH})"


def test_the_stream_after_the_embedding_is_float32() -> None:
    spec = load_spec("block.yaml", BLOCK.replace("{LEAD}", "cls_token:"))
    rows = {r.path: r for r in training(spec, analyze(spec), precision=Precision.AMP).rows}
    tokens = 5 * 384  # 4 patches and the class token, 384 wide
    assert rows["3"].saved == 4 * tokens  # pos_embed's output, kept by ln_1 in float32
    assert rows["4.0"].saved == 4 * tokens  # the first residual's, kept by ln_2 in float32


@pytest.mark.parametrize("name", ["vit_s_16", "hybrid_r18_vit", "vit_b_32", "vit_b_16"])
def test_vit_builtins_under_autocast(name: str) -> None:
    spec = open_spec(name)
    assert computed(spec) == measure(spec), WHICH
