"""A class graded as a teacher grades it (issue 23, points 5-11; issue 22, D2 and D20).

An answer key and ten students' first drafts, written in a temporary folder: one point per
question, an unreadable answer costs only itself, "answered …, key …", answers carried forward
from an earlier mistake, the blank answer sheet, the slide's rounded values, names made inert and
a folder whose links and suffixes are counted once each.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from convcalc.api import analyze
from convcalc.cli import main

if TYPE_CHECKING:
    from pathlib import Path

    from click.testing import Result

# 224 → CONV1 224x224x64 → POOL1 112x112x64 (802,816 values: the slide's 800K) → CONV2 112x112x128
# → CONV3 floors (112 − 3)/2 + 1 = 55.5 to 55x55x128 → FC (55·55·128·10 + 10 = 3,872,010 params).
KEY = """\
name: Homework 3
input: 224x224x3
layers:
  - layer: conv3-64 p1
    name: CONV1
    expect: {output: 224x224x64, params: 1792}
  - layer: maxpool
    name: POOL1
    expect: {output: 112x112x64, activations: 800K}
  - layer: conv3-128 p1
    name: CONV2
    expect: {output: 112x112x128, params: 73856}
  - layer: conv3-128 s2 floor
    name: CONV3
    expect: {fits: false, output: 55x55x128}
  - layer: fc-10
    name: FC
    expect: {params: 3872010}
"""
QUESTIONS = 9

RIGHT = {
    "CONV1": "{output: 224x224x64, params: 1792}",
    "POOL1": "{output: 112x112x64, activations: 800K}",
    "CONV2": "{output: 112x112x128, params: 73856}",
    "CONV3": "{fits: false, output: 55x55x128}",
    "FC": "{params: 3872010}",
}


def answers(student: str | None = None, **changed: str) -> str:
    """A student's file: the right answers, with some changed (or left out with "")."""
    lines = [f"student: {student}"] if student else []
    lines.append("answers:")
    lines += [f"  {name}: {changed.get(name, right)}" for name, right in RIGHT.items() if changed.get(name) != ""]
    return "\n".join(lines) + "\n"


STUDENTS = {
    "ada.yaml": answers("Ada"),  # all right, the slide's 800K included
    "bob.yaml": answers("Bob", CONV3="{fits: false}"),  # only one of CONV3's two questions
    "cy.yaml": answers("Cy", CONV3="{output: 55x55x128}"),  # the other one
    "dan.yaml": answers(  # first-draft answers convcalc cannot read, one at a time
        "Dan", POOL1="{output: 112x112x64, activations: about 800K}", CONV2="{output: none, params: 73,856}"
    ),
    # Forgot CONV1's pad and went on consistently: 222 → 111 → 111, and CONV3 fits on 111.
    "eve.yaml": answers(
        "Eve",
        CONV1="{output: 222x222x64, params: 1792}",
        POOL1="{output: 111x111x64, activations: 788544}",
        CONV2="{output: 111x111x128, params: 73856}",
        CONV3="{fits: true, output: 55x55x128}",
    ),
    "fay.yaml": answers("Fay", FC="{params: 3872000}"),  # a slip of her own: wrong, carried from nothing
    "gus.yaml": answers(
        '"Gus\\e[2J\\e]0;pwned\\a\\e[8m\\n  Ada 9/9"', FC="{params: 1}"
    ),  # escapes and a line feed in a name
    "hal.yaml": answers(POOL1="", CONV2="", CONV3="", FC=""),  # no `student:`: named after the file
    "IVY.YML": answers("Ivy", CONV1="{output: 224x224x64, params: 1728}"),  # weights only
    "jo.yaml": "student: Jo\nanswers: {CONV1: [1792]}\n",  # not a mapping of answers: the file is unreadable
}


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


@pytest.fixture
def klass(tmp_path: Path) -> tuple[Path, Path]:
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    folder = tmp_path / "students"
    folder.mkdir()
    for name, text in STUDENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return key, folder


def sheet(key: Path, *students: str | Path) -> dict[str, Any]:
    result = run("check", "--key", str(key), *map(str, students), "--format", "json")
    return {s["student"]: s for s in json.loads(result.stdout)["students"]}


def test_each_question_is_one_point(klass: tuple[Path, Path]) -> None:
    key, folder = klass
    graded = sheet(key, folder)
    assert (graded["Ada"]["points"], graded["Ada"]["out_of"]) == (QUESTIONS, QUESTIONS)
    # Asked both whether CONV3's stride fits and its floored size, one answer earns one point.
    for name in ("Bob", "Cy"):
        assert (graded[name]["points"], graded[name]["wrong"]) == (QUESTIONS - 1, [])
    assert [(u["name"], u["key"]) for u in graded["Bob"]["unanswered"]] == [("CONV3", "output")]
    assert [(u["name"], u["key"]) for u in graded["Cy"]["unanswered"]] == [("CONV3", "fits")]


def test_an_unreadable_answer_costs_only_itself(klass: tuple[Path, Path]) -> None:
    key, folder = klass
    dan = sheet(key, folder)["Dan"]
    assert dan["points"] == QUESTIONS - 3
    wrong = {(w["name"], w["key"]): w for w in dan["wrong"]}
    assert set(wrong) == {("POOL1", "activations"), ("CONV2", "output"), ("CONV2", "params")}
    assert "write 800K or ~800K" in wrong["POOL1", "activations"]["unreadable"]
    assert "must be a volume such as 55x55x96" in wrong["CONV2", "output"]["unreadable"]
    assert wrong["CONV2", "params"]["unreadable"] == (
        "`params: 73,856` inside {…}: YAML splits it at the comma (params 73, then `856`); "
        "write 73856 or quote it: '73,856'"
    )
    assert wrong["CONV2", "params"]["line"] == 5
    assert dan["unknown"] == []  # the `856` YAML made a key of is not an answer of its own
    text = run("check", "--key", str(key), str(folder / "dan.yaml"))
    assert text.exit_code == 0
    assert (
        f"  ✗ CONV2 params: unreadable, key 73856: {folder}/dan.yaml:5:33: error: `params: 73,856` inside {{…}}"
    ) in text.stdout


def test_the_sheet_says_answered_and_key(klass: tuple[Path, Path]) -> None:
    key, folder = klass
    result = run("check", "--key", str(key), str(folder / "fay.yaml"), str(folder / "IVY.YML"))
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "  ✗ FC params: answered 3872000, key 3872010 (params = 55·55·128·10 + 10 = 3,872,010)" in lines
    assert "  ✗ CONV1 params: answered 1728, key 1792 (params = (3·3·3 + 1)·64 = 1,792)" in lines
    ivy = sheet(key, folder / "IVY.YML")["Ivy"]
    (w,) = ivy["wrong"]
    assert (w["answered"], w["key_answer"], w["value"], w["carried_from"]) == ("1728", "1792", 1792, "")


def test_answers_consistent_with_an_earlier_mistake_are_carried_forward(klass: tuple[Path, Path]) -> None:
    key, folder = klass
    eve = sheet(key, folder)["Eve"]
    carried = {(w["name"], w["key"]): w["carried_from"] for w in eve["wrong"]}
    assert carried == {
        ("CONV1", "output"): "",  # the mistake itself
        ("POOL1", "output"): "CONV1 output 222x222x64",
        ("POOL1", "activations"): "CONV1 output 222x222x64",
        ("CONV2", "output"): "POOL1 output 111x111x64",
        ("CONV3", "fits"): "CONV2 output 111x111x128",  # on 111 the stride fits
    }
    assert (eve["points"], eve["carried_forward"], eve["knock_on"]) == (4, 4, 0)
    text = run("check", "--key", str(key), str(folder / "eve.yaml")).stdout
    assert ["Eve", "4/9", "5", "4", "0", "0"] in [line.split() for line in text.splitlines()]
    assert (
        "  ✗ CONV2 output: answered 111x111x128, key 112x112x128 (H2 = W2 = (112 − 3 + 2·1)/1 + 1 = 112; "
        "D2 = K = 128); carried forward from POOL1 output 111x111x64"
    ) in text.splitlines()


def test_a_wrong_answer_after_a_consistent_one_is_not_carried(tmp_path: Path) -> None:
    # 111 → 112 does not follow from 111 (conv3 p1 keeps the size): a new mistake.
    key = tmp_path / "key.yaml"
    key.write_text(KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text(answers("S", POOL1="{output: 111x111x64}", CONV2="{output: 110x110x128}"), encoding="utf-8")
    wrong = {(w["name"], w["key"]): w["carried_from"] for w in sheet(key, student)["S"]["wrong"]}
    assert wrong == {("POOL1", "output"): "", ("CONV2", "output"): ""}


POOLS_KEY = """\
name: Pools
input: 224x224x3
layers:
  - {layer: conv3-8 p1, name: CONV1, expect: {output: 224x224x8}}
  - {layer: maxpool, name: POOL1, expect: {output: 112x112x8}}
  - {layer: maxpool, name: POOL2, expect: {output: 56x56x8}}
"""


@pytest.mark.parametrize(
    ("pool2", "carried"),
    [("55x55x8", "POOL1 output 111x111x8"), ("54x54x8", "")],
)
def test_an_answer_rounded_where_the_students_own_size_breaks_a_stride_is_carried(
    tmp_path: Path, pool2: str, carried: str
) -> None:
    # A forgotten pad: 222, then 111, and 111 does not fit the next 2x2 pool; 55 (rounded down)
    # follows from it, 54 from nothing. (Rounded up, 56, is the key's own answer.)
    key = tmp_path / "key.yaml"
    key.write_text(POOLS_KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    text = "student: S\nanswers:\n  CONV1: {output: 222x222x8}\n  POOL1: {output: 111x111x8}\n"
    student.write_text(text + f"  POOL2: {{output: {pool2}}}\n", encoding="utf-8")
    wrong = {(w["name"], w["key"]): w["carried_from"] for w in sheet(key, student)["S"]["wrong"]}
    assert wrong == {
        ("CONV1", "output"): "",
        ("POOL1", "output"): "CONV1 output 222x222x8",
        ("POOL2", "output"): carried,
    }


KNOCK_KEY = """\
name: Homework 2
input: 32x32x3
layers:
  - layer: conv5-10 s1 p2
    name: CONV1
  - layer: maxpool
    name: POOL1
  - layer: conv3-20 s2
    name: CONV2
    expect: {fits: false}
  - layer: fc-10
    name: FC
    expect: {params: 9810}
"""


@pytest.mark.parametrize(
    ("answer", "knock_on"),
    [
        ("12810", True),  # 8·8·20·10 + 10: CONV2's 7.5 rounded up, a consequence of the stride
        ("9000", False),  # follows from nothing: only wrong
    ],
)
def test_knock_on_only_where_the_stride_is_the_cause(tmp_path: Path, answer: str, *, knock_on: bool) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(KNOCK_KEY, encoding="utf-8")
    student = tmp_path / "s.yaml"
    student.write_text(
        f"student: S\nanswers:\n  CONV2: {{fits: false}}\n  FC: {{params: {answer}}}\n", encoding="utf-8"
    )
    s = sheet(key, student)["S"]
    (w,) = s["wrong"]
    assert (w["knock_on"], s["knock_on"], s["points"]) == (knock_on, int(knock_on), 1)
    line = run("check", "--key", str(key), str(student)).stdout
    assert ("a knock-on error: it follows from CONV2, whose stride does not fit" in line) is knock_on


def test_the_blank_sheet_to_hand_out(klass: tuple[Path, Path], tmp_path: Path) -> None:
    key, _ = klass
    result = run("check", "--key", str(key), "--blank")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == f"# Homework 3: the answer sheet of {key}"
    body = [line.split("#")[0].rstrip() for line in lines[4:]]
    assert [line for line in body if line] == [
        "student:", "answers:",
        "  CONV1:", "    output:", "    params:",
        "  POOL1:", "    output:", "    activations:",
        "  CONV2:", "    output:", "    params:",
        "  CONV3:", "    fits:", "    output:",
        "  FC:", "    params:",
    ]  # fmt: skip
    assert "  CONV3:           # #4 conv3-128 s2 floor" in lines
    # The sheet gives away none of the key's answers (its examples are forms, not numbers).
    answers = {c.expected for c in analyze(str(key)).checks if c.key != "fits"}
    assert answers
    assert [a for a in answers if re.search(rf"(?<![\w.]){re.escape(a)}(?![\w.])", result.stdout)] == []
    blank = tmp_path / "hal.yaml"
    blank.write_text(result.stdout, encoding="utf-8")
    hal = sheet(key, blank)["hal"]
    assert (hal["points"], len(hal["unanswered"]), hal["wrong"]) == (0, QUESTIONS, [])
    filled = result.stdout.replace("    params:        # a number", "    params: 1792", 1)
    blank.write_text(filled.replace("student:", "student: Hal", 1), encoding="utf-8")
    assert sheet(key, blank)["Hal"]["points"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--blank", "s.yaml"], "--blank writes the answer sheet of a key"),
        (["--blank"], "--blank writes the answer sheet of a key"),
        ([], "Missing argument 'SPECS...'"),
    ],
)
def test_blank_goes_with_a_key_alone(args: list[str], message: str) -> None:
    result = run("check", *args)
    assert result.exit_code == 2
    assert message in result.output


def test_a_blank_sheet_names_layers_that_share_a_name_by_row(tmp_path: Path) -> None:
    key = tmp_path / "key.yaml"
    key.write_text(
        "input: 8x8x1\nlayers:\n  - {layer: conv3-2 p1, name: 'on', expect: {params: 20}}\n  - relu\n"
        "  - {layer: conv3-2 p1, expect: {params: 38}}\n  - relu\n"
        '  - {layer: fc-2, name: "a\\nb", expect: {params: 258}}\nexpect: {output: 2}\n',
        encoding="utf-8",
    )
    result = run("check", "--key", str(key), "--blank")
    lines = result.stdout.splitlines()
    assert '  "on":            # #1 conv3-2 p1' in lines  # YAML would read on as true
    assert "  # RELU (#2 relu): no question" in lines
    assert '  "a\\nb":          # #5 fc-2' in lines  # the line feed of its name, escaped
    assert "  network:         # the whole network" in lines
    filled = result.stdout.replace("params:        # a number", "params: 38").replace("output:        #", "output: 2 #")
    (tmp_path / "s.yaml").write_text(filled, encoding="utf-8")
    s = sheet(key, tmp_path / "s.yaml")["s"]
    assert (s["points"], s["unknown"]) == (2, [])  # CONV3-2's 38 and the network's 2; the other two are not 38


def test_names_and_file_names_are_printed_inert(klass: tuple[Path, Path]) -> None:
    key, folder = klass
    evil = folder / "x\x1b[2J\x1b]0;t\x07.yaml"
    evil.write_text(answers('"Mal\\nAda  9/9"', CONV1="{output: 1x1x1, params: 1792}"), encoding="utf-8")
    result = run("check", "--key", str(key), str(folder / "gus.yaml"), str(evil))
    assert result.exit_code == 0
    assert not any(c in result.stdout for c in "\x1b\x07")
    assert f"Gus\\x1b[2J\\x1b]0;pwned\\x07\\x1b[8m\\n  Ada 9/9 ({folder}/gus.yaml): 8/9" in result.stdout
    lines = result.stdout.splitlines()
    assert not any(line.lstrip().startswith("Ada") for line in lines)  # no forged row
    assert f"Mal\\nAda  9/9 ({folder}/x\\x1b[2J\\x1b]0;t\\x07.yaml): 8/9" in lines


def test_a_folder_of_students(klass: tuple[Path, Path]) -> None:
    key, folder = klass
    (folder / "notes.txt").write_text("not a student", encoding="utf-8")
    (folder / "._ada.yaml").write_bytes(b"\x00\x05\x16\x07")  # an archive's leftovers
    (folder / "ada-again.yaml").symlink_to(folder / "ada.yaml")  # the same file twice
    (folder / "key.yaml").symlink_to(key)  # the key, in the students' folder
    (folder / "zed.yaml").symlink_to(folder / "gone.yaml")  # a link that leads nowhere
    result = run("check", "--key", str(key), str(folder), str(folder / "ada.yaml"), "--format", "json")
    assert result.exit_code == 2  # jo's file and the broken link cannot be read
    students = json.loads(result.stdout)["students"]
    assert [s["source"].rsplit("/", 1)[1] for s in students] == [
        "IVY.YML", "ada.yaml", "bob.yaml", "cy.yaml", "dan.yaml", "eve.yaml", "fay.yaml", "gus.yaml", "hal.yaml",
        "jo.yaml", "zed.yaml",
    ]  # fmt: skip
    assert students[-1]["errors"][0]["message"] == f"a link that leads nowhere ({folder}/gone.yaml)"
    assert students[-2]["student"] == "Jo"  # unreadable, and still named by its `student:`
    assert f"{folder}/key.yaml: note: not graded: it is the key ({key})" in result.stderr
    text = run("check", "--key", str(key), str(folder)).stdout.splitlines()
    assert text[-1] == "11 students, 9 questions: 1 with full marks, mean 6.8; 2 files could not be read"


def test_check_reads_any_yaml_suffix_and_reports_a_broken_link(tmp_path: Path) -> None:
    spec = tmp_path / "a.yml"
    spec.write_text("input: 8x8x1\nlayers: [conv3-2 p1]\n", encoding="utf-8")
    (tmp_path / "b.YAML").symlink_to(spec)
    result = run("check", str(tmp_path))  # check takes what it is given: the file and its link
    assert (result.exit_code, result.stdout) == (0, "0 checks in 2 files: 0 passed, 0 failed\n")
    (tmp_path / "c.yaml").symlink_to(tmp_path / "nowhere")
    broken = run("check", str(tmp_path))
    assert broken.exit_code == 2
    assert f"{tmp_path}/c.yaml: error: a link that leads nowhere ({tmp_path}/nowhere)" in broken.stdout


FITS = "input: 7x7x1\nlayers:\n  - layer: conv3-1 s3\n{beside}{top}"


@pytest.mark.parametrize(
    ("beside", "top"), [("    expect: {fits: false}\n", ""), ("", "expect: {fits: false}\n")], ids=["layer", "network"]
)
def test_a_right_does_not_fit_answer_exits_0(tmp_path: Path, beside: str, top: str) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(FITS.format(beside=beside, top=top), encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 0, result.stdout
    assert "error:" not in result.stdout
    assert result.stdout.splitlines() == [
        (
            f"{path}:3:5: note: (7 − 3)/3 + 1 = 2.33: the stride does not fit, as the answer `fits: false` says "
            "(the design error is the answer)"
        ),
        "1 check in 1 file: 1 passed, 0 failed",
    ]


def test_a_does_not_fit_answer_covers_its_own_layer_only(tmp_path: Path) -> None:
    path = tmp_path / "q.yaml"
    path.write_text(  # 11 → (11 − 3)/3 + 1 = 3.67 → 3 (floor's stand-in) → (3 − 2)/2 + 1 = 1.5
        "input: 11x11x1\nlayers:\n  - {layer: conv3-1 s3, name: A, expect: {fits: false}}\n"
        "  - {layer: conv2-1 s2, name: B}\n  - {layer: conv1-1, name: C, expect: {output: 2x2x1}}\n",
        encoding="utf-8",
    )
    result = run("check", str(path))
    assert result.exit_code == 1  # B's stride does not fit either, and nothing says so
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{path}:3:5: note: (11 − 3)/3 + 1 = 3.67: the stride does not fit, as the answer")
    assert lines[1].startswith(f"{path}:4:5: error: (3 − 2)/2 + 1 = 1.5")
    assert lines[1].endswith("(a knock-on error of A)")  # the sizes after A are still floor's stand-ins
    assert "a knock-on error: it follows from A, whose stride does not fit" in lines[2]
