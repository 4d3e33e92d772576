"""Which names a symbol may take (issue 22, D15), and that every accepted one computes.

The python form of a formula is evaluated with the symbols as variables (docs/symbolic.md), so a
keyword, a constant or a dunder must never become one; nor a word the readable forms use.
"""

from __future__ import annotations

import json
import keyword
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.errors import SpecError
from convcalc.spec.loader import RESERVED, load_spec

if TYPE_CHECKING:
    from pathlib import Path

NAMES = st.from_regex(r"[A-WYZa-wyz_][A-WYZa-wyz0-9_]{0,7}", fullmatch=True)  # no x: it separates dims
SPEC = "input: {h}x{w}x3\nlayers:\n  - conv3-4 p1\n  - maxpool\n  - fc-10\n"


def refused(name: str) -> bool:
    return keyword.iskeyword(name) or name.startswith("_") or name in RESERVED


@pytest.mark.parametrize("name", ["True", "False", "None", "lambda", "if", "__import__", "_", "_H", "k", "mod"])
def test_a_keyword_constant_dunder_or_the_formulas_own_letter_is_refused_where_it_is(tmp_path: Path, name: str) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(SPEC.format(h=name, w="W"), encoding="utf-8")
    result = CliRunner().invoke(main, ["fit", str(path)])
    assert result.exit_code == 2
    assert f"{path}:1:8: error: input dim '{name}' cannot be a symbol" in result.stderr
    assert "Traceback" not in result.output


def test_the_command_lines_input_is_judged_alike() -> None:
    result = CliRunner().invoke(main, ["show", "vgg16", "--input", "TruexWx3"])
    assert result.exit_code == 2
    assert "input dim 'True' cannot be a symbol: a Python keyword or constant" in result.stderr


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(NAMES, NAMES)
def test_every_name_the_grammar_reads_is_refused_or_computes(h: str, w: str) -> None:
    text = SPEC.format(h=h, w=w)
    if refused(h) or refused(w):
        with pytest.raises(SpecError, match="cannot be a symbol"):
            load_spec("net.yaml", text)
        return
    result = CliRunner().invoke(main, ["show", "-", "--format", "json"], input=text)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    fc = data["layers"][-1]
    numeric = analyze(load_spec("net.yaml", SPEC.format(h=6, w=10)))
    env = {h: 6, w: 10} if h != w else {h: 6}
    if h == w:  # one symbol for both dims: a square family
        numeric = analyze(load_spec("net.yaml", SPEC.format(h=6, w=6)))
    assert eval(fc["params"]["python"], dict(env)) == numeric.rows[-1].params  # noqa: S307 - the documented use
    assert eval(data["totals"]["macs"]["python"], dict(env)) == numeric.totals.macs  # noqa: S307
