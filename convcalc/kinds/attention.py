"""Multi-head self-attention and the transformer's MLP, over tokens (issue 27, docs/attention.md).

Both read a sequence of N tokens of width D (a 1-D volume, convcalc.kinds.tokens). Their modules
in the PyTorch program are convcalc.bridges.modules' `SelfAttention` (an nn.MultiheadAttention,
batch first, as torchvision's EncoderBlock makes it) and `TokenMLP` (torchvision's MLPBlock:
Linear, activation, Dropout, Linear, Dropout).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convcalc.kinds import fromtorch
from convcalc.kinds.amp import Autocast
from convcalc.kinds.base import Category, Head, Kind, LayerFailure, Params, Working
from convcalc.kinds.params import BIAS, Param, activation, boolean, positive, probability
from convcalc.kinds.plan import ModuleStep, Plan, changed
from convcalc.kinds.rule import Sizes, whole_input
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import unchanged
from convcalc.kinds.tokens import TOKENS_NOTE, need_tokens
from convcalc.kinds.vocab import TorchModule
from convcalc.options import ActivationFunction, Keeps

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

_FLOAT = 4  # convcalc.pytorch builds float32 modules
DROPOUT = Param(
    "dropout",
    probability,
    0.0,
    help="The dropout probability in training (default 0: none), from 0 up to (not including) 1.",
)


class Attention(Kind):
    """Multi-head self-attention (Vaswani et al. 2017) over N tokens of width D, in `heads` heads of D/heads.

    params 4·D² + 4·D (nn.MultiheadAttention's in_proj_weight 3D×D and in_proj_bias 3D, out_proj
    D×D + D); MACs by part: the in-projection N·3D·D, QKᵀ N·N·D, AV N·N·D, the out-projection
    N·D·D. Every token sees every other: the receptive field is the whole input. Training keeps,
    per image, the projections' inputs and q, k, v (5·N·D), and the softmax's output, one N×N
    score matrix per head (need_weights true, nn.MultiheadAttention's default); with need_weights
    false (torchvision's call) scaled_dot_product_attention's fused CPU kernel keeps its output and
    a logsumexp per head and token instead (measured with torch 2.13.0 on CPU, docs/attention.md).
    """

    name = "attention"
    autocast = Autocast.LOWER_LINEAR
    params = (
        Param(
            "heads",
            positive("heads"),
            required=True,
            form="the number of heads",
            help="The number of heads; D/heads each.",
        ),
        BIAS,
        Param(
            "dropout",
            probability,
            0.0,
            help="Dropout on the attention weights in training (default 0), nn.MultiheadAttention's dropout.",
        ),
        Param(
            "need_weights",
            boolean("need_weights"),
            default=True,
            help=(
                "true (nn.MultiheadAttention's default): the math path, which keeps each head's softmax; "
                "false (torchvision's ViT): scaled_dot_product_attention's fused kernel."
            ),
        ),
    )
    primary = "heads"
    torch_modules = (
        TorchModule(("MultiheadAttention",), fromtorch.multihead_attention),
        TorchModule(("SelfAttention",), fromtorch.self_attention),
    )
    head = Head(r"-?(\d+)", ("heads",), "-<H>")
    category = Category.VECTOR
    example = ("{tokens: 17, width: 16}", "attention-4")
    output_rule = "= input (N tokens of width D)"
    params_rule = "4·D² + 4·D"

    def label(self, p: Params) -> str:
        return f"attention-{p['heads']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        kwargs = changed(
            ("bias", p["bias"], True), ("dropout", p["dropout"], 0.0), ("need_weights", p["need_weights"], True)
        )
        module = ModuleStep("SelfAttention", (x.depth, p["heads"]), kwargs, "self_attention", own=True)
        return Plan((module,), (TOKENS_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        need_tokens(x, "attention")
        d = x.static_depth("attention")
        heads: int = p["heads"]
        if d % heads:
            msg = f"{heads} heads do not divide the width {d} (nn.MultiheadAttention: embed_dim divisible by num_heads)"
            raise LayerFailure("heads-do-not-divide", msg)
        n = x.spatial[0]
        bias = 4 * d if p["bias"] else 0
        # In-projection (q, k, v) and out-projection: 4·N·D·D; QKᵀ and AV: N·N·D each, over all heads.
        macs = 4 * n * d * d + 2 * n * n * d
        out = unchanged(x)
        # Every token sees every other, so the whole input: its widest side, the tokens' one dim.
        rf = None if x.rf is None else whole_input(x)
        return replace(out, rf=rf, weights=4 * d * d, biases=bias, macs=macs, bias_adds=n * bias)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        n, d, h = row.input.spatial[0], row.input.depth, p["heads"]
        bias = f" + 4·{d}" if p["bias"] else ""
        return Working(
            output=(
                f"{h} heads of {d}/{h} = {d // h}; score matrix {n}×{n} per head ({h * n * n:,} values per image)",
            ),
            params=(f"params = 4·{d}²{bias} = {row.params:,} (in_proj 3·{d}·{d}, out_proj {d}·{d})",),
            macs=f"4·{n}·{d}·{d} + 2·{n}·{n}·{d}",
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        n, d, h = row.input.spatial[0], row.input.depth, p["heads"]
        nd, scores = n * d, h * n * n
        dropout = p["dropout"] > 0
        if not p["need_weights"] and not dropout:
            # The fused CPU kernel: q, k, v (packed, 3·N·D), its output (the out-projection's input), logsumexp.
            return Keep(input=True, values=4 * nd, stats=h * n)
        if not p["need_weights"]:
            # With dropout, scaled_dot_product_attention takes its math path: q and k scaled, softmax, mask, dropped.
            return Keep(input=True, values=6 * nd + 2 * scores, masks=scores)
        # The math path: packed q, k, v (3·N·D), q scaled, the out-projection's input, the softmax.
        if dropout:
            return Keep(input=True, values=5 * nd + 2 * scores, masks=scores)
        return Keep(input=True, values=5 * nd + scores)

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """In eval under no_grad: the averaged attention weights it returns, N x N per image (need_weights).

        Nothing the dispatcher sees otherwise (measured as tests/test_peak_oracle.py does).
        """
        assert row.output is not None  # noqa: S101 - a computed row has an output
        n = row.output.spatial[0]
        return batch * n * n * _FLOAT if p["need_weights"] else 0


_FUNCTION = {f.value: f for f in ActivationFunction}


def _module_class(function: str) -> str:
    """The torch.nn class of an activation: GELU, ReLU, ... (swish: SiLU, its function's; identity: nn.Identity)."""
    torch = _FUNCTION[function].torch
    return next((m for f in ActivationFunction if f.torch == torch and torch for m in f.modules), "Identity")


class MLP(Kind):
    """The transformer's MLP on each token: Linear D→hidden, activation, Linear hidden→D (torchvision's MLPBlock).

    params 2·D·hidden + hidden + D; MACs 2·N·D·hidden. Training keeps its input, the hidden
    values the activation and the second Linear read, and the dropout masks (docs/attention.md).
    """

    name = "mlp"
    autocast = Autocast.LOWER_LINEAR
    params = (
        Param(
            "hidden",
            positive("hidden"),
            required=True,
            form="the hidden width",
            help="The hidden width (ViT-B: 3072, four times D).",
        ),
        Param("activation", activation, "gelu", help="The activation between the two Linears (default gelu)."),
        DROPOUT,
    )
    primary = "hidden"
    torch_modules = (TorchModule(("MLPBlock", "TokenMLP"), fromtorch.mlp_block),)
    head = Head(r"-?(\d+)", ("hidden",), "-<N>")
    category = Category.VECTOR
    example = ("{tokens: 17, width: 16}", "mlp-64")
    output_rule = "= input (N tokens of width D)"
    params_rule = "2·D·hidden + hidden + D"

    def label(self, p: Params) -> str:
        return f"mlp-{p['hidden']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        kwargs = changed(("activation", _module_class(p["activation"]), "GELU"), ("dropout", p["dropout"], 0.0))
        return Plan((ModuleStep("TokenMLP", (x.depth, p["hidden"]), kwargs, "mlp", own=True),), (TOKENS_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        need_tokens(x, "mlp")
        if _FUNCTION[p["activation"]].kwargs:  # softmax, log_softmax: over a dim of their own
            msg = f"the mlp's activation must be element-wise, not {p['activation']}"
            raise LayerFailure("needs-elementwise-activation", msg)
        d = x.static_depth("mlp")
        n, hidden = x.spatial[0], p["hidden"]
        out = unchanged(x)
        return replace(
            out,
            weights=2 * d * hidden,
            biases=hidden + d,
            macs=2 * n * d * hidden,
            bias_adds=n * (hidden + d),
        )

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        n, d, hidden = row.input.spatial[0], row.input.depth, p["hidden"]
        return Working(
            params=(f"params = 2·{d}·{hidden} + {hidden} + {d} = {row.params:,}",),
            macs=f"2·{n}·{d}·{hidden}",
        )

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        n = row.input.spatial[0]
        nh, nd = n * p["hidden"], n * row.input.depth
        keeps = _FUNCTION[p["activation"]].keeps
        # The activation's own: its input (the first Linear's output), its output, or both and one more.
        values = {Keeps.INPUT: nh, Keeps.INPUT_AND_ONE_MORE: 2 * nh, Keeps.OUTPUT: nh}.get(keeps, 0)
        masks = 0
        if p["dropout"] > 0:
            values += nh  # the dropped values, the second Linear's input
            masks = nh + nd  # the two dropouts' masks
        elif keeps is not Keeps.OUTPUT:
            values += nh  # the activation's output, the second Linear's input (kept once when the activation keeps it)
        return Keep(input=True, values=values, masks=masks)

    def scratch(self, p: Params, row: LayerRow, batch: int) -> int:
        """Under no_grad: the first Linear's output and the activation's, then the activation's beside the output.

        Identity is its input; softsign is Python, x / (x.abs() + 1): its sum is held too
        (measured as tests/test_peak_oracle.py does).
        """
        assert row.output is not None  # noqa: S101 - a computed row has an output
        out = batch * row.output.values * _FLOAT
        hidden = out * int(p["hidden"]) // row.output.depth
        held = {"Identity": 1, "Softsign": 3}.get(_module_class(p["activation"]), 2)
        return max(held * hidden - out, hidden)
