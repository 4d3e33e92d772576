"""The built-in `transformer` block's call for two residuals that are it (convcalc.bridges.importer.calls).

On the importer's own layer values (no torch): the residuals of torchvision's EncoderBlock are a
call; one kind, name or setting the block cannot say keeps them as they are.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc.bridges.importer.calls import transformer_calls
from convcalc.bridges.importer.nodes import Composite, Leaf, Node

AT = "encoder.layers.encoder_layer_0"


def _block(
    attention: dict[str, Any] | None = None,
    p: float = 0.0,
    mlp: dict[str, Any] | None = None,
    names: tuple[str, ...] = ("ln_1", "self_attention", "dropout", "ln_2", "mlp"),
    norm: dict[str, Any] | None = None,
) -> list[Node]:
    leaves: list[Node] = [
        Leaf("layernorm", norm or {"over": "channels"}, None),
        Leaf("attention", attention or {"heads": 2, "need_weights": False}, None),
        Leaf("dropout", {"p": p}, None),
        Leaf("layernorm", {"over": "channels"}, None),
        Leaf("mlp", mlp or {"hidden": 32}, None),
    ]
    for leaf, name in zip(leaves, names, strict=True):
        leaf.name = f"{AT}.{name}"
    return [Composite("residual", [leaves[:3], []], {}, AT), Composite("residual", [leaves[3:], []], {}, AT)]


def _with_shortcut(residual: Node) -> Node:
    """The residual with a conv on its shortcut (a projection): not the block's identity."""
    assert isinstance(residual, Composite)
    return Composite("residual", [residual.parts[0], [Leaf("conv", {}, None)]], {}, None)


def test_torchvisions_encoder_block_is_one_call_with_the_arguments_it_needs() -> None:
    (call,) = transformer_calls(_block())
    assert isinstance(call, Leaf)
    assert (call.kind, call.params, call.name) == ("transformer", {"heads": 2, "mlp": 32}, AT)
    given = _block({"heads": 4, "dropout": 0.2}, 0.1, {"hidden": 8, "dropout": 0.1})
    (call,) = transformer_calls(given)
    assert isinstance(call, Leaf)
    assert call.params == {"heads": 4, "mlp": 8, "dropout": 0.1, "attention_dropout": 0.2, "need_weights": True}


@pytest.mark.parametrize(
    "layers",
    [
        _block({"heads": 2, "bias": False}),  # an attention without bias
        _block(mlp={"hidden": 32, "activation": "relu"}),
        _block(p=0.1),  # the MLP's dropout differs from the block's
        _block(names=("norm1", "attn", "drop", "norm2", "mlp")),
        _block(norm={"over": "channels", "affine": False}),
        _block()[:1],  # one residual alone
        [_block()[0], Composite("residual", [[Leaf("layernorm", {}, None)], []], {}, None)],
        [_block()[0], _with_shortcut(_block()[1])],
        [_block()[0], Leaf("relu", {}, None)],
    ],
    ids=["no-bias", "relu", "two-dropouts", "names", "no-affine", "alone", "short", "shortcut", "not-residual"],
)
def test_what_the_block_cannot_say_stays_as_it_is(layers: list[Node]) -> None:
    assert transformer_calls(layers) == layers
