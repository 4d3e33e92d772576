"""A spec's mistakes in one pass: unknown keys, fields and layers together, as an editor shows them (issue 23)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import load_spec
from convcalc.cli import main
from convcalc.errors import SpecError

if TYPE_CHECKING:
    from pathlib import Path


def _places(text: str) -> list[str]:
    with pytest.raises(SpecError) as caught:
        load_spec("net.yaml", text)
    return [e.line().split(": error: ")[0] + ": " + e.message.split(";")[0] for e in caught.value.all]


def test_unknown_keys_fields_and_layers_at_once() -> None:
    text = (
        "input: 32x32x3\n"
        "layrs: []\n"  # a misspelt key beside a right one: each unknown key is said
        "colour: red\n"
        "layers: [conv3-8 q4, maxpol, {conv: {filters: 8, size: 3, fliters: 2}}]\n"
        "batch: 0\n"
        "dtype: float99\n"
        "expect: {params: lots}\n"
    )
    places = _places(text)
    assert places[:2] == [
        "net.yaml:2:1: unknown key 'layrs' in the spec",
        "net.yaml:3:1: unknown key 'colour' in the spec",
    ]
    assert "net.yaml:4:10: unknown token 'q4' in 'conv3-8 q4'" in places
    assert "net.yaml:4:22: unknown layer kind 'maxpol'" in places
    assert any(p.startswith("net.yaml:4:59: unknown parameter 'fliters'") for p in places)
    assert any(p.startswith("net.yaml:5:8: batch must be positive") for p in places)
    assert any(p.startswith("net.yaml:6:8: ") and "float99" in p for p in places)
    assert any(p.startswith("net.yaml:7:") for p in places)
    assert len(places) == 8


def test_a_misspelt_layers_key_is_said_once() -> None:
    assert _places("input: 8x8x3\nlayer: [conv3-8]\n") == ["net.yaml:2:1: unknown key 'layer' in the spec"]
    assert _places("input: 8x8x3\n") == ["net.yaml:1:1: the spec has no `layers:`"]


def test_a_bad_input_and_a_bad_layer_together() -> None:
    places = _places("input: 32xx3\nlayers: [convv3-8]\n")
    assert [p.split(":")[1] for p in places] == ["1", "2"]


def test_layers_are_not_read_when_blocks_are_not() -> None:
    # The block's mistake only: its calls would all be "unknown layer kind or block".
    places = _places("input: 8x8x3\nblocks:\n  b: {layers: [conv3-8 q], colour: red}\nlayers: [b, b]\n")
    assert len(places) == 1
    assert "unknown key 'colour' in block 'b'" in places[0]


def test_check_prints_every_mistake(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: 32x32x3\nlayr: 1\nlayers: [conv3-8 q4, maxpol]\nbatch: 0\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if ": error: " in line]
    assert [line.split(": error: ")[0].rsplit(":", 2)[1] for line in errors] == ["2", "3", "3", "4"]  # the file's order


def test_mistakes_without_a_place_come_first_and_each_is_said_once() -> None:
    from convcalc.errors import Location  # noqa: PLC0415
    from convcalc.spec.common import Mistakes  # noqa: PLC0415

    found = Mistakes()
    found.add(SpecError("later", Location("f", 3, 1)))
    found.add(SpecError("later", Location("f", 3, 1)))
    found.add(SpecError("nowhere"))
    with pytest.raises(SpecError) as caught:
        found.raise_them()
    assert [e.message for e in caught.value.all] == ["nowhere", "later"]
    Mistakes().raise_them()  # none: nothing raised
