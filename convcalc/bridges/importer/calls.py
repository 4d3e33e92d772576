"""Calls of a built-in block for the layers that are one: torchvision's EncoderBlock as `transformer`.

The decomposition gives an encoder block as the two residuals it computes, x + dropout(attention(
ln_1(x))), then x + mlp(ln_2(x)); where they are exactly the built-in block's (convcalc.spec.
builtin_blocks: the same kinds, the same names, the settings its arguments can say) the spec
calls it, `transformer: {heads: 12, mlp: 3072}`, as the built-in ViTs do. Its rows are the same
either way; a block named otherwise (a hand-written transformer) stays two residuals, its names kept.
"""

from __future__ import annotations

from typing import Any

from convcalc.bridges.importer.nodes import Composite, Leaf, Node, prefix

# The built-in block's layers, by residual: (kind, name) as convcalc.spec.builtin_blocks writes them.
_ATTENTION = (("layernorm", "ln_1"), ("attention", "self_attention"), ("dropout", "dropout"))
_MLP = (("layernorm", "ln_2"), ("mlp", "mlp"))
_NORM = {"over": "channels"}


def transformer_calls(layers: list[Node]) -> list[Node]:
    """The layers with each pair of residuals that is the built-in `transformer` block as its call."""
    out: list[Node] = []
    at = 0
    while at < len(layers):
        call = _transformer(layers[at : at + 2])
        if call is None:
            out.append(layers[at])
            at += 1
        else:
            out.append(call)
            at += 2
    return out


def _body(node: Node, want: tuple[tuple[str, str], ...]) -> list[Leaf] | None:
    """A residual's layers when they are `want`'s kinds (its shortcut the identity, an add, no activation)."""
    if not isinstance(node, Composite) or node.kind != "residual" or node.options or node.parts[1]:
        return None
    body = node.parts[0]
    if len(body) != len(want) or not all(
        isinstance(n, Leaf) and n.kind == k for n, (k, _) in zip(body, want, strict=True)
    ):
        return None
    return [n for n in body if isinstance(n, Leaf)]


def _transformer(pair: list[Node]) -> Leaf | None:
    if len(pair) != 2:  # noqa: PLR2004 - its two residuals
        return None
    first, second = _body(pair[0], _ATTENTION), _body(pair[1], _MLP)
    if first is None or second is None:
        return None
    leaves = [*first, *second]
    names = [n.name or "" for n in leaves]
    at = prefix(names)
    if not at or [n[len(at) + 1 :] for n in names] != [name for _, name in (*_ATTENTION, *_MLP)]:
        return None
    norm1, attention, dropout, norm2, mlp = leaves
    args = _args(attention.params, dropout.params.get("p", 0.0), mlp.params)
    if args is None or norm1.params != _NORM or norm2.params != _NORM:
        return None
    return Leaf("transformer", args, at)


def _args(attention: dict[str, Any], p: float, mlp: dict[str, Any]) -> dict[str, Any] | None:
    """The block's arguments (those not at their defaults), or None where it cannot say a setting."""
    if set(attention) - {"heads", "dropout", "need_weights"} or set(mlp) - {"hidden", "dropout"}:
        return None  # an attention without bias, an MLP of another activation: not the block's
    if mlp.get("dropout", 0.0) != p:
        return None
    args: dict[str, Any] = {"heads": attention["heads"], "mlp": mlp["hidden"]}
    if p:
        args["dropout"] = p
    if attention.get("dropout", 0.0):
        args["attention_dropout"] = attention["dropout"]
    if attention.get("need_weights", True):  # the block's default is torchvision's need_weights=False
        args["need_weights"] = True
    return args
