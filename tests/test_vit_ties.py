"""The size lines of a symbolic table where the position embedding ties H to W (issue 27, vitfix 1)."""

from __future__ import annotations

import re
from dataclasses import replace

from click.testing import CliRunner

from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.analyze import first_problem
from convcalc.volume import Volume


def _show(*args: str) -> str:
    result = CliRunner().invoke(main, ["show", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def _fits(name: str, h: int, w: int) -> bool:
    spec = open_spec(name)
    at = replace(spec, input=Volume((h, w), spec.input.depth), symbols=(), example=True, expectations=())
    return first_problem(at) is None


def test_the_tie_is_stated_not_one_arbitrary_size() -> None:
    out = _show("vit_b_16", "--input", "HxWx3")
    assert "H = 3,136" not in out
    assert "H: H = 16k, k ≥ 1, tied to W below" in out
    line = next(x for x in out.splitlines() if x.startswith("tie at encoder.pos_embedding"))
    assert "(H/16)·(W/16) = 196" in line
    pairs = [(int(h), int(w)) for h, w in re.findall(r"(\d+)x(\d+)", line.replace(",", ""))]
    assert pairs[0] == (224, 224)  # the squarest first
    assert len(pairs) == 3
    assert all(_fits("vit_b_16", h, w) for h, w in pairs)  # each pair runs through the numeric engine
    assert not _fits("vit_b_16", 16, 16)  # the own set alone does not fit: the tie is what decides


def test_vit_b_32_lists_its_own_pairs() -> None:
    out = _show("vit_b_32", "--input", "HxWx3")
    line = next(x for x in out.splitlines() if x.startswith("tie at "))
    assert "(H/32)·(W/32) = 49" in line
    h, w = (int(x) for x in re.findall(r"(\d+)x(\d+)", line)[0])
    assert (h, w) == (224, 224)
    assert _fits("vit_b_32", h, w)


def test_fit_still_names_the_tie_at_224() -> None:
    result = CliRunner().invoke(main, ["fit", "vit_b_16"])
    assert result.exit_code == 0, result.output
    assert "height (H): H = 224: 224" in result.output
    assert "encoder.pos_embedding (line 16): ⌊H/16⌋·⌊W/16⌋ = 196" in result.output


def test_a_net_without_ties_keeps_its_line() -> None:
    out = _show("vgg16", "--input", "HxWx3")
    assert "H: H = 32k, k ≥ 1 (the formulas hold at these sizes)" in out
    assert "tie at" not in out


PRIME = """\
name: prime
input: HxWx3
layers:
  - patchify: {size: 16, width: 8}
  - pos_embed: {length: 257}
"""


def test_a_tie_no_pair_meets_up_to_the_search() -> None:
    result = CliRunner().invoke(main, ["show", "-"], input=PRIME, env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # 257 is prime: only 16x4112 and 4112x16 meet it, past the sizes searched
    assert "(H/16)·(W/16) = 257, met by no sizes up to 4,096" in result.output


def test_no_tie_line_where_no_size_fits() -> None:
    text = PRIME.replace("length: 257}", "length: 196}\n  - attention-3")
    result = CliRunner().invoke(main, ["show", "-"], input=text, env={"COLUMNS": "200"})
    assert "H: no size fits (the formulas hold at these sizes)" in result.output
    assert "tied to" not in result.output
    assert "tie at" not in result.output


def test_a_residue_tie_is_written_as_its_condition_and_a_wide_one_lists_no_pairs() -> None:
    from convcalc.algebra.conditions import Condition, Relation  # noqa: PLC0415 - these tests only
    from convcalc.algebra.expr import Expr  # noqa: PLC0415
    from convcalc.engine.sizes import SizeSet  # noqa: PLC0415
    from convcalc.engine.symbolic import Limit  # noqa: PLC0415
    from convcalc.render.ties import condition_text, pairs  # noqa: PLC0415

    h, w = Expr.symbol("H"), Expr.symbol("W")
    residue = Condition("x", h + w, Relation.RESIDUE, 2, frozenset({0}))
    assert condition_text(residue, ()) == residue.text()
    # a floor that repeats past convcalc's limits: the tie is stated, no pair is listed
    wide = Condition("x", (h + h.floordiv(2**21 + 1)) * w.floordiv(3) - 1, Relation.ZERO)
    limit = Limit(wide, "1", "wide", None, None)
    assert pairs(("H", "W"), {"H": SizeSet.everything(), "W": SizeSet.everything()}, [limit]) == []


def test_a_tie_of_three_symbols_is_stated_alone() -> None:
    from types import SimpleNamespace  # noqa: PLC0415

    from convcalc.algebra.conditions import Condition, Relation  # noqa: PLC0415
    from convcalc.algebra.expr import Expr  # noqa: PLC0415
    from convcalc.engine.symbolic import Limit  # noqa: PLC0415
    from convcalc.render.ties import tie_lines  # noqa: PLC0415

    t, h, w = (Expr.symbol(s) for s in "THW")
    limit = Limit(Condition("x", t * h * w - 8, Relation.ZERO), "2", "embed", None, None)
    report = SimpleNamespace(limits=(limit,), symbols=("T", "H", "W"), solved={})
    notes, lines = tie_lines(report, ())  # type: ignore[arg-type]
    assert notes == {"T": ", tied to H, W below", "H": ", tied to T, W below", "W": ", tied to T, H below"}
    assert lines == ["tie at embed (layer 2): H·T·W = 8"]  # no pairs for three symbols
