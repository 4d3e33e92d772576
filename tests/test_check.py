"""Homework and CI: expectations, `convcalc check`, `convcalc layer`, `convcalc fit`."""

from __future__ import annotations

import json
import textwrap
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import SpecError, analyze, load_spec
from convcalc.builtins import builtin_names
from convcalc.cli import main
from convcalc.errors import Location
from convcalc.spec.expect import parse_one

if TYPE_CHECKING:
    from click.testing import Result

ROOT = Path(__file__).parent.parent

WORKSHEET = """\
input: 32x32x3
layers:
  - layer: conv5-10 s1 p2
    expect: {output: 32x32x10, params: 750}
  - layer: maxpool
    expect: {output: 16x16x10}
  - layer: conv3-20 p1
    expect: {params: 1820, macs: 460800}
  - layer: fc-10
    expect: {output: 10, params: 9000}
"""


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def worksheet(tmp_path: Path, text: str) -> str:
    path = tmp_path / "homework.yaml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_worksheet_with_two_wrong_answers(tmp_path: Path) -> None:
    path = worksheet(tmp_path, WORKSHEET)
    result = run("check", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"{path}:4:40: error: check failed: CONV5-10 params: expected 750, got 760 (params = (5·5·3 + 1)·10 = 760)",
        (
            f"{path}:10:34: error: check failed: FC-10 params: expected 9000, got 51,210 (51.21 K) "
            "(params = 16·16·20·10 + 10 = 51,210)"
        ),
        f"{path}: score 5/7 (2 wrong)",
        "7 checks in 1 file: 5 passed, 2 failed",
    ]


def test_worksheet_all_right(tmp_path: Path) -> None:
    path = worksheet(tmp_path, WORKSHEET.replace("params: 750", "params: 760").replace("params: 9000", "params: 51210"))
    result = run("check", path)
    assert result.exit_code == 0
    assert result.stdout == "7 checks in 1 file: 7 passed, 0 failed\n"
    verbose = run("check", path, "--verbose")
    assert verbose.stdout.count("✓ ") == 7
    assert f"✓ {path}:4:22: CONV5-10 output = 32x32x10 (expected 32x32x10)" in verbose.stdout


@pytest.mark.slow
def test_every_builtin_spec_checks_out() -> None:
    result = run("check", str(ROOT / "specs" / "*.yaml"))
    assert result.exit_code == 0, result.stdout
    summary = result.stdout.splitlines()[-1]
    assert summary.endswith("failed")
    assert " 0 failed" in summary
    assert f"in {len(builtin_names())} files" in summary


def test_the_lectures_93mb_does_not_hold(tmp_path: Path) -> None:
    vgg = (ROOT / "specs" / "vgg16.yaml").read_text(encoding="utf-8")
    path = worksheet(tmp_path, vgg.replace("  memory: 61MB\n", "  memory: 93MB\n"))
    result = run("check", path)
    assert result.exit_code == 1
    (line, score, summary) = result.stdout.splitlines()
    assert score == f"{path}: 6/7 checks hold (1 fails)"  # answers about the whole network: not a worksheet
    assert line.endswith(
        "error: check failed: VGG16 memory: expected 93MB, got 60,950,432 B (60.95 MB) (15,237,608 values × 4 B × 1)"
    )
    assert summary == "7 checks in 1 file: 6 passed, 1 failed"


def test_github_annotations(tmp_path: Path) -> None:
    path = worksheet(tmp_path, WORKSHEET)
    result = run("check", path, "--format", "github")
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"::error file={path},line=4,col=40,title=convcalc%3A CONV5-10 params::"
        "check failed: CONV5-10 params: expected 750, got 760 "
        "(params = (5·5·3 + 1)·10 = 760)"
    )
    assert all(line.startswith("::error file=") for line in lines[:2])
    assert lines[2] == "7 checks in 1 file: 5 passed, 2 failed"


def test_github_escapes_what_it_must(tmp_path: Path) -> None:
    odd = tmp_path / "a,b:c"
    odd.mkdir()
    spec = odd / "n.yaml"
    spec.write_text("input: 7x7x1\nlayers: [conv3-1 s3]\n", encoding="utf-8")
    result = run("check", str(spec), "--format", "github")
    first = result.stdout.splitlines()[0]
    assert first.startswith(f"::error file={str(spec).replace(':', '%3A').replace(',', '%2C')},line=2,col=10,title=")
    assert result.exit_code == 1


def test_check_json(tmp_path: Path) -> None:
    path = worksheet(tmp_path, WORKSHEET)
    result = run("check", path, "vgg16", "--format", "json")
    data = json.loads(result.stdout)
    assert data["summary"] == {
        "files": 2, "checks": 14, "passed": 12, "failed": 2, "errors": 0, "warnings": 0, "unreadable": 0,
        "knock_on": 0, "knock_on_errors": 0,
    }  # fmt: skip
    failed = [c for c in data["files"][0]["checks"] if not c["ok"]]
    assert [(c["key"], c["expected"], c["actual"], c["line"]) for c in failed] == [
        ("params", "750", 760, 4),
        ("params", "9000", 51210, 10),
    ]


def test_unreadable_spec_among_others(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: 8x8x3\nlayers: [convv3-8]\n", encoding="utf-8")
    result = run("check", "vgg16", str(bad))
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].startswith(f"{bad}:2:10: error: unknown layer kind 'convv3-8'")
    assert result.stdout.splitlines()[-1] == "7 checks in 2 files: 7 passed, 0 failed; 1 file could not be read"


def test_show_flags_a_failed_check(tmp_path: Path) -> None:
    path = worksheet(tmp_path, WORKSHEET)
    result = run("show", path)
    assert result.exit_code == 1
    assert "✗ " in result.stdout
    assert "check failed: CONV5-10 params: expected 750, got 760" in " ".join(result.stdout.split())


def test_layer_worked_example() -> None:
    result = run("layer", "32x32x3", "conv5-10 s1 p2")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "conv5-10 p2: 32x32x3 → 32x32x10",
        "  H2 = W2 = (32 − 5 + 2·2)/1 + 1 = 32",
        "  D2 = K = 10",
        "  params = (5·5·3 + 1)·10 = 760",
        "  memory = 32·32·10 = 10,240 values × 4 B = 40,960 B",
        "  MACs = 32·32·10·5·5·3 = 768,000",
    ]


def test_layer_stride_that_does_not_fit() -> None:
    result = run("layer", "7x7x1", "conv3-1 s3")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[:2] == [
        "conv3-1 s3: 7x7x1 → no output, the stride does not fit",
        (
            "  H2 = W2 = (7 − 3)/3 + 1 = 2.33: the stride does not fit, so there is no output size "
            "(floor's 2 stands in below)"
        ),
    ]
    assert "  error: (7 − 3)/3 + 1 = 2.33: the stride does not fit" in result.stdout


def test_layer_lists_the_pads_that_fit() -> None:
    result = run("layer", "7x7x1", "conv3-1 s3 p?")
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "conv3-1 s3 p? on 7x7x1: P = ?",
        "  P = 1 → 3x3x1   (H2 = W2 = (7 − 3 + 2·1)/3 + 1 = 3)",
    ]
    keeps = run("layer", "32x32x3", "conv5-10 s1 p?")
    assert "  P = 2 → 32x32x10   (H2 = W2 = (32 − 5 + 2·2)/1 + 1 = 32)   ← keeps the size" in keeps.stdout


def test_layer_lists_the_strides_that_fit() -> None:
    result = run("layer", "7x7x1", "conv3-1 s?")
    assert [line.split("   ")[0] for line in result.stdout.splitlines()[1:]] == [
        "  S = 1 → 5x5x1",
        "  S = 2 → 3x3x1",
        "  S = 4 → 2x2x1",
    ]


def test_layer_bad_shorthand_exits_2() -> None:
    result = run("layer", "7x7x1", "conv3-1 q3")
    assert result.exit_code == 2
    assert result.stderr.startswith("LAYER 1: error: unknown token 'q3'")


def test_fit_alexnet_list() -> None:
    result = run("fit", "alexnet", "--list")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "227x227x3 fits."
    fitting = [int(n) for n in lines[2].split(", ")]
    assert 227 in fitting
    assert 224 not in fitting
    assert json.loads(run("fit", "alexnet", "--list", "--max", "100", "--format", "json").stdout) == [67, 99]
    at_224 = run("fit", "alexnet", "--list", "--input", "224x224x3")
    assert at_224.exit_code == 1
    assert at_224.stdout.splitlines()[0] == (
        "224x224x3 does not fit (CONV1: (224 − 11)/4 + 1 = 54.25); nearest that fit: 227, 195, 259"
    )


@pytest.mark.parametrize(
    ("key", "written", "true", "holds"),
    [
        ("params", "138M", 138_357_544, True),
        ("params", "138.4M", 138_357_544, True),
        ("params", "138.3M", 138_357_544, False),
        ("params", 760, 760, True),
        ("params", "760", 761, False),
        ("memory", "61MB", 60_950_432, True),
        ("memory", "93MB", 60_950_432, False),
        ("memory", "58.13MiB", 60_950_432, True),
        ("memory", "< 100MB", 60_950_432, True),
        ("memory", "<= 60MB", 60_950_432, False),
        ("params", ">= 1", 1, True),
        ("params", "> 1", 1, False),
        ("macs", "15.47G", 15_470_264_320, True),
        ("macs", "1,000", 1000, True),
    ],
)
def test_expectation_values(key: str, written: object, true: int, holds: bool) -> None:  # noqa: FBT001
    assert parse_one(key, written, "1", Location("t.yaml")).holds(true) is holds


def test_expectation_shapes_and_rf() -> None:
    at = Location("t.yaml")
    assert parse_one("output", "55x55x96", "1", at).holds((55, 55, 96))
    assert parse_one("output", 1000, "1", at).holds((1000,))
    assert parse_one("rf", 7, "1", at).holds((7, 7))
    assert parse_one("rf", "7x3", "1", at).holds((7, 3))
    assert parse_one("rf", 5, "1", at).number == Fraction(0)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("expect: {paramz: 1}", "cannot expect 'paramz'"),
        ("expect: {memory: 61M}", "cannot read expected memory '61M': write bytes"),
        ("expect: {params: lots}", "cannot read expected params 'lots'"),
        ("expect: {output: big}", "expected output must be a volume"),
        ("expect: [1]", "`expect:` maps what to check"),
    ],
)
def test_expectation_errors(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        load_spec("t.yaml", f"input: 8x8x3\nlayers: [relu]\n{text}\n")


def test_a_composite_expectation_sums_its_rows() -> None:
    spec = textwrap.dedent("""\
        input: 8x8x4
        layers:
          - repeat: 2
            layers: [conv3-4 p1]
            expect: {params: 296, output: 8x8x4}
    """)
    report = analyze(load_spec("t.yaml", spec))
    assert [c.ok for c in report.checks] == [True, True]


def test_layer_options_given_unquoted() -> None:
    result = run("layer", "32x32x3", "conv5-10", "s1", "p2", "maxpool")
    assert result.exit_code == 2
    assert result.stderr == (
        "LAYER 2: error: 's1' is an option of the layer before it: quote each layer whole, e.g. \"conv5-10 s1 p2\"\n"
    )


def test_layer_two_questions_at_once() -> None:
    result = run("layer", "32x32x3", "conv3-16 p? s?")
    assert result.exit_code == 2
    assert "asks for two values at once" in result.stderr


UNREADABLE = "title=convcalc%3A cannot read the spec"


def test_every_mistake_of_an_unreadable_file_is_annotated(tmp_path: Path) -> None:
    path = tmp_path / "two.yaml"
    path.write_text("input: 8x8x3\nlayers:\n  - convo3-4\n  - maxpool: {size: 0}\n", encoding="utf-8")
    github = run("check", str(path), "--format", "github")
    assert github.exit_code == 2
    assert [line.split("::")[1] for line in github.stdout.splitlines() if line.startswith("::")] == [
        f"error file={str(path).replace(':', '%3A').replace(',', '%2C')},line=3,col=5,{UNREADABLE}",
        f"error file={str(path).replace(':', '%3A').replace(',', '%2C')},line=4,col=21,{UNREADABLE}",
    ]
    data = json.loads(run("check", str(path), "--format", "json").stdout)
    assert [(e["line"], e["column"]) for e in data["files"][0]["errors"]] == [(3, 5), (4, 21)]
    assert data["files"][0]["error"] == data["files"][0]["errors"][0]


def test_a_budget_file_is_not_scored(tmp_path: Path) -> None:
    # A CI file's budgets are not a worksheet's answers: its line says what holds, not a score.
    budget = (ROOT / "examples" / "ci" / "budget.yaml").read_text(encoding="utf-8")
    path = worksheet(tmp_path, budget.replace('params: "<= 100k"', 'params: "<= 40k"'))
    result = run("check", path)
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1:] == [
        f"{path}: 3/4 checks hold (1 fails)",
        "4 checks in 1 file: 3 passed, 1 failed",
    ]
    both = worksheet(
        tmp_path,
        budget.replace('params: "<= 100k"', 'params: "<= 40k"').replace(
            "  - fc-10", "  - layer: fc-10\n    expect: {params: 1}"
        ),
    )
    assert run("check", both).stdout.splitlines()[-2] == f"{both}: score 3/5 (2 wrong)"  # an answer about a layer
