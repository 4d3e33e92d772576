"""convcalc.analyze, the Report's displays and to_dict(), dir(convcalc); docs/api.md runs as written."""

from __future__ import annotations

import doctest
import io
import json
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from rich.console import Console

import convcalc
from convcalc import LayerRow, analyze, load_spec
from convcalc.builtins import specs_dir
from convcalc.cli import main
from convcalc.engine.analyze import analyze as analyze_spec
from convcalc.options import DType

ROOT = Path(__file__).parent.parent


def _placeless(row: LayerRow) -> LayerRow:
    return replace(row, line=None, column=None)


def test_docs_api_examples_run() -> None:
    result = doctest.testfile(str(ROOT / "docs" / "api.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 10
    assert result.failed == 0


def test_every_source_gives_the_same_report(tmp_path: Path) -> None:
    path = Path(specs_dir()) / "lenet5.yaml"
    text = path.read_text(encoding="utf-8")
    copy = tmp_path / "net.yaml"
    copy.write_text(text, encoding="utf-8")
    by_engine = analyze_spec(load_spec(path))
    for source in ("lenet5", str(copy), copy, text, yaml.safe_load(text), load_spec(path)):
        report = analyze(source)
        # A dict is written as YAML to be read: its rows are the same but for their line numbers.
        # analyze() adds training memory at its defaults (the `saved` column), as show's JSON has it.
        assert [replace(r, line=None, column=None, saved=None) for r in report.rows] == [
            replace(r, line=None, column=None) for r in by_engine.rows
        ]
        assert report.training is not None
        assert report.totals == by_engine.totals


@pytest.mark.parametrize(
    ("options", "args"),
    [
        ({"batch": 8}, ["--batch", "8"]),
        ({"dtype": "float16", "rounding": "floor"}, ["--dtype", "float16", "--rounding", "floor"]),
        ({"input": "64x64x3"}, ["--input", "64x64x3"]),
    ],
)
def test_to_dict_is_shows_json(options: dict[str, object], args: list[str]) -> None:
    shown = CliRunner().invoke(main, ["show", "alexnet", "--format", "json", *args])
    assert json.loads(shown.stdout) == analyze("alexnet", **options).to_dict()  # type: ignore[arg-type]


def test_overrides_in_other_forms() -> None:
    a = analyze("vgg16", input=[32, 32, 3], dtype=DType.FLOAT16)
    b = analyze("vgg16", input={"height": 32, "width": 32, "depth": 3}, dtype="float16")
    c = analyze("vgg16", input=a.rows[0].output)
    d = analyze("vgg16", input=(32, 32, 3))
    assert a.rows == b.rows
    assert c.totals.params == d.totals.params == a.totals.params
    assert a.bytes_per_value == 2


def test_an_override_drops_the_spec_answers() -> None:
    text = "input: 8x8x3\nlayers: [conv3-4]\nexpect: {params: 112}\n"
    assert len(analyze(text).checks) == 1
    assert analyze(text, batch=2).checks == ()


@pytest.mark.parametrize(
    ("source", "options", "match"),
    [
        ("vgg16", {"batch": 0}, r"^analyze\(\): error: batch=0: give a whole number"),
        ("vgg16", {"batch": True}, r"batch=True"),
        ("vgg16", {"dtype": "float8"}, r"dtype='float8': not one of float64, float32"),
        ("vgg16", {"rounding": "up"}, r"rounding='up': not one of strict, floor, ceil"),
        ("vgg16", {"input": "1x2"}, r"two numbers"),
        ("vgg16", {"input": "HxWx3"}, r"input HxWx3 is symbolic.*analyze_closed"),
        ("vgg61", {}, r"no built-in spec of that name; did you mean"),
        (42, {}, r"a source is a built-in name, a path, YAML text, a dict or a Spec, not int"),
        ({"input": "8x8x3", "layers": ["conv3-4 s9q"]}, {}, r"^<dict>:3:"),
        ("input: 8x8x3\nlayers: [conv3-4 s9q]\n", {}, r"^<text>:2:"),
    ],
)
def test_bad_arguments_raise_spec_errors(source: object, options: dict[str, object], match: str) -> None:
    with pytest.raises(convcalc.ConvcalcError, match=match):
        analyze(source, **options)  # type: ignore[arg-type]


def test_a_design_error_is_in_the_report_not_raised() -> None:
    report = analyze("input: 8x8x3\nlayers: [conv3-4 s2]\n")
    assert not report.ok
    assert "not ok" in repr(report)


def test_repr_is_one_short_line() -> None:
    report = analyze("vgg16")
    text = repr(report)
    t = report.totals
    assert text == f"<Report VGG16: {len(report.rows)} rows, {t.params:,} params, {t.macs:,} MACs, ok>"
    assert len(repr(analyze("densenet121", batch=64))) < 120


def test_html_holds_the_table() -> None:
    report = analyze("vgg16", batch=8)
    html = report._repr_html_()
    assert html.startswith("<pre ")
    assert "<html" not in html
    for row in report.rows:
        assert f" {row.name} " in html
    assert f"{report.totals.params:,}" in html
    assert f"{report.totals.macs:,}" in html


def test_html_escapes_names() -> None:
    html = analyze("name: <b>&net\ninput: 8x8x3\nlayers: [conv3-4]\n")._repr_html_()
    assert "&lt;b&gt;&amp;net" in html
    assert "<b>" not in html


def test_rich_prints_the_table_at_the_console_width() -> None:
    report = analyze("lenet5")
    out = io.StringIO()
    console = Console(file=out, width=100, color_system=None, legacy_windows=False, _environ={})
    console.print(report)
    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 100
    assert all(any(f" {row.name} " in line for line in lines) for row in report.rows)
    assert any(f"{report.totals.params:,}" in line for line in lines)


def test_dir_lists_the_api() -> None:
    names = dir(convcalc)
    assert {"analyze", "load_spec", "Report", "Spec", "SpecError", "Volume"} <= set(names)
    assert set(convcalc.__all__) <= set(names)
    assert not {"Any", "TYPE_CHECKING", "annotations", "importlib", "ModuleType"} & set(names)
    for name in convcalc.__all__:
        assert getattr(convcalc, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = convcalc.nothing
