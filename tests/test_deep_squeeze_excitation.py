"""Deep squeeze-and-excitation networks keep a finite receptive field (issue 25, point 3).

A global pool sees the whole input and keeps its input's jump (docs/spec.md, "RF"), so 50
squeeze-excitation blocks, in any of the forms real networks write them (torchvision's
SqueezeExcitation with 1x1 convs, a parallel of fc layers, an adaptive pool to 1), between convs
with strides, leave every pool's and every excitation's receptive field at the input's extent
and every merge at the larger of its branches' (checked against the formula, block by block).
And the networks that passed convcalc's 10^30 limit before, imported from torchvision
(regnet_y_128gf, efficientnet_b7), now `show` with exit 0.
"""

from __future__ import annotations

from fractions import Fraction
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.torchvision_models.
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.cli import main

if TYPE_CHECKING:
    from pathlib import Path

BLOCKS = 50
# The forms of a squeeze-excitation block on C channels: EfficientNet's and RegNet's (torchvision's
# SqueezeExcitation: 1x1 convs), SENet's (fc layers in a parallel), and one with an adaptive pool.
FORMS = (
    (
        "  - residual: {merge: multiply, layers: [gap, {conv: {filters: 2, size: 1, activation: silu}},"
        " {conv: {filters: 8, size: 1, activation: sigmoid}}]}\n"
    ),
    "  - parallel: {merge: multiply, branches: [[], [gap, fc-2, relu, fc-8, sigmoid]]}\n",
    "  - parallel: {merge: multiply, branches: [[adaptive_avgpool1, conv1-4, relu, conv1-8, hardsigmoid], []]}\n",
)
POOLS = {"global_pool", "adaptive_pool"}


@st.composite
def networks(draw: Any) -> tuple[int, list[tuple[int, int]], str]:
    """An input size, 50 blocks (a conv k x k with stride s, then a squeeze-excitation form), the spec."""
    size = draw(st.integers(8, 96))
    blocks: list[tuple[int, int]] = []
    text = ""
    side = size
    for _ in range(BLOCKS):
        k = draw(st.sampled_from([1, 3, 5]))
        s = draw(st.sampled_from([1, 2])) if side > 1 else 1
        side = (side + 2 * (k // 2) - k) // s + 1
        blocks.append((k, s))
        text += f"  - conv{k}-8 s{s} p{k // 2}\n" + draw(st.sampled_from(FORMS))
    return size, blocks, f"input: {size}x{size}x8\nrounding: floor\nlayers:\n{text}"


@pytest.mark.slow
@settings(max_examples=15, deadline=None)
@given(net=networks())
def test_fifty_squeeze_excitation_blocks_keep_the_field_at_the_inputs_extent(
    net: tuple[int, list[tuple[int, int]], str],
) -> None:
    size, blocks, text = net
    report = analyze(load_spec("se.yaml", text))
    assert report.ok, [d.message for d in report.diagnostics]
    merges = [r for r in report.rows if r.kind == "multiply"]
    assert len(merges) == BLOCKS
    inside = [r for m in merges for r in report.rows if r.path.startswith(f"{m.path}.")]
    assert len(inside) == 3 * BLOCKS + sum(1 for r in inside if r.kind == "activation")  # pool, squeeze, excite
    assert {inside[0].kind, *(r.kind for r in inside if r.kind in POOLS)} <= POOLS
    for row in inside:  # the pool, and what works on its one position (the excitation), see the whole input
        assert row.rf == (size, size), (row.path, row.kind, row.rf)
    rf, jump = 1, 1
    for (k, s), merge in zip(blocks, merges, strict=True):
        rf, jump = max(rf + (k - 1) * jump, size), jump * s  # the conv, then the larger branch
        assert merge.rf == (rf, rf), merge.path
        assert merge.jump == (jump, jump), merge.path


def test_an_adaptive_pool_to_1_sees_the_whole_input_along_that_dim() -> None:
    # Along the dim pooled to 1, the input's extent and the input's jump (the conv's 2); along the
    # other, PyTorch's windows: the conv gives 10, 10 → 3 takes windows of up to 4, so the field
    # is 3 + (4 − 1)·2 and the jump 2 times the average step, 10/3.
    spec = load_spec("a.yaml", "input: 21x23x2\nlayers: [conv3-2 s2, {adaptive_avgpool: [3, 1]}, fc-2]")
    pool = analyze(spec).rows[2]
    assert pool.output is not None
    assert pool.output.as_list() == [3, 1, 2]
    assert (pool.rf, pool.jump) == ((3 + 3 * 2, 23), (Fraction(20, 3), 2))
    five = load_spec("5.yaml", _adaptive_se(5))
    assert max(analyze(five).rows[-1].rf) == 32  # not (32·32)^5: nothing compounds


def _adaptive_se(blocks: int) -> str:
    return "input: 32x32x8\nlayers:\n" + FORMS[2] * blocks


@pytest.mark.slow
@pytest.mark.torch
@pytest.mark.parametrize(("name", "side"), [("regnet_y_128gf", 384), ("efficientnet_b7", 600)])
def test_the_deepest_imported_networks_show_with_exit_0(
    name: str, side: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = pytest.importorskip("torch")

    from convcalc.bridges.importer import import_model  # noqa: PLC0415 - imports torch

    # RegNet's builder computes its widths with torch, so it cannot run on the meta device; with
    # torch.nn.init's functions doing nothing, its 2.6 GB of weights are allocated, never written,
    # and moved to the meta device before a page of them is touched.
    inits = ("kaiming_uniform_", "kaiming_normal_", "uniform_", "normal_", "zeros_", "ones_", "constant_")
    for f in inits:
        monkeypatch.setattr(torch.nn.init, f, lambda t, *_, **__: t)
    net = getattr(models(), name)(weights=None).eval().to("meta")
    monkeypatch.undo()
    spec = tmp_path / f"{name}.yaml"
    spec.write_text(import_model(f"torchvision.models:{name}", f"{side}x{side}x3", model=net).text, encoding="utf-8")
    shown = CliRunner().invoke(main, ["show", str(spec), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    report = analyze(load_spec(str(spec)))
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert all(r.rf == (side, side) for r in report.rows if r.kind in POOLS | {"fc"})
    assert max(max(r.rf) for r in report.rows if r.rf) < 10 * side  # the convs' own growth, nothing compounded
