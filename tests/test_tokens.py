"""Issue 27's token kinds without torch: their figures, their refusals, `fit`'s tie and the built-in block.

The figures against PyTorch are in tests/test_vit_oracle.py (torchvision's ViTs), the training and
peak oracles (tests/training_cases.py) and the random networks; here, what convcalc says and refuses.
"""

from __future__ import annotations

import json

from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.cli import main
from convcalc.engine.symbolic import analyze_closed, totals
from convcalc.engine.training import training
from convcalc.export import to_pytorch_source
from convcalc.volume import Volume

SMALL = """
input: 32x32x3
layers:
  - patchify8-16
  - cls_token
  - pos_embed-17
  - transformer: {heads: 4, mlp: 64}
  - {layernorm: {over: channels}}
  - class_token_out
  - fc-10
"""


def _errors(text: str) -> list[str]:
    report = analyze(load_spec("t.yaml", text))
    return [d.message for d in report.diagnostics if d.severity.value == "error"]


def test_a_token_input_is_a_one_dim_volume() -> None:
    spec = load_spec("t.yaml", "input: {tokens: 197, width: 768}\nlayers: [attention-12]")
    assert spec.input == Volume((197,), 768)
    row = analyze(spec).rows[1]
    assert row.output == Volume((197,), 768)
    assert row.rf == (197,)  # every token sees the whole sequence


def test_a_small_vit_adds_up() -> None:
    report = analyze(load_spec("t.yaml", SMALL))
    assert report.ok
    rows = {r.name: r for r in report.rows}
    assert rows["PATCHIFY8-16"].output == Volume((16,), 16)
    assert rows["CLS_TOKEN"].output == Volume((17,), 16)
    assert rows["CLASS_TOKEN_OUT"].output == Volume((), 16)
    assert rows["PATCHIFY8-16"].rf == (8,)  # a token sees its patch
    assert rows["self_attention"].rf == (32,)  # the whole image's side
    assert report.totals.params == sum(r.params for r in report.rows)


def test_the_explanation_works_each_kind_out() -> None:
    result = CliRunner().invoke(main, ["show", "-", "--explain"], input=SMALL)
    assert result.exit_code == 0, result.output
    for line in (
        "N = 4·4 = 16 tokens, D = 16",
        "N2 = N + 1 = 16 + 1 = 17 tokens",
        "params = N·D = 17·16 = 272",
        "4 heads of 16/4 = 4; score matrix 17×17 per head",
        "params = 2·16·64 + 64 + 16 = 2,128",
        "output = the first of 17 tokens: 16 values",
    ):
        assert line in result.output


def test_what_the_token_kinds_refuse() -> None:
    (message,) = _errors("input: 32x32x3\nlayers: [patchify8-16, attention-3]")
    assert "3 heads do not divide the width 16" in message
    (message,) = _errors("input: 32x32x3\nlayers: [patchify8-16, {mlp: {hidden: 8, activation: softmax}}]")
    assert "element-wise, not softmax" in message
    (message,) = _errors("input: 32x32x3\nlayers: [attention-1]")
    assert "needs tokens" in message
    (message,) = _errors("input: 48x48x3\nlayers: [patchify16-8, cls_token, pos_embed-17]")
    assert "learned for 17 tokens, but 10 reach it" in message
    (message,) = _errors("input: {tokens: 10, width: 4}\nlayers: [{grid: 3x3}]")
    assert "10 tokens are not a 3x3 grid (9 positions)" in message
    (message,) = _errors("input: 8x8x3\nlayers: [flatten, tokens]")
    assert "needs a volume with spatial dims" in message


def test_tokens_and_grid_are_views() -> None:
    report = analyze(load_spec("t.yaml", "input: 14x14x8\nlayers: [tokens, attention-2, {grid: 14x14}, conv3-4 p1]"))
    assert report.ok
    tokens, _, grid, conv = report.rows[1:]
    assert (tokens.output, tokens.activations) == (Volume((196,), 8), 0)
    assert (grid.output, grid.activations) == (Volume((14, 14), 8), 0)
    assert conv.output == Volume((14, 14), 4)


def test_fit_names_the_position_embeddings_tie() -> None:
    result = CliRunner().invoke(main, ["fit", "vit_b_16"])
    assert result.exit_code == 0, result.output
    assert "height (H): H = 224: 224" in result.output
    assert "conv_proj (line 12): H − 16 ≡ 0 (mod 16)" in result.output
    assert "encoder.pos_embedding (line 16): ⌊H/16⌋·⌊W/16⌋ = 196" in result.output


def _resized(side: int | str) -> str:
    """SMALL at another input, its position embedding as long as its input (resized: no tie)."""
    size = f"{side}x{side}x3" if isinstance(side, int) else side
    return SMALL.replace("input: 32x32x3", f"input: {size}").replace("pos_embed-17", "pos_embed")


def test_without_a_length_the_closed_form_is_the_numbers_and_quadratic_in_the_tokens() -> None:
    macs = totals(analyze_closed(load_spec("v.yaml", _resized("HxWx3"))))["macs"]
    numbers = {k: analyze(load_spec("n.yaml", _resized(8 * k))).totals.macs for k in (4, 8, 12, 16)}
    for k, value in numbers.items():
        assert macs.evaluate({"H": 8 * k, "W": 8 * k}) == value
    # N = k² + 1 tokens: a second difference in k² that is not zero is a term in N².
    m = [numbers[k] for k in (4, 8, 12)]
    assert m[2] - 2 * m[1] + m[0] != 0


def test_training_memory_adds_up_for_every_attention_path() -> None:
    for params in ("", ", dropout: 0.1", ", need_weights: false", ", need_weights: false, dropout: 0.1"):
        spec = load_spec("t.yaml", f"input: 32x32x3\nlayers: [patchify8-16, {{attention: {{heads: 2{params}}}}}]")
        report = training(spec, analyze(spec))
        assert report.training is not None
        assert sum(r.saved or 0 for r in report.rows) == report.training.saved


def test_a_specs_own_block_comes_before_the_built_in_one() -> None:
    text = "input: {tokens: 4, width: 8}\nblocks:\n  transformer:\n    layers: [relu]\nlayers:\n  - transformer"
    report = analyze(load_spec("t.yaml", text))
    assert [r.kind for r in report.rows[1:]] == ["activation"]


def test_the_built_in_transformer_block_is_two_residuals() -> None:
    report = analyze(load_spec("t.yaml", SMALL))
    kinds = [r.kind for r in report.rows[4:11]]
    assert kinds == ["layernorm", "attention", "dropout", "add", "layernorm", "mlp", "add"]


def test_the_exported_file_defines_convcalcs_own_modules() -> None:
    spec = load_spec("t.yaml", SMALL)
    text = to_pytorch_source(spec, analyze(spec), "test")
    for cls in ("class ClassToken(nn.Module):", "class PositionEmbedding(nn.Module):", "class SelfAttention("):
        assert cls in text
    assert "self.class_token1 = ClassToken(16)" in text  # numbered by its stem
    assert "class TokenMLP(nn.Sequential):" in text


def test_a_position_embedding_of_a_set_length_has_that_many_weights_at_any_input() -> None:
    # vit_b_16's 197 x 768 whatever H and W (the input is tied to them), not (H/16)(W/16) + 1 of them.
    result = CliRunner().invoke(main, ["show", "vit_b_16", "--input", "HxWx3", "--format", "json"])
    rows = json.loads(result.stdout)["layers"]
    (row,) = (r for r in rows if r["name"] == "encoder.pos_embedding")
    assert row["params"]["python"] == str(197 * 768)
    assert "H" in row["activations"]["python"]  # its output still grows with the input


def test_an_adaptive_pool_to_one_over_tokens_sees_the_whole_image() -> None:
    # Tokens have one dim where the image has two: the pooled dim's field is the image's widest side.
    report = analyze(
        load_spec("t.yaml", "input: 8x6x2\nlayers: [patchify2-3, {adaptive_pool: {type: avg, output: [1]}}]")
    )
    assert report.rows[-1].output == Volume((1,), 3)
    assert report.rows[-1].rf == (8,)


def test_a_mistake_in_a_built_in_blocks_arguments_is_placed_at_the_call() -> None:
    text = "input: 32x32x3\nlayers:\n  - patchify16-8\n  - transformer: {heads: 0, mlp: 16}\n"
    result = CliRunner().invoke(main, ["show", "-"], input=text)
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "<stdin>:4:18: error: heads must be positive, got 0 (in the built-in block 'transformer'"
    )
