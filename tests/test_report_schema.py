"""schema/convcalc-report.schema.json validates every JSON document convcalc writes (issue 24, point 4).

`show` (numeric and symbolic), `check`, `check --key`, `fit`, `fit --list` and `diff`, for every
built-in spec; an imported model's spec through `show`. The schema is also shown to refuse the
shapes it must not accept (the symbolic report's old `rows`, a formula without its Python form),
so that a document passing it says something.
"""

from __future__ import annotations

import copy
import functools
import itertools
import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from convcalc.builtins import builtin_names
from convcalc.cli import main

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((ROOT / "schema" / "convcalc-report.schema.json").read_text(encoding="utf-8"))
BUILTINS = builtin_names()
# The fast tier checks these (plain, residual, concat, crop, 1-D-free); the others are slow-marked.
FAST = {"lenet5", "vgg16", "resnet18", "googlenet", "unet"}
EVERY = [pytest.param(n, marks=() if n in FAST else pytest.mark.slow) for n in BUILTINS]
PAIRS = [pytest.param(a, b, marks=() if a in FAST else pytest.mark.slow) for a, b in itertools.pairwise(BUILTINS)]


@functools.cache
def validator(part: str | None = None) -> Draft202012Validator:
    """The whole schema, or one of its documents (`report`, `check`, …) alone."""
    schema = SCHEMA if part is None else {"$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{part}"}
    return Draft202012Validator(schema)


def errors(document: Any, part: str, *, whole: bool = False) -> list[str]:
    """What is wrong with the document, as `path: message` lines; [] when it is valid (`whole`: as a whole too)."""
    found = [f"{list(e.absolute_path)}: {e.message}" for e in validator(part).iter_errors(document)]
    if not found and whole:
        found = [f"(whole schema) {e.message}" for e in validator().iter_errors(document)]
    return found


@functools.cache
def _output(args: tuple[str, ...]) -> tuple[int, str]:
    """A built-in's JSON is computed once for the tests that read it (the commands are pure)."""
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout


def run(*args: str, code: int | None = 0) -> Any:
    exit_code, stdout = _output(args) if not any("/" in a for a in args) else _fresh(args)
    if code is not None:
        assert exit_code == code, stdout
    return json.loads(stdout)


def _fresh(args: tuple[str, ...]) -> tuple[int, str]:
    """A command on a test's own files, run each time."""
    return _output.__wrapped__(args)


def test_the_schema_is_a_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_docs_json_md_holds_the_schema_as_the_file_has_it() -> None:
    text = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- schema -->\n```json\n(.*?)```", text, re.DOTALL)
    assert block is not None
    assert json.loads(block.group(1)) == SCHEMA


@pytest.mark.slow
@pytest.mark.parametrize("name", EVERY)
def test_show_numeric(name: str) -> None:
    data = run("show", name, "--format", "json")
    assert errors(data, "report", whole=name == "lenet5") == []
    assert data["schema_version"] == 1
    assert data["symbols"] == []


@pytest.mark.slow
@pytest.mark.parametrize("name", EVERY)
def test_show_symbolic_has_the_numeric_keys(name: str) -> None:
    shown = run("show", name, "--format", "json")
    depth = shown["layers"][0]["output"][-1]
    data = run("show", name, "--input", f"HxWx{depth}", "--format", "json")
    assert errors(data, "report", whole=name == "lenet5") == []
    assert data["schema_version"] == 2
    numeric = shown["totals"]
    assert set(data) == set(shown)
    assert data["symbols"] == ["H", "W"]
    # At the spec's own size, where it fits, the formulas give the numeric report's figures.
    sizes = run("fit", name, "--format", "json", code=None)
    if all(axis["fits"] for axis in sizes.values()) and set(sizes) == {"height", "width"}:
        at = {"H": sizes["height"]["size"], "W": sizes["width"]["size"]}
        for key in ("params", "macs", "activations", "forward_bytes", "backward_bytes", "params_bytes"):
            assert eval(data["totals"][key]["python"], dict(at)) == numeric[key], key  # noqa: S307


@pytest.mark.parametrize("name", EVERY)
def test_fit(name: str) -> None:
    data = run("fit", name, "--format", "json", code=None)
    assert errors(data, "fit", whole=name == "lenet5") == []


def test_fit_list() -> None:
    data = run("fit", "vgg16", "--list", "--max", "100", "--format", "json")
    assert data == [32, 64, 96]
    assert errors(data, "fit_list", whole=True) == []


@pytest.mark.slow
def test_check_every_builtin_at_once() -> None:
    data = run("check", *BUILTINS, "--format", "json")
    assert errors(data, "check", whole=True) == []
    assert len(data["files"]) == len(BUILTINS)


def test_check_an_unreadable_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("input: 32x32x3\nlayers: [conv3-8 q]\n", encoding="utf-8")
    data = run("check", str(bad), "--format", "json", code=2)
    assert errors(data, "check") == []
    assert data["files"][0]["ok"] is False


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_diff(a: str, b: str) -> None:
    data = run("diff", a, b, "--format", "json", code=None)
    assert errors(data, "diff", whole=a == "lenet5") == []


def test_the_grade_sheet(tmp_path: Path) -> None:
    student = tmp_path / "student.yaml"
    key = (ROOT / "specs" / "lenet5.yaml").read_text(encoding="utf-8")
    student.write_text(key.replace("params: 156", "params: 155"), encoding="utf-8")
    data = run("check", "--key", "lenet5", str(student), "--format", "json")
    assert errors(data, "grades", whole=True) == []
    assert data["students"][0]["points"] == data["students"][0]["out_of"] - 1


SYMBOLIC = """\
name: Tiny
input: HxWx3
{example}layers:
  - conv3-8
  - maxpool2
  - fc-10
expect:
  params: {params}
  output: 10
"""


def tiny(tmp_path: Path, *, example: str = "example: 32x32x3\n", params: int = 18234) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SYMBOLIC.format(example=example, params=params), encoding="utf-8")
    return path


def test_a_symbolic_spec_checks_its_answers_at_its_example(tmp_path: Path) -> None:
    """3x3 conv to 30x30x8, pool to 15x15x8, fc of 1,800 inputs: 224 + 18,010 = 18,234 params at 32x32."""
    data = run("show", str(tiny(tmp_path)), "--format", "json")
    assert errors(data, "report", whole=True) == []
    assert data["example"] == [32, 32, 3]
    assert [(c["key"], c["ok"]) for c in data["checks"]] == [("params", True), ("output", True)]
    assert data["ok"] is True


def test_a_wrong_answer_at_the_example_fails_show(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["show", str(tiny(tmp_path, params=20714)), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert errors(data, "report") == []
    assert data["ok"] is False
    assert [c["ok"] for c in data["checks"]] == [False, True]
    assert "tiny.yaml:9:11: error: check failed at the example size: Tiny params: expected 20714, got 18,234" in (
        result.stderr
    )


def test_the_table_also_fails_a_wrong_answer(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["show", str(tiny(tmp_path, params=20714))])
    assert result.exit_code == 1
    assert "check failed at the example size" in result.stderr


def test_without_an_example_the_answers_are_not_checked_and_a_note_says_so(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["show", str(tiny(tmp_path, example="", params=1)), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert errors(data, "report") == []
    assert (data["checks"], data["example"]) == ([], None)
    (note,) = data["diagnostics"]
    assert (note["severity"], note["code"], note["line"]) == ("note", "answers-not-checked", 2)
    assert "tiny.yaml:2:8: note: the spec's expect: answers are not checked" in result.stderr


def test_a_symbolic_design_error_is_a_diagnostic(tmp_path: Path) -> None:
    """A stride that fits no size of a numeric dim: an error diagnostic, ok false, exit 1."""
    path = tmp_path / "never.yaml"
    path.write_text("input: 7xWx3\nlayers:\n  - conv: {filters: 4, size: 2, stride: 2}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(path), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert errors(data, "report") == []
    assert data["ok"] is False
    assert [(d["severity"], d["code"], d["line"]) for d in data["diagnostics"]] == [("error", "stride-does-not-fit", 3)]


# The schema refuses what it must: each of these is one change away from a valid document.
def _symbolic() -> dict[str, Any]:
    data: dict[str, Any] = run("show", "lenet5", "--input", "HxWx3", "--format", "json")
    return data


def _numeric() -> dict[str, Any]:
    data: dict[str, Any] = run("show", "lenet5", "--format", "json")
    return data


def _rows_not_layers(d: dict[str, Any]) -> None:
    d["rows"] = d.pop("layers")


def _formula_without_python(d: dict[str, Any]) -> None:
    del d["layers"][1]["macs"]["python"]


def _a_number_in_a_symbolic_report(d: dict[str, Any]) -> None:
    d["layers"][1]["macs"] = 7


def _a_formula_in_a_numeric_report(d: dict[str, Any]) -> None:
    d["layers"][1]["macs"] = {"text": "7", "python": "7"}


def _python_that_calls(d: dict[str, Any]) -> None:
    d["totals"]["params"]["python"] = "__import__('os').system('true')"


def _no_checks(d: dict[str, Any]) -> None:
    del d["checks"]


def _a_symbolic_version_1(d: dict[str, Any]) -> None:
    d["schema_version"] = 1


@pytest.mark.slow
@pytest.mark.parametrize(
    ("base", "change"),
    [
        (_symbolic, _rows_not_layers),
        (_symbolic, _formula_without_python),
        (_symbolic, _a_number_in_a_symbolic_report),
        (_symbolic, _python_that_calls),
        (_symbolic, _a_symbolic_version_1),
        (_numeric, _a_formula_in_a_numeric_report),
        (_numeric, _no_checks),
        (_numeric, _rows_not_layers),
    ],
)
def test_the_schema_refuses(base: Any, change: Any) -> None:
    document = base()
    assert errors(document, "report") == []
    changed = copy.deepcopy(document)
    change(changed)
    assert errors(changed, "report") != []
    assert not validator().is_valid(changed)


@pytest.mark.slow
def test_an_imported_models_spec(tmp_path: Path) -> None:
    """`import` writes a spec and one line, no JSON of its own: the spec it writes validates through `show`."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper  # noqa: PLC0415

    def zeros(name: str, *dims: int) -> Any:
        count = 1
        for d in dims:
            count *= d
        return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * count)

    nodes = [
        helper.make_node("Conv", ["x", "w", "b"], ["c"], "conv1", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], "relu1"),
        helper.make_node("MaxPool", ["r"], ["p"], "pool1", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["p"], ["f"], "flatten"),
        helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], "fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [zeros("w", 4, 3, 3, 3), zeros("b", 4), zeros("fw", 10, 64), zeros("fb", 10)],
    )
    model, spec = tmp_path / "m.onnx", tmp_path / "m.yaml"
    onnx.save(helper.make_model(graph), str(model))
    result = CliRunner().invoke(main, ["import", str(model), "-o", str(spec)])
    assert result.exit_code == 0, result.output
    assert result.stderr == f"wrote {spec}: `convcalc show {spec}` shows it\n"
    data = run("show", str(spec), "--format", "json")
    assert errors(data, "report") == []
    assert data["totals"]["params"] == 4 * 27 + 4 + 10 * 64 + 10
    symbolic = run("show", str(spec), "--input", "HxWx3", "--format", "json")
    assert errors(symbolic, "report") == []


def test_check_a_symbolic_spec_at_its_example_and_one_without(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    wrong, unnamed = tiny(tmp_path / "a", params=20714), tiny(tmp_path, example="", params=1)
    result = CliRunner().invoke(main, ["check", str(wrong), str(unnamed)])
    assert result.exit_code == 1
    assert f"{wrong}:9:11: error: check failed: Tiny params: expected 20714, got 18,234" in result.stdout
    assert f"{unnamed}:2:8: note: the spec's expect: answers are not checked" in result.stdout
    assert result.stdout.endswith("2 checks in 2 files: 1 passed, 1 failed\n")
    data = run("check", str(unnamed), "--format", "json")
    assert errors(data, "check") == []
    assert [d["code"] for d in data["files"][0]["diagnostics"]] == ["answers-not-checked"]
    assert data["files"][0]["ok"] is True


def test_check_judges_a_symbolic_spec_without_example_on_its_formulas(tmp_path: Path) -> None:
    path = tmp_path / "never.yaml"
    path.write_text("input: 7xWx3\nlayers:\n  - conv: {filters: 4, size: 2, stride: 2}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(path)])
    assert result.exit_code == 1
    assert f"{path}:3:5: error: CONV2-4: 5 ≡ 0 (mod 2) is false: no size fits" in result.stdout
    refused = tmp_path / "refused.yaml"
    refused.write_text("input: HxWx3\nlayers:\n  - conv3-8\n  - flatten\n  - groupnorm: 2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", str(refused)])
    assert result.exit_code == 2
    assert f"{refused}:5:5: error:" in result.stdout


def test_a_layer_that_fails_whatever_the_size_is_an_error_in_the_document(tmp_path: Path) -> None:
    path = tmp_path / "groups.yaml"
    path.write_text("input: HxWx3\nlayers:\n  - conv3-8 g2\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(path), "--format", "json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert errors(data, "report") == []
    (error,) = data["diagnostics"]
    assert (error["severity"], error["path"], error["line"], error["column"]) == ("error", "1", 3, 5)
    assert error["message"].startswith("CONV3-8: groups 2 does not divide the 3 input channels")
    assert "error: CONV3-8: groups 2 does not divide the 3 input channels" in result.stderr
