"""Symbolic sizes (issue 14): closed forms against the numeric engine, `fit` and `show --input HxWx3`.

The oracle is convcalc's numeric engine, itself checked against PyTorch (tests/test_torchvision.py,
tests/test_random_networks.py): the symbolic set of sizes must equal what a sweep of that engine
finds, and every formula must give the numeric engine's figure.
"""

from __future__ import annotations

import json
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from math import lcm
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convcalc.builtins import builtin_names, open_spec
from convcalc.cli import main
from convcalc.engine.analyze import analyze, first_problem
from convcalc.engine.sizes import SizeSet
from convcalc.engine.symbolic import analyze_closed
from convcalc.kinds.closed import Expr
from convcalc.options import Rounding
from convcalc.render.closed import to_dict
from convcalc.render.sizes import axis_report
from convcalc.spec.loader import load_spec
from convcalc.spec.model import LayerSpec
from convcalc.volume import Volume

if TYPE_CHECKING:
    from click.testing import Result

    from convcalc.spec.model import Spec

FIGURES = ("activations", "memory", "params", "macs", "flops")


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


# --- the algebra ------------------------------------------------------------------------------


@st.composite
def chains(draw: st.DrawFn) -> list[tuple[str, int]]:
    """Steps a size goes through: floor by a stride, add, multiply (a deconv), as a list."""
    ops = st.one_of(
        st.tuples(st.just("div"), st.integers(1, 5)),
        st.tuples(st.just("add"), st.integers(-9, 9)),
        st.tuples(st.just("mul"), st.integers(1, 4)),
    )
    return draw(st.lists(ops, max_size=8))


def _apply(steps: list[tuple[str, int]], x: Any) -> Any:
    for op, n in steps:
        if op == "div":
            x = x.floordiv(n) if isinstance(x, Expr) else x // n
        elif op == "add":
            x = x + n
        else:
            x = x * n
    return x


@given(chains(), st.integers(-50, 400))
def test_closed_forms_compute_what_the_steps_compute(steps: list[tuple[str, int]], h: int) -> None:
    expr = _apply(steps, Expr.symbol("H"))
    assert expr.evaluate({"H": h}) == _apply(steps, h)
    assert eval(expr.python(), {"H": h}) == _apply(steps, h)  # noqa: S307 - the JSON's promise
    m = expr.period("H")
    a, b = expr.on_class("H", m, h % m)
    assert a * (h // m) + b == _apply(steps, h)


def test_floors_compose_into_one() -> None:
    h = Expr.symbol("H")
    alexnet = ((h - 11).floordiv(4) + 1 - 3).floordiv(2) + 1
    assert alexnet.text() == "⌊(H + 5)/8⌋ − 2"  # ⌊(⌊(H − 11)/4⌋ + 1 − 3)/2⌋ + 1
    assert (2 * h.floordiv(2) + 1).floordiv(2) == h.floordiv(2)


def test_size_sets_intersect_and_summarise() -> None:
    odd = SizeSet(2, {1: (1, None)})
    big = SizeSet(1, {0: (10, None)})
    both = odd.intersect(big)
    assert list(both.members(16)) == [11, 13, 15]
    assert both.summary().least == 11
    assert both.summary().modulus == 2
    assert both.issubset(odd)
    assert not odd.issubset(both)
    assert both.nearest(12, 2) == [11, 13]


# --- the figures ------------------------------------------------------------------------


def test_fit_alexnet_is_32k_plus_3_and_names_conv1() -> None:
    result = run("fit", "alexnet")
    assert result.exit_code == 0
    assert "height (H): H = 32k + 3, k ≥ 2: 67, 99, 131, 163, 195, 227, …" in result.stdout
    assert "  CONV1 (line 13): H − 11 ≡ 0 (mod 4)" in result.stdout
    data = json.loads(run("fit", "alexnet", "--format", "json").stdout)
    assert set(data) == {"height", "width"}
    height = data["height"]
    assert (height["min"], height["max"], height["modulus"], height["residues"]) == (67, None, 32, [3])
    conv1 = height["conditions"][1]  # [0]: H ≥ 11, the window
    assert (conv1["layer"], conv1["condition"], conv1["binding"]) == ("CONV1", "H − 11 ≡ 0 (mod 4)", True)
    assert height["nearest"] == [227, 195, 259]


def test_the_docs_fit_excerpt_is_real_output() -> None:
    doc = (Path(__file__).parent.parent / "docs" / "symbolic.md").read_text(encoding="utf-8")
    block = doc.split("$ convcalc fit alexnet\n", 1)[1].split("```", 1)[0]
    real = run("fit", "alexnet").stdout.splitlines()
    shown = [line for line in block.splitlines() if line.strip() != "…"]
    assert all(line in real for line in shown), [line for line in shown if line not in real]
    assert shown[0] == real[0]
    assert shown[-1] == real[-1]


def test_fit_exits_1_and_names_the_nearest_sizes_when_the_input_does_not_fit() -> None:
    result = run("fit", "alexnet", "--input", "224x224x3")
    assert result.exit_code == 1
    assert "224x224x3 does not fit (height 224: nearest that fit 227, 195, 259;" in result.stdout


def test_vgg16_first_fc_params_as_a_formula() -> None:
    result = run("show", "vgg16", "--input", "HxWx3", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    fc6 = next(r for r in data["layers"] if r["kind"] == "fc")
    assert fc6["params"]["text"] == "2,048·H·W + 4,096"
    assert eval(fc6["params"]["python"], {"H": 224, "W": 224}) == 102_764_544  # noqa: S307
    conv = sum(eval(r["macs"]["python"], {"H": 32, "W": 32}) for r in data["layers"] if r["kind"] == "conv")  # noqa: S307
    assert conv == 313_196_544  # the 313,196,544·a·b at H = 32a, W = 32b
    table = run("show", "vgg16", "--input", "HxWx3")
    assert "H/32xW/32x512" in table.stdout
    assert "H: H = 32k, k ≥ 1" in table.stdout


@pytest.mark.parametrize("options", [["--train"], ["--columns", "output"], ["--format", "csv"]])
def test_what_has_no_symbolic_form_is_refused(options: list[str]) -> None:
    result = run("show", "vgg16", "--input", "HxWx3", *options)
    assert result.exit_code == 2
    assert "no symbolic form" in result.stderr


def test_a_symbolic_spec_checks_its_answers_at_its_example(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(
        "input: HxWx3\nexample: 32x32x3\nlayers:\n  - conv3-8 p1\n  - maxpool\nexpect:\n  output: 16x16x8\n",
        encoding="utf-8",
    )
    assert run("check", str(path)).exit_code == 0
    path.write_text(path.read_text(encoding="utf-8").replace("16x16x8", "15x15x8"), encoding="utf-8")
    assert run("check", str(path)).exit_code == 1
    shown = run("show", str(path))
    assert "H/2xW/2x8" in shown.stdout
    fit = json.loads(run("fit", str(path), "--format", "json").stdout)
    assert fit["height"]["modulus"] == 2


def test_a_spec_with_one_symbol_keeps_its_numbers(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: Tx65x65x3\nlayers:\n  - conv3-8 s2 p1\n  - maxpool3 s2\n", encoding="utf-8")
    shown = run("show", str(path), "--format", "json")
    assert shown.exit_code == 0
    data = json.loads(shown.stdout)
    assert set(data["sizes"]) == {"time"}
    assert data["layers"][-1]["output"]["python"] == ["((T + 3)//4) - 1", "16", "16", "8"]
    path.write_text("input: Tx64x64x3\nlayers:\n  - conv3-8 s2 p1\n", encoding="utf-8")
    unfit = run("show", str(path))
    assert unfit.exit_code == 1
    assert "error: CONV3-8: 63 ≡ 0 (mod 2) is false: no size fits" in unfit.stderr
    fit = json.loads(run("fit", str(path), "--format", "json").stdout)
    assert list(fit) == ["time", "height", "width"]  # fit asks of every axis


def test_a_symbolic_spec_without_example_says_what_numbers_need(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: HxWx3\nlayers:\n  - conv3-8\n", encoding="utf-8")
    result = run("draw", str(path))
    assert result.exit_code == 2
    assert "the input HxWx3 is symbolic and this needs numbers: give the spec `example: 224x224x3`" in result.stderr
    path.write_text("input: HxWx3\nexample: 8x32x3\nlayers: []\n", encoding="utf-8")
    assert run("show", str(path)).exit_code == 0
    path.write_text("input: 8xWx3\nexample: 9x32x3\nlayers: []\n", encoding="utf-8")
    assert "example 9x32x3 is not a size of the input 8xWx3" in run("show", str(path)).stderr


def test_a_layer_without_closed_form_is_refused_where_it_is(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: HxWx3\nlayers:\n  - conv3-8\n  - flatten\n  - groupnorm: 2\n", encoding="utf-8")
    result = run("show", str(path))
    assert result.exit_code == 2
    assert f"{path}:5:5: error: GROUPNORM: no closed form: groupnorm needs a depth that is a number" in result.stderr


def test_a_failure_whatever_the_size_fits_nothing(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text("input: 8x8x3\nlayers:\n  - conv3-8 g2\n", encoding="utf-8")
    result = run("fit", str(path))
    assert result.exit_code == 1
    said = "no size fits: CONV3-8 fails whatever the size: groups 2 does not divide the 3 input channels"
    assert said in result.stdout


# --- the property: symbolic = numeric -----------------------------------------------------------


def numeric_fits(spec: Spec, axis: int, size: int, others: tuple[int, ...]) -> bool:
    spatial = list(others)
    spatial[axis] = size
    at = replace(spec, input=Volume(tuple(spatial), spec.input.depth), symbols=(), example=True, expectations=())
    return first_problem(at) is None


def _fitting(job: tuple[Spec, int, tuple[int, ...], range]) -> list[int]:
    """The sizes of one axis (-1: every axis at once) in a range at which the numeric engine fits."""
    spec, axis, others, sizes = job
    if axis < 0:
        return [n for n in sizes if numeric_fits(spec, 0, n, (n,) * len(others))]
    return [n for n in sizes if numeric_fits(spec, axis, n, others)]


def square(spec: Spec) -> bool:
    """A square input and no per-dim value that differs by dim: every axis computes alike."""

    def same(node: Any) -> bool:
        if isinstance(node, LayerSpec):
            return not any(isinstance(v, tuple) and len(set(v)) > 1 for v in node.params.values())
        children = getattr(node, "layers", None) or ()
        branches = getattr(node, "branches", None) or ()
        shortcut = node.shortcut if isinstance(getattr(node, "shortcut", None), tuple) else ()
        return all(same(c) for c in (*children, *shortcut, *(c for b in branches for c in b)))

    return len(set(spec.input.spatial)) == 1 and all(same(n) for n in spec.layers)


def sweep(spec: Spec, axis: int, others: tuple[int, ...], limit: int, *, workers: int = 1) -> set[int]:
    """A sweep of the numeric engine over 1..limit, in `workers` processes."""
    chunks = [range(start, limit + 1, workers) for start in range(1, workers + 1)]
    jobs = [(spec, axis, others, chunk) for chunk in chunks]
    if workers == 1:
        return set(_fitting(jobs[0]))
    with ProcessPoolExecutor(workers) as pool:
        return {n for found in pool.map(_fitting, jobs) for n in found}


def assert_set_is_the_sweep(spec: Spec, limit: int, *, workers: int = 1) -> None:
    """Per axis, the symbolic set equals a sweep of the numeric engine, the other axes at a size that fits.

    A square spec computes every axis alike (the same numbers through the same code), so its
    axes' sets are equal and one sweep of the diagonal (every axis at once) checks them all.
    """
    closed = analyze_closed(spec, every_axis=True)
    sets = [closed.sets[s] for s in closed.symbols]
    # A condition that ties two symbols (layer norm's "more than one value" over the whole volume)
    # is judged per axis with the others at the spec's sizes: then each axis is swept on its own.
    joint = any(len(limit.condition.expr.symbols()) > 1 for limit in closed.limits)
    if square(spec) and len(sets) > 1 and not joint:
        assert all(s == sets[0] for s in sets), spec.name
        swept = sweep(spec, -1, spec.input.spatial, limit, workers=workers)
        assert swept == set(sets[0].members(limit)), f"{spec.name}, {spec.rounding.value}, the diagonal"
        return
    others = tuple(s.nearest(n, 1)[0] if not s.empty else n for s, n in zip(sets, spec.input.spatial, strict=True))
    if joint:  # the tied conditions judged where the sweep holds the other axes
        closed = analyze_closed(spec, every_axis=True, reference=dict(zip(closed.symbols, others, strict=True)))
        sets = [closed.sets[s] for s in closed.symbols]
    for axis, found in enumerate(sets):
        swept = sweep(spec, axis, others, limit, workers=workers)
        assert swept == set(found.members(limit)), f"{spec.name}, {spec.rounding.value}, axis {axis}"


def sweep_limit(spec: Spec) -> int:
    """Where a sweep has seen everything the set says: each residue class 8 times past its last bound.

    A set is, per residue class modulo its period, an interval of sizes; past the largest bound any
    class has, a class's sizes repeat with the period. So a sweep to that bound plus 8 periods
    meets every class's start, end and 8 of its sizes beyond; 512 at least, 4,096 at most (the
    fixed limit it replaced).
    """
    closed = analyze_closed(spec, every_axis=True)
    sets = [closed.sets[s] for s in closed.symbols]
    edge = max((b for s in sets for _, _, lo, hi in s.pieces() for b in (lo, hi) if b is not None), default=1)
    period = lcm(*(s.modulus for s in sets)) if sets else 1
    return min(4096, max(512, edge + 8 * period))


def assert_formulas_are_the_numbers(spec: Spec, samples: int) -> None:
    """Every figure of every row, as its JSON Python expression, equals the numeric row at sizes that fit."""
    closed = analyze_closed(spec, every_axis=True)
    if closed.failure is not None:
        return
    data = to_dict(closed, axis_report(closed, spec))
    members = [list(closed.sets[s].members(4096))[:samples] for s in closed.symbols]
    for sizes in zip(*members, strict=False):
        env = dict(zip(closed.symbols, sizes, strict=True))
        at = replace(spec, input=Volume(tuple(sizes), spec.input.depth), symbols=(), example=True, expectations=())
        if first_problem(at) is not None:  # each size fits on its own axis, not together (a tied condition)
            assert any(len(x.condition.expr.symbols()) > 1 for x in closed.limits), (spec.name, env)
            continue
        report = analyze(at)
        assert len(report.rows) == len(data["layers"])
        for row, formula in zip(report.rows, data["layers"], strict=True):
            assert row.output is not None
            output = [eval(e, env) for e in formula["output"]["python"]]  # noqa: S307
            assert output == row.output.as_list(), (spec.name, row.name, env)
            for name in FIGURES:
                assert eval(formula[name]["python"], env) == getattr(row, name), (spec.name, row.name, name, env)  # noqa: S307
        t = report.totals
        numbers = {"params": t.params, "activations": t.activations, "memory": t.forward_bytes, "macs": t.macs}
        for name, value in numbers.items():
            assert eval(data["totals"][name]["python"], env) == value, (spec.name, name, env)  # noqa: S307


def test_alexnet_and_vgg16_sets_match_a_short_sweep() -> None:
    for name in ("alexnet", "lenet5"):
        assert_set_is_the_sweep(open_spec(name), 300)
    assert_formulas_are_the_numbers(open_spec("vgg16"), 3)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow  # 14 specs × 3 roundings × 4,096 sizes: a few minutes
@pytest.mark.parametrize("name", builtin_names())
@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.value)
def test_every_builtin_set_equals_the_sweep_and_every_formula_the_numbers(name: str, rounding: Rounding) -> None:
    spec = replace(open_spec(name), rounding=rounding, expectations=())
    assert_set_is_the_sweep(spec, sweep_limit(spec), workers=2)  # CI's two cores
    assert_formulas_are_the_numbers(spec, 50)


# Random networks: every kind, in chains with residuals and branches, under every rounding.
LAYERS = {
    "conv": st.builds(
        lambda f, k, s, p, d: f"conv{f}-{k} s{s} p{p} d{d}",
        st.integers(1, 5),
        st.integers(1, 6),
        st.integers(1, 3),
        st.integers(0, 2),
        st.integers(1, 2),
    ),
    "conv same": st.builds(lambda f, s: f"conv{f}-4 s{s} psame", st.integers(1, 5), st.integers(1, 3)),
    "deconv": st.builds(
        lambda f, s, p: f"deconv{f}-4 s{s} p{p}", st.integers(1, 4), st.integers(1, 3), st.integers(0, 1)
    ),
    "pool": st.builds(
        lambda t, f, s, p: f"{t}pool{f} s{s} p{p}",
        st.sampled_from(["max", "avg"]),
        st.integers(2, 4),
        st.integers(1, 3),
        st.integers(0, 1),
    ),
    "pool same": st.builds(lambda f, s: f"maxpool{f} s{s} psame", st.integers(1, 4), st.integers(1, 3)),
    "global_pool": st.just("gap"),
    "adaptive_pool": st.builds(lambda n: f"adaptive_avgpool{n}", st.integers(1, 3)),
    "fc": st.just("fc-5"),
    "batchnorm": st.just("bn"),
    "layernorm": st.just("layernorm"),
    "groupnorm": st.just("{groupnorm: 2}"),
    "lrn": st.just("lrn"),
    "activation": st.sampled_from(["relu", "sigmoid", "gelu"]),
    "dropout": st.just("dropout"),
    "flatten": st.just("flatten"),
    "upsample": st.builds(lambda n: f"upsample{n}", st.integers(1, 3)),
    "pixel_shuffle": st.just("pixel_shuffle2"),
    "opaque": st.just("{opaque: {output: 5x5x4, op: Mystery, weights: 7}}"),
}
SPATIAL = [k for k in LAYERS if k not in {"global_pool", "adaptive_pool", "fc", "flatten", "opaque"}]


@st.composite
def networks(draw: st.DrawFn, kind: str) -> str:
    """A spec with a symbolic input whose layers include `kind`, as YAML text."""
    body = [draw(LAYERS[k]) for k in draw(st.lists(st.sampled_from(SPATIAL), max_size=4))]
    body.insert(draw(st.integers(0, len(body))), draw(LAYERS[kind]))
    lines = [f"  - {layer}" for layer in body]
    if draw(st.booleans()) and kind not in {"global_pool", "adaptive_pool", "fc", "flatten"}:
        branch = draw(LAYERS["conv"])
        merge = draw(st.sampled_from(["add", "concat"]))
        lines.append(f"  - parallel: {{merge: {merge}, branches: [[conv3-4 p1], [{branch}]]}}")
        # U-Net's copy and crop over a body that shrinks (or not) the size
        body = draw(st.sampled_from(["conv3-4", "conv1-4", "conv3-4 p1", "conv5-4 p1"]))
        lines.append(f"  - residual: {{layers: [{body}], merge: concat, shortcut: crop}}")
    rounding = draw(st.sampled_from(["strict", "floor", "ceil"]))
    return f"input: HxWx4\nrounding: {rounding}\nlayers:\n" + "\n".join(lines) + "\n"


@pytest.mark.slow  # 17 kinds × 25 networks × a sweep each: about a minute
@pytest.mark.parametrize("kind", list(LAYERS))
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_random_networks_sets_and_formulas(kind: str, data: st.DataObject) -> None:
    text = data.draw(networks(kind))
    spec = load_spec("net.yaml", text)
    spec = replace(spec, input=Volume((9, 9), 4), example=True)
    try:
        analyze_closed(spec, every_axis=True)
    except Exception as error:  # noqa: BLE001 - a refusal must be a clear one
        assert "no closed form" in str(error), text  # noqa: PT017
        return
    assert_set_is_the_sweep(spec, 64)
    assert_formulas_are_the_numbers(spec, 5)
