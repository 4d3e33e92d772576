"""Which rows the step's timeline follows (Kind.step_followed, convcalc.engine.stepscope), and a spec without a step.

Every kind is followed but lrn on a tensor of fewer than 4 dims and opaque; a spec with one of
those has no step figure: `show --train` keeps the sum of the parts and says the step's peak is
not available, JSON has `step_unavailable` instead of `step`, `--fit-memory` compares the
training total, and `draw --memory` refuses the step (its inference pass still draws).
tests/test_step_oracle.py leaves the same specs out of the oracle (NOT_COVERED, empty).
"""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.stepscope import unmodelled
from convcalc.engine.steptime import fit, step_timeline
from convcalc.engine.training import Optimizer

TOKENS = (
    "input: 16x16x3\nlayers: [patchify4-8, cls_token, pos_embed, {layernorm: {over: channels}}, class_token_out,"
    " fc-3]\n"
)
ONE_D = "input: {length: 16, depth: 4}\nlayers: [conv3-8, lrn, gap, flatten, fc-2]\n"
FOLLOWED = (
    "input: 16x16x3\nlayers: [patchify4-8, pos_embed, {attention: {heads: 2}}, tokens, layernorm, "
    "{attention: {heads: 2, need_weights: false, dropout: 0.1}}, {mlp: {hidden: 8, activation: softsign}}, "
    "conv1-4, grid-4x4, lrn, gap, flatten, fc-2]\n"
)


def test_the_kinds_not_followed_are_named_once_each_in_order() -> None:
    assert unmodelled(analyze(load_spec("t.yaml", TOKENS))) == ()
    assert unmodelled(analyze(load_spec("f.yaml", FOLLOWED))) == ()  # lrn on a 2-d grid is followed
    assert unmodelled(analyze(load_spec("o.yaml", ONE_D))) == ("lrn",)
    twice = (
        "input: {length: 16, depth: 4}\nlayers: [lrn, {opaque: {output: 16x4}}, conv3-4 p1, lrn, "
        "{opaque: {output: 16x4}}]\n"
    )
    assert unmodelled(analyze(load_spec("c.yaml", twice))) == ("lrn", "opaque")
    vector = "input: 12\nlayers: [fc-8, lrn: 3, fc-2]\n"  # F.local_response_norm on N x C x 1
    assert unmodelled(analyze(load_spec("v.yaml", vector))) == ("lrn",)


@pytest.mark.parametrize("name", ["vit_b_16", "vit_s_16", "hybrid_r18_vit"])
def test_the_vits_have_a_step(name: str) -> None:
    training = analyze(open_spec(name)).training
    assert training is not None
    assert training.step is not None
    assert not training.step_unavailable


def test_show_train_prints_vit_b_16s_step_peak() -> None:
    result = CliRunner().invoke(main, ["show", "vit_b_16", "--train"])
    assert result.exit_code == 0, result.output
    assert "at the peak, in backward at row" in " ".join(result.stdout.split())
    assert "not available" not in result.stdout


def test_fit_at_batch_1_and_beyond_is_each_batchs_own_step() -> None:
    # attention's reshapes are views at batch 1 and copies beyond: fit reads batches 2 and 3
    # for its lines and batch 1 as it is
    spec = load_spec("f.yaml", FOLLOWED)
    report = analyze(spec)
    peaks = {}
    for b in (1, 2, 3, 4, 5):
        step = step_timeline(replace(spec, batch=b), analyze(replace(spec, batch=b)), Optimizer.ADAM)
        assert step is not None
        peaks[b] = step.peak
    for limit in (peaks[1] - 1, peaks[1], peaks[2] - 1, peaks[4], peaks[5] - 1):
        f = fit(spec, report, limit, Optimizer.ADAM)
        assert f is not None
        expected = max((b for b in peaks if peaks[b] <= limit), default=0)
        assert f.batch == expected, limit
        if expected:
            assert (f.at, f.above) == (peaks[expected], peaks[expected + 1])


def test_show_train_gives_the_sum_and_says_the_step_is_not_available() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["show", "-", "--train", "--max-batch", "1GB"], input=ONE_D)
    assert result.exit_code == 0, result.output
    assert "the sum of the parts" in result.stdout
    assert "at the peak" not in result.stdout
    assert "not available" in result.stdout
    assert "does not follow lrn to the byte" in " ".join(result.stdout.split())
    result = runner.invoke(main, ["show", "-", "--train", "--format", "json"], input=ONE_D)
    assert result.exit_code == 0, result.output
    training = json.loads(result.stdout)["training"]
    assert "step" not in training
    assert training["step_unavailable"] == ["lrn"]
    ok = runner.invoke(main, ["show", "-", "--train", "--format", "json"], input=FOLLOWED)
    assert "step_unavailable" not in json.loads(ok.stdout)["training"]


def test_fit_memory_compares_the_training_total_and_draw_refuses_the_step() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["show", "-", "--fit-memory", "1GB"], input=ONE_D)
    assert result.exit_code == 0, result.output
    assert "the training total" in result.stdout
    result = runner.invoke(main, ["draw", "-", "--memory"], input=ONE_D)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --memory: the step's timeline does not follow lrn")
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["draw", "-", "--memory", "--inference"], input=ONE_D)
    assert result.exit_code == 0
    assert "<svg" in result.stdout
