"""`convcalc check --key`: a class graded against an answer key (docs/grading.md)."""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

KEY = """\
name: Homework 2
input: 32x32x3
layers:
  - layer: conv5-10 s1 p2
    name: CONV1
    expect: {output: 32x32x10, params: 760}
  - layer: maxpool
    name: POOL1
    expect: {output: 16x16x10}
  - layer: conv3-20 s2
    name: CONV2
    expect: {fits: false}
  - layer: fc-10
    name: FC
    expect: {params: 9810}
expect: {output: 10}
"""

STUDENTS = {
    # All right: by name (any case), by row index, `network`, and the lecture's "about" form.
    "ada": """\
student: Ada
answers:
  conv1: {output: 32x32x10, params: ~760}
  2: {output: 16x16x10}
  CONV2: {fits: false}
  FC: {params: 9810}
  network: {output: 10}
""",
    # Wrong: CONV1's answers, a size where the stride does not fit, a knock-on answer, a layer that is not there.
    "bob": """\
student: Bob
answers:
  CONV1: {output: 28x28x10, params: 750}
  POOL1: {output: 16x16x10}
  CONV2: {output: 7x7x20}
  FC: {params: 9000}
  CONV9: {params: 1}
""",
    # Unreadable: a list where the answers go (the sheet still names Carl by his `student:`).
    "carl": """\
student: Carl
answers: [760]
""",
    # A network of their own (no pad on CONV1), with answers that fit it.
    "dora": """\
input: 32x32x3
layers:
  - layer: conv5-10 s1 p0
    expect: {output: 28x28x10, params: 760}
  - layer: maxpool
    expect: {output: 14x14x10}
""",
}


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def klass(tmp_path: Path) -> tuple[str, str]:
    """The key's path and the folder of the students' files."""
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    folder = tmp_path / "students"
    folder.mkdir()
    for name, text in STUDENTS.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    (folder / "notes.txt").write_text("not a student", encoding="utf-8")
    return str(key), str(folder)


def test_text_sheet(klass: tuple[str, str]) -> None:
    key, folder = klass
    result = run("check", "--key", key, folder)
    assert result.exit_code == 2  # carl's file cannot be read; the others are graded
    lines = result.stdout.splitlines()
    assert lines[0] == f"Grade sheet — key {key} (Homework 2): 6 questions, 1 point each"
    table = [line.split() for line in lines[3:7]]
    assert table == [
        ["Ada", "6/6", "0", "0", "0", "0"],
        ["Bob", "1/6", "4", "0", "0", "1"],
        ["Carl", "—", "unreadable"],
        ["dora", "1/6", "2", "1", "0", "3", "other", "network"],
    ]
    text = "\n".join(lines)
    assert f"Bob ({folder}/bob.yaml): 1/6" in text
    assert (
        "  ✗ CONV1 output: answered 28x28x10, key 32x32x10 (H2 = W2 = (32 − 5 + 2·2)/1 + 1 = 32; D2 = K = 10)" in lines
    )
    assert "  ✗ CONV1 params: answered 750, key 760 (params = (5·5·3 + 1)·10 = 760)" in lines
    # Asked whether CONV2's stride fits, Bob gave a size: that says it fits, and it does not.
    assert any(
        line.startswith("  ✗ CONV2 fits: answered 7x7x20 (an output size: it fits), key false") for line in lines
    )
    # 9000 follows from nothing: wrong, and no knock-on error of CONV2 (only a size rounded up would be).
    assert "  ✗ FC params: answered 9000, key 9810 (params = 7·7·20·10 + 10 = 9,810)" in lines
    assert "  – Homework 2 output: not answered" in lines
    assert f"  ? {folder}/bob.yaml:7:3: error: no layer named 'CONV9' in the key's network; " in text
    assert f"Carl ({folder}/carl.yaml): —" in lines
    assert f"  could not be read: {folder}/carl.yaml:2:10: error: `answers:` maps a layer's name" in text
    # dora forgot the pad: her 14x14x10 is right for her own 28x28x10.
    assert (
        "  ✗ POOL1 output: answered 14x14x10, key 16x16x10 (H2 = W2 = (32 − 2)/2 + 1 = 16; D2 = D1 = 10); "
        "carried forward from CONV1 output 28x28x10"
    ) in lines
    assert (
        "  ! the file's own network departs from the key's at row #1: conv5-10 → 28x28x10, "
        "the key's conv5-10 p2 → 32x32x10; answers graded on the key's"
    ) in lines
    assert lines[-1] == "4 students, 6 questions: 1 with full marks, mean 2.7; 1 file could not be read"


def test_csv_sheet(klass: tuple[str, str]) -> None:
    key, folder = klass
    result = run("check", "--key", key, folder, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [
        (r["student"], r["points"], r["out_of"], r["wrong"], r["carried_forward"], r["knock_on"]) for r in rows
    ] == [
        ("Ada", "6", "6", "0", "0", "0"),
        ("Bob", "1", "6", "4", "0", "0"),
        ("Carl", "", "6", "", "", ""),
        ("dora", "1", "6", "2", "1", "0"),
    ]
    assert rows[0]["details"] == ""
    assert "✗ CONV1 params: answered 750, key 760 (params = (5·5·3 + 1)·10 = 760)" in rows[1]["details"].split(" | ")
    assert rows[2]["error"].startswith(f"{folder}/carl.yaml:2:10: error: `answers:` maps")
    assert rows[3]["network"] == "row #1: conv5-10 → 28x28x10, the key's conv5-10 p2 → 32x32x10"


def test_json_sheet(klass: tuple[str, str]) -> None:
    key, folder = klass
    data = json.loads(run("check", "--key", key, folder, "--format", "json").stdout)
    assert data["schema_version"] == 2
    assert data["summary"] == {
        "students": 4, "questions": 6, "full_marks": 1, "points": 8, "knock_on": 0, "carried_forward": 1,
        "unreadable_answers": 0, "unreadable": 1,
    }  # fmt: skip
    assert [q["name"] for q in data["key"]["questions"]] == ["CONV1", "CONV1", "POOL1", "CONV2", "FC", "Homework 2"]
    ada, bob, carl, dora = data["students"]
    assert (ada["points"], ada["wrong"], ada["unanswered"]) == (6, [], [])
    wrong = {(w["name"], w["key"]): w for w in bob["wrong"]}
    assert wrong["CONV1", "params"]["arithmetic"] == ["params = (5·5·3 + 1)·10 = 760"]
    got = wrong["CONV1", "params"]
    assert (got["answered"], got["key_answer"], got["value"], got["line"]) == ("750", "760", 760, 3)
    assert (wrong["FC", "params"]["knock_on"], wrong["FC", "params"]["carried_from"]) == (False, "")
    assert bob["unknown"][0]["line"] == 7
    assert (carl["student"], carl["points"], carl["errors"][0]["line"]) == ("Carl", None, 2)
    assert dora["network"].startswith("row #1")
    assert [u["name"] for u in dora["unanswered"]] == ["CONV2", "FC", "Homework 2"]
    assert [(w["name"], w["answered"], w["carried_from"]) for w in dora["wrong"]] == [
        ("CONV1", "28x28x10", ""), ("POOL1", "14x14x10", "CONV1 output 28x28x10"),
    ]  # fmt: skip


def test_a_wrong_key_is_refused(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(KEY.replace("params: 760", "params: 750"), encoding="utf-8")
    result = run("check", "--key", str(key), str(key))
    assert result.exit_code == 1
    assert result.stderr.startswith(
        f"{key}:6:40: error: the key's answer is wrong: CONV1 params: expected 750, got 760"
    )


def test_a_key_without_answers_or_unreadable(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text("input: 8x8x1\nlayers: [conv3-1]\n", encoding="utf-8")
    result = run("check", "--key", str(key), str(key))
    assert result.exit_code == 2
    assert "the key" in result.stderr
    assert "has no answers" in result.stderr
    key.write_text("input: 8x8x1\nlayers: [convv3-1]\n", encoding="utf-8")
    unreadable = run("check", "--key", str(key), str(key))
    assert unreadable.exit_code == 2
    assert "unknown layer kind 'convv3-1'" in unreadable.stderr


@pytest.mark.parametrize(
    ("answers", "message"),
    [
        (
            "answers:\n  relu: {output: 1}\n",
            "'relu' names 2 layers of the key's network: answer by row index (#2, #4…)",
        ),
        ("answers:\n  9: {output: 1}\n", "no row #9 in the key's network: its rows are #0 (the input) to #4"),
    ],
)
def test_addresses_that_name_no_single_layer(tmp_path: Path, answers: str, message: str) -> None:
    key = tmp_path / "key.yaml"
    key.write_text("input: 8x8x1\nlayers: [conv3-1, relu, conv3-1, relu]\nexpect: {output: 4x4x1}\n", encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text(answers, encoding="utf-8")
    result = run("check", "--key", str(key), str(student))
    assert result.exit_code == 0
    assert f"  ? {student}:2:3: error: {message}" in result.stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- 1\n", "a student's file maps `answers:` to layer names or indices"),
        ("student: X\n", "a student's file maps `answers:` to layer names or indices"),
        ("answers: [1]\n", "`answers:` maps a layer's name or index (or `network`) to its answers, not a list"),
        ("answers: {}\nclass: 3\n", "unknown key 'class'"),
    ],
)
def test_unreadable_students(tmp_path: Path, text: str, message: str) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text(text, encoding="utf-8")
    result = run("check", "--key", str(key), str(student))
    assert result.exit_code == 2
    assert message in result.stdout


def test_formats_that_do_not_go_with_key_or_without(klass: tuple[str, str]) -> None:
    key, folder = klass
    github = run("check", "--key", key, folder, "--format", "github")
    assert github.exit_code == 2
    assert "--key prints a grade sheet: --format text, csv or json" in github.stderr
    plain = run("check", key, "--format", "csv")
    assert plain.exit_code == 2
    assert "--format csv is for grade sheets (--key)" in plain.stderr


def test_composites_by_name_and_a_network_that_goes_on(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    body = "input: 8x8x4\nlayers:\n  - residual: {layers: [conv3-4 p1]}\n    name: BLOCK\n    expect: {output: 8x8x4}\n"
    key.write_text(body, encoding="utf-8")
    by_name = tmp_path / "a.yaml"
    by_name.write_text("answers:\n  block: {output: 8x8x4}\n", encoding="utf-8")
    longer = tmp_path / "b.yaml"  # the key's network, then one more layer
    longer.write_text(body + "  - relu\n", encoding="utf-8")
    same = tmp_path / "c.yaml"  # the key's network as the student wrote it: nothing to say
    same.write_text(body, encoding="utf-8")
    args = ["check", "--key", str(key), str(by_name), str(longer), str(same), "--format", "json"]
    data = json.loads(run(*args).stdout)
    assert [(s["points"], s["network"]) for s in data["students"]] == [(1, ""), (1, "3 rows, the key's 2"), (1, "")]
