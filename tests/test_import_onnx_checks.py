"""Malformed ONNX files, built with onnx's helpers: each refused with a message naming the node, never exit 70.

Also: nodes listed out of order are read, names from the file stay inert in every message, and
the dynamo exporter's way of writing a model (names in metadata, ReduceMean, Reshape, removed
zero biases, folded batchnorms), made by hand here; tests/test_import_onnx_torch.py exports
torchvision's models with both of PyTorch's exporters (slow).
"""

from __future__ import annotations

import contextlib
from math import prod
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from pathlib import Path

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402 - after the skip

SHAPE = [1, 3, 8, 8]


def weight(name: str, *dims: int) -> Any:
    """An initializer of zeros; its values are never read, only its dims (a huge one holds no data)."""
    if prod(dims) > 10_000 or min(dims, default=0) < 0:
        t = helper.make_tensor(name, TensorProto.FLOAT, [], [0.0])
        del t.dims[:]
        t.dims.extend(dims)
        return t
    return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * prod(dims))


def save(  # noqa: PLR0913 - the graph's parts, each with a default
    tmp_path: Path,
    nodes: list[Any],
    inits: list[Any] = (),  # type: ignore[assignment]
    *,
    shape: list[Any] | None = None,
    output: str = "y",
    outputs: list[str] | None = None,
) -> Path:
    """A model of these nodes on an input x of SHAPE, with output y."""
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape or SHAPE)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs or [output]],
        list(inits),
    )
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    return path


def run(*args: str) -> Any:
    return CliRunner().invoke(main, ["import", *args])


def refused(path: Path, *more: str) -> str:
    """The one-line message of an import that must fail as unreadable input (exit 2)."""
    result = run(str(path), *more)
    assert result.exit_code == 2, result.output
    assert result.output.count("\n") == 1, result.output
    output: str = result.output
    assert output.startswith("error: ")
    return output.strip()


def conv(name: str, x: str, w: str, y: str, **attrs: Any) -> Any:
    return helper.make_node("Conv", [x, w], [y], name, **attrs)


def test_nodes_listed_backwards_give_the_same_spec(tmp_path: Path) -> None:
    nodes = [
        conv("/conv/Conv", "x", "w", "c", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], "/relu/Relu"),
        helper.make_node("Add", ["r", "x2"], ["a"], "/Add"),
        helper.make_node("Relu", ["x"], ["x2"], "/pre/Relu"),
        helper.make_node("GlobalAveragePool", ["a"], ["y"], "/gap/GlobalAveragePool"),
    ]
    # x2 is made after its user: the file is out of order already; backwards, entirely.
    sorted_ = nodes[3:4] + nodes[:3] + nodes[4:]
    forward = run(str(save(tmp_path, sorted_, [weight("w", 3, 3, 3, 3)])))
    assert forward.exit_code == 0, forward.output
    backward = run(str(save(tmp_path, sorted_[::-1], [weight("w", 3, 3, 3, 3)])))
    assert backward.exit_code == 0, backward.output
    assert backward.stdout == forward.stdout
    spec = yaml.safe_load(backward.stdout)
    assert spec["input"] == "8x8x3"
    assert spec["layers"][0]["residual"]["shortcut"] == [{"layer": "relu", "name": "pre"}]


@pytest.mark.parametrize(
    ("nodes", "inits", "message"),
    [
        (  # a cycle: a reads b, b reads a
            [helper.make_node("Add", ["x", "b"], ["a"], "a"), helper.make_node("Relu", ["a"], ["b"], "b")],
            [],
            "error: the graph has a cycle: 2 nodes wait for each other's outputs (node a (Add), node b (Relu))",
        ),
        (  # a node that reads its own output
            [helper.make_node("Add", ["x", "y"], ["y"], "self")],
            [],
            "error: the graph has a cycle: 1 nodes wait for each other's outputs (node self (Add))",
        ),
        (
            [conv("c1", "x", "w", "y", kernel_shape=[3, 3])],
            [],
            "error: node c1 (Conv) reads w, which no node gives and no weight (initializer) holds",
        ),
        (
            [helper.make_node("Relu", ["x"], ["y"], "r1"), helper.make_node("Relu", ["x"], ["y"], "r2")],
            [],
            "error: node r2 (Relu) gives y, which node r1 (Relu) also gives: in ONNX each value has one maker",
        ),
        (
            [helper.make_node("Relu", ["x"], ["x"], "r1")],
            [],
            (
                "error: node r1 (Relu) gives x, which the graph's input or a weight also gives: in ONNX each value has "
                "one maker"
            ),
        ),
        (
            [helper.make_node("Relu", ["x"], [""], "r1"), helper.make_node("Relu", ["x"], ["y"], "r2")],
            [],
            "error: node r1 (Relu) gives no output",
        ),
        (  # the weight of 10^6 x 10^6 x 3 x 3 on 3 channels
            [conv("big", "x", "w", "y", kernel_shape=[3, 3])],
            [weight("w", 10**6, 10**6, 3, 3)],
            (
                "error: node big (Conv) is malformed: its weight 1000000x1000000x3x3 (group 1) reads 1000000 channels; "
                "its input has 3"
            ),
        ),
        (
            [conv("c", "x", "w", "y", kernel_shape=[3, 3], pads=[1, 1, 1])],
            [weight("w", 4, 3, 3, 3)],
            (
                "error: node c (Conv) is malformed: pads [1, 1, 1] must be 4 whole numbers of at least 0, one per "
                "spatial dim"
            ),
        ),
        (
            [conv("c", "x", "w", "y", pads=[1, 1, -1, -1])],
            [weight("w", 4, 3, 3, 3)],
            (
                "error: node c (Conv) is malformed: pads [1, 1, -1, -1] must be 4 whole numbers of at least 0, one per "
                "spatial dim"
            ),
        ),
        (
            [conv("c", "x", "w", "y", strides=[0, 1])],
            [weight("w", 4, 3, 3, 3)],
            (
                "error: node c (Conv) is malformed: strides [0, 1] must be 2 whole numbers of at least 1, one per "
                "spatial dim"
            ),
        ),
        (
            [conv("c", "x", "w", "y", kernel_shape=[5, 5])],
            [weight("w", 4, 3, 3, 3)],
            "error: node c (Conv) is malformed: kernel_shape [5, 5] is not its weight's [3, 3]",
        ),
        (
            [conv("c", "x", "w", "y", group=2)],
            [weight("w", 3, 3, 3, 3)],
            "error: node c (Conv) is malformed: group 2 must be a whole number that divides the 3 filters",
        ),
        (
            [conv("c", "x", "w", "y")],
            [weight("w", 4, 3)],
            "error: node c (Conv) is malformed: its weight has dims 4x3: filters, channels, then the kernel's dims",
        ),
        (
            [conv("c", "x", "w", "y")],
            [weight("w", 4, 3, 3)],
            "error: node c (Conv) is malformed: its weight has 3 dims, its input 4: a conv's are as many",
        ),
        (
            [helper.make_node("Conv", ["x", "w", "b"], ["y"], "c")],
            [weight("w", 4, 3, 3, 3), weight("b", 5)],
            "error: node c (Conv) is malformed: its bias has 5 values for 4 filters",
        ),
        (
            [helper.make_node("Conv", ["x"], ["y"], "c")],
            [],
            "error: node c (Conv) is malformed: a conv reads its input and its weight",
        ),
        (
            [helper.make_node("MaxPool", ["x"], ["y"], "p")],
            [],
            "error: node p (MaxPool) is malformed: a pool needs kernel_shape, one size per spatial dim",
        ),
        (
            [helper.make_node("AveragePool", ["x"], ["y"], "p", kernel_shape=[2, 2, 2])],
            [],
            (
                "error: node p (AveragePool) is malformed: kernel_shape [2, 2, 2] must be 2 whole numbers of at "
                "least 1, one per spatial dim"
            ),
        ),
        (
            [helper.make_node("LRN", ["x"], ["y"], "n")],
            [],
            "error: node n (LRN) is malformed: size None must be a whole number of at least 1",
        ),
        (
            [helper.make_node("Flatten", ["x"], ["f"], "f"), helper.make_node("Gemm", ["f"], ["y"], "fc", transB=1)],
            [],
            "error: node fc (Gemm) is malformed: a Gemm reads its input and its weight",
        ),
        (
            [
                helper.make_node("Flatten", ["x"], ["f"], "f"),
                helper.make_node("Gemm", ["f", "w"], ["y"], "fc", transB=1),
            ],
            [weight("w", 10, 1000)],
            "error: node fc (Gemm) is malformed: its weight 10x1000 reads 1,000 features; its input has 192",
        ),
        (
            [
                helper.make_node("Flatten", ["x"], ["f"], "f"),
                helper.make_node("Gemm", ["f", "w", "b"], ["y"], "fc", transB=1),
            ],
            [weight("w", 10, 192), weight("b", 7)],
            "error: node fc (Gemm) is malformed: its bias has 7 values for 10 units",
        ),
        (
            [
                helper.make_node("Flatten", ["x"], ["f"], "f"),
                helper.make_node("Gemm", ["f", "w"], ["y"], "fc", transB=1),
            ],
            [weight("w", 10, 192, 1)],
            "error: node fc (Gemm) is malformed: its weight has dims 10x192x1: a Gemm's has two",
        ),
        (
            [helper.make_node("BatchNormalization", ["x", "s", "b"], ["y"], "bn")],
            [weight("s", 3), weight("b", 3)],
            (
                "error: node bn (BatchNormalization) is malformed: a BatchNormalization reads its input, scale, bias, "
                "mean and variance"
            ),
        ),
        (
            [helper.make_node("BatchNormalization", ["x", "s", "b", "m", "v"], ["y"], "bn")],
            [weight("s", 3), weight("b", 3), weight("m", 3), weight("v", 10**6)],
            "error: node bn (BatchNormalization) is malformed: v has 1,000,000 values; its input has 3 channels",
        ),
        (
            [conv("c", "x", "w", "y")],
            [weight("w", 4, 3, -3, 3)],
            "error: the weight w has dims 4x3x-3x3: -3 is a negative dim",
        ),
        (
            [conv("c", "x", "w", "y")],
            [weight("w", 4, 3, 10**12, 3)],
            (
                "error: the weight w has dims 4x3x1000000000000x3: 1,000,000,000,000 is a dim larger than convcalc's "
                "limit of 10,000,000"
            ),
        ),
    ],
)
def test_a_malformed_graph_is_refused_by_node(tmp_path: Path, nodes: list[Any], inits: list[Any], message: str) -> None:
    assert refused(save(tmp_path, nodes, inits)) == message


def test_attributes_of_the_wrong_type_are_refused_by_node(tmp_path: Path) -> None:
    strides = helper.make_attribute("strides", [1.5, 1.5])  # floats where ONNX has ints
    node = conv("c", "x", "w", "y")
    node.attribute.append(strides)
    assert refused(save(tmp_path, [node], [weight("w", 4, 3, 3, 3)])) == (
        "error: node c (Conv) is malformed: strides [1.5, 1.5] must be 2 whole numbers of at least 1, one per "
        "spatial dim"
    )


def test_an_attribute_onnx_cannot_read_is_refused_by_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], "r", alpha=1.0)])

    def fails(_: Any) -> Any:
        msg = "Unsupported ONNX attribute: name: 'alpha'"
        raise ValueError(msg)

    monkeypatch.setattr(helper, "get_attribute_value", fails)  # what onnx does with a type it does not know
    assert refused(path) == (
        "error: node r (Relu) is malformed: an attribute cannot be read (Unsupported ONNX attribute: name: 'alpha')"
    )


@pytest.mark.parametrize(
    ("dims", "message"),
    [
        ([1, -3, 8, 8], "error: the input x has dims 1x-3x8x8: -3 is a negative dim"),
        (
            [1, 3, 10**12, 8],
            (
                "error: the input x has dims 1x3x1000000000000x8: 1,000,000,000,000 is a dim larger than convcalc's "
                "limit of 10,000,000"
            ),
        ),
        ([8], "error: {path}: the input x has 1 dims; convcalc reads N x C and up to 3 spatial dims"),
        ([1, 3, 2, 2, 2, 2], "error: {path}: the input x has 6 dims; convcalc reads N x C and up to 3 spatial dims"),
        ([1, 3, 0, 8], "error: {path}: the input's volume is not fixed; give it with --input HxWxD"),
    ],
)
def test_the_inputs_dims_are_sizes(tmp_path: Path, dims: list[int], message: str) -> None:
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], "r")], shape=dims)
    assert refused(path) == message.format(path=path)


def test_a_value_shape_inference_gives_wrong_dims_is_refused(tmp_path: Path) -> None:
    # A Reshape to a shape of 10^12: inference writes what the constant says.
    shape = helper.make_tensor("s", TensorProto.INT64, [2], [1, 10**12])
    path = save(tmp_path, [helper.make_node("Reshape", ["x", "s"], ["y"], "view")], [shape])
    assert refused(path) == (
        "error: the output of node view (Reshape) has dims 1x1000000000000: 1,000,000,000,000 is a dim larger than "
        "convcalc's limit of 10,000,000"
    )


def test_an_input_of_another_rank_than_the_graphs_is_refused(tmp_path: Path) -> None:
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], "r")], shape=[1, 3, "H", "W"])
    assert refused(path, "--input", "{length: 8, depth: 3}") == (
        "error: --input {length: 8, depth: 3} has 1 spatial dim; the graph's input x has 2 (N x C x ?x?)"
    )
    assert refused(path, "--input", "8x8x8x3") == (
        "error: --input 8x8x8x3 has 3 spatial dims; the graph's input x has 2 (N x C x ?x?)"
    )
    result = run(str(path), "--input", "16x8x3")
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["input"] == "16x8x3"
    bare = tmp_path / "bare.onnx"  # an input with no declared shape takes --input's
    model = onnx.load(str(path))
    model.graph.input[0].type.tensor_type.ClearField("shape")
    onnx.save(model, str(bare))
    assert yaml.safe_load(run(str(bare), "--input", "16x8x3").stdout)["input"] == "16x8x3"


def test_the_graphs_outputs_must_be_one_a_node_gives(tmp_path: Path) -> None:
    relu = helper.make_node("Relu", ["x"], ["y"], "r")
    two = save(tmp_path, [relu, helper.make_node("Relu", ["x"], ["z"], "s")], outputs=["y", "z"])
    several = run(str(two))  # a design a spec cannot hold, as for a PyTorch model: exit 1
    assert (several.exit_code, several.output) == (1, f"error: {two} has 2 outputs (y, z); a spec has one\n")
    nothing = save(tmp_path, [relu], output="q")
    assert refused(nothing) == f"error: {nothing}: the graph's output q is given by no node"
    const = save(tmp_path, [relu, helper.make_node("Identity", ["w"], ["k"], "i")], [weight("w", 2)], output="k")
    assert refused(const) == f"error: {const}: the graph's output k is a constant"


def test_names_and_op_types_from_the_file_stay_inert(tmp_path: Path) -> None:
    evil = "\x1b[2J\x1b]0;pwned\x07\nerror: forged"
    nodes = [
        helper.make_node("Relu", ["x"], ["r"], f"/{evil}/Relu"),
        helper.make_node(f"Evil{evil}", ["r"], ["y"], f"/{evil}2/Op", domain="custom"),
    ]
    model = helper.make_model(
        helper.make_graph(
            nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        ),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("custom", 1)],
    )
    path = tmp_path / "evil.onnx"
    onnx.save(model, str(path))
    result = run(str(path))
    assert result.exit_code == 1
    assert "\x1b" not in result.output
    assert "\x07" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "error: 1 operation convcalc has no layer kind for:"
    assert lines[1].startswith("  \\x1b[2J\\x1b]0;pwned\\x07\\nerror: forged2 (Evil\\x1b[2J")
    assert len(lines) == 3
    opaque = run(str(path), "--opaque")
    assert opaque.exit_code == 0, opaque.output
    comments = [line for line in opaque.stdout.splitlines() if line.startswith("#")]
    assert any("Evil\\x1b[2J" in line for line in comments)
    assert "error: forged" not in [line.strip() for line in opaque.stdout.splitlines()]
    named = save(tmp_path, [helper.make_node("Add", ["x", "nope"], ["y"], f"bad{evil}")])
    message = refused(named)
    assert "\x1b" not in message
    assert message.startswith("error: node bad\\x1b[2J")


def _meta(node: Any, **props: str) -> Any:
    for k, v in props.items():
        node.metadata_props.add(key=k, value=v)
    return node


SCOPES = "pkg.torch.onnx.name_scopes"
RULES = "pkg.onnxscript.rewriter.rule_name"
FX = "pkg.torch.onnx.fx_node"


def test_the_dynamo_exporters_names_global_pool_flatten_and_biases(tmp_path: Path) -> None:
    # As torch.onnx.export(..., dynamo=True) writes a conv with its batchnorm folded in (the
    # batchnorm's scope, the conv's weight; its zero bias removed), one whose batchnorm gave it a
    # bias (W_bias), x.mean((2, 3)), x.view(1, -1), and a linear whose zero bias it removed.
    nodes = [
        _meta(
            conv("node_Conv_1", "x", "stem.conv.weight", "c"),
            **{SCOPES: "['', 'stem', 'stem.bn', 'bn']", RULES: "RemoveOptionalBiasFromConv, FuseBatchNormIntoConv"},
        ),
        _meta(helper.make_node("Relu", ["c"], ["r"], "node_relu"), **{SCOPES: "['', 'stem', 'stem.relu', 'relu']"}),
        _meta(
            helper.make_node("Conv", ["r", "b.conv.weight", "b.conv.weight_bias"], ["c2"], "node_Conv_2"),
            **{SCOPES: "['', 'b', 'b.bn', 'bn']", RULES: "FuseBatchNormIntoConv"},
        ),
        _meta(
            helper.make_node("ReduceMean", ["c2", "axes"], ["m"], "node_mean", keepdims=1),
            **{SCOPES: "['', 'avgpool', 'mean']"},
        ),
        _meta(helper.make_node("Reshape", ["m", "shape"], ["v"], "node_view"), **{SCOPES: "['', 'view']"}),
        _meta(
            helper.make_node("Gemm", ["v", "fc.weight"], ["y"], "node_linear", transB=1),
            **{
                SCOPES: "['', 'fc', 'linear']",
                RULES: "RemoveOptionalBiasFromGemm",
                FX: "%linear : [num_users=1] = call_function[target=torch.ops.aten.linear.default](args = (%view, "
                "%p_fc_weight, %p_fc_bias), kwargs = {})",
            },
        ),
    ]
    inits = [
        weight("stem.conv.weight", 4, 3, 3, 3),
        weight("b.conv.weight", 6, 4, 1, 1),
        weight("b.conv.weight_bias", 6),
        weight("fc.weight", 10, 6),
        helper.make_tensor("axes", TensorProto.INT64, [2], [-1, -2]),
        helper.make_tensor("shape", TensorProto.INT64, [2], [1, 6]),
    ]
    result = run(str(save(tmp_path, nodes, inits)))
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(result.stdout)
    assert spec["layers"] == [
        {"conv": {"filters": 4, "size": 3, "bias": False, "activation": "relu"}, "name": "stem.conv"},
        {"layer": "conv1-6", "name": "b.conv"},
        {"layer": "gap", "name": "avgpool"},
        {"layer": "fc-10", "name": "fc"},
    ]
    comments = [line for line in result.stdout.splitlines() if line.startswith("# ")]
    # stem's batchnorm: 2 x 4 gone, no bias made; b's: 2 x 6 gone, 6 made.
    assert comments[1] == (
        "# BatchNorm folded into 2 convs by the exporter: the model has 14 params more than this spec (20 of the "
        "batchnorms' weights and biases, less 6 of the biases the exporter gave those convs)"
    )
    assert comments[2] == (
        "# Biases the exporter removed because they were zero are kept (1): the model has them, as the torch.fx "
        "calls the file records say"
    )
    params = analyze(load_spec("m.yaml", result.stdout)).totals.params
    assert params == 4 * 27 + (6 * 4 + 6) + (10 * 6 + 10)


def test_a_reduce_over_not_every_spatial_dim_and_a_reshape_that_is_no_flatten_are_unsupported(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("ReduceMean", ["x", "axes"], ["mean"], "/ReduceMean", keepdims=1),
        helper.make_node("Reshape", ["mean", "shape"], ["y"], "/Reshape"),
    ]
    inits = [
        helper.make_tensor("axes", TensorProto.INT64, [1], [2]),
        helper.make_tensor("shape", TensorProto.INT64, [3], [1, 3, 8]),
    ]
    result = run(str(save(tmp_path, nodes, inits)))
    assert result.exit_code == 1
    assert "  mean (ReduceMean): reads x, gives 1x3x1x8\n  y (Reshape): reads mean, gives 1x3x8\n" in result.output


def test_a_reduce_max_with_axes_as_an_attribute_is_a_global_max_pool(tmp_path: Path) -> None:
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("ReduceMax", ["x"], ["y"], "/pool/ReduceMax", axes=[2, 3], keepdims=1)],
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    path = tmp_path / "max.onnx"
    onnx.save(model, str(path))
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["layers"] == [{"layer": "gmp", "name": "pool"}]


def test_metadata_that_is_no_list_of_names_is_ignored(tmp_path: Path) -> None:
    for scopes in ["not python", "[1, 2]", "x" * 20_000]:
        node = _meta(helper.make_node("Relu", ["x"], ["y"], "/act/Relu"), **{SCOPES: scopes})
        result = run(str(save(tmp_path, [node])))
        assert result.exit_code == 0, result.output
        assert yaml.safe_load(result.stdout)["layers"] == [{"layer": "relu", "name": "act"}]


def test_weights_beside_the_file_are_not_needed(tmp_path: Path) -> None:
    w = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], bytes(4 * 108), raw=True)
    path = save(tmp_path, [conv("/conv/Conv", "x", "w", "y")], [w])
    model = onnx.load(str(path))
    onnx.save(model, str(path), save_as_external_data=True, all_tensors_to_one_file=True, size_threshold=0)
    (tmp_path / next(p.name for p in tmp_path.iterdir() if p.suffix != ".onnx")).unlink()  # the .data is gone
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["layers"] == [{"layer": "conv3-4", "name": "conv"}]


def test_what_is_read_as_no_layer_and_what_is_read_as_one(tmp_path: Path) -> None:
    lo, hi = (
        helper.make_node("Constant", [], [n], value=helper.make_tensor(n, TensorProto.FLOAT, [], [v]))
        for n, v in [("lo", 0.0), ("hi", 6.0)]
    )
    bad = helper.make_tensor("bad", TensorProto.FLOAT, [1], [0.0])
    bad.dims[0] = 2  # two values declared, one given: no value to read
    nodes = [
        lo,
        hi,
        helper.make_node("Clip", ["x", "lo", "hi"], ["c"], "/six/Clip"),  # bounds from Constant nodes: ReLU6
        helper.make_node("Conv", ["c", "dw"], ["d"], "/dw/Conv", group=3),
        helper.make_node("MaxPool", ["d"], ["p", ""], "/pool/MaxPool", kernel_shape=[2, 2], ceil_mode=1),
        helper.make_node("Relu", ["p"], ["y"], "/relu/Relu"),
    ]
    result = run(str(save(tmp_path, nodes, [weight("dw", 3, 1, 3, 3), bad])))
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.stdout)["layers"] == [
        {"layer": "relu6", "name": "six"},
        {"layer": "conv3-3 gdw", "name": "dw"},
        {"layer": "maxpool2 s1 ceil", "name": "pool"},  # ONNX strides default to 1
        {"layer": "relu", "name": "relu"},
    ]
    unsupported = [
        helper.make_node("Relu", ["x"], ["r"], "/r/Relu"),
        helper.make_node("Conv", ["x", "r"], ["a"], "/runtime/Conv"),  # a weight computed at run time
        helper.make_node("MaxPool", ["a"], ["b"], "/uneven/MaxPool", kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
        helper.make_node("Flatten", ["b"], ["f"], "/Flatten"),
        helper.make_node("Gemm", ["f", "w"], ["g"], "/notrans/Gemm"),  # transB=0: no fc
        helper.make_node("Clip", ["g", "bad", "bad"], ["k"], "/clip/Clip"),  # bounds that are no values
        helper.make_node("ReduceMean", ["k"], ["m"], "/mean/ReduceMean"),  # every axis: no pool
        helper.make_node("Concat", ["m", "m"], ["y"], "/Concat", axis=0),
    ]
    refused = run(str(save(tmp_path, unsupported, [weight("w", 12, 4), bad])), "--input", "5x5x3")
    assert refused.exit_code == 1, refused.output
    kinds = [line.split("(")[1].split(")")[0] for line in refused.output.splitlines()[1:-1]]
    assert kinds == ["Conv", "MaxPool", "Gemm", "Clip", "ReduceMean", "Concat"]


def test_a_shape_inference_that_fails_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], "r")])

    def fails(_: Any) -> Any:
        msg = "[ShapeInferenceError] (op_type:Relu, node name: r): wrong\n\x1b[2J"
        raise RuntimeError(msg)

    monkeypatch.setattr(onnx.shape_inference, "infer_shapes", fails)
    assert refused(path) == (
        "error: ONNX's shape inference fails on the graph: [ShapeInferenceError] (op_type:Relu, node name: r): "
        "wrong \\x1b[2J"
    )


def test_axes_that_are_no_list_are_refused_by_node(tmp_path: Path) -> None:
    model = helper.make_model(
        helper.make_graph(
            [helper.make_node("ReduceMean", ["x"], ["y"], "m", axes=5)],  # one number where ONNX has a list
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, SHAPE)],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        ),
        opset_imports=[helper.make_opsetid("", 13)],
    )
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    assert refused(path) == "error: node m (ReduceMean) is malformed: axes 5 must be whole numbers, the dims it reduces"


def test_a_node_no_check_foresaw_is_still_refused_by_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.bridges.importer import onnxfile  # noqa: PLC0415

    def fails(*_: Any) -> None:
        msg = "list index out of range"  # what an unforeseen attribute would do
        raise IndexError(msg)

    monkeypatch.setattr(onnxfile, "to_layer", fails)
    path = save(tmp_path, [helper.make_node("Relu", ["x"], ["y"], "r")])
    assert refused(path) == "error: node r (Relu) is malformed: IndexError: list index out of range"


OPS = ["Conv", "ConvTranspose", "MaxPool", "AveragePool", "Gemm", "BatchNormalization", "LRN", "Relu", "Clip"]
OPS += ["Flatten", "Reshape", "ReduceMean", "Concat", "Add", "Mul", "GlobalAveragePool", "Identity", "Constant"]
ATTRIBUTES = ["kernel_shape", "pads", "strides", "dilations", "group", "axis", "size", "transB", "axes", "ceil_mode"]
ATTRIBUTES += ["output_padding", "auto_pad", "min", "max"]


def _random_model(rng: Any) -> Any:
    """A small graph of random nodes, mostly well-formed, with odd inputs, dims and attributes here and there."""

    def value() -> Any:
        return rng.choice(
            [
                rng.randint(-1, 3),
                [rng.randint(-1, 3) for _ in range(rng.choice([1, 2, 2, 4, 4, 5]))],
                rng.random(),
                b"SAME_UPPER",
                [rng.random()],
            ]
        )

    def dim() -> int:
        sizes = [1, 2, 3, 3, 4, 8, 8, 0, -1] if rng.random() < 0.1 else [1, 3, 4, 8]
        size: int = rng.choice(sizes)
        return size

    names, inits, nodes = ["x"], [], []
    for k in range(rng.randint(1, 6)):
        op = rng.choice(OPS)
        inputs = [rng.choice(names)]
        for j in range(rng.randint(0, 4)):
            r = rng.random()
            if r < 0.6:
                inits.append(weight(f"w{k}_{j}", *[dim() for _ in range(rng.choice([0, 1, 2, 4, 4, 4]))]))
                inputs.append(inits[-1].name)
            else:
                inputs.append(rng.choice(names) if r < 0.95 else rng.choice(["", "nowhere"]))
        attrs = {a: value() for a in rng.sample(ATTRIBUTES, rng.randint(0, 3))}
        nodes.append(helper.make_node(op, inputs, [f"v{k}"], f"/n{k}/{op}", **attrs))
        names.append(f"v{k}")
    if rng.random() < 0.2:
        rng.shuffle(nodes)
    dims = [1, 3, 8, 8] if rng.random() < 0.8 else [dim() for _ in range(rng.choice([2, 3, 5]))]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, dims)],
        [helper.make_tensor_value_info(names[-1], TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph)


@pytest.mark.slow
def test_no_random_graph_ends_in_an_internal_error(tmp_path: Path) -> None:
    import random  # noqa: PLC0415

    from convcalc.bridges.importer import import_model  # noqa: PLC0415
    from convcalc.errors import ConvcalcError  # noqa: PLC0415

    rng = random.Random(22)  # noqa: S311 - a fuzzer's choices, reproducible
    path = tmp_path / "r.onnx"
    for _ in range(500):
        onnx.save(_random_model(rng), str(path))
        for volume in (None, "8x8x3"):
            with contextlib.suppress(ConvcalcError):  # a message, exit 1 or 2: what a malformed file gets
                import_model(str(path), volume)
