"""`convcalc import` of attention and tokens (issue 27): ViT's parts, and a CNN with an nn.MultiheadAttention block.

Small networks traced with torch.fx: each spec's params are `sum(p.numel())`, its MACs what
FlopCounterMode counts (÷ 2), each attention row's volume what the module's forward hook sees;
what is not read is refused by name. torchvision's full ViTs are tests/test_import_zoo.py's.
"""

from __future__ import annotations

import copy
from types import SimpleNamespace
from typing import Any

import pytest

from convcalc.bridges.importer import ModelError, import_model
from convcalc.engine.analyze import analyze
from convcalc.kinds.vocab import Call
from convcalc.spec.loader import load_spec

pytestmark = pytest.mark.torch
pytest.importorskip("torch")
import torch  # noqa: E402 - after the skip
from torch import nn  # noqa: E402


class ConvAttention(nn.Module):
    """A conv stem flattened to tokens, a pre-norm attention block, then a readout, a head.

    `batch_first`: tokens B x N x D (`transpose(1, 2)`), else nn.MultiheadAttention's default N x B x D.
    `project`: a 1x1 conv before the flatten (the two a patchify), else the stem's ReLU flattened (`tokens`).
    `readout`: back to channels first and a Conv1d, back to the 8x8 grid and a Conv2d, the tokens' mean, the first.
    """

    def __init__(
        self, *, batch_first: bool = True, need_weights: bool = True, readout: str = "conv", project: bool = True
    ) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.proj = nn.Conv2d(16, 16, 1) if project else nn.Identity()
        self.norm = nn.LayerNorm(16)
        self.attn = nn.MultiheadAttention(16, 4, batch_first=batch_first)
        self.mix = {"conv": nn.Conv1d(16, 16, 1), "grid": nn.Conv2d(16, 16, 3, padding=1)}.get(readout)
        self.fc = nn.Linear(16, 10)
        self.batch_first, self.need_weights, self.readout = batch_first, need_weights, readout

    def forward(self, x: Any) -> Any:
        t = self.proj(self.stem(x)).flatten(2)
        t = t.transpose(1, 2) if self.batch_first else t.permute(2, 0, 1)
        y = self.norm(t)
        t = t + self.attn(y, y, y, need_weights=self.need_weights)[0]
        if self.readout == "mean":  # the mean over the tokens: a global pool of the sequence
            return self.fc(t.mean(1 if self.batch_first else 0))
        if self.readout == "first":  # the first token
            return self.fc(t[:, 0] if self.batch_first else t[0])
        t = t.transpose(1, 2) if self.batch_first else t.permute(1, 2, 0)
        assert self.mix is not None  # made for this readout
        if self.readout == "grid":  # back to the stem's 8x8 grid
            t = t.reshape(t.shape[0], 16, 8, 8)
            return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.mix(t), 1), 1))
        return self.fc(self.mix(t).mean(2))  # a Conv1d on the tokens, channels first, and their mean


def _imported(net: Any, size: int = 16) -> tuple[str, Any]:
    text = import_model("net.py:Net", f"{size}x{size}x3", model=net.eval()).text
    return text, analyze(load_spec("net.yaml", text))


def _pytorchs(net: Any, size: int = 16) -> tuple[int, list[list[int]]]:
    """FlopCounterMode's MACs of one forward (÷ 2), and the output volumes each MultiheadAttention's hook sees."""
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415

    net = copy.deepcopy(net).to("meta")  # in eval under no_grad, on the CPU, its fast path: no FLOPs counted
    seen: list[list[int]] = []
    for m in net.modules():
        if isinstance(m, nn.MultiheadAttention):
            first = m.batch_first
            m.register_forward_hook(lambda _, __, out, first=first: seen.append(_tokens(out[0].shape, first)))
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        net(torch.zeros(1, 3, size, size, device="meta"))
    return counter.get_total_flops() // 2, seen


def _tokens(shape: Any, batch_first: bool) -> list[int]:  # noqa: FBT001 - the module's own flag
    return [shape[1], shape[2]] if batch_first else [shape[0], shape[2]]


@pytest.mark.slow  # the trace and a forward pass with FlopCounterMode
@pytest.mark.parametrize("batch_first", [True, False], ids=["batch-first", "sequence-first"])
@pytest.mark.parametrize(
    ("readout", "project"),
    [("conv", True), ("mean", True), ("first", True), ("grid", True), ("grid", False)],
    ids=["conv", "mean", "first", "grid", "tokens-grid"],
)
def test_a_cnn_with_an_attention_block_imports_with_pytorchs_params_macs_and_volumes(
    batch_first: bool,  # noqa: FBT001 - a parameter of the test
    readout: str,
    project: bool,  # noqa: FBT001
) -> None:
    net = ConvAttention(batch_first=batch_first, readout=readout, project=project)
    text, report = _imported(net)
    assert "opaque" not in text
    assert not [d for d in report.diagnostics if d.severity.value == "error"]
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    macs, seen = _pytorchs(net)
    assert report.totals.macs == macs
    assert [r.output.as_list() for r in report.rows if r.kind == "attention" and r.output] == seen == [[64, 16]]
    kinds = [r.kind for r in report.rows]
    # the 1x1 projection and its flatten(2), 64 tokens of 16; else the ReLU's grid flattened
    assert ("patchify" if project else "tokens") in kinds
    assert {"conv": "conv", "mean": "global_pool", "first": "class_token_out", "grid": "grid"}[readout] in kinds[
        kinds.index("attention") :
    ]


@pytest.mark.slow
def test_need_weights_false_in_the_call_is_the_layers() -> None:
    # The math path (nn.MultiheadAttention's default) keeps the softmax; need_weights=False the fused kernel.
    assert "need_weights" not in _imported(ConvAttention(readout="mean"))[0]
    text, report = _imported(ConvAttention(need_weights=False, readout="mean"))
    assert "{attention: {heads: 4, need_weights: false}, name: attn}" in text
    row = next(r for r in report.rows if r.kind == "attention")
    assert row.config["need_weights"] is False


class Attend(nn.Module):
    """A 1x1 conv to 8 channels, then `call(self, grid)`: tokens and an attention, as each case writes them."""

    def __init__(self, attn: Any, call: Any) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, 8, 1)
        self.attn, self.call = attn, call
        self.query = nn.Parameter(torch.zeros(1, 1, 8))  # a learned query: attention pooling
        self.register_buffer("mask", torch.zeros(16, 16, dtype=torch.bool))

    def forward(self, x: Any) -> Any:
        return self.call(self, self.proj(x))


def _mha(**kwargs: Any) -> Any:
    return nn.MultiheadAttention(**{"embed_dim": 8, "num_heads": 2, "batch_first": True, **kwargs})


def _tokens_of(grid: Any) -> Any:
    return grid.flatten(2).transpose(1, 2)


@pytest.mark.slow  # a trace each: 0.2 s
@pytest.mark.parametrize(
    ("attn", "call", "refused"),
    [
        (_mha(), lambda s, g: s.attn(s.query, *[_tokens_of(g)] * 2)[0].mean(1), r"attn \(MultiheadAttention \(cross-"),
        (_mha(), lambda s, g: s.attn(t := _tokens_of(g), t * 2, t)[0].mean(1), r"attn \(MultiheadAttention \(cross-"),
        (_mha(), lambda s, g: s.attn(*[_tokens_of(g)] * 3, attn_mask=s.mask)[0].mean(1), r"\(with a mask\)\)"),
        (_mha(), lambda s, g: s.attn(*[_tokens_of(g)] * 3, key_padding_mask=s.mask[0:1])[0].mean(1), r"with a mask"),
        (_mha(batch_first=False), lambda s, g: s.attn(*[_tokens_of(g)] * 3)[0].mean(1), r"batch_first=False on"),
        (_mha(add_bias_kv=True), lambda s, g: s.attn(*[_tokens_of(g)] * 3)[0].mean(1), r"\(MultiheadAttention on "),
        (_mha(), lambda s, g: s.attn(*[_tokens_of(g)] * 3)[0].softmax(-1).mean(1), r"\(.softmax on channels-last"),
        (
            _mha(embed_dim=16),
            lambda s, g: s.attn(*[g.flatten(2)] * 3)[0].mean(2),
            r"\(MultiheadAttention on values that",
        ),
    ],
    ids=["query", "cross", "mask", "padding-mask", "sequence-first-module", "bias-kv", "softmax", "channels-first"],
)
def test_attention_that_is_not_the_kinds_is_refused_by_name(attn: Any, call: Any, refused: str) -> None:
    with pytest.raises(ModelError, match=rf"convcalc has no layer kind for[\s\S]*{refused}"):
        _imported(Attend(attn, call), 4)


def _vit(**kwargs: Any) -> Any:
    from torchvision_models import models  # type: ignore[import-not-found]  # noqa: PLC0415 - tests/, as the zoo's

    vit = models().vision_transformer.VisionTransformer
    return vit(**{"image_size": 32, "patch_size": 8, "num_layers": 2, "num_heads": 2, "hidden_dim": 16, **kwargs})


@pytest.mark.slow
@pytest.mark.parametrize(
    ("kwargs", "call"),
    [
        ({"mlp_dim": 32}, "{transformer: {heads: 2, mlp: 32}, name: encoder.layers.encoder_layer_0}"),
        (
            {"mlp_dim": 24, "dropout": 0.1, "attention_dropout": 0.2},
            (
                "{transformer: {heads: 2, mlp: 24, dropout: 0.1, attention_dropout: 0.2}, "
                "name: encoder.layers.encoder_layer_1}"
            ),
        ),
    ],
    ids=["defaults", "dropouts"],
)
def test_torchvisions_encoder_blocks_are_transformer_calls_with_pytorchs_figures(
    kwargs: dict[str, Any], call: str
) -> None:
    net = _vit(**kwargs)
    text, report = _imported(net, 32)
    assert call in text
    assert "{layer: cls_token, name: class_token}" in text
    assert "{layer: pos_embed-17, name: encoder.pos_embedding}" in text
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    macs, seen = _pytorchs(net, 32)
    assert report.totals.macs == macs
    assert [r.output.as_list() for r in report.rows if r.kind == "attention" and r.output] == seen == [[17, 16]] * 2
    assert [r.kind for r in report.rows][1:4] == ["patchify", "cls_token", "pos_embed"]


class Encoder(nn.Module):
    """A pre-norm encoder block of other names than torchvision's, and a head on the first token."""

    def __init__(self, mlp: Any) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, 16, 4, stride=4)
        self.norm1, self.attn, self.norm2, self.mlp = nn.LayerNorm(16), _mha(embed_dim=16), nn.LayerNorm(16), mlp
        self.fc = nn.Linear(16, 10)

    def forward(self, x: Any) -> Any:
        t = self.proj(x).reshape(x.shape[0], 16, -1).permute(0, 2, 1)
        y = self.norm1(t)
        t = t + self.attn(y, y, y, need_weights=False)[0]
        t = t + self.mlp(self.norm2(t))
        return self.fc(t.select(1, 0))


class MLPBlock(nn.Sequential):
    """Not torchvision's: one Linear less, so not the `mlp` kind (traced through)."""

    def __init__(self) -> None:
        super().__init__(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 16))


@pytest.mark.slow
@pytest.mark.parametrize("mlp", ["torchvision", "own"])
def test_an_encoder_block_named_otherwise_stays_two_residuals(mlp: str) -> None:
    block = _vit(mlp_dim=32).encoder.layers[0].mlp if mlp == "torchvision" else MLPBlock()
    net = Encoder(block)
    text, report = _imported(net, 16)
    assert "transformer" not in text
    assert text.count("residual:") == 2
    kinds = [r.kind for r in report.rows]
    assert kinds.count("mlp") == (mlp == "torchvision")
    assert kinds.count("conv") == 2 * (mlp == "own")  # its Linears on tokens: 1x1 convs
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert report.totals.macs == _pytorchs(net, 16)[0]
    assert kinds[-2:] == ["class_token_out", "fc"]


def test_the_attention_and_mlp_readers_leave_out_what_the_kinds_are_not() -> None:
    from convcalc.kinds import fromtorch  # noqa: PLC0415

    assert fromtorch.multihead_attention(_mha(bias=False, dropout=0.1)) == {
        "attention": {"heads": 2, "bias": False, "dropout": 0.1}
    }
    assert fromtorch.multihead_attention(_mha(kdim=4)) is None
    assert fromtorch.multihead_attention(_mha(add_zero_attn=True)) is None
    relu = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 8), nn.Dropout(0.1))
    assert fromtorch.mlp_block(relu) == {"mlp": {"hidden": 16, "activation": "relu", "dropout": 0.1}}
    for parts in (
        (nn.Linear(8, 16), nn.Softmax(-1), nn.Dropout(), nn.Linear(16, 8), nn.Dropout()),  # not element-wise
        (nn.Linear(8, 16), nn.GELU(), nn.Dropout(0.1), nn.Linear(16, 8), nn.Dropout(0.2)),  # two dropouts
        (nn.Linear(8, 16), nn.GELU(), nn.Dropout(), nn.Linear(16, 4), nn.Dropout()),  # not back to 8
        (nn.Linear(8, 16), nn.GELU(), nn.Dropout(), nn.Linear(16, 8, bias=False), nn.Dropout()),
        (nn.Linear(8, 16), nn.GELU(), nn.Identity(), nn.Linear(16, 8), nn.Dropout()),
    ):
        assert fromtorch.mlp_block(nn.Sequential(*parts)) is None
    # convcalc's own modules, an exported spec's: need_weights an attribute; x.select(2, 0) on N x D x L only.
    from convcalc.bridges.modules import SelfAttention  # noqa: PLC0415 - torch's

    assert fromtorch.self_attention(SelfAttention(8, 2)) == {"attention": {"heads": 2}}
    assert fromtorch.self_attention(SelfAttention(8, 2, need_weights=False)) == {
        "attention": {"heads": 2, "need_weights": False}
    }
    tokens, grid = (SimpleNamespace(meta={"convcalc_shape": s}) for s in ((1, 8, 5), (1, 8, 5, 5)))
    assert fromtorch.select_call(Call("select", (tokens, 2, 0))) == {"class_token_out": None}
    for args in ((tokens, 1, 0), (tokens, 2, 1), (grid, 2, 0), ()):
        assert fromtorch.select_call(Call("select", args)) is None


class Switch(nn.Module):
    """Tokens batch first, `transpose(0, 1)` to nn.MultiheadAttention's default layout, its attention, and back."""

    def __init__(self) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, 8, 1)
        self.attn = _mha(batch_first=False)

    def forward(self, x: Any) -> Any:
        t = _tokens_of(self.proj(x)).transpose(0, 1)
        return self.attn(t, t, t)[0].transpose(0, 1).mean(1)


@pytest.mark.slow  # a trace
def test_tokens_turned_sequence_first_and_back_are_read() -> None:
    text, report = _imported(Switch(), 4)
    assert "opaque" not in text
    assert [r.kind for r in report.rows][1:] == ["patchify", "attention", "global_pool"]


class Tokens(nn.Module):
    """A conv of 8 channels (`conv`), its grid to tokens batch first, then `call(self, tokens)`."""

    def __init__(self, call: Any, conv: Any = None) -> None:
        super().__init__()
        self.conv = conv or nn.Conv2d(3, 8, 1)
        self.token = nn.Parameter(torch.zeros(1, 1, 8))
        self.call = call

    def forward(self, x: Any) -> Any:
        return self.call(self, self.conv(x).flatten(2).transpose(1, 2))


@pytest.mark.slow  # a trace each
@pytest.mark.parametrize(
    ("net", "refused"),
    [
        (Tokens(lambda _, t: t.mean(1, keepdim=True)), r"mean \(.mean on channels-last"),
        (Tokens(lambda s, t: torch.cat([t, s.token.expand(1, -1, -1)], dim=1).mean(1)), r"cat \(torch.cat on channels"),
        (Tokens(lambda s, t: torch.cat([s.token, t, t], dim=1).mean(1)), r"cat \(torch.cat on channels"),
        (Tokens(lambda _, t: t[:, 1]), r"getitem \(operator.getitem on channels"),
        (Tokens(lambda _, t: (t + t.transpose(0, 1)).mean(1)), r"add \(operator.add on channels"),
        (Tokens(lambda _, t: t.transpose(1, t.dim() - 1).mean(1)), r"transpose_1 \(.transpose on channels"),
        (Tokens(lambda _, t: (t.transpose(0, 1) + t[0:1]).mean(0)), r"add \(operator.add on channels"),
    ],
    ids=["keepdim", "after", "three", "second", "mixed", "traced", "seq"],
)
def test_other_ops_on_tokens_are_refused_by_name(net: Any, refused: str) -> None:
    with pytest.raises(ModelError, match=rf"convcalc has no layer kind for[\s\S]*{refused}"):
        _imported(net, 4)


@pytest.mark.slow  # a trace each
@pytest.mark.parametrize(
    "conv",
    [
        nn.Conv2d(3, 8, 2),  # kernel 2, stride 1
        nn.Conv2d(3, 8, 1, padding=1),
        nn.Conv2d(3, 6, 2, stride=2, groups=3),
        nn.Conv2d(3, 8, 2, stride=2, dilation=2),
        nn.Conv2d(3, 8, (2, 1), stride=(2, 1)),
    ],
    ids=["kernel-2", "padded", "grouped", "dilated", "not-square"],
)
def test_a_conv_that_is_no_patchify_is_a_conv_then_tokens(conv: Any) -> None:
    net = Tokens(lambda _, t: t.mean(1), conv)
    text, report = _imported(net, 4)
    assert "opaque" not in text
    assert [r.kind for r in report.rows][1:] == ["conv", "tokens", "global_pool"]
    assert report.totals.params == sum(p.numel() for p in conv.parameters())  # (the class token is left unused)


@pytest.mark.slow  # a trace
def test_without_the_tokens_and_grid_kinds_their_reshapes_are_named() -> None:
    from convcalc.kinds import registry  # noqa: PLC0415

    kinds = tuple(k for k in registry.REGISTERED if k.name not in {"tokens", "grid"})
    with registry.using(kinds), pytest.raises(ModelError, match=r"2 operations[\s\S]*flatten[\s\S]*reshape \("):
        _imported(ConvAttention(readout="grid", project=False))


@pytest.mark.slow  # two ViTs built on the meta device, traced
@pytest.mark.parametrize("name", ["vit_b_16", "vit_b_32"])
def test_torchvisions_vit_imports_as_the_builtin_row_for_row(name: str) -> None:
    from torchvision_models import models  # noqa: PLC0415

    from convcalc.builtins import open_spec  # noqa: PLC0415

    with torch.device("meta"):
        model = models().get_model(name, weights=None)
    text = import_model(f"torchvision.models:{name}", model=model.eval()).text
    imported, builtin = analyze(load_spec(f"{name}.yaml", text)), analyze(open_spec(name))
    assert imported.totals == builtin.totals
    assert [(r.kind, r.output, r.params, r.macs, r.activations) for r in imported.rows] == [
        (r.kind, r.output, r.params, r.macs, r.activations) for r in builtin.rows
    ]
    # The same names but x[:, 0]'s, which is no module in torchvision (the built-in calls it class_token_out).
    names = [[r.name for r in report.rows if r.kind != "class_token_out"] for report in (imported, builtin)]
    assert names[0] == names[1]
    assert text.count("transformer: {heads: 12, mlp: 3072}") == 12
