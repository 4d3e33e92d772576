"""Composite layers: repeat, residual, parallel, blocks; merges, folding, and their errors."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import SpecError, analyze, load_spec
from convcalc.cli import main
from convcalc.fold import fold

if TYPE_CHECKING:
    from convcalc.report import Report


def run(text: str) -> Report:
    return analyze(load_spec("net.yaml", textwrap.dedent(text)))


def shapes(report: Report) -> dict[str, list[int] | None]:
    return {r.path: r.output.as_list() if r.output else None for r in report.rows}


def test_repeat_unrolls_with_paths() -> None:
    report = run("""
        input: 8x8x3
        layers:
          - repeat: 3
            layers: [conv3-4 p1, relu]
    """)
    assert [r.path for r in report.rows[1:]] == ["1.0.0", "1.0.1", "1.1.0", "1.1.1", "1.2.0", "1.2.1"]
    assert report.totals.weights == 3 * 3 * 3 * 4 + 2 * (3 * 3 * 4 * 4)


def test_residual_identity_and_activation_after_the_add() -> None:
    report = run("""
        input: 56x56x64
        layers:
          - residual:
              layers: [conv3-64 p1, bn, relu, conv3-64 p1, bn]
              activation: relu
    """)
    merge = report.rows[-1]
    assert (merge.path, merge.kind, merge.depth) == ("1", "add", 0)
    assert merge.output is not None
    assert merge.output.as_list() == [56, 56, 64]
    assert merge.rf[0] == 5  # the body's, the widest


def test_residual_mismatch_names_both_volumes_and_the_line() -> None:
    text = "input: 56x56x64\nlayers:\n  - conv3-64 p1\n  - residual:\n      layers: [conv3-128 p1]\n"
    report = analyze(load_spec("net.yaml", text))
    (d,) = report.diagnostics
    assert (d.line, d.column, d.code) == (4, 5, "merge-mismatch")
    assert d.message == (
        "cannot add 56x56x128 from the body (2.layers) and 56x56x64 from the identity shortcut: "
        "an add needs the same volume"
    )
    result = CliRunner().invoke(main, ["show", "-", "--format", "json"], input=text)
    assert result.exit_code == 1
    assert result.stderr.startswith("<stdin>:4:5: error: cannot add 56x56x128")


def test_auto_shortcut_projects_like_torchvision() -> None:
    report = run("""
        input: 56x56x64
        rounding: floor
        layers:
          - residual:
              layers: [conv3-128 s2 p1, bn]
              shortcut: auto
    """)
    rows = {r.path: r for r in report.rows}
    assert rows["1.shortcut.0"].label == "conv1-128 s2"
    assert (rows["1.shortcut.0"].weights, rows["1.shortcut.0"].biases) == (64 * 128, 0)
    assert rows["1.shortcut.1"].kind == "batchnorm"
    assert shapes(report)["1"] == [28, 28, 128]


@pytest.mark.parametrize("body", ["[conv3-8 p1, maxpool]", "[conv4-8 s2 p1]", "[avgpool, conv3-8 p1]"])
def test_auto_shortcut_is_judged_by_the_body_not_by_strict_rounding(body: str) -> None:
    """Its 1x1 projection skips what torchvision's does: no stride error under strict (issue 13, 4)."""
    text = f"input: 8x8x4\nlayers:\n  - residual:\n      layers: {body}\n      shortcut: auto\n"
    result = CliRunner().invoke(main, ["show", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.output
    report = run(text)
    assert report.ok
    assert str(report.totals.output) == "4x4x8"
    shortcut = next(r for r in report.rows if r.path.endswith("shortcut.0"))
    assert shortcut.label == "conv1-8 s2"
    assert [d.code for d in shortcut.diagnostics] == ["stride-does-not-fit"]
    assert {d.severity.value for d in shortcut.diagnostics} == {"note"}


def test_dense_connection_concatenates() -> None:
    report = run("""
        input: 56x56x64
        layers:
          - repeat: 2
            layers:
              - residual: {layers: [conv3-32 p1], merge: concat}
    """)
    assert shapes(report)["1.1.0"] == [56, 56, 128]


def test_parallel_concat_add_and_broadcast_multiply() -> None:
    report = run("""
        input: 28x28x192
        layers:
          - parallel:
              branches:
                - [conv1-64]
                - [conv1-96, conv3-128 p1]
                - [conv1-16, conv5-32 p2]
                - [maxpool3 s1 p1, conv1-32]
            name: inception_3a
          - parallel:
              branches: [[], [gap, fc-16, relu, fc-256, sigmoid]]
              merge: multiply
            name: squeeze-excite
    """)
    got = shapes(report)
    assert got["1"] == [28, 28, 256]
    assert got["2"] == [28, 28, 256]
    assert report.rows[-1].rf[0] == 28  # the squeeze branch sees the whole input (its global pool), the widest


def test_concat_of_different_sizes_is_an_error() -> None:
    report = run("""
        input: 28x28x16
        layers:
          - parallel:
              branches: [[conv3-8], [conv3-8 p1]]
    """)
    assert report.diagnostics[0].message == (
        "cannot concatenate 26x26x8 from branch 0 (1.branches.0) and 28x28x8 from branch 1 (1.branches.1): "
        "a concat needs the same spatial size"
    )


BLOCKS = """
input: 56x56x64
blocks:
  basic:
    args: {out: null, stride: 1}
    layers:
      - residual:
          layers: ["conv3-${out} s${stride} p1", bn, relu, {conv: {filters: "${out}", size: 3, pad: 1}}, bn]
          shortcut: auto
          activation: relu
layers:
"""


def test_block_arguments_are_substituted_with_their_types() -> None:
    report = run(BLOCKS + "  - basic: {out: 64}\n  - basic: {out: 128, stride: 2}\n")
    rows = {r.path: r for r in report.rows}
    assert rows["2"].name == "basic"  # a block of one layer takes the call's name and path
    assert rows["2.layers.0"].label == "conv3-128 s2 p1"
    assert shapes(report)["2"] == [28, 28, 128]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ("  - basic: {}\n", "block 'basic' needs `out`"),
        ("  - basic: {out: 64, width: 2}\n", "unknown key 'width' in the call of block 'basic'"),
        ("  - basci: {out: 64}\n", "unknown layer kind or block 'basci'; did you mean 'basic'?"),
    ],
)
def test_block_call_errors(call: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec("net.yaml", BLOCKS + call)


def test_a_block_that_calls_itself() -> None:
    text = "input: 8x8x3\nblocks:\n  a: {layers: [b]}\n  b: {layers: [relu, a]}\nlayers: [a]\n"
    with pytest.raises(SpecError, match=r"block 'a' calls itself \(a → b → a\)"):
        load_spec("net.yaml", text)


def test_unknown_argument_in_a_block() -> None:
    text = "input: 8x8x3\nblocks:\n  a: {args: {k: 4}, layers: ['conv3-${n}']}\nlayers: [a]\n"
    with pytest.raises(SpecError, match=r"unknown argument \$\{n\} in block 'a'; its arguments: k"):
        load_spec("net.yaml", text)


def test_a_huge_repeat_is_refused_at_once() -> None:
    with pytest.raises(SpecError, match="larger than convcalc's limit") as caught:
        load_spec("net.yaml", "input: 8x8x3\nlayers:\n  - repeat: 1000000000000\n    layers: [relu]\n")
    assert caught.value.location is not None
    assert caught.value.location.line == 3
    with pytest.raises(SpecError, match="is more than 250,000 layers"):
        load_spec("net.yaml", "input: 8x8x3\nlayers:\n  - repeat: 5000000\n    layers: [relu]\n")


def test_fold_sums_each_block_into_one_row() -> None:
    report = run(BLOCKS + "  - basic: {out: 64}\n  - basic: {out: 128, stride: 2}\n  - gap\n")
    folded = fold(report, 1)
    assert [r.name for r in folded.rows] == ["INPUT", "basic", "basic", "GAP"]
    assert sum(r.params for r in folded.rows) == report.totals.params
    assert sum(r.macs for r in folded.rows) == report.totals.macs
    assert folded.rows[2].output == report.rows[-2].output
    assert [r.index for r in folded.rows] == [0, 1, 2, 3]


def test_a_merge_row_says_its_fused_activation() -> None:
    report = run("""
        input: 8x8x4
        layers:
          - residual: {layers: [conv3-4 p1], activation: relu}
          - residual: {layers: [conv3-4 p1]}
    """)
    rows = {r.path: r for r in report.rows}
    assert (rows["1"].kind, rows["1"].label) == ("add", "add + relu")
    assert (rows["2"].kind, rows["2"].label) == ("add", "add")


def test_auto_shortcut_takes_the_body_stride() -> None:
    # A 3x3/3 pad 1 body takes 4 to 2; torchvision's downsample is a 1x1 with the same stride 3.
    report = run("""
        input: 4x4x8
        layers:
          - residual: {layers: [conv3-16 s3 p1, bn], shortcut: auto}
    """)
    assert report.ok, [d.message for d in report.diagnostics]
    assert {r.path: r for r in report.rows}["1.shortcut.0"].label == "conv1-16 s3"
    # A 3x3/2 body takes 5 to 2, but a 1x1/2 takes 5 to 3: torchvision could not add them.
    report = run("""
        input: 5x5x8
        rounding: floor
        layers:
          - residual: {layers: [conv3-16 s2, bn], shortcut: auto}
    """)
    assert [d.message for d in report.diagnostics if d.severity.value == "error"] == [
        "shortcut: auto cannot project 5x5x8 onto 2x2x16: a 1x1 conv with the body's stride does not match it"
    ]
