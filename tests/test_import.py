"""`convcalc import` on small models: the graph's decomposition, the spec written, the messages, the opaque kind.

The torchvision models, ONNX exports of them and the round trip of every built-in spec are in
test_import_models.py (slow).
"""

from __future__ import annotations

import json
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner

from convcalc.bridges.importer import import_graph, import_model
from convcalc.bridges.importer.graph import Graph, Op
from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.errors import ModelError
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from pathlib import Path


def _report(text: str) -> Any:
    return analyze(load_spec("imported.yaml", text))


def _graph(
    *ops: tuple[str, tuple[int, ...], dict[str, Any] | None, str | None], shape: tuple[int, ...] = (8, 8, 4)
) -> Graph:
    """A graph of (name, inputs, layer, merge); every op keeps the input's volume unless a conv says otherwise."""
    made = [Op(0, "x", "input", (), shape)]
    for name, inputs, layer, merge in ops:
        out = shape
        if layer and "conv" in layer:
            out = (*shape[:-1], layer["conv"]["filters"])
        if merge == "concat":
            out = (*shape[:-1], sum(made[i].shape[-1] for i in inputs))
        made.append(Op(len(made), name, name, inputs, out, layer=layer, merge=merge, module=True))
    graph = Graph(made, "test")
    graph.link()
    return graph


CONV4 = {"conv": {"filters": 4, "size": 3, "pad": 1}}


def test_a_residual_is_recovered_with_its_names_and_its_activation() -> None:
    graph = _graph(
        ("block.conv1", (0,), CONV4, None),
        ("block.bn1", (1,), {"bn": None}, None),
        ("block.add", (2, 0), None, "add"),
        ("block.relu", (3,), {"relu": None}, None),
    )
    spec = yaml.safe_load(import_graph(graph, "net").text)
    assert spec["layers"] == [
        {
            "residual": {
                "layers": [{"layer": "conv3-4 p1", "name": "conv1"}, {"layer": "bn", "name": "bn1"}],
                "activation": "relu",
            },
            "name": "block",
        }
    ]
    assert _report(import_graph(graph, "net").text).totals.params == 4 * 4 * 9 + 4 + 8


def test_branches_are_a_parallel_in_the_concat_order() -> None:
    one = {"conv": {"filters": 2, "size": 1}}
    three = {"conv": {"filters": 3, "size": 3, "pad": 1}}
    graph = _graph(("b1", (0,), one, None), ("b2", (0,), three, None), ("cat", (2, 1), None, "concat"))
    graph.ops[-1].shape = (8, 8, 5)
    spec = yaml.safe_load(import_graph(graph, "net").text)
    assert spec["layers"] == [
        {
            "parallel": {
                "branches": [[{"layer": "conv3-3 p1", "name": "b2"}], [{"layer": "conv1-2", "name": "b1"}]],
                "merge": "concat",
            }
        }
    ]


def test_a_flat_concat_of_every_earlier_map_nests_as_densenet_does() -> None:
    grow = {"conv": {"filters": 2, "size": 1}}
    graph = _graph(
        ("l1", (0,), grow, None),
        ("cat1", (0, 1), None, "concat"),
        ("l2", (2,), grow, None),
        ("cat2", (0, 1, 3), None, "concat"),
    )
    text = import_graph(graph, "net").text
    spec = yaml.safe_load(text)
    assert spec["layers"][0]["repeat"] == 2
    assert _report(text).totals.output.depth == 8


def test_a_graph_that_is_not_series_parallel_is_written_with_from() -> None:
    # a and b both read x; c reads a and b; d reads a and c: a's branches meet twice.
    graph = _graph(
        ("a", (0,), CONV4, None),
        ("b", (0,), CONV4, None),
        ("c", (1, 2), None, "add"),
        ("d", (1, 3), None, "add"),
    )
    text = import_graph(graph, "net").text
    assert yaml.safe_load(text)["layers"] == [
        {"layer": "conv3-4 p1", "name": "a"},
        {"layer": "conv3-4 p1", "name": "b", "from": ["input"]},
        {"merge": "add", "from": ["a", "b"], "name": "c"},
        {"merge": "add", "from": ["a", "c"], "name": "d"},
    ]
    report = _report(text)
    assert report.ok
    assert [r.kind for r in report.rows] == ["input", "conv", "conv", "add", "add"]


def test_two_outputs_are_refused() -> None:
    graph = Graph([Op(0, "x", "input", (), (4,)), Op(1, "a", "a", (0,), (4,), layer={"relu": None})], "test")
    graph.ops.append(Op(2, "b", "b", (0,), (4,), layer={"relu": None}))
    for op in graph.ops:
        op.users = [o.index for o in graph.ops if op.index in o.inputs]
    with pytest.raises(ModelError, match=r"the model has 2 outputs \(a, b\); a spec has one"):
        import_graph(graph, "net")


def test_repeats_blocks_and_defaults_shorten_the_spec() -> None:
    ops: list[tuple[str, tuple[int, ...], dict[str, Any] | None, str | None]] = []
    at = 0
    for stage, width in (("s1", 4), ("s2", 4), ("s3", 4)):
        conv = {"conv": {"filters": width, "size": 3, "pad": 1, "bias": False}}
        ops += [(f"{stage}.conv", (at,), conv, None), (f"{stage}.add", (at + 1, at), None, "add")]
        at += 2
    ops.append(("head1", (at,), {"conv": {"filters": 4, "size": 1, "bias": False}}, None))
    ops.append(("head2", (at + 1,), {"conv": {"filters": 4, "size": 1, "bias": False}}, None))
    ops.append(("head3", (at + 2,), {"conv": {"filters": 4, "size": 1}}, None))
    text = import_graph(_graph(*ops), "net").text
    spec = yaml.safe_load(text)
    assert spec["defaults"] == {"conv": {"bias": False}}  # 3 of the 4 convs written
    assert spec["layers"][0]["repeat"] == 3
    assert "name" not in spec["layers"][0]  # s1, s2, s3: nothing in common
    assert spec["layers"][1:] == [
        {"layer": "conv1-4", "name": "head1"},
        {"layer": "conv1-4", "name": "head2"},
        {"conv": {"filters": 4, "size": 1, "bias": True}, "name": "head3"},
    ]
    assert _report(text).totals.params == 3 * 144 + 2 * 16 + 20


def test_blocks_take_the_numbers_that_differ() -> None:
    ops: list[tuple[str, tuple[int, ...], dict[str, Any] | None, str | None]] = []
    at = 0
    for stage, width in (("a", 4), ("b", 8), ("c", 16)):
        ops += [(f"{stage}.conv", (at,), {"conv": {"filters": width, "size": 3, "pad": 1}}, None)]
        ops += [(f"{stage}.bn", (at + 1,), {"bn": None}, None)]
        ops += [(f"{stage}.short", (at,), {"conv": {"filters": width, "size": 1}}, None)]
        ops += [(f"{stage}.add", (at + 2, at + 3), None, "add"), (f"{stage}.relu", (at + 4,), {"relu": None}, None)]
        at += 5
    text = import_graph(_graph(*ops), "net").text
    spec = yaml.safe_load(text)
    assert spec["blocks"] == {
        "block1": {
            "args": {"filters": None},
            "layers": [
                {
                    "residual": {
                        "layers": [{"layer": "conv3-${filters} p1", "name": "conv"}, {"layer": "bn", "name": "bn"}],
                        "shortcut": [{"layer": "conv1-${filters}", "name": "short"}],
                        "activation": "relu",
                    }
                }
            ],
        }
    }
    assert spec["layers"] == [{"block1": {"filters": w}, "name": s} for s, w in (("a", 4), ("b", 8), ("c", 16))]
    assert _report(text).totals.output.depth == 16


# PyTorch, through the command --------------------------------------------------------------------

NET = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(inplace=True))
        self.pool = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.fc = nn.Linear(8 * 8 * 8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


def build() -> nn.Module:
    return Net()


class Branchy(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return self.conv(x)
        return x


class Attention(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.attn = nn.MultiheadAttention(8, 2)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv(x))
        n, c, h, w = x.shape
        seq = x.flatten(2).permute(2, 0, 1)
        y, _ = self.attn(seq, seq, seq)
        x = x + y.permute(1, 2, 0).reshape(n, c, h, w)
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class Learned(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2, padding=1)
        self.act = nn.PReLU(8)
        self.fc = nn.Linear(8, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.conv(x))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


NOT_A_MODULE = 3
"""


@pytest.fixture
def net(tmp_path: Path) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "net.py"
    path.write_text(NET, encoding="utf-8")
    return path


@pytest.mark.slow  # the first run on PyTorch's meta device costs 0.7 s (its kernels are set up then)
def test_a_python_file_gives_a_spec_with_its_names(net: Path, tmp_path: Path) -> None:
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["import", f"{net}:build", "--input", "16x16x3", "-o", str(out)])
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith(f"# Imported by `convcalc import` from {net}:build, input 16x16x3.\n")
    spec = yaml.safe_load(text)
    assert spec["layers"] == [
        {"layer": "conv3-8 p1", "name": "features.0"},
        {"layer": "bn", "name": "features.1"},
        {"layer": "relu", "name": "features.2"},
        {"layer": "maxpool3 s2 ceil", "name": "pool"},
        {"layer": "fc-10", "name": "fc"},
    ]
    import torch  # noqa: PLC0415

    model = sys.modules["net"].Net()
    report = _report(text)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.output.depth == model(torch.zeros(1, 3, 16, 16)).shape[1]


def test_an_untraceable_model_is_a_message_naming_what_fx_says(net: Path) -> None:
    result = CliRunner().invoke(main, ["import", f"{net}:Branchy", "--input", "8x8x3"])
    assert result.exit_code == 1
    line = next(n for n, text in enumerate(NET.splitlines(), 1) if "if x.sum() > 0:" in text)
    expected = f"error: torch.fx cannot trace {net}:Branchy at net.py:{line}, `if x.sum() > 0:`: TraceError:"
    assert result.output.startswith(expected)


@pytest.mark.slow  # runs on the meta device, as above
def test_an_unsupported_op_is_named_with_its_place_and_opaque_writes_it(net: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    refused = runner.invoke(main, ["import", f"{net}:Learned", "--input", "8x8x3"])
    assert refused.exit_code == 1
    assert refused.output.startswith("error: 1 operation convcalc has no layer kind for:\n")
    assert "  act (PReLU): reads conv, gives 1x8x4x4\n" in refused.output
    assert "`--opaque` writes each run of them as one opaque layer" in refused.output
    out = tmp_path / "learned.yaml"
    written = runner.invoke(main, ["import", f"{net}:Learned", "--input", "8x8x3", "--opaque", "-o", str(out)])
    assert written.exit_code == 0, written.output
    shown = runner.invoke(main, ["show", str(out), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    rows = json.loads(shown.stdout)["layers"]
    opaque = next(r for r in rows if r["kind"] == "opaque")
    assert (opaque["name"], opaque["output"], opaque["macs"], opaque["params"]) == ("act", [4, 4, 8], 0, 8)
    model = sys.modules["net"].Learned()
    assert json.loads(shown.stdout)["totals"]["params"] == sum(p.numel() for p in model.parameters())


@pytest.mark.slow  # runs on the meta device, as above
def test_a_cnn_with_an_attention_block_imports_with_no_opaque_layer(net: Path, tmp_path: Path) -> None:
    # Its tokens sequence first (nn.MultiheadAttention's default), from `flatten(2)` after a ReLU and back by reshape.
    runner = CliRunner()
    out = tmp_path / "attention.yaml"
    written = runner.invoke(main, ["import", f"{net}:Attention", "--input", "8x8x3", "-o", str(out)])
    assert written.exit_code == 0, written.output
    shown = json.loads(runner.invoke(main, ["show", str(out), "--format", "json"]).stdout)
    kinds = [(r["kind"], r["output"]) for r in shown["layers"]]
    assert kinds[2:5] == [("tokens", [16, 8]), ("attention", [16, 8]), ("grid", [4, 4, 8])]
    model = sys.modules["net"].Attention()
    assert shown["totals"]["params"] == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("nothing", "error: 'nothing' names no model: write package.module:attribute, file.py:Name or an .onnx file"),
        ("missing.py:Net", "error: cannot read missing.py: no such Python file"),
        ("convcalc_no_such_package:Net", "error: cannot build convcalc_no_such_package:Net: ModuleNotFoundError"),
        ("NET:NOT_A_MODULE", "cannot build NET:NOT_A_MODULE: TypeError: 'int' object is not callable"),
        pytest.param("NET:Net --input 4x4x3", "does not run on a 4x4x3 input: RuntimeError", marks=pytest.mark.slow),
    ],
)
def test_sources_that_give_no_model_exit_2_saying_why(net: Path, source: str, message: str) -> None:
    args = source.replace("NET", str(net)).split()
    result = CliRunner().invoke(main, ["import", *args])
    assert result.exit_code == 2
    assert message.replace("NET", str(net)) in result.output


def test_without_torch_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    result = CliRunner().invoke(main, ["import", "torchvision.models:resnet18"])
    assert result.exit_code == 2
    assert (
        result.output
        == "error: reading a PyTorch model needs torch (pip install torch); an ONNX file needs only onnx\n"
    )


# ONNX, made with onnx's helpers (no torch) ----------------------------------------------------------


def _onnx_model(tmp_path: Path, *, folded: bool = False) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper  # noqa: PLC0415

    def weight(name: str, *dims: int) -> Any:
        return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * int(__import__("math").prod(dims)))

    w = "onnx::Conv_1" if folded else "block.conv.weight"
    act_input = "c" if folded else "n"
    nodes = [
        helper.make_node(
            "Conv",
            ["x", w, "b"] if folded else ["x", w],
            ["c"],
            "/block/conv/Conv",
            kernel_shape=[3, 3],
            pads=[1, 1, 1, 1],
        ),
        *(
            []
            if folded
            else [
                helper.make_node(
                    "BatchNormalization", ["c", "g", "be", "m", "v"], ["n"], "/block/bn/BatchNormalization"
                )
            ]
        ),
        helper.make_node("Clip", [act_input, "lo", "hi"], ["r"], "/block/act/Clip"),
        helper.make_node("Add", ["r", "x"], ["a"], "/block/Add"),
        helper.make_node("MaxPool", ["a"], ["p"], "/pool/MaxPool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("AveragePool", ["a"], ["p2"], "/avg/AveragePool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Concat", ["p", "p2"], ["k"], "/Concat", axis=1),
        helper.make_node("GlobalAveragePool", ["k"], ["g2"], "/gap/GlobalAveragePool"),
        helper.make_node("Flatten", ["g2"], ["f"], "/Flatten", axis=1),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["y"], "/fc/Gemm", transB=1),
    ]
    inits = [weight(w, 4, 4, 3, 3), weight("fc.weight", 10, 8), weight("fc.bias", 10)]
    inits += [weight("b", 4)] if folded else [weight(n, 4) for n in ("g", "be", "m", "v")]
    inits += [
        helper.make_tensor("lo", TensorProto.FLOAT, [], [0.0]),
        helper.make_tensor("hi", TensorProto.FLOAT, [], [6.0]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    path = tmp_path / ("folded.onnx" if folded else "tiny.onnx")
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_an_onnx_file_gives_the_same_structure(tmp_path: Path) -> None:
    path = _onnx_model(tmp_path)
    text = import_model(str(path)).text
    spec = yaml.safe_load(text)
    assert spec["input"] == "8x8x4"
    assert spec["layers"][0] == {
        "residual": {
            "layers": [
                {"layer": "conv3-4 p1", "name": "conv"},
                {"layer": "bn", "name": "bn"},
                {"layer": "relu6", "name": "act"},
            ]
        },
        "name": "block",
    }
    assert spec["layers"][1] == {
        "parallel": {
            "branches": [[{"layer": "maxpool2", "name": "pool"}], [{"layer": "avgpool2", "name": "avg"}]],
            "merge": "concat",
        }
    }
    report = _report(text)
    assert report.totals.params == 4 * 4 * 9 + 8 + 80 + 10
    assert report.totals.buffers == 8
    assert report.totals.output.depth == 10


def test_an_onnx_file_with_batchnorm_folded_says_so(tmp_path: Path) -> None:
    text = import_model(str(_onnx_model(tmp_path, folded=True)), "8x8x4").text
    assert (
        "# BatchNorm folded into 1 conv by the exporter: the model has 4 params more than this spec (8 of the "
        "batchnorms' weights and biases, less 4 of the biases the exporter gave those convs)"
    ) in text
    assert _report(text).totals.params == 4 * 4 * 9 + 4 + 80 + 10


def test_an_onnx_file_that_cannot_be_read_exits_2(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not onnx")
    result = CliRunner().invoke(main, ["import", str(bad)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: cannot read {bad} as ONNX: DecodeError")


# The opaque kind --------------------------------------------------------------------------------


def test_an_opaque_layer_keeps_its_volume_and_counts_no_macs_even_symbolically(tmp_path: Path) -> None:
    spec = tmp_path / "opaque.yaml"
    spec.write_text(
        textwrap.dedent(
            """\
            input: HxWx3
            layers:
              - conv3-8 p1
              - opaque: {output: 7x7x8, op: Attention, weights: 100}
              - fc-10
            """
        ),
        encoding="utf-8",
    )
    shown = CliRunner().invoke(main, ["show", str(spec)])
    assert shown.exit_code == 0, shown.output
    assert "7x7x8" in shown.output
    numeric = CliRunner().invoke(main, ["show", str(spec), "--input", "12x12x3", "--format", "json"])
    rows = json.loads(numeric.stdout)["layers"]
    assert (rows[2]["output"], rows[2]["params"], rows[2]["macs"]) == ([7, 7, 8], 100, 0)
    assert rows[3]["params"] == 7 * 7 * 8 * 10 + 10


# More of each reader ----------------------------------------------------------------------------

KINDS_NET = """
import torch
from torch import nn
from torch.nn import functional as F


class Kinds(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding="same", dilation=2, bias=False)
        self.gn = nn.GroupNorm(2, 8)
        self.lrn = nn.LocalResponseNorm(3)
        self.act = nn.Hardswish()
        self.up = nn.Upsample(scale_factor=2)
        self.shuffle = nn.PixelShuffle(2)
        self.deconv = nn.ConvTranspose2d(2, 4, 3, stride=2, padding=1, output_padding=1)
        self.drop = nn.Dropout(0.2)
        self.gate = nn.Conv2d(4, 4, 1)
        self.flat = nn.Flatten()
        self.fc = nn.Linear(4 * 4 * 4, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.lrn(self.gn(self.conv(x))))
        x = self.deconv(self.shuffle(self.up(x)).contiguous())
        x = F.adaptive_max_pool2d(self.drop(x), 4)
        x = x * torch.sigmoid(self.gate(F.adaptive_avg_pool2d(x, 1)))
        return self.fc(self.flat(F.dropout(x, 0.1, self.training)))


def number() -> int:
    return 3
"""


@pytest.mark.slow  # runs on the meta device
def test_every_pytorch_module_kind_is_read(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    path = tmp_path / "kinds_net.py"
    path.write_text(KINDS_NET, encoding="utf-8")
    text = import_model(f"{path}:Kinds", "8x8x3").text
    spec = yaml.safe_load(text)
    layers = spec["layers"]
    assert layers[0] == {"conv": {"filters": 8, "size": 3, "pad": "same", "dilation": 2, "bias": False}, "name": "conv"}
    assert layers[1:9] == [
        {"groupnorm": {"groups": 2}, "name": "gn"},
        {"lrn": {"size": 3}, "name": "lrn"},
        {"layer": "hardswish", "name": "act"},
        {"layer": "upsample2", "name": "up"},
        {"layer": "pixel_shuffle2", "name": "shuffle"},
        {"layer": "deconv3-4 s2 p1 op1", "name": "deconv"},
        {"dropout": {"p": 0.2}, "name": "drop"},
        "adaptive_maxpool4",
    ]
    gate = {"conv": {"filters": 4, "size": 1, "activation": "sigmoid"}, "name": "gate"}
    assert layers[9] == {"residual": {"layers": ["gap", gate], "merge": "multiply"}}  # squeeze-excitation
    assert layers[10] == {"dropout": {"p": 0.1}}  # F.dropout(x, 0.1, ...)
    model = sys.modules["kinds_net"].Kinds().eval()
    report = _report(text)
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.output.depth == model(torch.zeros(1, 3, 8, 8)).shape[1]


def test_a_function_that_gives_no_module_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "kinds_net.py"
    path.write_text(KINDS_NET, encoding="utf-8")
    result = CliRunner().invoke(main, ["import", f"{path}:number"])
    assert result.exit_code == 2
    assert result.output == f"error: {path}:number gives a int, not a torch.nn.Module\n"


@pytest.mark.parametrize(
    ("ops", "written"),
    [
        # b reads x and a, c reads a and b: a's value meets x's twice
        ([("a", (0,)), ("b", (0, 1)), ("c", (1, 2))], ["a", "add input a", "add a b"]),
        # three branches, one joining the others' merge late
        (
            [("a", (0,)), ("b", (0,)), ("c", (0,)), ("d", (1, 2)), ("e", (4, 3))],
            ["a", "b input", "c input", "add a b", "add d c"],
        ),
        # a branch that starts with a merge of the fork's value and another branch's
        ([("a", (0,)), ("b", (0, 1)), ("c", (0,)), ("d", (2, 3))], ["a", "add input a", "c input", "add b c"]),
        # inside a residual's body, after p: a list of its own, whose `input` is p's output
        (
            [("p", (0,)), ("a", (1,)), ("b", (1, 2)), ("c", (2, 3)), ("q", (4, 0))],
            ["p", ["a", "add input a", "add a b"]],
        ),
    ],
)
def test_graphs_that_are_not_series_parallel_are_written_as_they_are(
    ops: list[tuple[str, tuple[int, ...]]], written: list[Any]
) -> None:
    made = [(n, inputs, None if len(inputs) > 1 else CONV4, "add" if len(inputs) > 1 else None) for n, inputs in ops]
    text = import_graph(_graph(*made), "net").text
    layers = yaml.safe_load(text)["layers"]
    if "residual" in layers[0]:
        layers = layers[0]["residual"]["layers"]

    def said(layer: dict[str, Any]) -> Any:
        if "repeat" in layer:
            assert layer["repeat"] == 1
            return [said(inner) for inner in layer["layers"]]
        return " ".join([layer["merge"] if "merge" in layer else layer["name"], *layer.get("from", [])])

    assert [said(layer) for layer in layers] == written
    assert _report(text).ok


def test_numbers_that_are_not_whole_stay_in_a_block() -> None:
    from convcalc.bridges.importer import blocks  # noqa: PLC0415

    assert blocks._skeleton({"dropout": 0.2, "x": None}) == {"dropout": 0.2, "x": None}  # noqa: SLF001
    assert blocks._numbers({"dropout": 0.2, "x": None}) == []  # noqa: SLF001


def _onnx_graph(tmp_path: Path, nodes: list[Any], inits: list[Any], inputs: list[Any], output: Any) -> Path:
    onnx = pytest.importorskip("onnx")
    from onnx import helper  # noqa: PLC0415

    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(helper.make_graph(nodes, "g", inputs, [output], inits)), str(path))
    return path


def test_onnx_kinds_and_what_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper  # noqa: PLC0415

    def value(name: str, *dims: int | str) -> Any:
        return helper.make_tensor_value_info(name, TensorProto.FLOAT, list(dims))

    def weight(name: str, *dims: int) -> Any:
        size = 1
        for d in dims:
            size *= d
        return helper.make_tensor(name, TensorProto.FLOAT, dims, [0.0] * size)

    nodes = [
        helper.make_node(
            "Conv", ["x", "w"], ["c"], "/conv/Conv", kernel_shape=[3, 3], dilations=[2, 2], pads=[2, 2, 2, 2]
        ),
        helper.make_node("LRN", ["c"], ["l"], "/lrn/LRN", size=3),
        helper.make_node("Dropout", ["l"], ["d"], "/drop/Dropout"),
        helper.make_node("Identity", ["d"], ["i"], "/Identity"),
        helper.make_node("ConvTranspose", ["i", "t"], ["u"], "/up/ConvTranspose", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Conv", ["u", "w2"], ["y"], "/odd/Conv", kernel_shape=[2, 2], pads=[0, 0, 1, 1]),
    ]
    inits = [weight("w", 4, 3, 3, 3), weight("t", 4, 2, 2, 2), weight("w2", 2, 2, 2, 2)]
    path = _onnx_graph(tmp_path, nodes, inits, [value("x", "N", 3, "H", "W")], value("y", "N", 2, "H2", "W2"))
    runner = CliRunner()
    unfixed = runner.invoke(main, ["import", str(path)])
    assert unfixed.exit_code == 2
    assert unfixed.output == f"error: {path}: the input's volume is not fixed; give it with --input HxWxD\n"
    refused = runner.invoke(main, ["import", str(path), "--input", "8x8x3"])
    assert refused.exit_code == 1
    assert "  odd (Conv): reads up, gives 1x2x16x16\n" in refused.output  # uneven pads: no `pad`
    written = runner.invoke(main, ["import", str(path), "--input", "8x8x3", "--opaque"])
    assert written.exit_code == 0, written.output
    spec = yaml.safe_load(written.stdout)
    assert spec["layers"][:4] == [
        {"layer": "conv3-4 p2 d2", "name": "conv"},
        {"lrn": {"size": 3}, "name": "lrn"},
        {"layer": "dropout", "name": "drop"},
        {"deconv": {"filters": 2, "size": 2, "stride": 2, "bias": False}, "name": "up"},
    ]


def test_an_onnx_file_with_two_inputs_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    from onnx import TensorProto, helper  # noqa: PLC0415

    a, b, y = (helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 2, 4, 4]) for n in "aby")
    path = _onnx_graph(tmp_path, [helper.make_node("Add", ["a", "b"], ["y"], "/Add")], [], [a, b], y)
    result = CliRunner().invoke(main, ["import", str(path)])
    assert result.exit_code == 2
    assert result.output == f"error: {path} has 2 inputs; a spec has one\n"


def test_without_onnx_the_message_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "onnx", None)
    result = CliRunner().invoke(main, ["import", "model.onnx"])
    assert result.exit_code == 2
    assert result.output == "error: reading an ONNX file needs the onnx package (pip install onnx)\n"


def test_an_unsupported_op_that_reads_two_values_cannot_be_opaque() -> None:
    graph = _graph(("a", (0,), CONV4, None), ("b", (0,), CONV4, None), ("mm", (1, 2), None, None))
    with pytest.raises(
        ModelError, match=r"^error: 1 operation convcalc has no layer kind for:\n  mm \(mm\): reads a, b"
    ):
        import_graph(graph, "net")
    with pytest.raises(ModelError, match=r"mm \(mm\) reads 2 values: an opaque layer reads one, so it cannot stand in"):
        import_graph(graph, "net", opaque=True)
