"""`convcalc import` of functional ops and tensor methods, eval-only modules, parameters read as values (issue 25).

Small models traced with torch.fx: each spec's report is compared with what PyTorch computes on
the same input (the output's shape, `sum(p.numel())`), not with convcalc's own output.
"""

from __future__ import annotations

from typing import Any

import pytest

from convcalc.bridges.importer import ModelError, import_model
from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError
from convcalc.spec.loader import load_spec

pytestmark = pytest.mark.torch
pytest.importorskip("torch")
import torch  # noqa: E402 - after the skip
from torch import nn  # noqa: E402
from torch.nn import functional as F  # noqa: E402, N812 - PyTorch's own name for it


class Net(nn.Module):
    """A conv, then `body(self, x)`, then (when `head`) an fc of 10."""

    def __init__(self, body: Any, *, head: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.body = body
        self.fc = nn.LazyLinear(10) if head else None

    def forward(self, x: Any) -> Any:
        x = self.body(self.conv(x))
        return self.fc(x) if self.fc is not None else x


def _net(body: Any, *, head: bool = False, size: int = 16) -> Any:
    net = Net(body, head=head)
    if head:
        net(torch.zeros(1, 3, size, size))  # the lazy fc learns its features
    return net.eval()


def _imported(net: Any, size: int = 16, *, opaque: bool = False) -> tuple[str, Any]:
    text = import_model("net.py:Net", f"{size}x{size}x3", model=net, opaque=opaque).text
    return text, analyze(load_spec("net.yaml", text))


def _output(net: Any, size: int = 16) -> list[int]:
    with torch.no_grad():
        out = net(torch.zeros(1, 3, size, size))
    return [*out.shape[2:], out.shape[1]]


@pytest.mark.parametrize(
    "body",
    [
        lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True),
        lambda x: F.max_pool2d(x, kernel_size=2),
        lambda x: F.max_pool2d(x, 3, stride=1, padding=1, dilation=2),
        lambda x: F.avg_pool2d(x, 3, stride=2, padding=1),
        lambda x: F.avg_pool2d(x, 2, 2, 0, True),  # noqa: FBT003 - ceil_mode at its place
        lambda x: F.avg_pool2d(x, kernel_size=(3, 2), stride=(1, 2)),
    ],
)
def test_a_functional_pool_has_pytorchs_volume(body: Any) -> None:
    net = _net(body)
    text, report = _imported(net, 17)
    assert "opaque" not in text
    assert report.rows[-1].kind == "pool"
    assert report.rows[-1].output.as_list() == _output(net, 17)


class Pool3d(nn.Module):
    """A 3-D conv, then F.max_pool3d and F.avg_pool3d."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv3d(2, 4, 3, padding=1)

    def forward(self, x: Any) -> Any:
        return F.avg_pool3d(F.max_pool3d(self.conv(x), 2, ceil_mode=True), 3, stride=1, padding=1)


def test_a_functional_3d_pool_has_pytorchs_volume() -> None:
    net = Pool3d().eval()
    text = import_model("p.py:Pool3d", "9x8x7x2", model=net).text
    report = analyze(load_spec("p.yaml", text))
    with torch.no_grad():
        out = net(torch.zeros(1, 2, 9, 8, 7))
    assert [r.kind for r in report.rows[-2:]] == ["pool", "pool"]
    last = report.rows[-1].output
    assert last is not None
    assert last.as_list() == [*out.shape[2:], out.shape[1]]


def test_a_functional_pools_arguments_are_written_as_a_person_would() -> None:
    text, _ = _imported(_net(lambda x: F.avg_pool2d(F.max_pool2d(x, 3, 2, 1, ceil_mode=True), 2)))
    assert "maxpool3 s2 p1 ceil" in text
    assert "avgpool2" in text


@pytest.mark.parametrize(
    "body",
    [
        lambda x: F.max_pool2d(x, 2, return_indices=True)[0],
        lambda x: F.avg_pool2d(x, 2, divisor_override=3),
    ],
)
def test_a_functional_pool_convcalc_cannot_write_is_refused(body: Any) -> None:
    with pytest.raises(ModelError, match="no layer kind for"):
        _imported(_net(body))


@pytest.mark.parametrize(
    "body",
    [
        lambda x: x.mean((2, 3)),
        lambda x: x.mean([-2, -1]),
        lambda x: torch.flatten(torch.mean(x, (2, 3), keepdim=True), 1),
        lambda x: x.mean(dim=(3, 2), keepdim=False),
    ],
)
def test_a_mean_over_the_spatial_dims_is_a_global_average_pool(body: Any) -> None:
    net = _net(body, head=True)
    text, report = _imported(net)
    assert "gap" in text
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert report.rows[-1].output.as_list() == _output(net)


@pytest.mark.parametrize(
    "body",
    [lambda x: x.mean(1), lambda x: x.mean(), lambda x: x.mean(2), lambda x: torch.mean(x, (0, 2, 3))],
)
def test_a_mean_over_other_dims_is_no_pool(body: Any) -> None:
    with pytest.raises(ModelError, match="no layer kind for"):
        _imported(_net(body))


def test_a_mean_over_a_vectors_dims_is_no_pool() -> None:
    net = _net(lambda x: torch.flatten(x, 1).mean(1, keepdim=True))
    with pytest.raises(ModelError, match=r"mean \(\.mean\)"):
        _imported(net)


@pytest.mark.parametrize("body", [lambda x: torch.flatten(x, 1), lambda x: x.flatten(1)])
def test_a_flatten_before_an_fc_is_left_to_the_fc(body: Any) -> None:
    net = _net(body, head=True)
    text, report = _imported(net)
    assert "flatten" not in text
    assert report.totals.params == sum(p.numel() for p in net.parameters())


class Norm(nn.Module):
    """An fc, then F.layer_norm over its features (with the module's weight and bias, or none)."""

    def __init__(self, *, affine: bool) -> None:
        super().__init__()
        self.fc = nn.Linear(12, 6)
        self.weight = nn.Parameter(torch.ones(6)) if affine else None
        self.bias = nn.Parameter(torch.zeros(6)) if affine else None

    def forward(self, x: Any) -> Any:
        return F.layer_norm(self.fc(torch.flatten(x, 1)), (6,), self.weight, self.bias)


@pytest.mark.parametrize("affine", [True, False])
def test_a_layer_norm_over_a_vectors_features_is_a_layernorm(affine: bool) -> None:  # noqa: FBT001
    net = Norm(affine=affine).eval()
    text = import_model("n.py:Norm", "2x2x3", model=net).text
    report = analyze(load_spec("n.yaml", text))
    assert report.rows[-1].kind == "layernorm"
    assert ("affine: false" in text) is not affine
    assert report.totals.params == sum(p.numel() for p in net.parameters())


def test_a_layer_norm_over_a_grids_last_dim_is_no_layernorm() -> None:
    net = _net(lambda x: F.layer_norm(x, (16,)))
    with pytest.raises(ModelError, match=r"layer_norm \(F\.layer_norm\)"):
        _imported(net)


class Gamma(nn.Module):
    """A conv, then a multiply by a learned per-column parameter (a layer scale is per channel: `scale`), then ReLU."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3)
        self.gamma = nn.Parameter(torch.ones(1, 1, 14))

    def forward(self, x: Any) -> Any:
        return torch.relu(self.conv(x) * self.gamma)


def test_a_multiply_by_a_parameter_is_no_merge_and_is_refused() -> None:
    with pytest.raises(ModelError, match=r"mul \(operator\.mul\): reads conv, gives 1x8x14x14"):
        import_model("g.py:Gamma", "16x16x3", model=Gamma().eval())


def test_an_opaque_layer_keeps_the_parameters_it_reads() -> None:
    net = Gamma().eval()
    text = import_model("g.py:Gamma", "16x16x3", model=net, opaque=True).text
    report = analyze(load_spec("g.yaml", text))
    assert "weights: 14" in text
    assert report.totals.params == sum(p.numel() for p in net.parameters())


class Shared(nn.Module):
    """One parameter read by two ops: counted once."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(3, 3))

    def forward(self, x: Any) -> Any:
        return F.linear(F.linear(torch.flatten(x, 1), self.w), self.w)


def test_a_parameter_two_ops_read_is_counted_once() -> None:
    net = Shared().eval()
    report = analyze(load_spec("s.yaml", import_model("s.py:Shared", "1x1x3", model=net, opaque=True).text))
    assert report.totals.params == sum(p.numel() for p in net.parameters()) == 9


class Aux(nn.Module):
    """A head only training calls (GoogLeNet's auxiliary classifiers)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.aux = nn.Sequential(nn.Conv2d(4, 4, 1), nn.Flatten(), nn.LazyLinear(5))
        self.aux2 = nn.Linear(3, 3)
        self.aux(torch.zeros(1, 4, 6, 6))

    def forward(self, x: Any) -> Any:
        x = self.conv(x)
        if self.training:
            return x, self.aux(x), self.aux2
        return x


def test_a_module_only_training_calls_is_left_out_and_its_params_noted() -> None:
    net = Aux()
    net.train()  # the import puts it in evaluation mode itself
    text = import_model("a.py:Aux", "8x8x3", model=net).text
    report = analyze(load_spec("a.yaml", text))
    held = sum(p.numel() for m in (net.aux, net.aux2) for p in m.parameters())
    assert report.totals.params == sum(p.numel() for p in net.conv.parameters())
    assert f"does not call aux, aux2 (an output only training uses): it holds {held:,} params more" in text


def test_a_model_that_does_not_run_on_the_input_says_why_with_no_hint_of_torchvisions() -> None:
    with pytest.raises(ConvcalcError, match=r"does not run on a 2x2x3 input: RuntimeError: [^;]*$"):
        import_model("net.py:Net", "2x2x3", model=_net(lambda x: F.max_pool2d(x, 5)))
