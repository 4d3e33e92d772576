"""convcalc.api.ShowOptions and show_report: `convcalc show`'s option rules, outside click (issue 24)."""

from __future__ import annotations

from typing import Any

import pytest

from convcalc.api import ShowOptions, show_report, to_spec
from convcalc.engine.analyze import analyze
from convcalc.errors import SpecError
from convcalc.render.columns import Column


@pytest.mark.parametrize(
    ("given", "match"),
    [
        ({"fmt": "yaml"}, r"show\(\): error: fmt='yaml': not one of table, json, csv, markdown"),
        ({"depth": 0}, r"depth=0: give a whole number, at least 1"),
        ({"depth": True}, r"depth=True: give a whole number"),
        ({"limit": -5}, r"limit=-5: give a whole number, at least 1"),
        ({"optimizer": "lion"}, r"optimizer='lion': not one of sgd"),
        ({"precision": "fp8"}, r"precision='fp8': not one of fp32"),
        ({"device": "tpu"}, r"device='tpu': not one of cpu"),
    ],
)
def test_a_bad_option_is_refused_in_the_api(given: dict[str, Any], match: str) -> None:
    with pytest.raises(SpecError, match=match):
        ShowOptions(**given)


@pytest.mark.parametrize("given", [{"optimizer": "adam"}, {"precision": "amp"}, {"device": "cuda"}, {"limit": 10**9}])
def test_each_training_option_implies_train(given: dict[str, Any]) -> None:
    assert ShowOptions(**given).training
    assert not ShowOptions().training


def test_json_or_the_saved_column_computes_saved_bytes_per_row() -> None:
    assert ShowOptions(fmt="json").per_row
    assert ShowOptions(columns=(Column.OUTPUT, Column.SAVED)).per_row
    assert not ShowOptions(columns=(Column.OUTPUT,)).per_row
    assert not ShowOptions(fmt="csv").per_row


def test_the_options_with_no_symbolic_form_are_named_as_the_command_line_spells_them() -> None:
    given = ShowOptions(depth=2, explain=True, train=True, device="cuda", limit=5)
    assert given.numeric_only() == ["--depth", "--explain", "--train", "--device", "--max-batch"]
    assert ShowOptions(fmt="json", binary=True).numeric_only() == []


def test_show_report_adds_training_only_where_asked_and_folds() -> None:
    spec = to_spec("resnet18")
    report = analyze(spec)
    assert show_report(spec, report, ShowOptions()).training is None
    saved = show_report(spec, report, ShowOptions(columns=(Column.OUTPUT, Column.SAVED)))
    assert saved.training is None  # the saved column only
    assert all(r.saved is not None for r in saved.rows)
    json_report = show_report(spec, report, ShowOptions(fmt="json"))
    assert json_report.training is not None  # JSON always carries the block, at its defaults
    assert json_report.training.optimizer == "sgd"
    adam = show_report(spec, report, ShowOptions(optimizer="adam"))
    assert adam.training is not None
    assert adam.training.optimizer == "adam"
    assert adam.training.optimizer_state >= 2 * adam.training.weights  # two moments per weight, and its steps
    folded = show_report(spec, report, ShowOptions(depth=1))
    assert len(folded.rows) < len(report.rows)
