"""Channels-last regions of a traced model: `permute(0, 2, 3, 1)` ... `permute(0, 3, 1, 2)` (ConvNeXt).

Inside such a region the channels are the last dim, and a few ops on them are ordinary grid layers:

- nn.LayerNorm(C) and F.layer_norm(x, (C,), ...) over the last dim: `{layernorm: {over: channels}}`;
- nn.Linear(C_in, C_out): a 1x1 conv with C_out filters (with its bias, or `bias: false`);
- an activation (GELU, ReLU, ...): itself;
- a parameter of shape (C,) times the value: `scale` (a learned per-channel multiply).

The two permutes are no layers (views). Any other op that reads a channels-last value is
refused, by name, as an op convcalc has no kind for; so is a region the model returns from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer import fxtokens
from convcalc.errors import ModelError
from convcalc.kinds import fromtorch
from convcalc.kinds.vocab import Call
from convcalc.options import ActivationFunction
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from convcalc.bridges.importer.graph import Op

# Element-wise ones only: a softmax's dim is not read here (-1 on channels last is convcalc's channels, 1 is not).
ACTIVATIONS = frozenset(a.value for a in ActivationFunction) - {"softmax", "log_softmax"}
MULS = frozenset({"mul", "imul"})
# Modules that read tokens batch first (B x N x D), channels last: refused on another layout. (convcalc's
# own SelfAttention and TokenMLP, an exported spec's, read tokens as convcalc's volumes are, B x D x N.)
BATCH_FIRST = frozenset({"MultiheadAttention", "MLPBlock"})
# Kinds read on channels-last values as they are, besides the activations (a dropout is element-wise).
ON_TOKENS = frozenset({"attention", "mlp", "dropout"})


def order(node: Any) -> tuple[int, ...] | None:
    """A permute's dims: `x.permute(0, 2, 3, 1)`, `torch.permute(x, [0, 2, 3, 1])`, `x.transpose(1, 2)`; else None."""
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
    if node.op not in {"call_function", "call_method"} or name not in {"permute", "transpose"}:
        return None
    if name == "transpose":
        call = Call(name, tuple(node.args), dict(node.kwargs))
        n = len(shape(node))
        pair = (call.arg(1, "dim0", None), call.arg(2, "dim1", None))
        if not n or not all(isinstance(d, int) and -n <= d < n for d in pair):
            return None
        swapped = list(range(n))
        a, b = (d % n for d in pair)
        swapped[a], swapped[b] = b, a
        return tuple(swapped)
    rest = node.args[1:] if len(node.args) > 1 else (node.kwargs.get("dims", ()),)
    dims = rest[0] if len(rest) == 1 and isinstance(rest[0], (tuple, list)) else rest
    return tuple(dims) if all(isinstance(d, int) for d in dims) else None


def shape(value: Any) -> tuple[int, ...]:
    """The shape fx.py recorded for a traced node (its framework order); () for a number."""
    return tuple(getattr(value, "meta", {}).get("convcalc_shape", ()))


def scaled(node: Any, channel: int) -> bool:
    """`γ * x` or `x * γ`: one computed value times one parameter of its channels' shape along `channel`.

    `channel` is 1 for a channels-first grid (γ of shape (C, 1, 1)), -1 for channels last (γ of shape (C,)).
    """
    values = [a for a in node.args if hasattr(a, "op") and a.op != "get_attr"]
    params = [a for a in node.args if hasattr(a, "op") and a.op == "get_attr"]
    if len(values) != 1 or len(params) != 1 or len(node.args) != 2:  # noqa: PLR2004 - the two operands
        return False
    x, gamma = shape(values[0]), shape(params[0])
    if len(x) < 3 or len(gamma) > len(x):  # noqa: PLR2004 - N, C and a spatial dim
        return False
    want = [1] * len(x)
    want[channel] = x[channel]
    return [1] * (len(x) - len(gamma)) + list(gamma) == want


class Regions:
    """The channels-last values met so far, while fx.py reads the nodes in order.

    Tokens are channels last too: batch first, B x N x D (ViT's, `batch_first=True`), or sequence
    first, N x B x D (nn.MultiheadAttention's default layout), which `x.permute(2, 0, 1)` of a
    B x D x N value enters and `permute(1, 2, 0)` leaves; `x.transpose(0, 1)` turns one into the other.
    """

    def __init__(self) -> None:
        self.inside: dict[str, int] = {}  # a channels-last node's name -> its op's index
        self.seq: set[str] = set()  # those of them that are tokens sequence first (N x B x D)
        # Parameters read as values, and calls on them alone, by node name: the parameter's path (fx.py fills it).
        self.params: dict[str, str] = {}
        self.attention: set[str] = set()  # the attention calls met (their `[0]` is their output)
        self.ops: dict[str, Op] = {}  # every op read, by its node's name

    def _enter(self, node: Any, op: Op, *, seq: bool) -> None:
        self.inside[node.name] = op.index
        if seq:
            self.seq.add(node.name)

    def read(self, node: Any, op: Op, modules: dict[str, Any]) -> None:
        """Mark the permutes as views, and read (or refuse) the op of a node that reads a channels-last value."""
        self.ops[node.name] = op
        dims = order(node)
        reads = [a for a in node.all_input_nodes if a.name in self.inside]
        if not reads:
            self._outside(node, op, modules, dims)
            return
        values = [a for a in node.all_input_nodes if a.name not in self.params and shape(a)]
        seq = {a.name in self.seq for a in values}
        if len(values) == 1 and self._moved(node, op, dims, seq=values[0].name in self.seq):
            return
        inside = all(a.name in self.inside for a in values)
        if op.merge in {"add", "multiply"} and len(values) > 1 and inside and len(seq) == 1:
            op.shape = _tokens(op.dims, seq=seq == {True})  # a residual's add on tokens: one layout, both
            self._enter(node, op, seq=seq == {True})
            return
        attends = op.layer is not None and "attention" in op.layer  # reading several values: it says why not
        layer, why = _layer(node, op, modules, self) if len(values) == 1 or attends else (None, "")
        if layer is None:
            op.layer, op.merge, op.view, op.crop = None, None, False, False
            op.op = f"{op.op} ({why})" if why else f"{op.op} on channels-last values"
            return
        op.layer, op.merge, op.shape = layer, None, _tokens(op.dims, seq=seq == {True})
        named = fxtokens.parameter(node, self.params) if set(layer) & {"cls_token", "pos_embed"} else None
        if named is not None:  # the class token and the position embedding: named by their parameter
            op.name, op.module = named, True
        if "attention" in layer:
            self.attention.add(node.name)
        if len(op.dims) > 2:  # noqa: PLR2004 - a vector (the class token's output, a mean) is out of the region
            self._enter(node, op, seq=seq == {True})

    def _moved(self, node: Any, op: Op, dims: tuple[int, ...] | None, *, seq: bool) -> bool:
        """A view of one channels-last value: back to channels first, into the other tokens' layout, or as it is."""
        n = len(op.dims)
        if dims is not None and dims == ((1, 2, 0) if seq else (0, n - 1, *range(1, n - 1))):
            op.view = True  # back to channels first
            return True
        if dims == (1, 0, 2):  # batch first <-> sequence first
            op.view = True
            self._enter(node, op, seq=not seq)
            return True
        if op.view or fxtokens.first_output(node, self.attention):  # `.contiguous()`, attention's output
            op.view = True
            self._enter(node, op, seq=seq)
            return True
        return False

    def _outside(self, node: Any, op: Op, modules: dict[str, Any], dims: tuple[int, ...] | None) -> None:
        """An op that reads no channels-last value: a permute into a region, a grid flattened to tokens, or as it is."""
        n = len(op.dims)
        seq = n == 3 and dims == (2, 0, 1)  # noqa: PLR2004 - B x D x N to N x B x D
        if dims is not None and n >= 3 and (seq or dims == (0, *range(2, n), 1)):  # noqa: PLR2004
            op.view = True
            self._enter(node, op, seq=seq)
        elif fxtokens.flattens_grid(node):
            grid = node.all_input_nodes[0]
            conv = self.ops.get(grid.name)
            found = None
            if grid.op == "call_module" and conv is not None and conv.layer and fxtokens.only_user(grid, node):
                found = fxtokens.patchify(modules[grid.target])
            if found is not None and conv is not None:  # ViT's conv_proj and its reshape: one patchify
                conv.layer, conv.shape, op.view = found, op.shape, True
            else:
                op.layer = fxtokens.grid_to_tokens()
        elif (grid := fxtokens.unflattens_tokens(node)) is not None:
            op.layer = grid
        elif op.layer is not None and op.op in BATCH_FIRST:
            op.layer = None  # attention or a transformer's MLP on another layout than tokens
            op.op = f"{op.op} on values that are not tokens (batch or sequence first, then width)"

    def check(self, output: int | None, last: Op | None) -> None:
        """Refuse a model that returns a channels-last value (its permute back is what a spec cannot leave out)."""
        returned = output if output is not None else (last.index if last is not None else None)
        for name, index in self.inside.items():
            if index == returned:
                msg = f"the model returns {inert(name)}, a channels-last value: permute it back to channels first"
                raise ModelError(msg)


def _tokens(dims: tuple[int, ...], *, seq: bool) -> tuple[int, ...]:
    """A channels-last value's volume as convcalc writes it: N x B x D (sequence first) is N x D; else all but B."""
    return (dims[0], dims[2]) if seq and len(dims) == 3 else dims[1:]  # noqa: PLR2004


def _layer(node: Any, op: Op, modules: dict[str, Any], regions: Regions) -> tuple[dict[str, Any] | None, str]:
    """The grid layer of an op on a channels-last value, or None (and why, where it is not the default) if not read."""
    seq = any(a.name in regions.seq for a in node.all_input_nodes)
    if node.op == "call_module":
        found, why = _module_layer(node, op, modules[node.target], seq=seq)
    else:
        found, why = _call_layer(node, op, regions, seq=seq), ""
    if found is not None or why:
        return found, why
    if op.layer is not None and set(op.layer) <= ACTIVATIONS | ON_TOKENS:
        own = set(op.layer) & {"attention", "mlp"} and op.op not in BATCH_FIRST  # convcalc's: they read B x D x N
        return (None if own else op.layer), ""
    return None, ""


def _module_layer(node: Any, op: Op, m: Any, *, seq: bool) -> tuple[dict[str, Any] | None, str]:
    kind = type(m).__name__
    if kind == "Linear":
        return {"conv": {"filters": m.out_features, "size": 1, **({} if m.bias is not None else {"bias": False})}}, ""
    if kind == "LayerNorm":
        channels = op.dims[-1] if op.dims else 0
        return (fromtorch.layernorm2d(m) if tuple(m.normalized_shape) == (channels,) else None), ""
    if op.layer is not None and "attention" in op.layer and kind in BATCH_FIRST:
        return fxtokens.attention(node, m, op.layer, seq=seq)
    return None, ""


def _call_layer(node: Any, op: Op, regions: Regions, *, seq: bool) -> dict[str, Any] | None:
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
    if name == "layer_norm":
        return _layer_norm(Call(name, tuple(node.args), dict(node.kwargs)), op.dims[-1] if op.dims else 0)
    if name in MULS:
        return {"scale": None} if scaled(node, -1) else None
    if not seq and name in {"cat", "concat"}:
        return fxtokens.class_token(node, regions.params)
    return (None if seq else fxtokens.position(node, regions.params)) or fxtokens.readout(node, seq=seq)


def _layer_norm(call: Call, channels: int) -> dict[str, Any] | None:
    """F.layer_norm(x, (C,), weight, bias) over the last dim: layernorm over the channels."""
    normalized = call.arg(1, "normalized_shape", None)
    weight, bias = call.arg(2, "weight", None), call.arg(3, "bias", None)
    if (
        not isinstance(normalized, (tuple, list))
        or list(normalized) != [channels]
        or (weight is None) != (bias is None)
    ):
        return None  # over more than the channels, or a scale without its shift (or a shift alone)
    return {"layernorm": {"over": "channels", **({} if weight is not None else {"affine": False})}}
