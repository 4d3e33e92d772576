"""One walk over the spec's tree (convcalc.engine.walk): its backends, its order, and `shortcut: auto`."""

from __future__ import annotations

import ast
import textwrap
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest

from convcalc import ConvcalcError, analyze, load_spec
from convcalc.bridges.program import program
from convcalc.engine.symbolic import ClosedFormError, analyze_closed
from convcalc.engine.training import training
from convcalc.engine.walk import Group, Measure, Refusal, walk
from convcalc.spec.model import Junction, LayerSpec, Parallel, Residual
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.spec.model import Spec

PACKAGE = Path(__file__).resolve().parent.parent / "convcalc"
BACKENDS = ["engine/analyze.py", "engine/symbolic.py", "engine/training.py", "bridges/program.py"]


def spec_of(text: str) -> Spec:
    return load_spec("net.yaml", textwrap.dedent(text))


def tree(name: str) -> ast.Module:
    return ast.parse((PACKAGE / name).read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", BACKENDS)
def test_each_engine_is_a_backend_of_the_one_walk(name: str) -> None:
    module = tree(name)
    imported = {
        alias.name
        for node in ast.walk(module)
        if isinstance(node, ast.ImportFrom) and node.module == "convcalc.engine.walk"
        for alias in node.names
    }
    assert "walk" in imported
    calls = [n for n in ast.walk(module) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    assert any(c.func.id == "walk" for c in calls if isinstance(c.func, ast.Name))
    # It does not walk the tree itself: the only node lists it reads are the spec's top ones.
    reads = [n for n in ast.walk(module) if isinstance(n, ast.Attribute) and n.attr in {"layers", "branches"}]
    assert all(isinstance(n.value, ast.Name) and n.value.id == "spec" for n in reads if n.attr == "layers")
    assert not any(isinstance(n, ast.For) and "branches" in ast.unparse(n.iter) for n in ast.walk(module))


def test_auto_is_decided_in_one_place() -> None:
    """Only engine/walk.py reads `Shortcut.AUTO` or makes torchvision's 1x1 conv."""
    deciding = set()
    for file in PACKAGE.rglob("*.py"):
        text = file.read_text(encoding="utf-8")
        if "AUTO" not in text and "fill(" not in text:
            continue  # neither can be in it (the rest is parsed)
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Attribute) and ast.unparse(node) == "Shortcut.AUTO":
                deciding.add(file.relative_to(PACKAGE).as_posix())
            is_fill = isinstance(node, ast.Call) and ast.unparse(node.func) == "fill"
            if is_fill and isinstance(node, ast.Call) and ast.unparse(node.args[0]) == "'conv'":
                deciding.add(file.relative_to(PACKAGE).as_posix())
    assert deciding == {"engine/walk.py"}


class _Log:
    """A backend that writes down what the walk asks, in order: the protocol's order."""

    def __init__(self) -> None:
        self.log: list[str] = []

    def enter(self, group: Group, x: str) -> str:
        self.log.append(f"enter {group.path}")
        return f"kept({x})" if isinstance(group, Residual) else x

    def path(self, group: Group, which: str, x: str, walk: Callable[[str], str]) -> str:
        self.log.append(f"path {group.path} {which} from {x}")
        return walk(x)

    def leaf(self, layer: LayerSpec, x: str) -> str:
        self.log.append(f"leaf {layer.path} from {x}")
        return layer.path

    def crop(self, n: Residual, x: str, body: str) -> str:
        self.log.append(f"crop {n.path} {x} to {body}")
        return f"crop({x})"

    def hold(self, x: str, name: str) -> str:
        self.log.append(f"hold {x} as {name}")
        return f"held({x})"

    def merge(self, group: Residual | Parallel | Junction, parts: list[tuple[str, str]]) -> str:
        self.log.append(f"merge {group.path} " + " | ".join(f"{where}: {v}" for where, v in parts))
        return group.path

    def leave(self, group: Group, out: str) -> str:
        self.log.append(f"leave {group.path}")
        return out

    def measure(self, x: str) -> Measure:
        raise AssertionError(x)  # no `auto` here

    def refuse(self, n: Residual, x: str, refusal: Refusal) -> NoReturn:  # noqa: ARG002 - the protocol's
        raise AssertionError(refusal)


def test_the_walk_visits_bodies_shortcuts_and_branches_in_order() -> None:
    spec = spec_of("""
        input: 8x8x4
        layers:
          - residual: {layers: [conv3-4 p1], shortcut: [conv1-4]}
          - residual: {layers: [conv3-4], shortcut: crop, merge: concat}
          - parallel: {branches: [[conv1-2], []], merge: concat}
    """)
    log = _Log()
    assert walk(spec.layers, "x", log) == "3"
    assert log.log == [
        "enter 1",
        "path 1 layers from x",
        "leaf 1.layers.0 from x",
        "path 1 shortcut from kept(x)",
        "leaf 1.shortcut.0 from kept(x)",
        "merge 1 the body (1.layers): 1.layers.0 | the shortcut (1.shortcut): 1.shortcut.0",
        "leave 1",
        "enter 2",
        "path 2 layers from 1",
        "leaf 2.layers.0 from 1",
        "path 2 shortcut from kept(1)",
        "crop 2 kept(1) to 2.layers.0",
        "merge 2 the body (2.layers): 2.layers.0 | the cropped input (2.shortcut.0): crop(kept(1))",
        "leave 2",
        "enter 3",
        "path 3 branches.0 from 2",
        "leaf 3.branches.0.0 from 2",
        "path 3 branches.1 from 2",
        "merge 3 branch 0 (3.branches.0): 3.branches.0.0 | branch 1 (3.branches.1): 2",
        "leave 3",
    ]


BY_SIZE = """
    input: 3x3x8
    layers:
      - residual: {layers: [conv3-16], shortcut: auto}
"""


def test_symbolic_and_numeric_agree_where_auto_is_decided_by_size() -> None:
    """A body that shrinks 3 to 1 without a stride: both walks project with a 1x1/3 conv."""
    spec = spec_of(BY_SIZE)
    numeric = analyze(spec)
    closed = analyze_closed(spec)
    assert numeric.ok
    assert closed.failure is None
    assert [r.label for r in closed.rows] == [r.label for r in numeric.rows]
    assert {r.path: r.label for r in numeric.rows}["1.shortcut.0"] == "conv1-16 s3"
    assert [str(r.output) for r in closed.rows] == [str(r.output) for r in numeric.rows]
    assert [r.weights.constant for r in closed.rows] == [r.weights for r in numeric.rows]


def test_auto_on_symbolic_sizes_without_a_stride_has_no_closed_form() -> None:
    with pytest.raises(ClosedFormError, match="changes the size without a stride has no closed form"):
        analyze_closed(spec_of(BY_SIZE), every_axis=True)


def test_auto_after_a_global_pool_has_no_closed_form() -> None:
    spec = spec_of("""
        input: 8x8x8
        layers:
          - residual: {layers: [conv3-16 s2 p1, gap], shortcut: auto}
    """)
    with pytest.raises(ClosedFormError, match="after a global or adaptive pool has no closed form"):
        analyze_closed(spec)


@pytest.mark.parametrize(
    ("body", "onto"),
    [("[conv3-16 s2, bn]", "2x2x16"), ("[flatten]", "200")],
)
def test_symbolic_refuses_what_numeric_refuses_with_the_same_message(body: str, onto: str) -> None:
    """A 3x3/2 body takes 5 to 2, a 1x1/2 conv 5 to 3; a vector has no size to project onto."""
    spec = spec_of(f"input: 5x5x8\nrounding: floor\nlayers:\n  - residual: {{layers: {body}, shortcut: auto}}\n")
    message = f"shortcut: auto cannot project 5x5x8 onto {onto}: a 1x1 conv with the body's stride does not match it"
    assert [d.message for d in analyze(spec).diagnostics if d.severity.value == "error"] == [message]
    failure = analyze_closed(spec).failure
    assert failure is not None
    assert (failure.path, failure.code, failure.message) == ("1", "merge-mismatch", message)


def test_the_report_backends_refuse_a_report_that_is_not_the_specs() -> None:
    """Training and the program decide `auto` on the report's rows: rows that disagree are refused."""
    spec = spec_of("""
        input: 8x8x8
        layers:
          - residual: {layers: [conv3-16 s2 p1], shortcut: auto}
    """)
    report = analyze(spec)
    assert program(spec, report).statements  # the report's own rows project
    body = {r.path: r for r in report.rows}["1.layers.0"]
    rows = tuple(replace(r, output=Volume((5, 5), 16)) if r is body else r for r in report.rows)
    other = replace(report, rows=rows)
    with pytest.raises(ConvcalcError, match=r"1: shortcut: auto cannot project 8x8x8 onto 5x5x16: .* not this spec's"):
        program(spec, other)
    with pytest.raises(ConvcalcError, match=r"1: shortcut: auto cannot project 8x8x8 onto 5x5x16: .* not this spec's"):
        training(spec, other)


CROP = """
    input: 12x12x4
    layers:
      - residual: {layers: [conv3-4, conv3-4], shortcut: crop, merge: concat}
"""


def test_the_symbolic_crop_is_the_numeric_crop_at_every_size() -> None:
    closed = analyze_closed(spec_of(CROP), every_axis=True)
    rows = {r.path: r for r in closed.rows}
    assert rows["1.shortcut.0"].kind == "crop"
    for size in (5, 12, 31):
        numeric = {r.path: r for r in analyze(spec_of(CROP.replace("12x12x4", f"{size}x{size}x4"))).rows}
        env = {"H": size, "W": size}
        cut, want = rows["1.shortcut.0"].output, numeric["1.shortcut.0"].output
        assert want is not None
        assert [e.evaluate(env) for e in (*cut.spatial, cut.depth)] == want.as_list()
        assert rows["1"].activations.evaluate(env) == numeric["1"].activations


def test_the_symbolic_crop_of_a_vector_fails_as_the_numeric_one() -> None:
    spec = spec_of(
        "input: 4x4x2\nlayers:\n  - flatten\n  - residual: {layers: [fc-8], shortcut: crop, merge: concat}\n"
    )
    failure = analyze_closed(spec).failure
    assert failure is not None
    assert (failure.path, failure.code) == ("2.shortcut.0", "crop-mismatch")
    assert [(d.path, d.code) for d in analyze(spec).diagnostics] == [("2.shortcut.0", "crop-mismatch")]


def test_a_condition_on_numbers_that_fails_stops_the_symbolic_walk() -> None:
    spec = spec_of("input: 3x3x3\nlayers: [conv5-4]\n")
    failure = analyze_closed(spec).failure
    assert failure is not None
    assert failure.path == "1"
    assert failure.message.endswith("does not hold, whatever the input's size")
    assert [d.severity.value for d in analyze(spec).diagnostics] == ["error"]


def test_a_residual_in_a_branch_reads_the_input_without_a_copy() -> None:
    spec = spec_of("""
        input: 8x8x4
        layers:
          - parallel: {branches: [[{residual: {layers: [conv3-4 p1]}}], [conv1-4]], merge: add}
    """)
    statements = program(spec, analyze(spec)).statements
    assert [(s.target, getattr(s, "source", None) or getattr(s, "sources", None)) for s in statements] == [
        ("branch1", "x"),
        ("branch1", ("branch1", "x")),
        ("branch2", "x"),
        ("x", ("branch1", "branch2")),
    ]


def test_the_program_of_a_report_that_failed_is_refused() -> None:
    spec = spec_of("input: 3x3x3\nlayers: [conv5-4]\n")
    with pytest.raises(ConvcalcError, match="a layer convcalc cannot compute"):
        program(spec, analyze(spec))
