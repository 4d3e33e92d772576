"""The ViT built-ins and the token kinds against torchvision and PyTorch (issue 27).

torchvision's vit_b_16 and vit_b_32 are built on the meta device (no weights, no memory): their
parameter count, FlopCounterMode's count of one forward pass (÷ 2: it counts a multiply-add as
2), and every module's output shape through forward hooks, against `convcalc show`. A small
VisionTransformer is run for real, with its weights copied into convcalc's module, row by row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.bridges.program import program
from convcalc.builtins import open_spec

if TYPE_CHECKING:
    import torch

    from convcalc.report import LayerRow
else:
    torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.torch, pytest.mark.slow]

VITS = ("vit_b_16", "vit_b_32")


def _meta(name: str) -> Any:
    with torch.device("meta"):
        return getattr(models(), name)()


@pytest.mark.parametrize("name", VITS)
def test_params_and_macs_are_torchvisions(name: str) -> None:
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415 - torch only here

    net = _meta(name)
    report = analyze(open_spec(name))
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    with FlopCounterMode(display=False) as counter:
        net(torch.zeros(1, 3, 224, 224, device="meta"))
    assert report.totals.macs * 2 == counter.get_total_flops()


def _as_convcalc(t: torch.Tensor, row: LayerRow) -> list[int]:
    """A torchvision output's shape as convcalc writes it: tokens N x L x D as [L, D], a grid as tokens."""
    assert row.output is not None
    if t.dim() == 4:
        return [t.shape[2] * t.shape[3], t.shape[1]]
    return list(t.shape[1:])


@pytest.mark.parametrize("name", VITS)
def test_every_row_is_the_output_of_torchvisions_module(name: str) -> None:
    net = _meta(name)
    spec = open_spec(name)
    report = analyze(spec)
    rows = {r.path: r for r in report.rows}
    modules = dict(net.named_modules())
    seen: dict[str, Any] = {}
    for path, module in modules.items():
        module.register_forward_hook(lambda _m, _i, out, path=path: seen.setdefault(path, out))
    net(torch.zeros(1, 3, 224, 224, device="meta"))
    compared = 0
    for attribute in program(spec, report).attributes:
        where, row = ".".join(attribute.path), rows[attribute.row]
        if where not in modules:  # the class token and the position embedding are parameters there
            owned = dict(net.named_parameters())[where]
            assert owned.numel() == row.params, where
            continue
        out = seen[where]
        out = out[0] if isinstance(out, tuple) else out  # MultiheadAttention: (output, weights)
        assert _as_convcalc(out, row) == row.output.as_list(), where  # type: ignore[union-attr]
        assert sum(p.numel() for p in modules[where].parameters()) == row.params, where
        compared += 1
    assert compared > 12 * 4, "every block's ln_1, self_attention, ln_2 and mlp"


SMALL = """
input: 32x32x3
layers:
  - patchify: {size: 8, width: 16}
    name: conv_proj
  - cls_token:
    name: class_token
  - pos_embed: 17
    name: encoder.pos_embedding
  - dropout: 0.0
    name: encoder.dropout
  - transformer: {heads: 2, mlp: 32}
    name: encoder.layers.encoder_layer_0
  - transformer: {heads: 2, mlp: 32}
    name: encoder.layers.encoder_layer_1
  - layernorm: {over: channels}
    name: encoder.ln
  - class_token_out
  - fc: 10
    name: heads.head
"""


def _copy(theirs: dict[str, torch.Tensor], ours: torch.nn.Module) -> None:
    """torchvision's weights into convcalc's module: the same names (its parameters are `weight`s here)."""
    renamed = {"class_token": "class_token.weight", "encoder.pos_embedding": "encoder.pos_embedding.weight"}
    ours.load_state_dict({renamed.get(k, k): v for k, v in theirs.items()})


def test_a_small_vit_computes_what_torchvision_computes_row_by_row() -> None:
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    torch.manual_seed(0)
    net = models().VisionTransformer(32, 8, 2, 2, 16, 32, num_classes=10).eval()
    spec = load_spec("small.yaml", SMALL)
    report = analyze(spec)
    built = to_module(spec)
    _copy(net.state_dict(), built.module)
    for module in built.module.modules():  # torchvision's LayerNorms: eps 1e-6
        if isinstance(module, torch.nn.LayerNorm):
            module.eps = 1e-6
    x = torch.randn(2, 3, 32, 32)
    seen: dict[str, torch.Tensor] = {}
    for path, module in net.named_modules():
        module.register_forward_hook(lambda _m, _i, out, path=path: seen.setdefault(path, out))
    with torch.no_grad():
        expected = net(x)
        ours = built.outputs(x)
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    at = {r.name: i for i, r in enumerate(report.rows)}
    for name in ("conv_proj", "ln_1", "self_attention", "ln_2", "mlp"):  # the first of each: encoder_layer_0's
        theirs = seen[f"encoder.layers.encoder_layer_0.{name}" if name != "conv_proj" else name]
        theirs = theirs[0] if isinstance(theirs, tuple) else theirs
        mine = ours[report.rows[at[name] if name == "conv_proj" else _first(report.rows, name)].path]
        assert torch.allclose(mine, theirs.flatten(2) if name == "conv_proj" else theirs.transpose(1, 2), atol=1e-5)
    block = seen["encoder.layers.encoder_layer_1"]  # its last row: the second residual add
    assert torch.allclose(ours[report.rows[at["encoder.ln"] - 1].path].transpose(1, 2), block, atol=1e-5)
    assert torch.allclose(ours[report.rows[at["encoder.ln"]].path].transpose(1, 2), seen["encoder.ln"], atol=1e-5)
    assert torch.allclose(ours[report.rows[-1].path], expected, atol=1e-5)


def _first(rows: tuple[LayerRow, ...], name: str) -> int:
    return next(i for i, r in enumerate(rows) if r.name == name)
