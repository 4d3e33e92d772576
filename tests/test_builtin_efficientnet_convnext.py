"""The built-ins efficientnet_b0 and convnext_tiny against torchvision's models (issue 25; slow, torch).

torchvision's model (weights=None, eval, 224x224) is the oracle: its params (`sum(p.numel())`),
its MACs (`torch.utils.flop_counter.FlopCounterMode`'s count ÷ 2), the output of each of its
Conv2d, Linear, BatchNorm2d and LayerNorm modules (a forward hook) against the report row of the
spec's module of the same name, and its values: its state_dict, the batchnorms' statistics and
ConvNeXt's layer scale drawn at random first, loads into the module `to_module` builds from the
spec, and both give the same output. Where torchvision holds a tensor in another shape (a Linear
on channels-last positions is the spec's 1x1 conv, (out, in) against (out, in, 1, 1); the layer
scale is a parameter C x 1 x 1 where the spec's `scale` is a depthwise conv), the test reshapes
it, and only where the number of values agrees.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.torchvision_models.
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.bridges.program import program
from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze

if TYPE_CHECKING:
    from convcalc.report import Report

pytestmark = [pytest.mark.slow, pytest.mark.torch]
torch = pytest.importorskip("torch")

NAMES = ["efficientnet_b0", "convnext_tiny"]
# The report rows that are torchvision modules, by kind; and those modules' classes.
HOOKED = {"conv": ("Conv2d", "Linear"), "fc": ("Linear",), "batchnorm": ("BatchNorm2d",), "layernorm": ("LayerNorm",)}
TOLERANCE = 1e-4  # of the largest output


def torchvision_model(name: str) -> Any:
    """torchvision's model, seeded, in eval mode, its batchnorms' statistics and layer scales drawn at random."""
    torch.manual_seed(0)
    net = getattr(models(), name)(weights=None)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
        for key, p in net.named_parameters():
            if key.endswith("layer_scale"):  # 1e-6 at first: each block would add almost nothing
                p.uniform_(0.5, 1.5)
    return net.eval()


def hooked(net: Any, x: Any) -> tuple[dict[str, list[int]], Any]:
    """The output volume of each Conv2d, Linear, BatchNorm2d and LayerNorm by name (convcalc's order); the output."""
    classes = {c for cs in HOOKED.values() for c in cs}
    seen: dict[str, list[int]] = {}

    def hook(name: str) -> Any:
        def record(module: Any, _: Any, out: Any) -> None:
            shape = list(out.shape)
            channels_last = isinstance(module, torch.nn.Linear) or type(module).__name__ == "LayerNorm"
            seen[name] = shape[1:] if channels_last and len(shape) > 2 else [*shape[2:], shape[1]]

        return record

    for name, module in net.named_modules():
        # ConvNeXt's LayerNorm2d, a LayerNorm that permutes to channels last and back: N x C x H x W.
        if type(module).__name__ in {*classes, "LayerNorm2d"}:
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        out = net(x)
    return seen, out


def rows_by_module(name: str) -> tuple[Report, dict[str, str]]:
    """The spec's report, and each of its modules' row (by path), by the module's PyTorch name."""
    spec = open_spec(name)
    report = analyze(spec)
    return report, {".".join(a.path): a.row for a in program(spec, report).attributes}


@pytest.mark.parametrize("name", NAMES)
def test_the_builtin_has_torchvisions_params_and_macs(name: str) -> None:
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415 - torch only once it is there

    with torch.device("meta"):
        net = getattr(models(), name)(weights=None).eval()
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        net(torch.zeros(1, 3, 224, 224, device="meta"))
    totals = analyze(open_spec(name)).totals
    assert totals.params == sum(p.numel() for p in net.parameters())
    assert totals.macs == counter.get_total_flops() // 2
    assert totals.output is not None
    assert totals.output.as_list() == [1000]


def spec_state(theirs: dict[str, Any], mine: dict[str, Any]) -> dict[str, Any]:
    """torchvision's state_dict under the spec's names and shapes: layer_scale is `layer_scale.weight`."""
    state = {}
    for key, value in theirs.items():
        target = f"{key}.weight" if key.endswith("layer_scale") else key
        assert target in mine, f"torchvision's {key} is not in the spec's module"
        assert mine[target].numel() == value.numel(), key
        state[target] = value.reshape(mine[target].shape)
    return state


@pytest.mark.parametrize("name", NAMES)
def test_the_builtin_has_torchvisions_volumes_and_computes_its_values(name: str) -> None:
    from convcalc.pytorch import to_module  # noqa: PLC0415 - needs torch

    net = torchvision_model(name)
    x = torch.randn(1, 3, 224, 224, generator=torch.Generator().manual_seed(1))
    seen, want = hooked(net, x)
    # Every conv, fc and norm row is the torchvision module of its name, with that module's output.
    report, modules = rows_by_module(name)
    rows = {r.path: r for r in report.rows}
    wanted = [r.path for r in report.rows if r.kind in HOOKED]
    assert len(wanted) == len(seen)  # one torchvision module for each such row, and no other
    matched = []
    for module, volume in seen.items():
        assert module in modules, f"{name}: torchvision's {module} has no module of that name in the spec"
        row = rows[modules[module]]
        assert row.kind in HOOKED, (module, row.kind)
        assert row.output is not None
        assert row.output.as_list() == volume, f"{name} {module}"
        matched.append(row.path)
    assert sorted(matched) == sorted(wanted)
    # And with torchvision's weights, the spec's module computes torchvision's output.
    built = to_module(open_spec(name)).module
    result = built.load_state_dict(spec_state(net.state_dict(), built.state_dict()), strict=True)
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    # ConvNeXt's LayerNorms take eps 1e-6, which is not in a spec (convcalc's plan has PyTorch's
    # default, 1e-5: the outputs would differ by 1e-3); each takes its torchvision module's.
    theirs = dict(net.named_modules())
    for key, module in built.named_modules():
        if isinstance(module, torch.nn.LayerNorm):
            module.eps = theirs[key].eps
    with torch.no_grad():
        got = built(x)
    assert want.shape == (1, 1000)
    assert want.abs().max() > 0.1  # a real signal, not zeros compared with zeros
    delta = float((got - want).abs().max())
    assert delta <= TOLERANCE * float(want.abs().max()), delta
