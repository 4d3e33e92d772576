"""Tokens in a traced model (ViT's): the grid flattened to a sequence, the class token, the position embedding.

In PyTorch a sequence of N tokens of width D is a batch-first B x N x D tensor: a channels-last
value of one spatial dim, so fxlast.py's regions carry it (`x.permute(0, 2, 1)` or
`x.transpose(1, 2)` enters one, the same permute leaves it). convcalc writes it `NxD`. The ops
read here are those of torchvision's VisionTransformer and of a CNN with an attention block:

- a reshape, view or flatten of a B x C x H x W grid to B x C x (H·W): after a conv with kernel =
  stride and no padding it is that conv's `patchify` (ViT's conv_proj; the reshape is no row);
- `torch.cat([token.expand(B, -1, -1), x], dim=1)`, a parameter of shape (1, 1, D) before the
  tokens: `cls_token`;
- `x + pos`, a parameter of the tokens' own shape (1, N, D): `pos_embed: {length: N}`;
- `nn.MultiheadAttention(D, h, batch_first=True)` called as self-attention, `attn(x, x, x)`, with
  no mask: `attention` (`need_weights: false` where the call says so, as torchvision's does),
  and the `[0]` of what it returns (a view);
- `x[:, 0]`: `class_token_out`; `x.mean(1)`: `gap` (both give a vector, out of the region);
- a reshape, view or flatten of a grid to B x C x (H·W) after another op than a patchify's conv:
  `tokens`; one of tokens B x D x N back to B x D x H x W: `grid: {size: [H, W]}`.
"""

from __future__ import annotations

import math
from typing import Any

from convcalc.kinds import registry
from convcalc.kinds.vocab import Call, Layer

FLATTENS = frozenset({"reshape", "view", "flatten"})
# The places of nn.MultiheadAttention's forward arguments: query, key and value first, then key_padding_mask (3),
# need_weights (4), attn_mask (5), average_attn_weights (6) and is_causal (7).
_MASKS = ((3, "key_padding_mask"), (5, "attn_mask"))
_NEED_WEIGHTS = (4, "need_weights")
_ALL = slice(None)


def name_of(node: Any) -> str:
    """A traced call's function or method name (`reshape`, `cat`, `getitem`); '' for another node."""
    if node.op not in {"call_function", "call_method"}:
        return ""
    target = node.target
    return target if isinstance(target, str) else str(getattr(target, "__name__", ""))


def _shape(value: Any) -> tuple[int, ...]:
    return tuple(getattr(value, "meta", {}).get("convcalc_shape", ()))


def flattens_grid(node: Any) -> bool:
    """A reshape, view or flatten of a B x C x (2 or more spatial dims) grid to B x C x (their product)."""
    if name_of(node) not in FLATTENS or not node.all_input_nodes:
        return False
    grid, out = _shape(node.all_input_nodes[0]), _shape(node)
    return len(grid) > 3 and len(out) == 3 and out[:2] == grid[:2] and out[2] == math.prod(grid[2:])  # noqa: PLR2004


def unflattens_tokens(node: Any) -> Layer | None:
    """A reshape, view or unflatten of tokens B x D x N to a grid B x D x H x W (N = H·W): `grid: {size: [H, W]}`."""
    if name_of(node) not in {*FLATTENS, "unflatten"} - {"flatten"} or not node.all_input_nodes:
        return None
    tokens, out = _shape(node.all_input_nodes[0]), _shape(node)
    if len(tokens) != 3 or len(out) < 4 or out[:2] != tokens[:2] or math.prod(out[2:]) != tokens[2]:  # noqa: PLR2004
        return None
    return {"grid": {"size": "x".join(map(str, out[2:]))}} if registry.resolve("grid") is not None else None


def patchify(conv: Any) -> Layer | None:
    """A Conv2d whose kernel is its stride, unpadded, undilated, ungrouped: the patchify it is, else None."""
    if type(conv).__name__ != "Conv2d" or conv.padding_mode != "zeros" or conv.groups != 1:
        return None
    size = tuple(conv.kernel_size)
    if len(set(size)) != 1 or tuple(conv.stride) != size or set(conv.dilation) != {1} or _padded(conv.padding):
        return None
    return {
        "patchify": {"size": size[0], "width": conv.out_channels, **({} if conv.bias is not None else {"bias": False})}
    }


def _padded(padding: Any) -> bool:
    return padding != "valid" if isinstance(padding, str) else any(padding)


def only_user(value: Any, node: Any) -> bool:
    """Whether `node` is the one op that reads `value`'s tensor (x.shape, a number, does not count)."""
    return all(u is node or not _shape(u) for u in value.users)


def grid_to_tokens() -> Layer | None:
    """The layer of a grid flattened to tokens that is not a patchify's: `tokens` where a kind of that name exists."""
    return {"tokens": None} if registry.resolve("tokens") is not None else None


def parameter(node: Any, params: dict[str, str]) -> str | None:
    """The path of the one parameter a call reads (`class_token`, `encoder.pos_embedding`)."""
    paths = {params[a.name] for a in node.all_input_nodes if a.name in params}
    return paths.pop() if len(paths) == 1 else None


def class_token(node: Any, params: dict[str, str]) -> Layer | None:
    """`torch.cat([token, x], dim=1)`: a parameter of one token of x's width before x's tokens."""
    call = Call("cat", tuple(node.args), dict(node.kwargs))
    values = call.arg(0, "tensors", ())
    if call.arg(1, "dim", 0) not in {1, -2} or not isinstance(values, (list, tuple)) or len(values) != 2:  # noqa: PLR2004
        return None
    token, x = values
    if getattr(token, "name", None) not in params or getattr(x, "name", None) in params:
        return None
    t, n = _shape(token), _shape(x)
    return {"cls_token": None} if len(n) == 3 and t == (n[0], 1, n[2]) else None  # noqa: PLR2004


def position(node: Any, params: dict[str, str]) -> Layer | None:
    """`x + pos` (or `pos + x`): a parameter of the tokens' shape, (1, N, D)."""
    if name_of(node) not in {"add", "iadd"} or len(node.args) != 2:  # noqa: PLR2004 - the two operands
        return None
    pos = [a for a in node.args if getattr(a, "name", None) in params]
    x = [a for a in node.args if hasattr(a, "op") and a.name not in params]
    if len(pos) != 1 or len(x) != 1:
        return None
    n, p = _shape(x[0]), _shape(pos[0])
    return {"pos_embed": {"length": n[1]}} if len(n) == 3 and p == (1, *n[1:]) else None  # noqa: PLR2004


def readout(node: Any, *, seq: bool = False) -> Layer | None:
    """`x[:, 0]` (`x[0]` sequence first): the class token; `x.mean(1)` (`x.mean(0)`): the tokens' mean, a gap."""
    name = name_of(node)
    tokens = 0 if seq else 1
    if name == "getitem" and len(node.args) == 2:  # noqa: PLR2004 - the value and the index
        index = node.args[1] if isinstance(node.args[1], tuple) else (node.args[1],)
        want = (0,) if seq else (_ALL, 0)
        if index[: len(want)] == want and all(i == _ALL for i in index[len(want) :]):
            return {"class_token_out": None}
        return None
    if name in {"mean", "select"}:
        call = Call(name, tuple(node.args), dict(node.kwargs))
        dim = call.arg(1, "dim", None)
        if name == "select":  # x.select(1, 0): the first token
            return (
                {"class_token_out": None} if dim in {tokens, tokens - 3} and call.arg(2, "index", None) == 0 else None
            )
        if dim in {tokens, tokens - 3, (tokens,), (tokens - 3,)} and not call.arg(2, "keepdim", default=False):
            return {"gap": None}
    return None


def first_output(node: Any, attention: set[str]) -> bool:
    """`attn(x, x, x)[0]`: the output of an attention (its weights, `[1]`, are None or left unused)."""
    return (
        name_of(node) == "getitem"
        and len(node.args) == 2  # noqa: PLR2004
        and node.args[1] == 0
        and getattr(node.args[0], "name", None) in attention
    )


def attention(node: Any, module: Any, layer: Layer, *, seq: bool) -> tuple[Layer | None, str]:
    """The attention layer of a traced nn.MultiheadAttention call on tokens (`seq`: sequence first), or None and why."""
    call = Call("forward", tuple(node.args), dict(node.kwargs))
    q, k, v = (call.arg(i, n, None) for i, n in enumerate(("query", "key", "value")))
    if not (q is k is v):
        return None, "cross-attention: query, key and value differ"
    if any(call.arg(i, n, None) is not None for i, n in _MASKS) or call.arg(7, "is_causal", default=False):
        return None, "with a mask"
    if module.batch_first == seq:
        first = "sequence" if seq else "batch"
        return None, f"batch_first={module.batch_first} on tokens {first} first"
    ((kind, params),) = layer.items()
    if call.arg(*_NEED_WEIGHTS, default=True) is False:
        params = {**(params or {}), "need_weights": False}
    return {kind: params}, ""
