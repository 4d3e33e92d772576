"""A grid layer's label is shorthand that reads back as the same layer (issue 27, vitfix 3)."""

from __future__ import annotations

import json

from click.testing import CliRunner

from convcalc.cli import main

LONG = """\
input: {length: 16, depth: 8}
layers:
  - grid: 4x4
  - conv3-8
"""


def _rows(text: str) -> list[dict[str, object]]:
    result = CliRunner().invoke(main, ["show", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.output
    rows: list[dict[str, object]] = json.loads(result.stdout)["layers"]
    return rows


def test_the_label_is_the_shorthand_and_reads_back() -> None:
    first = _rows(LONG)
    assert first[1]["label"] == "grid-4x4"
    again = _rows(LONG.replace("grid: 4x4", str(first[1]["label"])))
    strip = [{k: v for k, v in r.items() if k != "line"} for r in first]
    assert [{k: v for k, v in r.items() if k != "line"} for r in again] == strip


def test_a_grid_of_three_dims_and_the_bare_head() -> None:
    text = "input: {length: 24, depth: 2}\nlayers:\n  - grid2x3x4\n"
    (row,) = _rows(text)[1:]
    assert row["label"] == "grid-2x3x4"
    assert row["output"] == [2, 3, 4, 2]


def test_a_grid_that_does_not_hold_the_tokens_is_an_error() -> None:
    result = CliRunner().invoke(main, ["show", "-"], input="input: {length: 16, depth: 8}\nlayers:\n  - grid-4x5\n")
    assert result.exit_code == 1, result.output
    assert "16 tokens are not a 4x5 grid (20 positions)" in result.output
