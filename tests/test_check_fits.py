"""Strides that do not fit, as answers and as causes: `fits:`, knock-on errors, scores (issue 16)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.cli import main
from convcalc.engine.checks import causes, downstream

if TYPE_CHECKING:
    from click.testing import Result

ROOT = Path(__file__).parent.parent
NO_SIZE = "the stride does not fit, so there is no output size"


def run(*args: str) -> Result:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result


def sheet(tmp_path: Path, layers: str, *, rounding: str = "strict", extra: str = "") -> str:
    path = tmp_path / "w.yaml"
    path.write_text(f"input: 7x7x1\nrounding: {rounding}\nlayers:\n{layers}{extra}", encoding="utf-8")
    return str(path)


@pytest.mark.parametrize(
    ("layer", "rounding", "fits"),
    [
        ("conv3-1 s3", "strict", False),  # (7 − 3)/3 + 1 = 2.33
        ("conv3-1 s3", "floor", False),  # floored, but the stride still does not fit
        ("conv3-1 s3", "ceil", False),
        ("conv3-1 s2", "strict", True),  # (7 − 3)/2 + 1 = 3
        ("fc-10", "strict", True),  # no window: nothing to fit
    ],
)
def test_fits_holds_exactly_when_the_stride_fits(tmp_path: Path, layer: str, rounding: str, *, fits: bool) -> None:
    for answer in (True, False):
        path = sheet(tmp_path, f"  - layer: {layer}\n    expect: {{fits: {str(answer).lower()}}}\n", rounding=rounding)
        (check,) = analyze(load_spec(path)).checks
        assert check.ok is (answer == fits), (layer, rounding, answer)


def test_a_size_answered_where_the_stride_does_not_fit_fails(tmp_path: Path) -> None:
    path = sheet(tmp_path, "  - layer: conv3-1 s3\n    expect: {output: 2x2x1, activations: 4, params: 10}\n")
    result = run("check", path)
    assert result.exit_code == 1
    failed = [line for line in result.stdout.splitlines() if "check failed" in line]
    working = f"H2 = W2 = (7 − 3)/3 + 1 = 2.33: {NO_SIZE} (floor's 2 stands in below)"
    none = f"but there is none (answer `fits: false`): {working}"
    assert failed == [
        f"{path}:5:22: error: check failed: CONV3-1 output: expected 2x2x1, {none}",
        f"{path}:5:42: error: check failed: CONV3-1 activations: expected 4, {none}",
    ]  # params do not depend on the output: 10 holds
    assert result.stdout.splitlines()[-2:] == [
        f"{path}: score 1/3 (2 wrong)",
        "3 checks in 1 file: 1 passed, 2 failed; 1 design error",
    ]


def test_under_floor_the_floored_size_is_the_answer(tmp_path: Path) -> None:
    path = sheet(tmp_path, "  - layer: conv3-1 s3\n    expect: {output: 2x2x1, fits: false}\n", rounding="floor")
    assert all(c.ok for c in analyze(load_spec(path)).checks)


def test_the_whole_network_fits_or_not(tmp_path: Path) -> None:
    layers = "  - conv3-1 s1\n  - conv3-1 s3\n"  # 7 → 5; (5 − 3)/3 + 1 = 1.67
    assert [c.ok for c in analyze(load_spec(sheet(tmp_path, layers, extra="expect: {fits: false}\n"))).checks] == [True]
    assert [c.ok for c in analyze(load_spec(sheet(tmp_path, layers, extra="expect: {fits: true}\n"))).checks] == [False]


def alexnet_at_224(tmp_path: Path) -> str:
    path = tmp_path / "alexnet224.yaml"
    text = (ROOT / "specs" / "alexnet.yaml").read_text(encoding="utf-8")
    path.write_text(text.replace("input: 227x227x3", "input: 224x224x3"), encoding="utf-8")
    return str(path)


def test_alexnet_at_224_one_error_and_three_knock_on(tmp_path: Path) -> None:
    path = alexnet_at_224(tmp_path)
    report = analyze(load_spec(path))
    by_path = {r.path: r.name for r in report.rows}
    assert {by_path[p]: by_path[root] for p, root in causes(report).items()} == {
        "CONV1": "CONV1", "MAX POOL1": "CONV1", "MAX POOL2": "CONV1", "MAX POOL3": "CONV1",
    }  # fmt: skip
    result = run("check", path)
    lines = result.stdout.splitlines()
    errors = [line for line in lines if ": error: (" in line]
    assert len(errors) == 4
    assert not errors[0].endswith(")")
    assert all(line.endswith(" (a knock-on error of CONV1)") for line in errors[1:])
    assert lines[-1] == (
        "10 checks in 1 file: 1 passed, 9 failed (8 of them knock-on); 4 design errors (3 of them knock-on)"
    )
    assert f"{path}: score 1/10 (9 wrong, 8 of them knock-on)" in lines
    assert any(
        "check failed: CONV2 output: expected 27x27x256, got 26x26x256 (H2 = W2 = (26 − 5 + 2·2)/1 + 1 = 26; "
        "D2 = K = 256); a knock-on error: it follows from CONV1, whose stride does not fit" in line
        for line in lines
    )


def test_check_json_has_scores_names_arithmetic_and_causes(tmp_path: Path) -> None:
    data = json.loads(run("check", alexnet_at_224(tmp_path), "--format", "json").stdout)
    (file,) = data["files"]
    assert file["score"] == {"points": 1, "out_of": 10, "knock_on": 8}
    assert (data["summary"]["knock_on"], data["summary"]["knock_on_errors"]) == (8, 3)
    first, second = file["checks"][:2]
    assert (first["name"], first["knock_on"], first["cause"]) == ("CONV1", False, "1")
    assert first["arithmetic"][0] == (f"H2 = W2 = (224 − 11)/4 + 1 = 54.25: {NO_SIZE} (floor's 54 stands in below)")
    assert (second["name"], second["knock_on"], second["cause"]) == ("MAX POOL1", True, "1")
    assert second["actual"] == [26, 26, 96]
    assert [d["knock_on_of"] for d in file["diagnostics"]] == ["1", "1", "1", "1"]


def test_the_slides_memory_column_as_a_worksheet(tmp_path: Path) -> None:
    # CS231n's VGGNet slide, row by row: "224 × 224 × 64 = 3.2M", ..., "7 × 7 × 512 = 25K".
    column = [
        ("conv3-64 p1", "3.2M"), ("conv3-64 p1", "3.2M"), ("maxpool", "800K"),
        ("conv3-128 p1", "1.6M"), ("conv3-128 p1", "1.6M"), ("maxpool", "400K"),
        ("conv3-256 p1", "800K"), ("conv3-256 p1", "800K"), ("conv3-256 p1", "800K"), ("maxpool", "200K"),
        ("conv3-512 p1", "400K"), ("conv3-512 p1", "400K"), ("conv3-512 p1", "400K"), ("maxpool", "100K"),
        ("conv3-512 p1", "100K"), ("conv3-512 p1", "100K"), ("conv3-512 p1", "100K"), ("maxpool", "25K"),
        ("fc-4096", "4096"), ("fc-4096", "4096"), ("fc-1000", "1000"),
    ]  # fmt: skip
    layers = "".join(f"  - layer: {layer}\n    expect: {{activations: ~{value}}}\n" for layer, value in column)
    path = tmp_path / "vgg.yaml"
    path.write_text(f"input: 224x224x3\nlayers:\n{layers}", encoding="utf-8")
    result = run("check", str(path))
    assert result.exit_code == 0, result.stdout
    assert result.stdout == "21 checks in 1 file: 21 passed, 0 failed\n"
    path.write_text(f"input: 224x224x3\nlayers:\n{layers.replace('~', '')}", encoding="utf-8")
    plain = run("check", str(path))  # without the tilde the same: 800K is two digits, 802,816 is 800K
    assert (plain.exit_code, plain.stdout) == (0, "21 checks in 1 file: 21 passed, 0 failed\n")
    wrong = layers.replace("~800K", "~810K", 1).replace("~25K", "~26K")  # wrong at the slide's two digits
    path.write_text(f"input: 224x224x3\nlayers:\n{wrong}", encoding="utf-8")
    assert run("check", str(path)).stdout.splitlines()[-1] == "21 checks in 1 file: 19 passed, 2 failed"


def test_layer_says_there_is_no_output() -> None:
    result = run("layer", "7x7x1", "conv3-1 s3")
    assert result.stdout.splitlines()[0] == "conv3-1 s3: 7x7x1 → no output, the stride does not fit"
    fine = run("layer", "7x7x1", "conv3-1 s3", "--rounding", "floor")
    assert fine.stdout.splitlines()[:2] == ["conv3-1 s3: 7x7x1 → 2x2x1", "  H2 = W2 = (7 − 3)/3 + 1 = 2.33 → 2 (floor)"]


@pytest.mark.parametrize(
    ("source", "path", "expected"),
    [
        ("1", "2", True),
        ("2", "1", False),
        ("1", "", True),
        ("8.branches.0.0", "8.branches.0.1", True),
        ("8.branches.0.0", "8.branches.1.0", False),  # side by side
        ("8.branches.0.0", "8", True),  # the merge
        ("5.layers.3", "5.shortcut.0", False),
        ("5.layers.3", "6.layers.0", True),
        ("5", "5.layers.1", True),
    ],
)
def test_what_follows_from_a_layer(source: str, path: str, *, expected: bool) -> None:
    assert downstream(source, path) is expected


def test_fits_shown_and_explained(tmp_path: Path) -> None:
    layers = "  - layer: conv3-1 s2\n    expect: {fits: true}\n  - layer: conv2-1 s2\n    expect: {fits: true}\n"
    result = run("check", sheet(tmp_path, layers), "--verbose")
    lines = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith(("✓", "✗"))]
    assert lines == [
        "CONV3-1 fits = true (the stride fits) (expected true)",
        (
            "error: check failed: CONV2-1 fits: expected true, got false (the stride does not fit) "
            f"(H2 = W2 = (3 − 2)/2 + 1 = 1.5: {NO_SIZE} (floor's 1 stands in below))"
        ),
    ]


def test_a_layer_that_cannot_be_computed(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "input: 2x2x1\nlayers:\n  - layer: conv3-1\n    expect: {output: 1x1x1, fits: true}\nexpect: {fits: true}\n",
        encoding="utf-8",
    )
    checks = analyze(load_spec(path)).checks
    assert [(c.key, c.ok, c.actual) for c in checks] == [
        ("output", False, None), ("fits", False, None), ("fits", True, True),
    ]  # fmt: skip
    assert "expected 1x1x1, got nothing (the layer could not be computed)" in run("check", str(path)).stdout


def test_a_composite_answer_has_no_working(tmp_path: Path) -> None:
    path = tmp_path / "w.yaml"
    path.write_text(
        "input: 8x8x4\nlayers:\n  - residual: {layers: [conv3-4 p1]}\n    name: BLOCK\n    expect: {output: 8x8x5}\n",
        encoding="utf-8",
    )
    (line, *_) = run("check", str(path)).stdout.splitlines()
    assert line.endswith("error: check failed: BLOCK output: expected 8x8x5, got 8x8x4")


def test_a_check_without_a_name_is_named_from_the_report(tmp_path: Path) -> None:
    from dataclasses import replace  # noqa: PLC0415

    from convcalc.render.checks import subject  # noqa: PLC0415

    path = sheet(tmp_path, "  - layer: conv3-1\n    expect: {params: 10}\n", extra="expect: {params: 10}\n")
    report = analyze(load_spec(path))
    assert [subject(replace(c, name=""), report) for c in report.checks] == ["CONV3-1 params", "w params"]


def test_a_layer_whose_windows_cannot_be_made_is_no_stride_that_does_not_fit(tmp_path: Path) -> None:
    from dataclasses import replace  # noqa: PLC0415

    from convcalc.engine.checks import fits  # noqa: PLC0415
    from convcalc.volume import Volume  # noqa: PLC0415

    row = analyze(load_spec(sheet(tmp_path, "  - conv3-1 s3\n"))).rows[1]
    assert not fits(row)
    two_sizes = replace(row, config={**row.config, "size": (3, 3)}, input=Volume((7,), 1))
    assert fits(two_sizes)  # 2 sizes for 1 dim: the layer's own error, not a stride's
    assert fits(replace(row, input=None))
