"""A spec with a kind the step's timeline does not follow to the byte (convcalc.engine.stepscope): no step figure.

`show --train` keeps the sum of the parts and says the step's peak is not available, JSON has
`step_unavailable` instead of `step`, `--fit-memory` compares the training total, and `draw
--memory` refuses the step (its inference pass still draws). tests/test_step_oracle.py leaves the
same specs out of the oracle (NOT_COVERED).
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.cli import main
from convcalc.engine.stepscope import unmodelled

TOKENS = (
    "input: 16x16x3\nlayers: [patchify4-8, cls_token, pos_embed, {layernorm: {over: channels}}, class_token_out,"
    " fc-3]\n"
)
CHANNELS = "input: 16x16x3\nlayers: [patchify4-8, {attention: {heads: 2}}, class_token_out, fc-2]\n"


def test_the_kinds_not_followed_are_named_once_each_in_order() -> None:
    assert unmodelled(analyze(load_spec("t.yaml", TOKENS))) == ()  # followed (convcalc.engine.tokensteps)
    twice = "input: 16x16x3\nlayers: [patchify4-8, pos_embed, {attention: {heads: 2}}, tokens, layernorm, tokens]\n"
    assert unmodelled(analyze(load_spec("c.yaml", twice))) == ("attention", "tokens", "layernorm")
    odd = "input: 16x16x3\nlayers: [patchify4-8, {mlp: {hidden: 8, activation: softsign}}, conv1-4, fc-2]\n"
    assert unmodelled(analyze(load_spec("o.yaml", odd))) == ("mlp", "conv")
    followed = "input: 6x6x4\nlayers: [conv1-4, {layernorm: {over: channels}}, relu, gap, flatten, fc-2]\n"
    assert unmodelled(analyze(load_spec("n.yaml", followed))) == ()


def test_show_train_gives_the_sum_and_says_the_step_is_not_available() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["show", "-", "--train", "--max-batch", "1GB"], input=CHANNELS)
    assert result.exit_code == 0, result.output
    assert "the sum of the parts" in result.stdout
    assert "at the peak" not in result.stdout
    assert "not available" in result.stdout
    assert "does not follow\n             attention to the byte" in result.stdout
    result = runner.invoke(main, ["show", "-", "--train", "--format", "json"], input=CHANNELS)
    assert result.exit_code == 0, result.output
    training = json.loads(result.stdout)["training"]
    assert "step" not in training
    assert training["step_unavailable"] == ["attention"]
    ok = runner.invoke(
        main, ["show", "-", "--train", "--format", "json"], input="input: 6x6x4\nlayers: [conv1-4, fc-2]\n"
    )
    assert "step_unavailable" not in json.loads(ok.stdout)["training"]


def test_fit_memory_compares_the_training_total_and_draw_refuses_the_step() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["show", "-", "--fit-memory", "1GB"], input=CHANNELS)
    assert result.exit_code == 0, result.output
    assert "the training total" in result.stdout
    result = runner.invoke(main, ["draw", "-", "--memory"], input=CHANNELS)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: --memory: the step's timeline does not follow attention")
    assert "Traceback" not in result.output
    result = runner.invoke(main, ["draw", "-", "--memory", "--inference"], input=CHANNELS)
    assert result.exit_code == 0
    assert "<svg" in result.stdout
