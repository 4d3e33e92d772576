"""The `chunk` kind (ShuffleNet v2's channel split): torch.chunk's sizes, its errors, a split unit, its closed form.

The sizes are checked against a reference that cuts a list of channels as torch.chunk's docs say
(chunks of ⌈C/N⌉, the last smaller, none empty), and, where torch is installed, against
torch.chunk itself and the values the PyTorch plan computes.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc import analyze, load_spec
from convcalc.cli import main
from convcalc.engine.symbolic import analyze_closed
from convcalc.kinds.chunk import span

UNIT = """\
input: 28x28x116
defaults:
  conv: {bias: false}
layers:
  - parallel:
      branches:
        - [chunk0/2]
        - [chunk1/2, conv1-58, bn, relu, conv3-58 p1 gdw, bn, conv1-58, bn, relu]
      merge: concat
  - channel_shuffle2
"""


def torch_chunks(depth: int, n: int) -> list[list[int]]:
    """The channels of each chunk, as torch.chunk's documentation describes its cut."""
    size = -(-depth // n)
    channels = list(range(depth))
    return [channels[i : i + size] for i in range(0, depth, size)]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(depth=st.integers(1, 40), n=st.integers(1, 12), index=st.integers(0, 12))
def test_a_chunk_is_the_channels_torch_chunk_gives_it_or_an_error(depth: int, n: int, index: int) -> None:
    spec = load_spec("c.yaml", f"input: 3x2x{depth}\nlayers: [{{chunk: {{index: {index}, chunks: {n}}}}}]")
    row = analyze(spec).rows[-1]
    made = torch_chunks(depth, n)
    if index < len(made) and index < n:
        assert row.output is not None
        assert row.output.as_list() == [3, 2, len(made[index])]
        assert span(depth, n, index) == (made[index][0], len(made[index]))
        assert (row.params, row.macs, row.activations) == (0, 0, 0)  # a view
    else:
        assert row.output is None
        assert [d.code for d in row.diagnostics] == ["no-such-chunk"]


@pytest.mark.parametrize(
    ("layer", "message"),
    [
        ("chunk3/3", "chunk 3 of 3: the index counts from 0 to 2, as PyTorch's x.chunk(3)[i]"),
        (
            "chunk2/3",
            "x.chunk(3) of 4 channels makes only 2 chunks of up to 2 channels (PyTorch's rule): there is no chunk 2",
        ),
    ],
)
def test_a_chunk_that_torch_does_not_make_is_an_error(layer: str, message: str) -> None:
    result = CliRunner().invoke(main, ["layer", "5x5x4", layer])
    assert result.exit_code == 1
    assert f"error: {message}" in result.output


def test_the_working_says_which_channels() -> None:
    result = CliRunner().invoke(main, ["layer", "6x6x10", "chunk3/4", "chunk0/1"])
    assert result.exit_code == 0, result.output
    assert "D2 = ⌈10/4⌉ = 3, the last chunk: 10 − 9 = 1: channel 9 of 10" in result.output
    assert "chunk0/1: 6x6x1 → 6x6x1" in result.output


def test_the_long_form_and_the_shorthand_are_one_layer() -> None:
    short = load_spec("a.yaml", "input: 4x4x6\nlayers: [chunk1/3]")
    long = load_spec("b.yaml", "input: 4x4x6\nlayers: [{chunk: {index: 1, chunks: 3}}]")
    rows = analyze(short).rows[-1], analyze(long).rows[-1]
    assert [r.config for r in rows] == [{"index": 1, "chunks": 3}] * 2
    assert [r.label for r in rows] == ["chunk1/3"] * 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{chunk: {index: -1, chunks: 2}}", "index must be at least 0, got -1"),
        ("{chunk: {index: 0, chunks: 0}}", "chunks must be positive, got 0"),
        ("{chunk: {chunks: 2}}", "index"),
    ],
)
def test_a_chunk_with_a_wrong_parameter_is_refused_where_it_is_written(text: str, message: str) -> None:
    result = CliRunner().invoke(main, ["show", "-"], input=f"input: 4x4x6\nlayers: [{text}]\n")
    assert result.exit_code == 2
    assert message in result.output
    assert "<stdin>:2:" in result.output


def test_a_shufflenet_unit_keeps_the_volume_and_counts_the_branch_only() -> None:
    report = analyze(load_spec("unit.yaml", UNIT))
    assert report.ok
    rows = {r.path: r for r in report.rows}
    assert rows["1.branches.0.0"].output.as_list() == [28, 28, 58]  # type: ignore[union-attr]
    assert rows["1.branches.1.0"].output.as_list() == [28, 28, 58]  # type: ignore[union-attr]
    assert rows["1"].output.as_list() == [28, 28, 116]  # type: ignore[union-attr]
    # The branch's convs read 58 channels: 58·58 + 3·3·58 + 58·58, and 3 batchnorms of 58.
    assert report.totals.params == 58 * 58 + 9 * 58 + 58 * 58 + 3 * 2 * 58
    assert report.totals.macs == 28 * 28 * (58 * 58 + 9 * 58 + 58 * 58)


def test_a_chunk_has_a_closed_form_for_any_size() -> None:
    spec = load_spec("unit.yaml", UNIT.replace("28x28x116", "HxWx116"))
    rows = analyze_closed(spec).rows
    chunk = next(r for r in rows if r.kind == "chunk")
    assert str(chunk.output) == "HxWx58"
    assert str(rows[-1].output) == "HxWx116"


def test_a_chunk_after_a_flatten_of_a_symbolic_size_has_no_closed_form() -> None:
    result = CliRunner().invoke(main, ["show", "-"], input="input: Hx4x2\nlayers: [flatten, chunk0/2]\n")
    assert result.exit_code == 2, result.output
    why = "CHUNK0/2: no closed form: chunk needs a depth that is a number, but here it is 8·H (from a flatten)"
    assert why in result.output


@pytest.mark.torch
@pytest.mark.parametrize(
    ("volume", "shape", "n", "index"),
    [
        ("5x6x12", (2, 12, 5, 6), 2, 1),
        ("5x6x10", (2, 10, 5, 6), 4, 3),
        ("12", (3, 12), 3, 0),
        ("{length: 7, depth: 9}", (2, 9, 7), 2, 1),
    ],
)
def test_the_plan_computes_torch_chunk(volume: str, shape: tuple[int, ...], n: int, index: int) -> None:
    torch = pytest.importorskip("torch")
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    spec = load_spec("c.yaml", f"input: {volume}\nlayers: [chunk{index}/{n}]")
    module = to_module(spec).module
    x = torch.randn(*shape)
    out = module(x)
    want = x.chunk(n, dim=1)[index]
    assert torch.equal(out, want)
    assert out.untyped_storage().data_ptr() == x.untyped_storage().data_ptr()  # a view, as the row's 0 activations say
    row = analyze(spec).rows[-1]
    assert row.output is not None
    assert row.output.as_list() == [*want.shape[2:], want.shape[1]]
