"""Grading's corners: answers that stand for another question, what is not carried, blank layers, odd numbers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.spec.expect import read_each
from convcalc.spec.yamlpos import PosMap, parse_yaml

if TYPE_CHECKING:
    from pathlib import Path

# CONV2 floors (16 − 3)/2 + 1 = 7.5 to 7: the key asks only its size; the network's params too.
KEY = """\
name: K
input: 32x32x3
layers:
  - {layer: conv5-10 p2, name: CONV1, expect: {output: 32x32x10}}
  - {layer: maxpool, name: POOL1, expect: {output: 16x16x10}}
  - {layer: conv3-20 s2 floor, name: CONV2, expect: {output: 7x7x20}}
  - {layer: fc-10, name: FC, expect: {params: 9810, biases: 10}}
expect: {params: 12390, output: 10}
"""


def grade(tmp_path: Path, answers: str) -> Any:
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text(f"answers:\n{answers}", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--key", str(key), str(student), "--format", "json"])
    assert result.exit_code == 0, result.output
    (s,) = json.loads(result.stdout)["students"]
    return s


def wrong(s: Any) -> dict[tuple[str, str], Any]:
    return {(str(w["name"]), str(w["key"])): w for w in s["wrong"]}


def test_fits_false_for_a_size_says_there_is_none(tmp_path: Path) -> None:
    s = grade(tmp_path, "  CONV2: {fits: false}\n")
    w = wrong(s)["CONV2", "output"]
    assert (w["answered"], w["key_answer"], s["points"]) == ("fits: false (no output)", "7x7x20", 0)
    # `fits: true` says nothing of the size: the question is left unanswered.
    s = grade(tmp_path, "  CONV2: {fits: true}\n")
    assert (s["wrong"], [u["key"] for u in s["unanswered"]][2]) == ([], "output")


def test_what_is_not_carried_forward(tmp_path: Path) -> None:
    s = grade(
        tmp_path,
        "  POOL1: {output: 14x14x10}\n"  # right for nothing earlier: a mistake of its own
        "  CONV2: {output: 6x6}\n"  # not a volume of the network's rank: nothing to analyse from
        "  FC: {params: 6010, biases: 9}\n"  # 6·6·20·10 + 10... from a 6x6 no one can read; biases follow from no size
        "  network: {params: 12000, output: 10}\n",  # the totals add up layers before the answer too
    )
    assert {k: w["carried_from"] for k, w in wrong(s).items()} == {
        ("POOL1", "output"): "",
        ("CONV2", "output"): "",
        ("FC", "params"): "",
        ("FC", "biases"): "",
        ("K", "params"): "",
    }


def test_the_network_output_is_carried_forward(tmp_path: Path) -> None:
    # fc-10 gives 10 whatever comes in: a wrong network output is carried from nothing; but an
    # fc answered wrong on the student's own 6x6x20 (6·6·20·10 + 10 = 7210) is.
    s = grade(tmp_path, "  CONV2: {output: 6x6x20}\n  FC: {params: 7210}\n  network: {output: 11}\n")
    assert {k: w["carried_from"] for k, w in wrong(s).items()} == {
        ("CONV2", "output"): "",
        ("FC", "params"): "CONV2 output 6x6x20",
        ("K", "output"): "",
    }


def test_a_layer_left_blank_is_not_answered(tmp_path: Path) -> None:
    s = grade(tmp_path, "  CONV1:\n  POOL1: {output: 16x16x10, fit: true}\n")
    assert s["points"] == 1
    assert len(s["unanswered"]) == 6
    assert s["unknown"][0]["message"].startswith("cannot expect 'fit'; did you mean 'fits'?")


@pytest.mark.parametrize(
    ("text", "read", "bad"),
    [
        ("{params: 73, output: 1x1x1}", ["params", "output"], []),  # a number, then a key: nothing split
        ("{params: 1,234,567}", [], ["`params: 1,234,567` inside {…}"]),
        ("{params: 73, 856: 1}", ["params"], []),  # a key 856 with a value is a key, not a split number
    ],
)
def test_numbers_split_at_commas(text: str, read: list[str], bad: list[str]) -> None:
    data = parse_yaml(f"a: {text}\n", "s.yaml")
    assert isinstance(data, PosMap)
    found, unreadable = read_each(data["a"], "1", blank=True)
    assert [e.key for e in found] == read
    questions = [u for u in unreadable if u.key]  # `856: 1` is a key of its own: no question
    assert len(questions) == len(bad)
    for u, start in zip(questions, bad, strict=True):
        assert u.error.message.startswith(start)


def test_a_repeat_is_on_the_blank_sheet(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(
        "input: 16x16x3\nlayers:\n  - repeat: 2\n    name: TWICE\n    layers: [conv3-4 p1]\n"
        "    expect: {params: 260}\n",  # 112 + 148
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--key", str(key), "--blank"])
    assert result.stdout.splitlines()[-2:] == ["  TWICE:           # a repeat", "    params:        # a number"]


def test_a_group_of_zeros_after_a_comma(tmp_path: Path) -> None:
    # YAML refuses `000` (a leading zero) before convcalc sees the answers: the file says why.
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text("answers:\n  FC: {biases: 10, params: 12,000}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--key", str(key), str(student)])
    assert result.exit_code == 2
    assert (
        f"  could not be read: {student}:2:20: error: `params: 12,000` inside {{…}}: YAML splits it at the comma "
        "(and refuses '000'); write 12000 or quote it: '12,000'"
    ) in result.stdout.splitlines()
    student.write_text("answers:\n  FC: {params: 012}\n", encoding="utf-8")  # a leading zero of its own
    result = CliRunner().invoke(main, ["check", "--key", str(key), str(student)])
    assert "has a leading zero" in result.stdout


def test_broken_yaml_is_unreadable_as_yaml(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text("answers:\n  FC: {params: [}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--key", str(key), str(student)])
    assert result.exit_code == 2
    assert f"  could not be read: {student}:2:" in result.stdout
    assert "error: YAML:" in result.stdout


def test_a_whole_spec_with_an_unreadable_answer(tmp_path: Path) -> None:
    # The worksheet form (a spec with `expect:`): each answer read on its own too.
    s = grade_spec(
        tmp_path,
        "input: 32x32x3\nlayers:\n  - layer: conv5-10 p2\n    expect: {output: none, params: 760}\n"
        "  - layer: maxpool\n    expect: {output: 16x16x10, paramz: 0}\nexpect: {params: 12,390}\n",
    )
    assert s["points"] == 1  # POOL1's output (the key does not ask CONV1's params)
    assert {k: w["unreadable"].split(":")[0] for k, w in wrong(s).items()} == {
        ("CONV1", "output"): "expected output must be a volume such as 55x55x96 (or 1000), not 'none'",
        ("K", "params"): "`params",
    }
    assert wrong(s)["K", "params"]["unreadable"].startswith("`params: 12,390` inside {…}: YAML splits it")
    assert s["unknown"][0]["message"].startswith("cannot expect 'paramz'; did you mean 'params'?")


def grade_spec(tmp_path: Path, text: str) -> Any:
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--key", str(key), str(student), "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)["students"][0]


def test_check_names_a_number_split_at_its_commas(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text("input: 8x8x1\nlayers:\n  - layer: fc-10\n    expect: {params: 6,410}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0] == (
        f"{path}:4:22: error: `params: 6,410` inside {{…}}: YAML splits it at the comma (params 6, then `410`); "
        "write 6410 or quote it: '6,410'"
    )
