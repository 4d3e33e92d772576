"""`convcalc diff`: alignment, what a changed row says, totals, --fail-on budgets, every format."""

from __future__ import annotations

import json
import shlex
import textwrap
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import __version__, analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.diff import Alignment, BudgetError, Metric, Status, TotalChange, compare, parse_budgets
from convcalc.diff import align as align_module
from convcalc.render.diff import render_markdown
from convcalc.render.diff_json import render_json
from convcalc.render.diff_table import render_table

if TYPE_CHECKING:
    import io
    from collections.abc import Callable

    from click.testing import Result
    from rich.console import Console

    from convcalc.diff import Diff
    from convcalc.report import Report

ROOT = Path(__file__).parent.parent


def run(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, ["diff", *args], input=stdin)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def report(text: str, name: str = "net.yaml") -> Report:
    return analyze(load_spec(name, textwrap.dedent(text)))


def builtin(name: str) -> Report:
    return analyze(open_spec(name))


def changed_rows(diff: Diff) -> list[tuple[str, int | None, int | None, str]]:
    shown = [r for r in diff.rows if r.status is not Status.SAME]
    return [(r.status.value, r.a.index if r.a else None, r.b.index if r.b else None, r.row.name) for r in shown]


def check_invariants(diff: Diff) -> None:
    """Every row of A and of B is in the diff once, in order; the sides add up to their totals."""
    a = [r.a.index for r in diff.rows if r.a is not None]
    b = [r.b.index for r in diff.rows if r.b is not None]
    assert a == list(range(len(diff.a.rows)))
    assert b == list(range(len(diff.b.rows)))
    params = {t.metric: t for t in diff.totals}[Metric.PARAMS]
    assert sum(r.a.params for r in diff.rows if r.a is not None) == params.a
    assert sum(r.b.params for r in diff.rows if r.b is not None) == params.b


# --- the acceptance examples ---------------------------------------------------------------


def test_alexnet_to_zfnet_lists_conv1_conv345_volumes_and_totals() -> None:
    result = run("alexnet", "zfnet")
    assert result.exit_code == 0
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    conv1 = next(i for i, line in enumerate(lines) if " CONV1 " in line)
    assert "55x55x96 → 110x110x96" in lines[conv1]
    assert lines[conv1 + 1].strip() == "11x11/4 → 7x7/2, pad 0 → 1, rounding strict → floor"
    for name, filters in (("CONV3", "384 → 512"), ("CONV4", "384 → 1024"), ("CONV5", "256 → 512")):
        row = next(i for i, line in enumerate(lines) if f" {name} " in line)
        assert lines[row + 1].strip() == f"filters {filters}"
    assert any("MAX POOL3   6x6x256 → 6x6x512" in line for line in lines)
    assert "Params          62,378,344    107,627,624      +45,249,280 (+72.54%)" in lines
    assert "MACs         1,135,256,096  2,476,704,896  +1,341,448,800 (+118.16%)" in lines
    assert "0 added, 0 removed, 11 changed, 3 unchanged (--all shows them)" in lines
    assert result.stderr == ""


def test_alexnet_to_zfnet_table(
    golden: Callable[[str, str], None], plain_console: Callable[..., tuple[Console, io.StringIO]]
) -> None:
    diff = compare(builtin("alexnet"), builtin("zfnet"))
    check_invariants(diff)
    console, out = plain_console()
    render_table(diff, console)
    golden("alexnet-zfnet.diff.txt", out.getvalue())


def test_alexnet_to_zfnet_json(golden: Callable[[str, str], None]) -> None:
    diff = compare(builtin("alexnet"), builtin("zfnet"), parse_budgets(["params>+50%"]))
    text = render_json(diff, __version__)
    data = json.loads(text)
    assert (data["a"]["name"], data["b"]["name"], data["a"]["source"]) == ("AlexNet", "ZFNet", "specs/alexnet.yaml")
    assert data["totals"]["params"] == {"a": 62_378_344, "b": 107_627_624, "change": 45_249_280, "percent": 72.54}
    assert data["totals"]["memory"]["a"] == builtin("alexnet").totals.forward_bytes
    conv1 = data["rows"][1]
    assert conv1["status"] == "changed"
    assert (conv1["a"]["hyperparameters"]["size"], conv1["b"]["hyperparameters"]["size"]) == (11, 7)
    assert conv1["changed"][:4] == ["size", "stride", "pad", "rounding"]
    assert data["fail_on"] == [
        {
            "budget": "params>+50%",
            "broken": True,
            "judged": True,
            "change": 45_249_280,
            "limit": 50,
            "metric": "params",
            "op": ">",
            "percent": 72.54,
            "unit": "%",
        }
    ]
    assert data["broken"] is True
    assert data["summary"] == {"added": 0, "removed": 0, "changed": 11, "same": 3}
    assert sum(r["b"]["params"] for r in data["rows"]) == data["totals"]["params"]["b"]
    golden("alexnet-zfnet.diff.json", text)


def test_vgg16_to_vgg19_adds_three_convs_the_last_of_their_stages() -> None:
    diff = compare(builtin("vgg16"), builtin("vgg19"))
    check_invariants(diff)
    assert changed_rows(diff) == [
        ("added", None, 10, "CONV3-256"),
        ("added", None, 15, "CONV3-512"),
        ("added", None, 20, "CONV3-512"),
    ]
    back = compare(builtin("vgg19"), builtin("vgg16"))
    assert changed_rows(back) == [
        ("removed", 10, None, "CONV3-256"),
        ("removed", 15, None, "CONV3-512"),
        ("removed", 20, None, "CONV3-512"),
    ]


def test_vgg16_to_vgg19_markdown(golden: Callable[[str, str], None]) -> None:
    diff = compare(builtin("vgg16"), builtin("vgg19"), parse_budgets(["params>+3%,params>+5%"]))
    golden("vgg16-vgg19.diff.md", render_markdown(diff))


@pytest.mark.parametrize(
    ("budget", "code"),
    [
        ("params>+3%", 1),
        ("params>+5%", 0),
        ("params>+3.83%", 1),
        ("params>+3.84%", 0),  # +3.8377%: exact, not a float's rounding
        ("params>+5M", 1),
        ("params>+5.4M", 0),
        ("macs>+10%", 1),
        ("memory>+5MB", 1),
        ("memory>+5.3MB", 0),
        ("memory>+5M", 1),
        ("activations>+1M", 1),
        ("params<-1%", 0),
    ],
)
def test_vgg16_to_vgg19_fail_on(budget: str, code: int) -> None:
    result = run("vgg16", "vgg19", "--fail-on", budget)
    assert result.exit_code == code
    verdict = "breaks it" if code else "holds"
    assert f"{'✗' if code else '✓'} {budget}: " in result.stdout
    assert result.stdout.rstrip().endswith(verdict)


def test_vgg16_to_vgg19_fail_on_messages() -> None:
    result = run("vgg16", "vgg19", "--fail-on", "params>+3%", "--fail-on", "params>+5%,macs>+30%")
    assert result.exit_code == 1
    assert result.stdout.splitlines()[-3:] == [
        "✗ params>+3%: Params +5,309,696 (+3.84%), breaks it",
        "✓ params>+5%: Params +5,309,696 (+3.84%), holds",
        "✓ macs>+30%: MACs +4,161,798,144 (+26.90%), holds",
    ]


def test_a_decrease_budget() -> None:
    assert run("vgg19", "vgg16", "--fail-on", "params<-3%").exit_code == 1
    assert run("vgg19", "vgg16", "--fail-on", "params<-5%").exit_code == 0
    assert run("vgg19", "vgg16", "--fail-on", "params>+0%").exit_code == 0


# --- no change, --all, formats ---------------------------------------------------------------


def test_a_spec_against_itself_has_no_changes() -> None:
    result = run("vgg16", "vgg16", "--fail-on", "params>+0%,params<-0%")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    # The same name on both sides: the title is the files' (issue 23), and the line under it is the setting.
    assert lines[:4] == ["specs/vgg16.yaml → specs/vgg16.yaml", "batch 1 · float32", "", lines[3]]
    assert lines[3] == "0 added, 0 removed, 0 changed, 22 unchanged (--all shows them)"
    assert "                          A               B     Change" in lines  # one name for both sides
    assert "Params          138,357,544     138,357,544  no change" in lines
    assert lines[-2:] == ["✓ params>+0%: Params no change, holds", "✓ params<-0%: Params no change, holds"]
    data = json.loads(run("vgg16", "vgg16", "--format", "json").stdout)
    assert {r["status"] for r in data["rows"]} == {"same"}
    assert all(t["change"] == 0 and t["percent"] == 0 for t in data["totals"].values())


def test_all_shows_unchanged_rows() -> None:
    plain = run("vgg16", "vgg19").stdout
    everything = run("vgg16", "vgg19", "--all").stdout
    assert "   1   CONV3-64" not in plain
    assert "        1   CONV3-64    224x224x64      1.8K    87M" in everything
    assert "    9→9  " not in everything
    assert "    10→11   MAXPOOL2    28x28x256          0      0" in everything
    assert "+      10   CONV3-256   56x56x256       590K   1.8G\n            conv3-256 p1\n" in everything
    assert "3 added, 0 removed, 0 changed, 22 unchanged\n" in everything


def test_markdown_all_has_a_line_per_row() -> None:
    result = run("vgg16", "vgg19", "--format", "markdown", "--all")
    assert result.exit_code == 0
    table = result.stdout.split("\n\n")[2]
    assert table.count("\n") + 1 == 2 + 25  # header, rule, and VGG19's rows


def test_binary_memory() -> None:
    result = run("vgg16", "vgg19", "--binary")
    assert "Memory            58.13 MiB       63.10 MiB        +4.98 MiB (+8.56%)" in result.stdout


def test_table_fits_80_columns(plain_console: Callable[..., tuple[Console, io.StringIO]]) -> None:
    console, out = plain_console(width=80)
    render_table(compare(builtin("alexnet"), builtin("zfnet"), parse_budgets(["params>+1%"])), console)
    assert max(len(line) for line in out.getvalue().splitlines()) <= 80


# --- what a changed row says -------------------------------------------------------------------


def test_a_renamed_shorthand_layer_is_changed_not_replaced() -> None:
    a = report("input: 32x32x3\nlayers: [conv3-16 p1, relu, conv3-32 p1, relu, gap, fc-10]\n")
    b = report("input: 32x32x3\nlayers: [conv3-16 p1, relu, conv3-64 p1, relu, gap, fc-10]\n")
    diff = compare(a, b)
    assert changed_rows(diff) == [
        ("changed", 3, 3, "CONV3-64"),
        ("changed", 4, 4, "RELU"),
        ("changed", 5, 5, "GAP"),
        ("changed", 6, 6, "FC-10"),
    ]
    conv = diff.rows[3]
    assert conv.changed == ("name", "filters", "output", "params", "activations", "memory", "macs", "flops")
    markdown = render_markdown(diff)
    assert "| ~ | 3 | CONV3-32 → CONV3-64 | filters 32 → 64 | 32x32x32 → 32x32x64 | 4.6K → 9.3K |" in markdown


@pytest.mark.parametrize(
    ("a", "b", "says"),
    [
        ("conv3-8 p1", "conv3-8 s2 p1", "3x3/1 → 3x3/2"),
        ("conv1x7-8", "conv1x3-8", "1x7/1 → 1x3/1"),
        ("conv3-8 p1", "conv3-8 p1 d2", "dilation 1 → 2"),
        ("conv3-8 p1", "conv5-8 s2 psame", "3x3/1 → 5x5/2, pad 1 → same"),
        ("maxpool", "avgpool", "type max → avg"),
        ("conv: {filters: 8, size: 3}", "conv: {filters: 8, size: 3, bias: false}", "bias yes → no"),
        ("conv: {filters: 8, size: 3}", "conv: {filters: 8, size: 3, activation: relu}", "activation none → relu"),
        ("fc-10", "fc-20", "units 10 → 20"),
    ],
)
def test_hyperparameters_read_in_lecture_terms(a: str, b: str, says: str) -> None:
    def net(layer: str) -> Report:
        item = layer if ":" in layer else f'"{layer}"'
        return report(f"input: 16x16x8\nrounding: floor\nlayers:\n  - {item}\n")

    from convcalc.render.diff import hyperparameters  # noqa: PLC0415

    rd = compare(net(a), net(b)).rows[1]
    assert rd.status is Status.CHANGED
    assert hyperparameters(rd) == says


def test_a_new_kind_is_a_row_removed_and_one_added() -> None:
    a = report("input: 16x16x8\nlayers: [conv3-8, relu]\n")
    b = report("input: 16x16x8\nlayers: [deconv3-8, relu]\n")
    assert changed_rows(compare(a, b)) == [
        ("removed", 1, None, "CONV3-8"),
        ("added", None, 1, "DECONV3-8"),
        ("changed", 2, 2, "RELU"),
    ]


def test_resnet_blocks_are_added_whole() -> None:
    diff = compare(builtin("resnet18"), builtin("resnet34"))
    check_invariants(diff)
    added = [r for r in diff.rows if r.status is Status.ADDED]
    assert not [r for r in diff.rows if r.status in {Status.REMOVED, Status.CHANGED}]
    merges = [r.row.name for r in added if r.row.kind == "add"]
    assert merges == ["layer1.2", "layer2.2", "layer2.3", "layer3.2", "layer3.3", "layer3.4", "layer3.5", "layer4.2"]
    assert len(added) == 8 * 6


# --- alignment limits --------------------------------------------------------------------------


def test_beyond_the_limit_rows_pair_by_position(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(align_module, "MAX_PRODUCT", 4)
    diff = compare(builtin("vgg16"), builtin("vgg19"))
    assert diff.alignment is Alignment.POSITION
    check_invariants(diff)
    assert diff.count(Status.ADDED) == 3
    result = run("vgg16", "vgg19")
    assert " ".join(result.stdout.split()).endswith(
        "The rows that differ were too many to align as sequences: they are paired by position."
    )
    data = json.loads(run("vgg16", "vgg19", "--format", "json").stdout)
    assert data["alignment"] == "position"


def _big(tmp_path: Path, name: str, layers: str) -> str:
    path = tmp_path / f"{name}.yaml"
    path.write_text(f"name: {name}\ninput: 4x4x2\nlayers:\n{textwrap.dedent(layers)}", encoding="utf-8")
    return str(path)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
def test_100000_rows_against_100000_rows(tmp_path: Path) -> None:
    a = _big(tmp_path, "a", "  - repeat: 100000\n    layers: [relu]\n")
    b = _big(tmp_path, "b", "  - conv1-2\n  - repeat: 49999\n    layers: [relu, sigmoid]\n  - relu\n")
    result = run(a, b, "--fail-on", "params>+5")
    assert result.exit_code == 1
    assert "✗ params>+5: Params +6 (new), breaks it" in result.stdout
    assert "paired by position" in " ".join(result.stdout.split())
    assert "0 added, 0 removed, 50000 changed, 50001 unchanged" in result.stdout


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
def test_a_small_change_to_a_big_spec_aligns_in_linear_time(tmp_path: Path) -> None:
    relus = "  - repeat: 20000\n    layers: [relu]\n"
    a = _big(tmp_path, "a", f"{relus}  - conv1-2\n{relus}")
    b = _big(tmp_path, "b", f"{relus}  - conv1-4\n{relus}")
    diff = compare(analyze(open_spec(a)), analyze(open_spec(b)))
    assert diff.alignment is Alignment.SEQUENCE
    assert diff.count(Status.CHANGED) == 20_001  # the conv, and the relus after it (twice as deep)


# --- budgets -----------------------------------------------------------------------------------


def test_budgets_parse() -> None:
    first, second, third, fourth = parse_budgets(["params>+5%, macs > 1.5G", "memory>+1MiB,params<-10%"])
    assert (first.metric, first.op, first.limit, first.percent) == (Metric.PARAMS, ">", Fraction(5), True)
    assert (second.metric, second.limit, second.percent) == (Metric.MACS, Fraction(1_500_000_000), False)
    assert (third.metric, third.limit) == (Metric.MEMORY, Fraction(2**20))
    assert (fourth.op, fourth.limit) == ("<", Fraction(-10))


def test_a_budget_over_a_total_that_was_zero() -> None:
    (budget,) = parse_budgets(["buffers>+1000%"])
    assert budget.broken(TotalChange(Metric.BUFFERS, 0, 1))
    assert not budget.broken(TotalChange(Metric.BUFFERS, 0, 0))
    assert TotalChange(Metric.BUFFERS, 0, 1).percent is None
    assert TotalChange(Metric.PARAMS, 3, 4).percent == Fraction(100, 3)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("params+5%", "cannot read 'params+5%': write METRIC>CHANGE or METRIC<CHANGE"),
        ("param>+5%", "unknown metric 'param' in 'param>+5%'; did you mean 'params'? metrics: params, weights"),
        ("params>+5MB", "unknown unit 'MB' in 'params>+5MB': use %, or k, M, G or T"),
        ("memory>+5Mb", "unknown unit 'Mb' in 'memory>+5Mb': use %, or a byte unit"),
        ("params>=5%", "cannot read 'params>=5%'"),
    ],
)
def test_bad_budgets_are_refused(text: str, message: str) -> None:
    with pytest.raises(BudgetError, match=message.replace("?", r"\?").replace("+", r"\+")):
        parse_budgets([text])
    result = run("vgg16", "vgg19", "--fail-on", text)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"Error: Invalid value for '--fail-on': {message}" in result.stderr.replace("\n", " ")


def test_bad_budget_says_the_accepted_form() -> None:
    result = run("vgg16", "vgg19", "--fail-on", "more params please")
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == (
        "Error: Invalid value for '--fail-on': cannot read 'more params please': write METRIC>CHANGE or "
        "METRIC<CHANGE, the change in percent or absolute (k/M/G; bytes for memory), e.g. params>+5%, "
        "macs>+10%, memory>+1MB, params>+1M or params<-10%"
    )


# --- inputs ------------------------------------------------------------------------------------


def test_standard_input_and_a_design_error(tmp_path: Path) -> None:
    text = "name: small\ninput: 10x10x3\nlayers: [conv3-8 s2]\n"  # (10 − 3)/2 + 1 = 4.5
    result = run("-", "vgg16", stdin=text)
    assert result.exit_code == 0
    assert result.stderr.startswith("<stdin>:3:10: error: (10 − 3)/2 + 1 = 4.5")
    assert " ".join(result.stdout.split()).endswith("small has design errors (see `convcalc show <stdin>`).")
    path = tmp_path / "small.yaml"
    path.write_text(text, encoding="utf-8")
    assert run(str(path), str(path), "--fail-on", "params>+0").exit_code == 0


def test_both_from_standard_input_is_a_usage_error() -> None:
    result = run("-", "-", stdin="input: 8x8x3\nlayers: [relu]\n")
    assert result.exit_code == 2
    assert "Error: only one of A and B can be - (standard input)" in result.stderr


def test_an_unknown_spec() -> None:
    result = run("vgg16", "vgg21")
    assert result.exit_code == 2
    assert result.stderr.startswith("vgg21: error: no such file, and no built-in spec of that name; did you mean")


def test_spec_names_complete() -> None:
    from convcalc.cli.diff import diff  # noqa: PLC0415

    ctx = diff.make_context("diff", ["vgg16", "x"], resilient_parsing=True)
    param = next(p for p in diff.params if p.name == "b")
    assert [c.value for c in param.shell_complete(ctx, "vgg1") if c.type == "plain"] == [
        "vgg11",
        "vgg13",
        "vgg16",
        "vgg19",
    ]


# --- the docs ----------------------------------------------------------------------------------


def test_docs_diff_md_shows_the_real_output() -> None:
    text = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    for command in ("convcalc diff alexnet zfnet", 'convcalc diff vgg16 vgg19 --fail-on "params>+3%"'):
        block = text.split(f"$ {command}\n")[1].split("```")[0]
        output = CliRunner().invoke(main, shlex.split(command)[1:]).stdout
        assert block.rstrip() == "\n".join(line.rstrip() for line in output.splitlines()), command


def test_an_empty_budget_is_refused_not_ignored() -> None:
    # In CI, `--fail-on "$BUDGET"` with BUDGET unset must not turn the gate off.
    for budgets in ([""], ["params>+5%,"], [" "]):
        result = run("vgg16", "vgg19", *(f"--fail-on={b}" for b in budgets))
        assert result.exit_code == 2, budgets
        assert "an empty budget in" in result.output


def test_budgets_on_a_network_that_stops_cannot_hold(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "input: 8x8x3\nlayers:\n  - parallel:\n      branches: [[conv3-4], [conv1-4]]\n      merge: add\n",
        encoding="utf-8",
    )
    result = run("vgg16", str(broken), "--fail-on", "params>+5%")
    assert result.exit_code == 1
    assert "✗ params>+5%: cannot be judged, as a design error stops A or B" in result.stdout
    assert "✓" not in result.stdout
    assert run("vgg16", str(broken)).exit_code == 0  # without budgets: the diff, as before


def test_budget_digits_are_ascii() -> None:
    with pytest.raises(BudgetError, match="cannot read"):
        parse_budgets(["params>+\u0665%"])  # ARABIC-INDIC DIGIT FIVE


def test_markdown_keeps_a_name_with_a_line_break_in_its_row(tmp_path: Path) -> None:
    spec = tmp_path / "a.yaml"
    spec.write_text('input: 8x8x3\nlayers:\n  - conv: {filters: 4, size: 3}\n    name: "two\\nlines | here"\n')
    other = tmp_path / "b.yaml"
    other.write_text('input: 8x8x3\nlayers:\n  - conv: {filters: 8, size: 3}\n    name: "two\\nlines | here"\n')
    text = run(str(spec), str(other), "--format", "markdown").stdout
    row = next(line for line in text.splitlines() if "two lines" in line)
    assert "two lines \\| here" in row
    assert row.startswith("|")
    assert row.endswith("|")


def test_a_name_cut_to_fit_is_given_in_full_beneath(
    tmp_path: Path, plain_console: Callable[..., tuple[Console, io.StringIO]]
) -> None:
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("input: 32x32x3\nlayers:\n  - layer: conv3-64 p1\n    name: " + "x" * 40 + "\n", encoding="utf-8")
    b.write_text("input: 32x32x3\nlayers:\n  - layer: conv3-128 p1\n    name: " + "y" * 40 + "\n", encoding="utf-8")
    console, out = plain_console(width=80)
    render_table(compare(analyze(load_spec(a)), analyze(load_spec(b)), ()), console)
    text = " ".join(out.getvalue().split())
    assert "…" in text
    assert f"{'y' * 40}: renamed from {'x' * 40}; filters 64 → 128" in text
