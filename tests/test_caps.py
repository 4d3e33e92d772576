"""Repeated diagnostics: the first 20 of a kind in text, then a count; JSON keeps every one."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.render.caps import SHOWN, Cap
from convcalc.report import Diagnostic, Severity

if TYPE_CHECKING:
    from pathlib import Path

BRANCHES = 50  # each a conv2 s2 p1 on 1x1: (1 − 2 + 2)/2 + 1 = 1.5, a stride that does not fit
MORE = f"… and {BRANCHES - SHOWN} more stride-does-not-fit errors"


@pytest.fixture
def spec(tmp_path: Path) -> str:
    path = tmp_path / "many.yaml"
    branches = "".join("        - [conv2-1 s2 p1]\n" for _ in range(BRANCHES))
    path.write_text(f"input: 1x1x1\nlayers:\n  - parallel:\n      branches:\n{branches}", encoding="utf-8")
    return str(path)


def _stride_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if "the stride does not fit" in line]


def test_check_text(spec: str) -> None:
    result = CliRunner().invoke(main, ["check", spec])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(_stride_lines(result.stdout)) == SHOWN
    assert lines[SHOWN] == MORE
    assert lines[-1] == f"0 checks in 1 file: 0 passed, 0 failed; {BRANCHES} design errors"


def test_check_github(spec: str) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "github", spec])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert [line.startswith("::error ") for line in lines].count(True) == SHOWN
    assert lines[SHOWN] == MORE


def test_json_keeps_every_diagnostic(spec: str) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "json", spec])
    assert result.exit_code == 1
    (file,) = json.loads(result.stdout)["files"]
    assert len(file["diagnostics"]) == BRANCHES
    shown = CliRunner().invoke(main, ["show", "--format", "json", spec])
    assert len(json.loads(shown.stdout)["diagnostics"]) == BRANCHES
    assert len(_stride_lines(shown.stderr)) == SHOWN  # the messages on stderr are text
    assert shown.stderr.splitlines()[-1] == MORE


def test_show_table_and_markdown(spec: str) -> None:
    table = CliRunner().invoke(main, ["show", spec])
    assert table.exit_code == 1
    assert len([line for line in table.stdout.splitlines() if line.lstrip().startswith("✗ ")]) == SHOWN
    assert MORE in table.stdout
    assert f"Problems     {BRANCHES} errors, 0 warnings" in table.stdout  # the totals count them all
    markdown = CliRunner().invoke(main, ["show", "--format", "markdown", spec])
    assert len(_stride_lines(markdown.stdout)) == SHOWN
    assert markdown.stdout.rstrip().endswith(f"- {MORE}")


def test_csv_keeps_every_diagnostic(spec: str) -> None:
    result = CliRunner().invoke(main, ["show", "--format", "csv", spec])
    assert result.stdout.count("the stride does not fit") == BRANCHES  # a cell per row: data


def _d(code: str, severity: Severity = Severity.ERROR) -> Diagnostic:
    return Diagnostic(severity, code, "m", "1", "f", 1, 1)


def test_cap_counts_each_kind() -> None:
    cap = Cap(shown=2)
    kept = list(cap.filter([_d("a"), _d("a"), _d("a"), _d("b"), _d("a", Severity.WARNING), _d("a"), _d("b")]))
    assert [(d.code, d.severity) for d in kept] == [
        ("a", Severity.ERROR),
        ("a", Severity.ERROR),
        ("b", Severity.ERROR),
        ("a", Severity.WARNING),
        ("b", Severity.ERROR),
    ]
    assert cap.more() == ["… and 2 more a errors"]
    one = Cap(shown=0)
    list(one.filter([_d("x", Severity.WARNING)]))
    assert one.more() == ["… and 1 more x warning"]
