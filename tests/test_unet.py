"""The built-in `unet` against Ronneberger et al. 2015 and against a U-Net written in PyTorch.

The reference below is U-Net as its paper describes it (Section 2, Fig. 1), written the way
PyTorch implementations write it, independently of convcalc's spec and program: each level two
valid 3x3 convs with relu, 2x2 max pools, 2x2 up-convs, the copy cropped with `(h - th) // 2`
and concatenated before the up-conv's channels, a final 1x1 conv. Forward hooks record what each
of its modules outputs; the crop and the concat are modules so that hooks see them too. Shapes
are checked on PyTorch's meta device (no arithmetic), values on the CPU at 188x188; both are
slow tests (the meta device's first pass costs more than a second). The inner loop has the
paper's figures here, and the crop's PyTorch view in test_crop.py.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze
from convcalc.volume import Volume

if TYPE_CHECKING:
    import torch

    from convcalc.report import Report

# Ronneberger et al. 2015, Fig. 1: the map sizes of the contracting path's copies and of what
# they are cropped to, level 1 (top) to 4; the output map.
FIG1_CROPS = {1: (568, 392), 2: (280, 200), 3: (136, 104), 4: (64, 56)}
FIG1_OUTPUT = [388, 388, 2]
PARAMS = 31_030_658  # issue 14: Fig. 1's layers, weights and biases

# The row kind convcalc gives what each reference module computes.
ROW_KIND = {"Conv2d": "conv", "MaxPool2d": "pool", "ConvTranspose2d": "deconv", "Crop": "crop", "Cat": "concat"}


def unet_report() -> Report:
    return analyze(open_spec("unet"))


def test_the_papers_figures() -> None:
    report = unet_report()
    assert report.ok, [d.message for d in report.diagnostics]
    assert all(c.ok for c in report.checks)
    assert report.totals.output is not None
    assert report.totals.output.as_list() == FIG1_OUTPUT
    assert report.totals.params == PARAMS
    crops = [r for r in report.rows if r.kind == "crop"]
    # The deepest level's crop comes first in the walk.
    assert [(r.input.spatial[0], r.output.spatial[0]) for r in crops if r.input and r.output] == [
        FIG1_CROPS[level] for level in (4, 3, 2, 1)
    ]
    assert all(r.activations == 0 for r in crops)


def test_the_sizes_that_fit_are_every_16th_from_188() -> None:
    # Four 2x2 pools between valid convs: the input must be 16k + 12 and the bottom at least 1x1.
    spec = open_spec("unet")
    for side in (187, 188, 189, 196, 204, 572, 588):
        report = analyze(replace(spec, input=Volume((side, side), 1), expectations=()))
        assert report.ok is (side >= 188 and side % 16 == 12), side


def reference_unet() -> torch.nn.Module:
    """U-Net (Ronneberger et al. 2015, Section 2) as PyTorch code writes it."""
    import torch  # noqa: PLC0415 - only the torch tests call this
    from torch import nn  # noqa: PLC0415
    from torch.nn.functional import relu  # noqa: PLC0415

    class Crop(nn.Module):
        def forward(self, skip: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
            h, w = like.shape[2:]
            top, left = (skip.shape[2] - h) // 2, (skip.shape[3] - w) // 2
            return skip[:, :, top : top + h, left : left + w]

    class Cat(nn.Module):
        def forward(self, skip: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
            return torch.cat([skip, up], dim=1)

    class UNet(nn.Module):
        def __init__(self, widths: tuple[int, ...] = (64, 128, 256, 512, 1024), classes: int = 2) -> None:
            super().__init__()
            ins = (1, *widths[:-1])
            # Two 3x3 convs per level, contracting (down) then expanding (up_convs).
            self.down = nn.ModuleList(
                c for i, w in zip(ins, widths, strict=True) for c in (nn.Conv2d(i, w, 3), nn.Conv2d(w, w, 3))
            )
            self.pools = nn.ModuleList(nn.MaxPool2d(2) for _ in widths[:-1])
            self.ups = nn.ModuleList(nn.ConvTranspose2d(w, w // 2, 2, stride=2) for w in reversed(widths[1:]))
            self.crops = nn.ModuleList(Crop() for _ in widths[:-1])
            self.cats = nn.ModuleList(Cat() for _ in widths[:-1])
            self.up_convs = nn.ModuleList(
                c for w in reversed(widths[1:]) for c in (nn.Conv2d(w, w // 2, 3), nn.Conv2d(w // 2, w // 2, 3))
            )
            self.out = nn.Conv2d(widths[0], classes, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for level in range(len(self.down) // 2):
                x = relu(self.down[2 * level + 1](relu(self.down[2 * level](x))))
                if level < len(self.pools):
                    skips.append(x)
                    x = self.pools[level](x)
            for level, (up, crop, cat) in enumerate(zip(self.ups, self.crops, self.cats, strict=True)):
                x = up(x)
                x = cat(crop(skips.pop(), x), x)
                x = relu(self.up_convs[2 * level + 1](relu(self.up_convs[2 * level](x))))
            out: torch.Tensor = self.out(x)
            return out

    return UNet()


def hooked(torch: Any, net: torch.nn.Module, x: torch.Tensor) -> list[tuple[torch.nn.Module, torch.Tensor]]:
    """(module, output) for every module the forward pass calls, in order."""
    calls: list[tuple[torch.nn.Module, torch.Tensor]] = []
    handles = [
        m.register_forward_hook(lambda m, _, out: calls.append((m, out)))
        for m in net.modules()
        if type(m).__name__ in ROW_KIND
    ]
    try:
        with torch.no_grad():
            net(x)
    finally:
        for h in handles:
            h.remove()
    return calls


@pytest.mark.torch
@pytest.mark.slow  # the meta device's first forward pass loads its kernels: about 1.4 s
def test_every_row_against_the_reference_on_the_meta_device() -> None:
    torch = pytest.importorskip("torch")
    from convcalc.pytorch import shape_of  # noqa: PLC0415 - needs torch

    report = unet_report()
    with torch.device("meta"):
        net = reference_unet()
        x = torch.zeros(1, 1, 572, 572)
    calls = hooked(torch, net, x)
    mine = [(r.kind, r.output.as_list() if r.output else None, r.params) for r in report.rows[1:]]
    theirs = [(ROW_KIND[type(m).__name__], shape_of(out), sum(p.numel() for p in m.parameters())) for m, out in calls]
    assert mine == theirs
    assert sum(p.numel() for p in net.parameters()) == report.totals.params == PARAMS


@pytest.mark.torch
@pytest.mark.slow
def test_to_module_on_the_meta_device() -> None:
    torch = pytest.importorskip("torch")
    from convcalc.pytorch import shape_of, to_module  # noqa: PLC0415 - needs torch

    spec = open_spec("unet")
    report = analyze(spec)
    with torch.device("meta"):
        built = to_module(spec)
        seen = built.outputs(torch.zeros(1, 1, 572, 572))
    assert {r.path: r.output.as_list() for r in report.rows[1:] if r.output} == {
        path: shape_of(out) for path, out in seen.items()
    }
    assert sum(p.numel() for p in built.module.parameters()) == PARAMS


@pytest.mark.torch
@pytest.mark.slow
def test_to_module_computes_what_the_reference_computes() -> None:
    # At 188x188, the smallest input U-Net takes (output 4x4x2), with the reference's weights
    # copied into to_module's modules in the order both call them.
    torch = pytest.importorskip("torch")
    from convcalc.pytorch import to_module  # noqa: PLC0415 - needs torch

    spec = open_spec("unet")
    small = replace(spec, input=Volume((188, 188), 1), expectations=())
    torch.manual_seed(0)
    reference, built = reference_unet().eval(), to_module(small)
    x = torch.randn(1, 1, 188, 188, generator=torch.Generator().manual_seed(1))
    theirs = [m for m, _ in hooked(torch, reference, x) if any(True for _ in m.parameters())]
    mine = [m for m, _ in hooked(torch, built.module, x) if any(True for _ in m.parameters())]
    assert [type(m) for m in mine] == [type(m) for m in theirs]
    with torch.no_grad():
        for m, r in zip(mine, theirs, strict=True):
            m.load_state_dict(r.state_dict())
        want, got = reference(x), built.module(x)
    assert got.shape == (1, 2, 4, 4)
    assert torch.equal(want, got), float((want - got).abs().max())
