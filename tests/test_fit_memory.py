"""`show --fit-memory` (issue 26): the cheapest checkpointed blocks, against a brute force over every subset."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from itertools import combinations
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.fitmemory import (
    EXHAUSTIVE,
    Candidate,
    fit_memory,
    outermost,
    step_peak,
    sum_of_parts,
    with_checkpoints,
)
from convcalc.engine.steptime import step_timeline
from convcalc.engine.training import Optimizer, Precision, training

if TYPE_CHECKING:
    from convcalc.engine.fitmemory import CostOf, PeakOf
    from convcalc.spec.model import Spec

# Ten blocks of different shapes and sizes: what each keeps, and what it costs to run again, differ.
TEN = """
input: 32x32x3
rounding: floor
batch: 4
blocks:
  basic:
    args: {w: null, s: 1}
    layers:
      - residual:
          layers: ["conv3-${w} s${s} p1", bn, relu, "conv3-${w} p1", bn]
          shortcut: auto
          activation: relu
layers:
  - conv3-16 p1
  - basic: {w: 16}
  - basic: {w: 16}
  - basic: {w: 32, s: 2}
  - repeat: 2
    layers: [conv1-32, relu]
  - parallel: {branches: [[conv1-16], [conv3-16 p1, relu], [maxpool3 s1 p1, conv1-8]]}
  - basic: {w: 40}
  - basic: {w: 64, s: 2}
  - residual: {layers: [bn, relu, conv1-32, bn, relu, conv3-8 p1], merge: concat}
  - residual: {layers: [bn, relu, conv3-8 p1], merge: concat}
  - basic: {w: 80}
  - gap
  - fc-10
"""


def figures(spec: Spec, figure: str) -> tuple[PeakOf, CostOf]:
    if figure == "step":
        return step_peak(analyze(spec), "adam", foreach=False)
    return sum_of_parts(analyze(spec))


def every_subset(spec: Spec, peak_of: PeakOf, cost_of: CostOf) -> list[tuple[int, int, int]]:
    """(peak, recompute, blocks) of every subset of the spec's blocks checkpointed."""
    paths = [n.path for n in outermost(spec.layers)]
    out = []
    for k in range(len(paths) + 1):
        for chosen in combinations(paths, k):
            s = with_checkpoints(spec, set(chosen))
            out.append((peak_of(s), cost_of(s), k))
    return out


# Each choice's peak by figure, kept across the parametrisations (one process runs the file).
_PEAKS: dict[str, dict[frozenset[str], int]] = {}


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow  # 1,024 subsets, each its training walk or step timeline: 2 to 10 s
@pytest.mark.parametrize(
    ("figure", "exhaustive"),
    [("step", EXHAUSTIVE), ("sum", EXHAUSTIVE), ("step", 0), ("sum", 0)],
    ids=[
        "step peak, every choice in order",
        "training total, in order",
        "step peak, branch and bound",
        "training total, branch and bound",
    ],
)
def test_the_choice_is_the_cheapest_that_fits_and_nothing_cheaper_fits(figure: str, exhaustive: int) -> None:
    spec = load_spec("ten.yaml", TEN)
    assert len(outermost(spec.layers)) == 10
    peak_of, cost_of = figures(spec, figure)
    seen = _PEAKS.setdefault(figure, {})  # shared by both searches: the same peaks, computed once

    def peak_of_once(s: Spec) -> int:  # each choice's peak computed once over every limit
        key = frozenset(n.path for n in outermost(s.layers) if n.checkpoint)
        if key not in seen:
            seen[key] = peak_of(s)
        return seen[key]

    subsets = every_subset(spec, peak_of_once, cost_of)
    lowest, highest = min(p for p, _, _ in subsets), peak_of(spec)
    limits = [highest, lowest - 1, lowest, *range(lowest, highest, (highest - lowest) // 15)]
    answered = set()
    for limit in limits:
        fit = fit_memory(spec, limit, peak_of_once, cost_of, exhaustive=exhaustive)
        fitting = [(cost, k) for peak, cost, k in subsets if peak <= limit]
        if not fitting:
            assert fit.blocks is None, limit
            continue
        assert fit.blocks is not None, limit
        assert fit.exact
        chosen = with_checkpoints(spec, {b.path for b in fit.blocks})
        assert peak_of(chosen) == fit.peak <= limit
        # The cheapest that fits, and of those the fewest blocks: nothing cheaper fits.
        assert (cost_of(chosen), len(fit.blocks)) == (fit.recompute_macs, len(fit.blocks)) == min(fitting)
        assert all(peak > limit for peak, cost, _ in subsets if cost < fit.recompute_macs)
        answered.add(len(fit.blocks))
    assert len(answered) >= 4  # the limits ask for choices of several sizes, nothing checkpointed among them


@pytest.mark.slow
def test_the_search_is_exact_on_any_peak_that_checkpointing_does_not_raise() -> None:
    """Synthetic peaks: the highest of several phases, each lowered by some blocks by some bytes."""
    rng = random.Random(26)  # noqa: S311 - reproducible cases, not secrets
    for _ in range(150):
        n = rng.randint(1, 8)
        costs = [rng.choice([0, rng.randint(1, 50)]) for _ in range(n)]
        phases = [(rng.randint(50, 200), [rng.choice([0, rng.randint(0, 40)]) for _ in range(n)]) for _ in range(3)]
        layers = "".join(f"  - repeat: 1\n    layers: [conv1-{c + 1}]\n" for c in costs)
        spec = load_spec("s.yaml", f"input: 4x4x2\nlayers:\n{layers}")
        index = {n.path: i for i, n in enumerate(outermost(spec.layers))}

        def chosen(s: Spec) -> list[int]:
            return [index[n.path] for n in outermost(s.layers) if n.checkpoint]  # noqa: B023 - this instance's

        def peak_of(s: Spec) -> int:
            on = chosen(s)
            return max(top - sum(gains[i] for i in on) for top, gains in phases)  # noqa: B023 - this instance's

        def cost_of(s: Spec) -> int:
            return sum(costs[i] for i in chosen(s))  # noqa: B023 - this instance's

        limit = rng.randint(0, 200)
        fit = fit_memory(spec, limit, peak_of, cost_of, exhaustive=rng.choice([0, EXHAUSTIVE]))
        fitting = [
            (sum(costs[i] for i in c), len(c))
            for k in range(n + 1)
            for c in combinations(range(n), k)
            if max(top - sum(g[i] for i in c) for top, g in phases) <= limit
        ]
        if not fitting:
            assert fit.blocks is None
        else:
            assert fit.blocks is not None
            assert (fit.recompute_macs, len(fit.blocks)) == min(fitting)
            assert fit.peak <= limit


def test_a_search_cut_short_says_so() -> None:
    spec = load_spec("ten.yaml", TEN)
    peak_of, cost_of = sum_of_parts(analyze(spec))
    lowest = peak_of(with_checkpoints(spec, {n.path for n in outermost(spec.layers)}))
    for exhaustive in (0, EXHAUSTIVE):
        fit = fit_memory(spec, lowest, peak_of, cost_of, tries=3, exhaustive=exhaustive)
        assert not fit.exact
        assert fit.tried <= 5  # the cut, then nothing, then everything checkpointed, for the answer


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["show", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.slow
def test_show_names_the_blocks_to_checkpoint() -> None:
    code, out, _ = run("resnet18", "--batch", "64", "--fit-memory", "1.3GB")
    assert code == 0
    assert "Fit memory   checkpoint 2 blocks to fit in 1.30 GB: layer1.0 (5), layer2.0 (7)" in out
    code, out, _ = run("resnet18", "--batch", "64", "--fit-memory", "1.3GB", "--format", "json")
    data = json.loads(out)["fit_memory"]
    assert data["fits"]
    assert data["exact"]
    assert data["peak"] <= data["limit"] == 1_300_000_000 < data["baseline"]
    assert data["recompute_macs"] == sum(b["macs"] for b in data["blocks"]) > 0
    assert json.loads(out)["training"]["batch"] == 64


@pytest.mark.slow
def test_with_adam_the_search_compares_the_step_s_peak() -> None:
    code, out, _ = run("resnet18", "--batch", "64", "--optimizer", "adam", "--fit-memory", "1.3GB", "--format", "json")
    assert code == 0
    data = json.loads(out)["fit_memory"]
    assert data["figure"] == "the step's peak"
    spec = replace(open_spec("resnet18"), batch=64)
    chosen = with_checkpoints(spec, {b["path"] for b in data["blocks"]})
    step = step_timeline(chosen, analyze(spec), Optimizer.ADAM)
    assert step is not None
    assert step.peak == data["peak"] <= 1_300_000_000 < data["baseline"]


def test_show_says_when_nothing_needs_checkpointing() -> None:
    code, out, _ = run("resnet18", "--fit-memory", "16GB", "--format", "markdown")
    assert code == 0
    assert "- **Fit memory**: fits in 16.00 GB with nothing checkpointed: the step's peak is " in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(  # every one of 256 choices' step timeline: a few seconds
            ["resnet18", "--batch", "64"], "no choice of checkpointed blocks fits (the lowest, ", marks=pytest.mark.slow
        ),
        (["vgg16"], "no choice of checkpointed blocks fits (the lowest, 1.17 GB, is over it)"),
    ],
)
def test_show_exits_1_when_no_choice_fits(args: list[str], message: str) -> None:
    code, out, err = run(*args, "--fit-memory", "100MB")
    assert code == 1
    assert f"error: --fit-memory 100.00 MB: {message}" in err
    assert re.search(r"^Fit memory +none fits: ", out, re.MULTILINE)


def test_fit_memory_is_refused_where_it_has_no_bytes() -> None:
    code, _, err = run("vgg16", "--fit-memory", "1GB", "--format", "csv")
    assert code == 2
    assert "--fit-memory: CSV has the rows only" in err
    code, _, err = run("vgg16", "--fit-memory", "lots")
    assert code == 2
    assert "cannot read 'lots' as a size" in err


def test_a_candidate_names_its_block() -> None:
    spec = load_spec("ten.yaml", TEN)
    peak_of, cost_of = sum_of_parts(analyze(spec))
    fit = fit_memory(spec, peak_of(spec) - 1, peak_of, cost_of)
    assert fit.blocks is not None
    assert all(
        isinstance(b, Candidate) and b.name in {"basic", "repeat ×2", "parallel", "residual"} for b in fit.blocks
    )


def test_a_search_cut_short_says_so_in_the_table() -> None:
    from convcalc.render.fitmemory import fit_lines  # noqa: PLC0415 - the renderer alone

    spec = load_spec("ten.yaml", TEN)
    peak_of, cost_of = sum_of_parts(analyze(spec))
    fit = fit_memory(spec, peak_of(spec) - 1, peak_of, cost_of, tries=2)
    assert fit.blocks
    lines = dict(fit_lines(fit, "the training total", binary=False))
    assert lines["  search"] == f"stopped after {fit.tried:,} choices: the cheapest found, not proven the least"


def test_in_another_precision_the_search_compares_the_training_total() -> None:
    code, out, _ = run("resnet18", "--batch", "64", "--precision", "bf16", "--fit-memory", "600MB", "--format", "json")
    assert code == 0
    data = json.loads(out)["fit_memory"]
    assert data["figure"] == "the training total"
    spec = replace(open_spec("resnet18"), batch=64)
    chosen = with_checkpoints(spec, {b["path"] for b in data["blocks"]})
    block = training(chosen, analyze(spec), precision=Precision.BF16).training
    assert block is not None
    assert block.total == data["peak"] <= 600_000_000
