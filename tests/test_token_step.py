"""The training step of the token kinds the timeline follows (convcalc.engine.tokensteps), against PyTorch's allocator.

patchify's flatten, transposes and copy, cls_token's expand and cat, pos_embed's broadcast add,
the token MLP, an fc on a token volume (a copy), layernorm over channels, class_token_out: each
forward call's live bytes, each backward node's name and live bytes and the step's peak are
PyTorch's (tests/test_step_oracle.py's check), at batch 1 and 3.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_step_oracle import MOMENTUM, OPTIMIZERS, check  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.engine.stepscope import unmodelled

pytest.importorskip("torch")
pytestmark = [pytest.mark.torch, pytest.mark.slow]

VIT_LIKE = (
    "input: 16x16x3\nlayers:\n  - patchify4-8\n  - cls_token\n  - pos_embed-17\n  - dropout: 0.1\n"
    "  - {layernorm: {over: channels}}\n  - gelu\n  - {mlp: {hidden: 16, dropout: 0.1}}\n"
    "  - {mlp: {hidden: 8, activation: relu}}\n  - class_token_out\n  - fc-3"
)
SPECS = {
    "vit-like": VIT_LIKE,
    "fc-on-tokens": "input: 16x16x3\nlayers: [patchify4-8, relu, {layernorm: {over: channels}}, fc-3]",
    "pos_embed-last": "input: 16x16x3\nlayers: [patchify4-8, pos_embed]",
    "cls_token-last": "input: 16x16x3\nlayers: [patchify4-8, cls_token]",
    "one-patch": "input: 8x8x3\nlayers: [patchify8-4, relu, fc-2]",  # transposed, 1 token is contiguous
    "mlp-tanh-last": "input: 8x8x2\nlayers: [patchify2-4, {mlp: {hidden: 6, activation: tanh, dropout: 0.2}}]",
}


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", SPECS)
def test_the_token_kinds_steps_are_pytorchs(name: str, batch: int) -> None:
    spec = replace(load_spec(f"{name}.yaml", SPECS[name]), batch=batch)
    assert unmodelled(analyze(spec)) == ()
    check(spec, f"{name} at batch {batch}", OPTIMIZERS if name == "vit-like" else MOMENTUM)


def test_adams_state_counts_the_token_modules_parameter_tensors() -> None:
    import torch  # noqa: PLC0415 - the oracle's

    from convcalc.engine.training import Optimizer, training  # noqa: PLC0415
    from convcalc.pytorch import to_module  # noqa: PLC0415

    text = (
        "input: 8x8x2\nlayers: [patchify2-4, {attention: {heads: 2, bias: false}}, {attention: {heads: 1}},"
        " {mlp: {hidden: 6}}]"
    )
    spec = load_spec("a.yaml", text)
    block = training(spec, analyze(spec), optimizer=Optimizer.ADAM).training
    assert block is not None
    module = to_module(spec).module
    opt = torch.optim.Adam(module.parameters())
    module(torch.randn(1, 2, 8, 8)).sum().backward()
    opt.step()
    state = [t for s in opt.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    assert sum(t.untyped_storage().nbytes() for t in state) == block.optimizer_state
