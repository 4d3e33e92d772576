"""The receptive field of a global pool and of an fc is the input's whole extent (DESIGN §4, issues 23 and 25).

Before, a global pool added (W − 1)·jump to its input's field and multiplied the jump by W, so
every squeeze-excitation block (global pool → fc → broadcast multiply) compounded both, and a
deep network (RegNet Y, EfficientNet) passed convcalc's 10^30 limit; ResNet-50's fc said 675.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec

SE = "  - parallel: {merge: multiply, branches: [[], [gap, fc-2, relu, fc-8, sigmoid]]}\n"


def _se_network(convs: list[int], size: int = 32) -> str:
    layers = "".join(f"  - conv{k}-8 p{k // 2}\n" + SE for k in convs)
    return f"input: {size}x{size}x8\nlayers:\n{layers}"


def test_fc_and_global_pool_see_the_input_in_resnet50_as_in_vgg16() -> None:
    for name in ("resnet50", "vgg16", "densenet121"):
        report = analyze(open_spec(name))
        for row in report.rows:
            if row.kind in {"fc", "global_pool"}:
                assert row.rf == (224, 224), (name, row.name)


def test_fifty_squeeze_excitation_blocks_stay_at_the_inputs_extent() -> None:
    report = analyze(load_spec("se.yaml", _se_network([1] * 50)))
    assert report.ok, report.diagnostics
    seen = [r.rf for r in report.rows if r.kind != "input"]
    assert seen[0] == (1, 1)  # the first 1x1 conv sees one pixel
    assert all(rf == (32, 32) for rf in seen[1:]), seen  # after the first block, the whole input


@pytest.mark.slow
def test_a_deep_squeeze_excitation_network_does_not_pass_the_limit() -> None:
    # 300 blocks: a jump multiplied by 32 per block would pass 10^30 in 20.
    report = analyze(load_spec("se.yaml", _se_network([3] * 300)))
    assert report.ok, report.diagnostics
    assert report.rows[-1].jump == (1, 1)


@settings(max_examples=25, deadline=None)
@given(convs=st.lists(st.sampled_from([1, 3, 5]), min_size=1, max_size=50), size=st.integers(8, 40))
def test_squeeze_excitation_blocks_grow_the_field_only_by_their_convs(convs: list[int], size: int) -> None:
    report = analyze(load_spec("se.yaml", _se_network(convs, size)))
    assert report.ok, report.diagnostics
    merges = [r for r in report.rows if r.kind == "multiply"]
    assert len(merges) == len(convs)
    widest = 1
    for row in report.rows[1:]:
        if row.kind in {"global_pool", "fc"}:
            assert row.rf == (size, size)
    for k, merge in zip(convs, merges, strict=True):
        # Each conv adds k − 1 (jump 1); each block's multiply takes the widest of that and the input.
        widest = max(widest + k - 1, size)
        assert merge.rf == (widest, widest)
        assert merge.jump == (1, 1)
