"""`convcalc import` of channels-last regions (ConvNeXt's block) and the layer-scale multiply (issue 25).

A tiny ConvNeXt-like network, traced with torch.fx: its spec's params are `sum(p.numel())`, its
MACs what FlopCounterMode counts (÷ 2), its output PyTorch's; what is not read is refused by name.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc.bridges.importer import ModelError, import_model
from convcalc.engine.analyze import analyze
from convcalc.spec.loader import load_spec

pytestmark = pytest.mark.torch
pytest.importorskip("torch")
import torch  # noqa: E402 - after the skip
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402, N812 - PyTorch's own name for it


class Block(nn.Module):
    """ConvNeXt's CNBlock, small: depthwise 7x7, channels last, LayerNorm, Linear, GELU, Linear, back, γ·x, + x."""

    def __init__(self, c: int) -> None:
        super().__init__()
        self.dw = nn.Conv2d(c, c, 7, padding=3, groups=c)
        self.norm = nn.LayerNorm(c, eps=1e-6)
        self.up = nn.Linear(c, 4 * c)
        self.act = nn.GELU()
        self.down = nn.Linear(4 * c, c, bias=False)
        self.layer_scale = nn.Parameter(torch.ones(c, 1, 1))

    def forward(self, x: Any) -> Any:
        y = self.dw(x).permute(0, 2, 3, 1)
        y = self.down(self.act(self.up(self.norm(y))))
        return x + self.layer_scale * torch.permute(y, [0, 3, 1, 2])


class Tiny(nn.Module):
    """A stem, a block, a downsampling layer whose norm is F.layer_norm on channels last, a head."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, 8, 4, stride=4)
        self.block = Block(8)
        self.weight = nn.Parameter(torch.ones(8))
        self.bias = nn.Parameter(torch.zeros(8))
        self.gamma = nn.Parameter(torch.ones(8))
        self.reduce = nn.Conv2d(8, 16, 2, stride=2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x: Any) -> Any:
        x = self.block(self.stem(x))
        x = x * torch.sigmoid(x)  # a multiply of two values: a merge, not a scale
        x = x.permute(dims=(0, 2, 3, 1))
        x = F.layer_norm(x, (8,), self.weight, self.bias) * self.gamma
        x = self.reduce(F.relu(x).permute(0, 3, 1, 2))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def _imported(net: Any, size: int = 32) -> tuple[str, Any]:
    text = import_model("net.py:Net", f"{size}x{size}x3", model=net.eval()).text
    return text, analyze(load_spec("net.yaml", text))


def test_a_convnext_like_network_imports_with_pytorchs_params_macs_and_output() -> None:
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415

    net = Tiny()
    text, report = _imported(net)
    assert not [d for d in report.diagnostics if d.severity.value == "error"]
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = net(torch.zeros(1, 3, 32, 32))
    assert report.totals.macs == counter.get_total_flops() // 2  # a Linear's matmul: the 1x1 conv's MACs
    assert report.rows[-1].output is not None
    assert report.rows[-1].output.as_list() == [out.shape[1]]
    kinds = [r.kind for r in report.rows]
    assert kinds.count("layernorm") == 2
    assert kinds.count("scale") == 2
    assert "permute" not in text
    assert "over: channels" in text
    # The Linears are 1x1 convs on the grid: their rows have the grid's volume, as their outputs (N, H, W, C).
    convs = [r.output.as_list() for r in report.rows if r.kind == "conv" and r.output is not None]
    assert [8, 8, 32] in convs
    assert [8, 8, 8] in convs


def test_a_linear_without_bias_and_a_norm_without_affine_say_so() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)
            self.norm = nn.LayerNorm(8, elementwise_affine=False)
            self.fc = nn.Linear(8, 4, bias=False)

        def forward(self, x: Any) -> Any:
            y = F.layer_norm(self.conv(x).permute(0, 2, 3, 1), (8,))
            return self.fc(self.norm(y)).permute(0, 3, 1, 2)

    net = Net()
    text, report = _imported(net, 8)
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert "bias: false" in text
    assert text.count("affine: false") == 2


class Region(nn.Module):
    """A conv of 6 channels, channels last, `body`, back (on 8x8: the channels are not the spatial dims)."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 6, 1)
        self.body = body
        self.w = nn.Parameter(torch.ones(6))
        self.wide = nn.Parameter(torch.ones(8, 1, 6))

    def forward(self, x: Any) -> Any:
        return self.body(self, self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (lambda _, y: y.softmax(-1), "softmax"),
        (lambda _, y: F.layer_norm(y, (8, 6)), "layer_norm"),
        (lambda s, y: F.layer_norm(y, (6,), s.w), "layer_norm"),
        (lambda _, y: y + y, "add"),
        (lambda s, y: y * s.wide, "mul"),
        (lambda _, y: y.permute(0, 2, 1, 3), "permute"),
    ],
    ids=["softmax", "two-dims", "weight-alone", "add", "wide-scale", "other-permute"],
)
def test_another_op_on_channels_last_values_is_refused_by_name(body: Any, refused: str) -> None:
    with pytest.raises(ModelError, match=rf"convcalc has no layer kind for[\s\S]*{refused}[^\n]* on channels-last"):
        _imported(Region(body), 8)


def test_a_layernorm_over_other_dims_on_channels_last_is_refused() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)
            self.norm = nn.LayerNorm((8, 8))

        def forward(self, x: Any) -> Any:
            return self.norm(self.conv(x).permute(0, 2, 3, 1)).permute(0, 3, 1, 2)

    with pytest.raises(ModelError, match=r"norm \(LayerNorm on channels-last values\)"):
        _imported(Net(), 8)


def test_a_model_that_returns_channels_last_values_is_refused() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)

        def forward(self, x: Any) -> Any:
            return F.gelu(self.conv(x).permute(0, 2, 3, 1))

    with pytest.raises(ModelError, match=r"returns gelu, a channels-last value: permute it back"):
        _imported(Net(), 8)


def test_a_permute_not_to_channels_last_and_a_scale_of_other_channels_are_refused_as_before() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 1)
            self.gamma = nn.Parameter(torch.ones(4, 1, 1))  # times one channel: it gives 4
            self.fc = nn.Linear(8, 8)

        def forward(self, x: Any) -> Any:
            x = self.conv(x)
            x = x.permute(0, 1, 3, 2).permute(0, 2, 3, x.dim() - 3)  # the last dims a traced value, not numbers
            v = self.fc(x.mean((1, 2)))
            return x[:, :1] * self.gamma + (v * self.fc.bias).sum()

    with pytest.raises(ModelError) as caught:
        _imported(Net(), 8)
    message = str(caught.value)
    assert "permute (.permute)" in message
    assert "permute_1 (.permute)" in message
    assert "mul (operator.mul)" in message
    assert "on channels-last" not in message
