"""docs/grading.md shows its own output: its class (examples/grading), graded, and its answer sheet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "grading.md"
BLOCK = re.compile(r"```(?:yaml)?\n(.*?)```", re.DOTALL)


def blocks() -> list[str]:
    return BLOCK.findall(DOC.read_text(encoding="utf-8"))


def test_the_files_shown_are_the_example_class() -> None:
    shown = {b.split("\n", 1)[0][2:]: b for b in blocks() if b.startswith("# examples/grading/")}
    assert sorted(shown) == [
        "examples/grading/key.yaml",
        *(f"examples/grading/students/{n}.yaml" for n in ("ada", "bob", "carl", "dora")),
    ]
    for path, text in shown.items():
        assert (ROOT / path).read_text(encoding="utf-8") == text


@pytest.mark.parametrize(
    "command",
    [
        "convcalc check --key examples/grading/key.yaml examples/grading/students/",
        "convcalc check --key examples/grading/key.yaml --blank",
    ],
)
def test_the_example_matches_its_output(monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    (block,) = [b for b in blocks() if b.startswith(f"$ {command}\n")]
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, command.split()[1:])
    assert result.exit_code == 0
    assert [line.rstrip() for line in result.stdout.splitlines()] == block.splitlines()[1:]
