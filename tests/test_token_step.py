"""The training step of the token kinds and attention (engine/tokensteps.py, attnsteps.py), against PyTorch's allocator.

patchify's flatten, transposes and copy, cls_token's expand and cat, pos_embed's broadcast add,
the token MLP with every activation it takes, an fc on a token volume (a copy), layernorm over
channels, class_token_out, SelfAttention's three paths (math, the CPU flash kernel, SDPA's math
kernel with dropout) with and without a bias, tokens and grid, and the other kinds on token
volumes stored N x L x D (after patchify), L x N x D (after attention at batch > 1) and N x D x L
(the spec's own tokens): each forward call's live bytes, each backward node's name and live
bytes and the step's peak are PyTorch's (tests/test_step_oracle.py's check), at batch 1 and 3.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_step_oracle import MOMENTUM, OPTIMIZERS, check  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.engine.stepscope import unmodelled
from convcalc.options import ActivationFunction

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
    **{
        f"attention-{name}": f"input: 8x8x2\nlayers: [patchify2-4, {{attention: {{heads: 2, {a}}}}}, relu]"
        for name, a in (
            ("math", "need_weights: true"),
            ("math-dropout", "dropout: 0.2"),
            ("math-no-bias", "bias: false"),
            ("flash", "need_weights: false"),
            ("flash-no-bias", "need_weights: false, bias: false"),
            ("sdpa-math-dropout", "need_weights: false, dropout: 0.2"),
            ("sdpa-math-dropout-no-bias", "need_weights: false, dropout: 0.2, bias: false"),
        )
    },
    "attention-shapes": (  # one token; a head of width 1; one head
        "input: {tokens: 1, width: 4}\nlayers: [{attention: {heads: 2}}, {attention: {heads: 4, need_weights: false}},"
        " {attention: {heads: 1, dropout: 0.3, need_weights: false}}, {mlp: {hidden: 2}}]"
    ),
    "attention-then": (  # what reads attention's output, stored L x N x D at batch > 1
        "input: 8x8x4\nlayers: [patchify2-8, cls_token, {attention: {heads: 2}}, relu, {mlp: {hidden: 4}},"
        " {attention: {heads: 2, need_weights: false}}, dropout: 0.2, {attention: {heads: 2}}, conv3-4 p1,"
        " {attention: {heads: 2}}, bn, layernorm, {attention: {heads: 1}}, gap, flatten, fc-2]"
    ),
    "own-tokens": (  # stored N x D x L: the transposes are not contiguous
        "input: {tokens: 5, width: 4}\nlayers: [{mlp: {hidden: 6}}, {attention: {heads: 2}}, cls_token,"
        " {mlp: {hidden: 3, activation: softsign, dropout: 0.1}}, pos_embed, class_token_out, fc-2]"
    ),
    "tokens-and-grid": (
        "input: 6x6x4\nlayers: [conv3-4 p1, tokens, {attention: {heads: 2}}, {mlp: {hidden: 8}}, grid-6x6,"
        " conv3-2 p1, tokens, grid-6x6, {layernorm: {over: channels}}, tokens, layernorm, grid-6x6, relu]"
    ),
    "pools-on-tokens": (
        "input: 8x8x4\nlayers: [patchify2-8, maxpool, {attention: {heads: 2}}, avgpool2, upsample,"
        " adaptive_maxpool2, {attention: {heads: 2}}, gmp, relu]"
    ),
    "cls_token-then-relu": "input: 8x8x4\nlayers: [patchify2-8, cls_token, relu]",
}
ACTIVATIONS = [a.value for a in ActivationFunction if not a.kwargs]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("name", SPECS)
def test_the_token_kinds_steps_are_pytorchs(name: str, batch: int) -> None:
    spec = replace(load_spec(f"{name}.yaml", SPECS[name]), batch=batch)
    assert unmodelled(analyze(spec)) == ()
    check(spec, f"{name} at batch {batch}", OPTIMIZERS if name in {"vit-like", "attention-then"} else MOMENTUM)


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_every_mlp_activations_step_is_pytorchs(activation: str, batch: int) -> None:
    text = f"input: 8x8x2\nlayers: [patchify2-4, {{mlp: {{hidden: 6, activation: {activation}}}}}, relu]"
    spec = replace(load_spec(f"mlp-{activation}.yaml", text), batch=batch)
    assert unmodelled(analyze(spec)) == ()
    check(spec, f"an mlp with {activation} at batch {batch}", MOMENTUM)


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
