"""`show --peak` and convcalc.engine.timeline, without torch: small networks worked by hand.

The figures here follow eager PyTorch's lifetimes (docs/peak-memory.md), counted by hand; the
oracle that measures them is tests/test_peak_oracle.py (slow, torch).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode), as in test_training.py.
from training_cases import SPECS  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.timeline import Peak, timeline

if TYPE_CHECKING:
    from pathlib import Path


def _peak(text: str, batch: int = 1) -> Peak:
    spec = replace(load_spec("net.yaml", text), batch=batch)
    p = timeline(spec, analyze(spec))
    assert p is not None
    return p


FUSED = "input: 4x4x1\nlayers: [{conv: {filters: 2, size: 3, pad: 1, activation: relu}}]"


def test_a_fused_conv_holds_its_input_its_output_and_the_activations_output() -> None:
    # 4x4x1 input (64 B); conv 3x3, 2 filters, pad 1: 18 weights + 2 biases (80 B), output 4x4x2
    # (128 B); F.relu on it makes 128 B more while the input (a name) and the conv's output (the
    # local) are held: 64 + 80 + 128 + 128.
    p = _peak(FUSED)
    assert (p.weights, p.input) == (80, 64)
    assert p.peak == 400
    assert [e.live for e in p.events] == [64 + 80 + 128, 400]
    assert p.call == "F.relu"
    # At batch 3 every activation and the input triple; the weights do not.
    assert _peak(FUSED, 3).peak == 80 + 3 * 320


def test_a_max_pool_makes_and_drops_its_indices() -> None:
    # 4x4x1 (64 B) to 2x2x1 (16 B), with 4 int64 indices (32 B) made and dropped inside the call.
    p = _peak("input: 4x4x1\nlayers: [maxpool2 s2]")
    assert p.events[0].live == 64 + 16
    assert p.peak == 64 + 16 + 32
    avg = _peak("input: 4x4x1\nlayers: [avgpool2 s2]")
    assert avg.peak == 64 + 16


def test_a_residual_holds_its_skip_across_the_block() -> None:
    # 2x2x2 input (32 B); identity = x; two 1x1 convs 2->2 without bias (4 weights, 16 B each).
    # conv A: x, A (32 + 32); conv B: A, B while identity (= the input) is held; then the add.
    conv = "{conv: {filters: 2, size: 1, bias: false}}"
    text = f"input: 2x2x2\nlayers:\n  - residual: {{layers: [{conv}, {conv}]}}\n"
    p = _peak(text)
    params = 32
    lives = [e.live for e in p.events]
    assert lives == [params + 32 + 32, params + 32 + 32 + 32, params + 32 + 32 + 32]
    assert p.events[-1].call == "add"


def test_views_and_eval_dropout_make_nothing() -> None:
    p = _peak("input: 2x2x3\nlayers: [flatten, dropout, fc-2]")
    assert [e.live for e in p.events][:2] == [p.weights + p.input] * 2
    assert p.peak == p.weights + p.input + 2 * 4


def test_no_timeline_for_a_network_that_does_not_compute() -> None:
    spec = load_spec("bad.yaml", "input: 4x4x1\nlayers: [conv9-2]")
    assert timeline(spec, analyze(spec)) is None


def test_the_peak_is_the_highest_event_and_never_below_a_live_figure() -> None:
    p = timeline(open_spec("googlenet"), analyze(open_spec("googlenet")))
    assert p is not None
    assert p.peak == max(e.high for e in p.events)
    assert all(e.high >= e.live >= p.weights + p.buffers + p.input for e in p.events)


def _show(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["show", *args])
    assert result.exit_code == code, result.output
    return result.stdout if code == 0 else result.stderr


def test_show_peak_names_the_row_in_the_table_markdown_and_json() -> None:
    spec = open_spec("resnet18")
    p = timeline(spec, analyze(spec))
    assert p is not None
    table = " ".join(_show("resnet18", "--peak").split())
    assert f"Peak {p.peak / 1e6:.2f} MB at row {p.row} (" in table
    markdown = _show("resnet18", "--peak", "--format", "markdown")
    assert f"- **Peak**: {p.peak / 1e6:.2f} MB at row {p.row}" in markdown
    data = json.loads(_show("resnet18", "--peak", "--format", "json"))
    assert data["peak"]["peak"] == p.peak
    assert data["peak"]["row"] == p.row
    assert len(data["peak"]["events"]) == len(p.events)
    assert "peak" not in json.loads(_show("resnet18", "--format", "json"))
    # --depth folds the rows shown, not the pass measured.
    assert json.loads(_show("resnet18", "--peak", "--depth", "1", "--format", "json"))["peak"] == data["peak"]


@pytest.mark.parametrize(
    ("args", "why"),
    [(("--format", "csv"), "CSV has the rows only"), (("--input", "HxWx3"), "a symbolic input has no bytes")],
)
def test_show_peak_refuses_what_has_no_peak(args: tuple[str, ...], why: str) -> None:
    assert why in _show("resnet18", "--peak", *args, code=2)


@pytest.mark.parametrize(("name", "text"), list(SPECS.items()), ids=list(SPECS))
def test_every_kind_and_merge_case_has_a_timeline_whose_peak_is_its_highest_event(name: str, text: str) -> None:
    p = _peak(text, 2)
    assert p.peak == max(e.high for e in p.events)
    assert all(e.high >= e.live >= p.weights + p.buffers + p.input for e in p.events), name


def test_a_network_without_batchnorm_shows_no_buffers_line(tmp_path: Path) -> None:
    out = _show("vgg11", "--peak", "--format", "markdown")
    assert "- **Peak**:" in out
    assert "buffers:" not in out.split("**Peak**")[1]
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: 4x4x1\nlayers: [conv9-2]\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(bad), "--peak", "--format", "json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["peak"] is None
