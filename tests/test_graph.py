"""General graphs in the spec (`from:` inputs and merge items, issue 25): reading, walking, errors."""

from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.test_walk.
from test_walk import _Log  # type: ignore[import-not-found]

from convcalc import SpecError, analyze, load_spec
from convcalc.bridges.graphs import held
from convcalc.bridges.program import Apply, Join, program
from convcalc.cli import main
from convcalc.engine.graph import read_later, reads
from convcalc.engine.training import training
from convcalc.engine.walk import walk
from convcalc.render.sizes import level_names
from convcalc.spec.model import Junction, Spec, Wired

FORK = """
input: 8x8x3
layers:
  - {layer: conv1-4, name: a}
  - {layer: conv3-6 p1, name: b}
  - {layer: conv1-2, name: c, from: [a]}
  - {merge: concat, from: [b, c, input], name: joined}
"""


def _spec(text: str) -> Spec:
    return load_spec("net.yaml", textwrap.dedent(text))


def _show(text: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["show", "-", *extra], input=textwrap.dedent(text))
    return result.exit_code, result.output


def test_a_layer_reads_the_earlier_output_it_names_and_a_merge_joins_several() -> None:
    spec = load_spec("net.yaml", FORK)
    _, _, c, joined = spec.layers
    assert isinstance(c, Wired)
    assert c.source == 0
    assert (c.path, c.name) == ("3", "c")
    assert isinstance(joined, Junction)
    assert joined.sources == (1, 2, -1)
    report = analyze(spec)
    rows = {r.path: r for r in report.rows}
    assert rows["3"].input is not None
    assert rows["3"].input.as_list() == [8, 8, 4]  # a's output, not b's
    assert rows["4"].output is not None
    assert rows["4"].output.as_list() == [8, 8, 11]  # 6 + 2 + 3, in the order written
    assert (rows["4"].kind, rows["4"].name, rows["4"].depth) == ("concat", "joined", 0)
    assert rows["4"].rf == (3, 3)  # the widest it joins
    assert rows["4"].activations == 8 * 8 * 11


def test_the_walk_visits_a_graph_in_the_order_written_and_holds_what_is_read_again() -> None:
    log = _Log()
    assert walk(load_spec("net.yaml", FORK).layers, "x", log) == "4"
    assert log.log == [
        "hold x as input",  # read again by the merge
        "leaf 1 from held(x)",
        "hold 1 as a",  # read by c, after b
        "leaf 2 from held(1)",
        "hold 2 as b",  # read by the merge, after c
        "leaf 3 from held(1)",
        "merge 4 b (2): held(2) | c (3): 3 | the input of the list: held(x)",  # c is the one just before
    ]


def test_one_name_is_a_list_of_one_and_a_block_of_one_merge_is_a_block() -> None:
    spec = _spec("""
        input: 4x4x2
        blocks:
          twice: {layers: [{merge: concat, from: [input, input]}]}
        layers:
          - {layer: conv1-2, name: a}
          - relu
          - {layer: conv1-3, from: a}
          - twice
    """)
    report = analyze(spec)
    assert report.totals.output is not None
    assert report.totals.output.as_list() == [4, 4, 6]
    assert (report.rows[-1].path, report.rows[-1].kind) == ("4", "concat")  # the block's one layer, at the call's path


def test_from_the_one_before_is_no_wire_and_a_list_without_from_is_read_as_before() -> None:
    spec = load_spec(
        "net.yaml",
        "input: 4x4x1\nlayers:\n  - {layer: conv1-2, name: a, from: [input]}\n  - {layer: relu, from: [a]}\n",
    )
    assert not any(isinstance(n, Wired) for n in spec.layers)
    assert read_later(spec.layers) == {-1: 0, 0: 1}


def test_the_latest_earlier_layer_of_a_name_is_read_as_a_variable_is() -> None:
    spec = _spec("""
        input: 4x4x1
        layers:
          - {layer: conv1-2, name: a}
          - {layer: conv1-5, name: a}
          - {layer: conv1-3}
          - {merge: concat, from: [a, input]}
    """)
    report = analyze(spec)
    assert report.totals.output is not None
    assert report.totals.output.as_list() == [4, 4, 6]  # the second a (5), and the input (1)


def test_a_merge_with_an_activation_fuses_it_into_its_row() -> None:
    text = "input: 4x4x2\nlayers:\n  - {layer: conv1-2, name: a}\n  - relu\n"
    text += "  - {merge: add, from: [a, input], activation: relu}\n"
    row = analyze(load_spec("net.yaml", text)).rows[-1]
    assert (row.kind, row.label, row.name, row.activations) == ("add", "add + relu", "ADD", 32)


@pytest.mark.parametrize(
    ("text", "column", "message"),
    [
        (
            "{layer: conv1-2, from: [nope]}",
            29,
            r"`from:` names 'nope', which is no earlier layer of this list; .*before it: input, a ",
        ),
        ("{layer: conv1-2, from: [b]}\n  - {layer: relu, name: b}", 29, r"'b', which is no earlier layer"),
        ("{layer: conv1-2, from: [a, input]}", 28, r"a layer reads one input, and `from:` names 2: join them first"),
        ("{merge: add, from: [a]}", 24, r"a merge joins two or more earlier outputs; `from:` names 1"),
        ("{merge: add}", 5, r"a merge item names what it joins: `from: \[a, b\]`"),
        ("{merge: sum, from: [a, input]}", 13, r"merge"),
        ("{merge: add, from: [a, input], size: 3}", 36, r"unknown key 'size' in a merge of earlier layers"),
        ("{layer: conv1-2, from: 3}", 28, r"`from:` takes a list of names"),
        ("{layer: conv1-2, from: [3]}", 29, r"`from:` names earlier layers, not"),
    ],
)
def test_a_wrong_from_is_an_error_at_its_place(text: str, column: int, message: str) -> None:
    spec = f"input: 4x4x2\nlayers:\n  - {{layer: conv1-2, name: a}}\n  - {text}\n"
    code, out = _show(spec)
    assert code == 2, out
    assert out.startswith(f"<stdin>:4:{column}: error: "), out
    with pytest.raises(SpecError, match=message):
        load_spec("net.yaml", spec)


def test_names_are_the_lists_own_not_a_blocks_nor_a_branchs() -> None:
    with pytest.raises(SpecError, match=r"'a', which is no earlier layer of this list; the names before it: input \("):
        _spec("""
            input: 4x4x2
            layers:
              - {layer: conv1-2, name: a}
              - parallel:
                  branches: [[{layer: conv1-2, from: [a]}], []]
        """)


def test_a_merge_of_volumes_that_do_not_agree_is_a_design_error_naming_both() -> None:
    code, out = _show(
        "input: 4x4x2\nlayers:\n  - {layer: conv1-3 s2 floor, name: a}\n  - {merge: add, from: [a, input]}\n"
    )
    assert code == 1
    said = "<stdin>:4:5: error: cannot add 2x2x3 from a (1) and 4x4x2 from the input of\n   the list: an add needs"
    assert said in out


def test_every_engine_reads_a_graph_inside_blocks_repeats_and_branches() -> None:
    text = """
        input: 8x8x4
        blocks:
          split:
            args: {k: null}
            layers:
              - {layer: "conv1-${k}", name: left}
              - {layer: "conv3-${k} p1", name: right, from: [input]}
              - {merge: add, from: [left, right, input], activation: relu}
        layers:
          - repeat: 2
            layers: [{split: {k: 4}, name: s}]
          - parallel:
              branches:
                - [{layer: conv1-4, name: p}, relu, {merge: multiply, from: [p, input]}]
                - []
          - residual: {layers: [conv1-8, {split: {k: 8}}]}
          - gap
    """
    spec = _spec(text)
    report = analyze(spec)
    assert report.ok
    assert report.totals.output is not None
    assert report.totals.output.as_list() == [1, 1, 8]
    assert training(spec, report).training is not None
    prog = program(spec, report)
    joins = [s for s in prog.statements if isinstance(s, Join)]
    assert (
        len(joins) == 3 + 1 + 1 + 1
    )  # the three adds of split, the multiply, the parallel's concat, the residual's add
    # The block's input is read by its last merge: held in a variable of its own, named under the block.
    held_names = {s.target for s in prog.statements if isinstance(s, Apply) and not s.calls}
    assert {"s1_input", "s2_input", "split_input", "p"} <= held_names
    assert level_names(spec)["1.0.0.1"] == "s.right"  # a layer that reads `from:` is named as any other


def test_a_held_name_is_never_one_the_program_or_the_file_uses() -> None:
    assert held("branch1", (), set()) == "v_branch1"
    assert held("x", (), set()) == "v_x"
    assert held("input", (), set()) == "x_input"
    assert held("3x3", (), set()) == "v_3x3"
    assert held("class", (), set()) == "v_class"
    assert held("a", ("mixed_7b",), {"mixed_7b_a"}) == "mixed_7b_a_2"
    assert held("", (), set()) == "value"


def test_export_writes_the_graph_as_a_person_would() -> None:
    result = CliRunner().invoke(main, ["export", "-", "--to", "pytorch"], input=FORK)
    assert result.exit_code == 0, result.output
    forward = result.output[result.output.index("def forward") :]
    assert "x_input = x" in forward
    assert "a = x" in forward
    assert "torch.cat([b, x, x_input], dim=1)" in forward


def test_reads_names_what_each_layer_reads_in_every_list() -> None:
    spec = _spec("""
        input: 4x4x2
        layers:
          - residual:
              layers: [{layer: conv1-2, name: a}, relu, {merge: add, from: [a, input]}]
              shortcut: [{layer: conv1-2, name: s}, {layer: relu, from: [input]}]
          - parallel: {branches: [[{layer: conv1-2, name: p}, relu, {layer: relu, from: [p]}], []]}
    """)
    assert reads(spec) == {"1.layers.2": "a, input", "1.shortcut.1": "input", "2.branches.0.2": "p"}


def test_draw_and_the_symbolic_table_show_a_graph() -> None:
    result = CliRunner().invoke(main, ["draw", "-", "-o", "-"], input=FORK)
    assert result.exit_code == 0, result.output
    assert result.output.count("<svg") == 1
    assert ">c ← a</text>" in result.output  # what a layer reads, where it is not the one before
    assert ">joined ← b, c, input</text>" in result.output
    assert ">b ←" not in result.output
    code, out = _show(FORK.replace("input: 8x8x3", "input: Hx8x3"))
    assert code == 0, out
    assert "Hx8x11" in out


def test_grading_carries_nothing_forward_through_a_general_graph() -> None:
    from convcalc.engine.carry import Sources  # noqa: PLC0415

    spec = load_spec("key.yaml", FORK.replace("name: joined}", "name: joined, expect: {params: 0}}"))
    (answer,) = spec.expectations
    assert Sources(spec).carried(answer, {1: ((8, 8, 4), "a output")}) == ""


def test_each_pass_of_a_repeat_reads_its_own_input_and_layers() -> None:
    spec = _spec("""
        input: 4x4x2
        layers:
          - repeat: 3
            layers:
              - {layer: conv1-3, name: a}
              - {merge: concat, from: [a, input]}
    """)
    report = analyze(spec)
    assert [r.output.depth for r in report.rows if r.kind == "concat" and r.output] == [5, 8, 11]
    assert [r.path for r in report.rows][1:3] == ["1.0.0", "1.0.1"]
    assert training(spec, report).training is not None
    assert len([s for s in program(spec, report).statements if isinstance(s, Join)]) == 3


def test_a_composite_reads_what_from_names_and_its_rows_follow() -> None:
    spec = _spec("""
        input: 8x8x4
        layers:
          - {layer: conv1-6, name: wide}
          - {layer: conv1-2, name: narrow, from: [input]}
          - residual: {layers: [conv3-6 p1]}
            from: [wide]
            name: res
          - parallel: {branches: [[conv1-3], []]}
            from: [narrow]
          - {merge: concat, from: [res, input]}
    """)
    assert isinstance(spec.layers[2], Wired)
    rows = {r.path: r for r in analyze(spec).rows}
    assert rows["3.layers.0"].input is not None
    assert rows["3.layers.0"].input.as_list() == [8, 8, 6]  # wide's output
    assert rows["4.branches.0.0"].input is not None
    assert rows["4.branches.0.0"].input.as_list() == [8, 8, 2]  # narrow's
    assert rows["4"].output is not None
    assert rows["4"].output.as_list() == [8, 8, 5]
    assert rows["5"].output is not None
    assert rows["5"].output.as_list() == [8, 8, 10]  # res (6) and the input (4)
    forward = [s for s in program(spec, analyze(spec)).statements if isinstance(s, Join)]
    assert forward[-1].sources == ("res", "x_input")
