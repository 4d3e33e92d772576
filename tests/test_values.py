"""Reports and specs are standard frozen dataclasses: immutable, and known to dataclasses, pickle and copy."""

from __future__ import annotations

import copy
import dataclasses
import pickle
import re
from pathlib import Path

import pytest

import convcalc
from convcalc.report import LayerRow, Report
from convcalc.spec.model import LayerSpec, Spec

PACKAGE = Path(convcalc.__file__).parent


def _report() -> Report:
    return convcalc.analyze(convcalc.load_spec("specs/vgg16.yaml"))


def test_a_row_cannot_be_changed() -> None:
    report = _report()
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'weights'"):
        report.rows[1].weights = 0  # type: ignore[misc]


def test_values_have_slots_and_no_instance_dict() -> None:
    row = _report().rows[1]
    assert not hasattr(row, "__dict__")
    assert "weights" in type(row).__slots__


@pytest.mark.parametrize("cls", [Report, LayerRow, Spec, LayerSpec])
def test_value_classes_are_frozen_dataclasses(cls: type) -> None:
    assert dataclasses.is_dataclass(cls)
    assert cls.__dataclass_params__.frozen  # type: ignore[attr-defined]


def test_asdict_replace_pickle_and_deepcopy() -> None:
    report = _report()
    as_dict = dataclasses.asdict(report)
    assert as_dict["rows"][1]["weights"] == 1728
    assert as_dict["totals"]["weights"] == 138_344_128
    assert dataclasses.replace(report.rows[1], weights=0).weights == 0
    assert pickle.loads(pickle.dumps(report)) == report  # noqa: S301 - our own data
    assert copy.deepcopy(report) == report


def test_nothing_in_the_package_calls_exec_or_eval() -> None:
    calls = [
        f"{path.relative_to(PACKAGE)}:{n}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"(?<![\w.])(exec|eval)\(", line)
    ]
    assert calls == []
