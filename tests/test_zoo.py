"""Every built-in spec against published figures, and against PyTorch row by row."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

from convcalc.builtins import builtin_names, open_spec
from convcalc.engine.analyze import analyze
from convcalc.fold import fold
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.spec.model import Spec

# Params: torchvision's `num_params` and the counts of ../shared/reference/figures.md;
# GMACs: torchvision's `_ops` (shown there as "GFLOPS", multiply-accumulates) to 3 decimals.
PUBLISHED: dict[str, tuple[int, float | None]] = {
    "vgg11": (132_863_336, 7.609),
    "vgg13": (133_047_848, 11.308),
    "vgg16": (138_357_544, 15.47),
    "vgg19": (143_667_240, 19.632),
    "alexnet": (62_378_344, None),
    "alexnet-paper": (60_965_224, None),
    "resnet18": (11_689_512, 1.814),
    "resnet34": (21_797_672, 3.664),
    "resnet50": (25_557_032, 4.089),
    "resnet50-paper": (25_557_032, 3.858),  # torchvision's resnet50, stride moved (tests/test_resnet_paper.py)
    "densenet121": (7_978_856, 2.834),
    "shufflenet_v2_x1_0": (2_278_604, 0.145),
    "vit_b_16": (86_567_656, 17.564),
    "vit_b_32": (88_224_232, 4.409),
}

# The papers' own figures (LeNet-5: LeCun et al. 1998; GoogLeNet: Szegedy et al. 2014, Table 1).
GOOGLENET_OUTPUTS = {
    "inception_3a": [28, 28, 256],
    "inception_3b": [28, 28, 480],
    "inception_4a": [14, 14, 512],
    "inception_4b": [14, 14, 512],
    "inception_4c": [14, 14, 512],
    "inception_4d": [14, 14, 528],
    "inception_4e": [14, 14, 832],
    "inception_5a": [7, 7, 832],
    "inception_5b": [7, 7, 1024],
}


@pytest.mark.parametrize("name", builtin_names())
def test_builtin_specs_are_clean(name: str) -> None:
    report = analyze(open_spec(name))
    assert report.ok, [d.message for d in report.diagnostics]
    assert report.totals.output is not None
    assert report.description, "every built-in spec cites its source"


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_published_figures(name: str) -> None:
    if name not in builtin_names():
        pytest.fail(f"built-in spec {name} is missing")
    params, gmacs = PUBLISHED[name]
    totals = analyze(open_spec(name)).totals
    assert totals.params == params
    if gmacs is not None:
        assert round(totals.macs / 1e9, len(str(gmacs).split(".")[1])) == gmacs


def test_googlenet_modules() -> None:
    report = analyze(open_spec("googlenet"))
    merges = {r.name: r for r in report.rows if r.kind == "concat"}
    assert {name: str(merges[name].output) for name in GOOGLENET_OUTPUTS} == {
        name: "x".join(map(str, shape)) for name, shape in GOOGLENET_OUTPUTS.items()
    }
    for row in merges.values():
        branches = {
            r.path.split(".branches.")[1].split(".")[0]
            for r in report.rows
            if r.path.startswith(row.path + ".branches.")
        }
        assert branches == {"0", "1", "2", "3"}


def test_googlenet_module_ops_match_table_1() -> None:
    # Table 1's "ops" column (multiply-adds) for 3a and 3b: 128M and 304M.
    report = fold(analyze(open_spec("googlenet")), 1)
    macs = {r.name: r.macs for r in report.rows}
    assert round(macs["inception_3a"] / 1e6) == 128
    assert round(macs["inception_3b"] / 1e6) == 304
    modules = [r for r in report.rows if r.name.startswith("inception_")]
    assert [r.kind for r in modules] == ["parallel"] * 9  # --depth 1: one row per module


def test_lenet5_modern_form() -> None:
    report = analyze(open_spec("lenet5"))
    outputs = [r.output.as_list() for r in report.rows if r.output and r.kind in {"conv", "pool", "fc"}]
    assert outputs[:4] == [[28, 28, 6], [14, 14, 6], [10, 10, 16], [5, 5, 16]]
    assert report.totals.output is not None
    assert report.totals.output.as_list() == [10]


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_pytorch_agrees_row_by_row(name: str) -> None:
    agree_row_by_row(open_spec(name), name)


@pytest.mark.torch
@pytest.mark.slow
@pytest.mark.parametrize(("name", "side"), [("resnet18", 112), ("resnet18", 100), ("resnet18", 199), ("resnet50", 97)])
def test_odd_input_sizes_agree_with_pytorch(name: str, side: int) -> None:
    # At 7x7 a 3x3/2 pad 1 conv and torchvision's 1x1/2 downsample both give 4x4: the `auto`
    # shortcut takes the body's stride, 2.
    spec = replace(open_spec(name), input=Volume((side, side), 3), expectations=())
    report = analyze(spec)
    assert report.ok, [d.message for d in report.diagnostics]
    agree_row_by_row(spec, f"{name} at {side}")


def agree_row_by_row(spec: Spec, name: str) -> None:
    torch = pytest.importorskip("torch")  # here, so that the tests above run without torch
    from convcalc.pytorch import shape_of, to_module, zero_input  # noqa: PLC0415 - needs torch

    report = analyze(spec)
    built = to_module(spec)
    with torch.no_grad():
        seen = {path: shape_of(out) for path, out in built.outputs(zero_input(spec)).items()}
    for row in report.rows[1:]:
        assert row.output is not None
        assert seen[row.path] == row.output.as_list(), f"{name} {row.path} {row.name}"
    assert sum(p.numel() for p in built.module.parameters()) == report.totals.params
    assert (
        sum(b.numel() for n, b in built.module.named_buffers() if not n.endswith("num_batches_tracked"))
        == report.totals.buffers
    )
