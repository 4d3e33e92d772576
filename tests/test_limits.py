"""Every limit of docs/limits.md, exceeded: exit 2, a message, the place, and no waiting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.kinds.params import MAX_VALUE
from convcalc.spec.composite import MAX_NESTING
from convcalc.spec.layers import MAX_LAYERS
from convcalc.spec.loader import MAX_FILE_BYTES
from convcalc.spec.yamlpos import MAX_DEPTH, MAX_EXPANDED_NODES


def billion_laughs() -> str:
    """Ten aliases of ten aliases, nine levels deep: 10^10 layers in a dozen lines."""
    lines = ["x0: &x0 [" + ", ".join(["relu"] * 10) + "]"]
    lines += [f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 10) + "]" for i in range(1, 10)]
    return "\n".join([*lines, "input: 8x8x3", "layers: *x9", ""])


def nested_residuals(depth: int) -> str:
    inner = "[relu]"
    for _ in range(depth):
        inner = f"[{{residual: {{layers: {inner}}}}}]"
    return f"input: 8x8x3\nlayers: {inner}\n"


CASES = {
    "number": ("input: 8x8x3\nlayers: [fc-99999999]\n", "2:10", f"larger than convcalc's limit of {MAX_VALUE:,}"),
    "repeat": (
        "input: 8x8x3\nlayers:\n  - repeat: 1000000000000\n    layers: [relu]\n",
        "3:13",
        "repeat 1,000,000,000,000 is larger than convcalc's limit",
    ),
    "expanded layers": (
        "input: 8x8x3\nlayers:\n  - repeat: 1000\n    layers:\n      - repeat: 1000\n        layers: [relu]\n",
        "3:13",
        f"repeat: 1,000 times 1,000 layers is more than {MAX_LAYERS:,} layers",
    ),
    "blocks that multiply": (
        (
            "input: 8x8x3\nblocks:\n"
            "  a: {layers: [relu, relu, relu, relu, relu, relu, relu, relu, relu, relu]}\n"
            "  b: {layers: [a, a, a, a, a, a, a, a, a, a]}\n"
            "  c: {layers: [b, b, b, b, b, b, b, b, b, b]}\n"
            "  d: {layers: [c, c, c, c, c, c, c, c, c, c]}\n"
            "  e: {layers: [d, d, d, d, d, d, d, d, d, d]}\n"
            "  f: {layers: [e, e, e, e, e, e, e, e, e, e]}\n"
            "layers: [f]\n"
        ),
        "9:10",
        f"block 'f' expands to 1,000,000 layers or more, beyond convcalc's limit of {MAX_LAYERS:,}",
    ),
    "billion laughs": (billion_laughs(), "7:5", f"more than {MAX_EXPANDED_NODES:,} values"),
    "yaml depth": (
        "input: 8x8x3\nlayers: [relu]\ndescription: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n",
        "3:",
        f"nests more than {MAX_DEPTH} levels deep",
    ),
    "layer nesting": (nested_residuals(MAX_NESTING + 5), "2:", f"nested more than {MAX_NESTING} levels deep"),
    "self call": ("input: 8x8x3\nblocks:\n  a: {layers: [relu, a]}\nlayers: [a]\n", "3:22", "block 'a' calls itself"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_limits_exit_2_with_the_place(tmp_path: Path, name: str) -> None:
    text, where, message = CASES[name]
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(path), "--format", "json"])
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:{where}"), result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("input: 8x8x3\nlayers: [relu]\n#" + "x" * MAX_FILE_BYTES + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 2
    assert (
        result.stderr
        == f"{path}: error: the file is over {MAX_FILE_BYTES:,} bytes, the limit for a spec (docs/limits.md)\n"
    )


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
def test_an_endless_file_is_read_no_further_than_the_limit() -> None:
    result = CliRunner().invoke(main, ["show", "/dev/zero"])
    assert result.exit_code == 2
    assert result.stderr.startswith("/dev/zero: error: the file is over 10,000,000 bytes")


def test_limits_are_documented() -> None:
    from pathlib import Path  # noqa: PLC0415

    doc = (Path(__file__).parent.parent / "docs" / "limits.md").read_text(encoding="utf-8")
    for value in (MAX_FILE_BYTES, MAX_DEPTH, MAX_EXPANDED_NODES, MAX_VALUE, MAX_LAYERS, MAX_NESTING):
        assert f"| {value:,} |" in doc or f"| {value} levels |" in doc, value


def _doubling_blocks(levels: int) -> str:
    """Each block passes its argument on twice to the next: `x: "${x}${x}"` (issue 13, point 1)."""
    lines = ["input: 8x8x3", "blocks:"]
    for i in range(levels):
        lines += [f"  b{i}:", "    args: {x: null}"]
        if i + 1 < levels:
            lines.append(f'    layers: [{{b{i + 1}: {{x: "${{x}}${{x}}"}}}}]')
        else:
            lines.append('    layers: [{conv: {filters: 8, size: 3}, name: "${x}"}]')
    return "\n".join([*lines, "layers:", "  - b0: {x: ab}", ""])


def test_a_templating_bomb_is_refused_before_it_is_built() -> None:
    text = _doubling_blocks(40)
    result = CliRunner().invoke(main, ["show", "-"], input=text)
    assert result.exit_code == 2
    assert "block 'b12' builds a string of 16,384 characters" in result.output
    assert len(result.output) < 1000  # one line, the quoted text cut


def test_doubling_that_stays_small_is_fine() -> None:
    result = CliRunner().invoke(main, ["show", "-", "--format", "json"], input=_doubling_blocks(8))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["layers"][1]["name"] == "ab" * 128


def test_a_long_token_is_quoted_short() -> None:
    result = CliRunner().invoke(main, ["layer", "8x8x3", "conv3-8 " + "q" * 5000])
    assert result.exit_code == 2
    assert "'qqqqqqqqq" in result.output
    assert len(result.output) < 1000


@pytest.mark.slow
@pytest.mark.parametrize("layer", ["conv2-1 s2 p1", "upsample2"])
def test_a_receptive_field_past_any_input_is_a_design_error(layer: str) -> None:
    # 1x1 stays 1x1 under a 2x2/2 conv padded by 1 (floored), while the jump doubles each time.
    text = f"input: 1x1x1\nrounding: floor\nlayers:\n  - repeat: 15000\n    layers: [{layer}]\n"
    for fmt in ("table", "json"):
        result = CliRunner().invoke(main, ["show", "-", "--format", fmt], input=text)
        assert result.exit_code == 1, result.output
        assert "passes 10^30 positions" in " ".join(result.output.split())
