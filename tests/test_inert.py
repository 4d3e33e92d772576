"""No control character from a spec reaches the output, in any text format; CSV cells are never formulas."""

from __future__ import annotations

import csv
import io
import re
import textwrap
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.render.csv import COLUMNS, render_csv, text
from convcalc.render.inert import inert, inert_lines
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from pathlib import Path

# What a terminal, a log or a GitHub runner would act on: C0 and C1 controls (but the line feeds
# between lines), and the bidirectional overrides.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

SPEC = textwrap.dedent(
    r"""
    name: "Net\x1b[2J\x1b]0;pwned\x07"
    description: "about \u202egnp.exe"
    input: 8x8x3
    layers:
      - conv: {filters: 4, size: 3}
        name: "c1\x1b[2J\nfake.yaml:1:1: error: forged"
        expect: {params: 3}
      - conv: {filters: 4, size: 2, stride: 2}
        name: "c2\u202eevil"
      - conv: {filters: 4, size: 2, stride: 2}
        name: "c3\u2066x"
    """
)


@pytest.fixture
def spec(tmp_path: Path) -> str:
    path = tmp_path / "n\x1b[31met.yaml"  # a file name is text from the user too
    path.write_text(SPEC, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    "args",
    [
        ["show", "{spec}"],
        ["show", "{spec}", "--explain"],
        ["show", "{spec}", "--format", "markdown"],
        ["show", "{spec}", "--format", "csv"],
        ["check", "{spec}"],
        ["check", "-v", "{spec}"],
        ["check", "--format", "github", "{spec}"],
        ["diff", "{spec}", "lenet5"],
        ["diff", "{spec}", "lenet5", "--format", "markdown"],
        ["diff", "lenet5", "{spec}", "--all"],
        ["draw", "{spec}"],
        ["fit", "{spec}", "--max", "40"],
        ["show", "{spec}", "--input", "HxWx3"],  # the symbolic table
    ],
)
def test_no_control_character_reaches_the_output(spec: str, args: list[str]) -> None:
    result = CliRunner().invoke(main, [a.replace("{spec}", spec) for a in args])
    assert result.exit_code in {0, 1}, result.output
    for stream in (result.stdout, result.stderr):
        assert not RAW.search(stream), (args, RAW.search(stream))
    shown = result.stdout + result.stderr
    assert re.search(r"\\(x1b|u202e|u2066)", shown), args  # the names are there, written out
    # The line feed in a name does not start a line of its own (a forged diagnostic).
    assert not any(line.startswith("fake.yaml") for line in shown.splitlines()), args


def test_the_table_shows_names_escaped(spec: str) -> None:
    result = CliRunner().invoke(main, ["show", spec])
    assert result.exit_code == 1
    assert result.stdout.startswith(r"Net\x1b[2J\x1b]0;pwned\x07 — about \u202egnp.exe")
    assert r"c1\x1b[2J\nfake.yaml:1:1: error: forg" in result.stdout
    assert r"c2\u202eevil" in result.stdout


def test_github_annotations_stay_one_line_each(spec: str) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "github", spec])
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert len(lines) == 3  # a stride, a failed check, the summary
    assert all(line.startswith("::error file=") for line in lines[:2])
    assert r"c1\x1b[2J\nfake.yaml" in lines[1]


def test_errors_quote_user_text_inert(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text('input: 8x8x3\nlayers:\n  - "conv3-4\\x1b[2J"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(path)])
    assert result.exit_code == 2
    assert not RAW.search(result.stderr)
    assert r"\x1b[2j" in result.stderr.lower()
    missing = CliRunner().invoke(main, ["show", "nothing\x1b]0;t\x07"])
    assert missing.exit_code == 2
    assert missing.stderr.startswith(r"nothing\x1b]0;t\x07: error: no such file")


def test_inert() -> None:
    assert inert("conv3-64 畳み込み · →") == "conv3-64 畳み込み · →"
    assert inert("a\x1b[2J\x07\x9b\u202e\u2066\t\r\n") == r"a\x1b[2J\x07\x9b\u202e\u2066\t\r\n"
    assert inert(inert("\x1b")) == r"\x1b"
    assert inert_lines("a\x1b\nb\u202e") == "a\\x1b\nb\\u202e"


@pytest.mark.parametrize(
    ("name", "cell"),
    [
        ('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tTAB", r"'\tTAB"),
        ("\rCR", r"'\rCR"),
        ("conv-1", "conv-1"),
        ("a=b", "a=b"),
    ],
)
def test_csv_text_cells_are_never_formulas(name: str, cell: str) -> None:
    assert text(name) == cell


def test_csv_keeps_numbers_numbers_and_neutralises_names() -> None:
    spec = "input: 8x8x3\nlayers:\n  - conv: {filters: 4, size: 3}\n    name: '=1+2'\n  - layer: relu\n    name: '-x'\n"
    report = analyze(load_spec("net.yaml", spec))
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert [r["name"] for r in rows] == ["INPUT", "'=1+2", "'-x", "TOTAL"]
    numeric = ("index", "activations", "memory", "params", "weights", "biases", "buffers", "macs", "flops", "depth")
    for r in rows[:-1]:
        for key in numeric:
            assert int(r[key]) >= 0, (key, r[key])
    assert rows[1]["params"] == "112"
    assert list(rows[0]) == list(COLUMNS)
