"""`convcalc import` refuses what it cannot write, and writes nothing that came from the model as YAML (issue 22).

D16: a line feed, a control character or YAML's own characters in a file name, a source or a
module's name injects no key into the written spec, and every name reads back as it was. D17: a
model that returns several tensors is refused, naming them. D22: a model's code that calls
sys.exit (or raises another BaseException) is a one-line message and exit 2, not exit 0 with
nothing written.
"""

from __future__ import annotations

import math
import sys
import textwrap
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner

from convcalc.bridges.importer import ModelError, import_graph
from convcalc.bridges.importer.graph import Graph, Op
from convcalc.cli import importer as cli_importer
from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from pathlib import Path

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, as the spec loader reads, where it is built

# A source (a file name) that would end the comment line and write keys of its own.
INJECTION = "model\nname: evil\ninput: 1x1x1\nlayers: []\n# \x1b[2J\u2028\x85"


def _graph(source: str, *names: str) -> Graph:
    """x, then a conv per name (names as the model gave them)."""
    conv = {"conv": {"filters": 4, "size": 3, "pad": 1}}
    ops = [Op(0, "x", "input", (), (8, 8, 3))]
    for name in names:
        ops.append(Op(len(ops), name, "Conv2d", (len(ops) - 1,), (8, 8, 4), layer=conv, module=True))
    graph = Graph(ops, source)
    graph.link()
    return graph


def test_a_line_feed_in_the_source_injects_no_key_into_the_spec() -> None:
    text = import_graph(_graph(INJECTION + ":Net", "conv"), "Net").text
    spec = yaml.safe_load(text)
    assert list(spec) == ["name", "input", "rounding", "layers"]
    assert (spec["name"], spec["input"]) == ("Net", "8x8x3")
    comment = text.splitlines()[0]
    assert comment == (
        "# Imported by `convcalc import` from model\\nname: evil\\ninput: 1x1x1\\nlayers: []\\n# \\x1b[2J\\u2028\\x85"
        ":Net, input 8x8x3."
    )
    assert text.count("\n") == len(text.splitlines())  # no other line break: \r, NEL, U+2028 escaped
    assert analyze(load_spec("net.yaml", text)).totals.params == (3 * 3 * 3 + 1) * 4


@pytest.mark.parametrize(
    "name",
    [
        "a\nb: 1",  # a line feed
        "a\rb",
        "conv\x85x",  # NEL: a line break to YAML 1.1, folded to a space in a quoted scalar
        "x\u2028y\u2029z",  # the Unicode line and paragraph separators
        "\x1b[2Jname\x07",  # escapes and a bell for the terminal that shows the file
        "gnp.\u202eexe",  # a right-to-left override
        "undecodable\udcff",  # a file name's byte that is not UTF-8, as Python reads it
        "\ufeffbom",
        "#not a comment",
        "- not: [a, list]",
        "'quoted' \"twice\" & *alias !tag %dir @at `tick` | > { } ?",
        "ﬁlter é",  # other Unicode stays as it is
    ],
)
def test_a_name_from_the_model_reads_back_as_it_was_and_nothing_else(name: str) -> None:
    text = import_graph(_graph("net.py:Net", f"block.{name}", "head"), name).text
    spec = yaml.load(text, Loader=LOADER)  # noqa: S506 - a safe loader, C or Python
    assert list(spec) == ["name", "input", "rounding", "layers"]
    written = name.replace("\udcff", "\\udcff")  # a surrogate has no YAML escape: its text
    assert spec["name"] == written
    assert spec["layers"][0]["name"] == f"block.{written}"
    report = analyze(load_spec("net.yaml", text))
    assert [row.name for row in report.rows][-2:] == [f"block.{written}", "head"]
    assert text.encode("utf-8")  # writable: a surrogate is written as an escape
    plain = import_graph(_graph("net.py:Net", "block.x", "head"), "x").text
    assert len(text.splitlines()) == len(plain.splitlines())  # no line break of the name's
    assert not [c for c in name if not c.isprintable() and c != "\n" and c in text]  # each one an escape
    if name.isprintable() and "'" not in name:
        assert name in text  # written as it is, where nothing in it is unsafe


@pytest.mark.slow  # onnx's first import and save cost a second
def test_an_onnx_file_whose_name_holds_line_feeds_gives_a_spec_of_its_own_keys(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper  # noqa: PLC0415

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * math.prod([4, 3, 3, 3]))
    graph = helper.make_graph(
        [helper.make_node("Conv", ["x", "w"], ["y"], "/conv/Conv", kernel_shape=[3, 3])],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 6, 6])],
        [weight],
    )
    # the surrogate made here: tests/test_schema.py reads every string of the tests that says "layers"
    path = tmp_path / f"net\nlayers: []\ninput: 1x1x1\n{chr(0xDCFF)}.onnx"
    onnx.save(helper.make_model(graph), str(path))
    out = tmp_path / "net.yaml"
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.output
    spec = yaml.safe_load(out.read_text(encoding="utf-8"))
    assert list(spec) == ["name", "input", "rounding", "defaults", "layers"]
    assert spec["layers"] == [{"layer": "conv3-4", "name": "conv"}]
    assert spec["name"] == path.stem.replace("\udcff", "\\udcff")  # a surrogate has no YAML escape: its text
    assert spec["input"] == "8x8x3"
    shown = CliRunner().invoke(main, ["show", str(out), "--format", "json"])
    assert shown.exit_code == 0, shown.output


def test_a_refusal_naming_the_models_parts_is_inert_on_the_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        del args, kwargs
        msg = "1 operation convcalc has no layer kind for:\n  \x1b[2Jattn\rforged (Op): reads x, gives 8"
        raise ModelError(msg)

    monkeypatch.setattr(cli_importer, "import_model", refuse)
    result = CliRunner().invoke(main, ["import", "net.py:Net"])
    assert result.exit_code == 1
    assert result.output == (
        "error: 1 operation convcalc has no layer kind for:\n  \\x1b[2Jattn\\rforged (Op): reads x, gives 8\n"
    )


# PyTorch models --------------------------------------------------------------------------------------

MODELS = textwrap.dedent(
    """
    import sys

    import torch
    from torch import fx, nn


    class TwoHeads(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Conv2d(3, 4, 3)
            self.left = nn.Conv2d(4, 2, 1)
            self.right = nn.Conv2d(4, 5, 1)

        def forward(self, x):
            x = self.body(x)
            return self.left(x), {"right": self.right(x)}


    class OneInATuple(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)

        def forward(self, x):
            return (self.conv(x), x.shape[0])  # one tensor, and a number


    class Auxiliary(nn.Module):
        # GoogLeNet's way: an auxiliary output in training mode only
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 4, 3)
            self.aux = nn.Conv2d(4, 1, 1)

        def forward(self, x):
            x = self.conv(x)
            if self.training:
                return x, self.aux(x)
            return x


    class Exits(nn.Module):
        def __init__(self):
            sys.exit(0)


    class InterruptedInInit(nn.Module):
        def __init__(self):
            raise KeyboardInterrupt


    class Raises(nn.Module):
        def __init__(self):
            raise KILL


    class Shutdown(BaseException):
        pass


    KILL = Shutdown("the model's own BaseException")


    class ExitsInForward(nn.Module):
        def forward(self, x):
            sys.exit(3)


    class InterruptedInForward(nn.Module):
        def forward(self, x):
            raise KeyboardInterrupt


    @fx.wrap
    def leave(x, how):
        if how == "exit":
            sys.exit(4)
        raise KeyboardInterrupt


    class ExitsWhenRun(nn.Module):
        def forward(self, x):
            return leave(x, "exit")


    class InterruptedWhenRun(nn.Module):
        def forward(self, x):
            return leave(x, "interrupt")
    """
)


@pytest.fixture
def models(tmp_path: Path) -> Path:
    pytest.importorskip("torch")
    path = tmp_path / "refused_models.py"
    path.write_text(MODELS, encoding="utf-8")
    return path


def _import(models: Path, name: str) -> Any:
    return CliRunner().invoke(main, ["import", f"{models}:{name}", "--input", "8x8x3"])


@pytest.mark.torch
@pytest.mark.slow  # the meta device's first run costs a second
def test_a_model_with_two_outputs_is_refused_naming_them(models: Path) -> None:
    result = _import(models, "TwoHeads")
    assert result.exit_code == 1
    assert result.output == (
        f"error: {models}:TwoHeads returns 2 tensors (left, right): a spec has one output; return one of them "
        "from forward (or their torch.cat)\n"
    )


@pytest.mark.torch
@pytest.mark.slow  # the meta device, as above
@pytest.mark.parametrize(("name", "depth"), [("OneInATuple", 4), ("Auxiliary", 4)])
def test_one_tensor_returned_is_one_output(models: Path, name: str, depth: int) -> None:
    """A tensor beside a number is one output; GoogLeNet's auxiliary head is traced in evaluation mode."""
    result = _import(models, name)
    assert result.exit_code == 0, result.output
    import torch  # noqa: PLC0415

    model = getattr(sys.modules["refused_models"], name)().eval()
    report = analyze(load_spec("m.yaml", result.stdout))
    out = model(torch.zeros(1, 3, 8, 8))
    assert report.totals.output is not None
    assert report.totals.output.depth == (out[0] if isinstance(out, tuple) else out).shape[1] == depth
    assert report.totals.params == model.conv.weight.numel() + model.conv.bias.numel()


@pytest.mark.torch
@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "Exits",
            "cannot build {m}:Exits: its code called sys.exit(0): a model's code must return, not end the process",
        ),
        ("Raises", "cannot build {m}:Raises: Shutdown: the model's own BaseException"),
        (
            "ExitsInForward",
            (
                "torch.fx cannot trace {m}:ExitsInForward: its code called sys.exit(3): a model's code must return, "
                "not end the process"
            ),
        ),
        pytest.param(
            "ExitsWhenRun",
            "{m}:ExitsWhenRun does not run on a 8x8x3 input: its code called sys.exit(4): a model's code must "
            "return, not end the process",
            marks=pytest.mark.slow,  # the meta device
        ),
    ],
)
def test_a_model_that_ends_the_process_is_one_line_and_exit_2(models: Path, name: str, message: str) -> None:
    result = _import(models, name)
    assert result.exit_code == 2
    assert result.output == f"error: {message.format(m=models)}\n"


@pytest.mark.torch
def test_a_module_that_exits_when_imported_is_one_line_and_exit_2(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    path = tmp_path / "exits_on_import.py"
    path.write_text("import sys\n\nsys.exit('bye')\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["import", f"{path}:Net"])
    assert result.exit_code == 2
    assert result.output == (
        f"error: cannot build {path}:Net: its code called sys.exit('bye'): a model's code must return, not end "
        "the process\n"
    )
    assert "exits_on_import" not in sys.modules


@pytest.mark.torch
@pytest.mark.parametrize(
    "name", ["InterruptedInInit", "InterruptedInForward", pytest.param("InterruptedWhenRun", marks=pytest.mark.slow)]
)
def test_ctrl_c_in_the_models_code_is_an_interruption(models: Path, name: str) -> None:
    """A KeyboardInterrupt is Ctrl-C's, wherever it comes from: exit 130, as for every command."""
    result = _import(models, name)
    assert result.exit_code == 130
    assert result.output == "convcalc: interrupted\n"


def test_an_escape_and_the_character_it_stands_for_stay_two_names() -> None:
    text = import_graph(_graph("net.py:Net", "a\\nb", "a\nb"), "Net").text
    names = [layer["name"] for layer in yaml.safe_load(text)["layers"]]
    assert names == ["a\\nb", "a\nb"]
