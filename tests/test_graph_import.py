"""The importer writes a graph that is not series-parallel as it is, with `from:` (issue 25)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.test_import.
from test_import import CONV4, _graph  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.bridges.importer import ModelError, import_graph


def _layers(ops: list[tuple[str, tuple[int, ...], Any, str | None]], **options: Any) -> list[Any]:
    text = import_graph(_graph(*ops), "net", **options).text
    assert analyze(load_spec("net.yaml", text)).ok
    layers: list[Any] = yaml.safe_load(text)["layers"]
    return layers


def test_a_value_read_from_before_the_fork_makes_the_graph_the_outer_ones() -> None:
    # p forks to a and b, but c reads x, before p: the graph starts at x.
    ops = [
        ("p", (0,), CONV4, None),
        ("a", (1,), CONV4, None),
        ("b", (1,), CONV4, None),
        ("c", (2, 0), None, "add"),
        ("d", (3, 4), None, "add"),
    ]
    assert _layers(ops) == [
        {"layer": "conv3-4 p1", "name": "p"},
        {"layer": "conv3-4 p1", "name": "a"},
        {"layer": "conv3-4 p1", "name": "b", "from": ["p"]},
        {"merge": "add", "from": ["a", "input"], "name": "c"},
        {"merge": "add", "from": ["b", "c"], "name": "d"},
    ]


def test_a_functional_op_read_by_name_is_named_after_the_op() -> None:
    relu = {"relu": None}
    ops = [("a", (0,), CONV4, None), ("r", (1,), relu, None), ("b", (0,), CONV4, None), ("c", (2, 3), None, "add")]
    ops += [("d", (2, 4), None, "add")]
    made = _graph(*ops)
    for op in made.ops[1:3]:
        op.module = False  # function calls (F.conv2d, F.relu): no name in the spec, but a later layer reads the relu
    text = import_graph(made, "net").text
    layers = yaml.safe_load(text)["layers"]
    assert layers[0] == {"conv": {"filters": 4, "size": 3, "pad": 1, "activation": "relu"}, "name": "r"}
    assert layers[-1] == {"merge": "add", "from": ["r", "c"], "name": "d"}


def test_an_op_convcalc_has_no_kind_for_reading_two_values_is_refused() -> None:
    ops = [("a", (0,), CONV4, None), ("b", (0,), CONV4, None), ("c", (1, 2), None, "add"), ("d", (1, 3), None, None)]
    with pytest.raises(ModelError, match=r"d \(d\) reads 2 values: an opaque layer reads one, so it cannot stand in"):
        _layers(ops, opaque=True)


def test_repeated_layers_that_read_by_name_stay_in_their_list() -> None:
    ops: list[tuple[str, tuple[int, ...], Any, str | None]] = [("a", (0,), CONV4, None)]
    ops += [(f"r{i}", (i,), {"relu": None}, None) for i in range(1, 4)]
    ops += [("b", (0,), CONV4, None), ("c", (4, 5), None, "add"), ("d", (1, 6), None, "add")]
    layers = _layers(ops)
    assert not any("repeat" in layer for layer in layers if isinstance(layer, dict))


def test_a_merge_takes_the_activation_after_it_and_the_chain_goes_on() -> None:
    relu = {"relu": None}
    ops = [("a", (0,), CONV4, None), ("b", (0,), CONV4, None), ("c", (1, 2), None, "add"), ("r", (3,), relu, None)]
    ops += [("e", (4,), CONV4, None), ("d", (1, 5), None, "add"), ("s", (6,), relu, None), ("t", (7,), relu, None)]
    assert _layers(ops) == [
        {"layer": "conv3-4 p1", "name": "a"},
        {"layer": "conv3-4 p1", "name": "b", "from": ["input"]},
        {"merge": "add", "activation": "relu", "from": ["a", "b"], "name": "c"},
        {"layer": "conv3-4 p1", "name": "e"},
        {"merge": "add", "activation": "relu", "from": ["a", "e"], "name": "d"},
        {"layer": "relu", "name": "t"},
    ]


def test_a_nested_fork_that_reads_from_outside_widens_to_the_outer_one() -> None:
    # p's branches meet at e, but c (in one of them) reads x: the graph is x's, up to g.
    ops = [
        ("p", (0,), CONV4, None),
        ("a", (1,), CONV4, None),
        ("b", (1,), CONV4, None),
        ("c", (2, 0), None, "add"),
        ("e", (3, 4), None, "add"),
        ("g", (5, 0), None, "add"),
    ]
    layers = _layers(ops)
    assert [layer.get("from") for layer in layers] == [None, None, ["p"], ["a", "input"], ["b", "c"], ["e", "input"]]
