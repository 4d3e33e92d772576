"""The built-in resnet50-paper against a PyTorch model built the same way.

The paper's ResNet-50 (v1) puts a downsampling bottleneck's stride in its first 1x1 conv;
torchvision's Bottleneck (v1.5) puts it in the 3x3 (conv2). The oracle is torchvision's resnet50
with that stride moved back: conv1's stride set to conv2's, and conv2's to 1. Its params, every
row's output volume (forward hooks) and its MACs (counted from the hooks) must be convcalc's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze

if TYPE_CHECKING:
    from convcalc.report import LayerRow, Report

PARAMS = 25_557_032
MACS = 3_857_973_248  # counted below from PyTorch's own shapes; the paper's Table 1 says "3.8 x 10^9"


def paper_resnet50() -> Any:
    """torchvision's resnet50 with each downsampling stride moved from conv2 (3x3) to conv1 (1x1)."""
    net = models().resnet50(weights=None)
    moved = 0
    for block in net.modules():
        if type(block).__name__ == "Bottleneck" and block.conv2.stride != (1, 1):
            block.conv1.stride, block.conv2.stride = block.conv2.stride, (1, 1)
            moved += 1
    assert moved == 3  # layer2.0, layer3.0, layer4.0
    return net.eval()


def module_name(row: LayerRow, report: Report) -> str:
    """The torchvision module that computes a row: layer2.0.conv1, layer2.0.downsample.0, layer2.0 (the add)."""
    groups = {g.path: g.name for g in report.groups}
    parts = row.path.split(".")
    if len(parts) == 1:
        return groups.get(row.path, row.name)
    block = groups[parts[0]]
    return f"{block}.downsample.{parts[2]}" if parts[1] == "shortcut" else f"{block}.{row.name}"


@pytest.mark.torch
@pytest.mark.slow
def test_resnet50_paper_is_torchvisions_with_the_stride_moved() -> None:
    net = paper_resnet50()
    import torch  # noqa: PLC0415 - models() skipped the test if torch is missing

    calls: dict[str, list[list[int]]] = {}
    macs = 0

    def hook(name: str) -> Any:
        def record(module: Any, _inputs: Any, output: Any) -> None:
            nonlocal macs
            shape = list(output.shape[1:])
            calls.setdefault(name, []).append([*shape[1:], shape[0]] if len(shape) == 3 else shape)
            if isinstance(module, torch.nn.Conv2d):
                kh, kw = module.kernel_size
                macs += output[0].numel() * module.in_channels // module.groups * kh * kw
            elif isinstance(module, torch.nn.Linear):
                macs += module.in_features * module.out_features

        return record

    for name, module in net.named_modules():
        if name:
            module.register_forward_hook(hook(name))
    with torch.no_grad():
        net(torch.zeros(1, 3, 224, 224))

    report = analyze(open_spec("resnet50-paper"))
    assert report.ok, [d.message for d in report.diagnostics]
    used: dict[str, int] = {}
    compared = 0
    for row in report.rows[1:]:
        assert row.output is not None
        name = module_name(row, report)
        call = used.get(name, 0)  # a Bottleneck's one relu runs three times
        used[name] = call + 1
        want = calls[name][call]
        assert row.output.as_list() == (want if row.kind != "fc" else want[-1:]), f"{row.path} {name}"
        compared += 1
    assert compared == len(report.rows) - 1
    assert sum(p.numel() for p in net.parameters()) == report.totals.params == PARAMS
    assert macs == report.totals.macs == MACS
