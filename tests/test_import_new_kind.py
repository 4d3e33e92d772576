"""A kind convcalc does not have, declared with its torch and ONNX names in a registry of a test's own, imports.

Issue 24: adding a kind with a torch module needs no edit to the importer. The kind here is
PyTorch's Hardshrink (ONNX's Shrink with bias 0), which convcalc lacks; it declares its torch.nn
class and how the module's `lambd` becomes its parameter, its function and its ONNX operator, and
`registry.using` holds it beside the built-in kinds for the test only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
import yaml

from convcalc.bridges.importer import import_model
from convcalc.engine.analyze import analyze
from convcalc.errors import ModelError, SpecError
from convcalc.kinds import registry
from convcalc.kinds.base import Category, Params
from convcalc.kinds.params import Param
from convcalc.kinds.plan import ModuleStep, Plan
from convcalc.kinds.saved import Keep
from convcalc.kinds.simple import Dropout
from convcalc.kinds.vocab import Call, Layer, OnnxNode, OnnxOp, TorchFunction, TorchModule
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from convcalc.errors import Location
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume


def lambd(value: Any, at: Location) -> float:
    """A threshold of at least 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        msg = f"lambd must be a number of at least 0, not {value!r}"
        raise SpecError(msg, at)
    return float(value)


def _module(m: Any) -> Layer:
    return {"hardshrink": {"lambd": float(m.lambd)}}


def _call(call: Call) -> Layer:
    return {"hardshrink": {"lambd": float(call.arg(1, "lambd", 0.5))}}


def _node(node: OnnxNode) -> Layer | None:
    if node.attrs.get("bias", 0.0) != 0.0:
        return None  # Shrink with a bias is softshrink's family, not this kind
    return {"hardshrink": {"lambd": float(node.attrs.get("lambd", 0.5))}}


class HardShrink(Dropout):
    """x where |x| > lambd, else 0: the volume passes through (its arithmetic is dropout's: none)."""

    name = "hardshrink"
    torch_modules = (TorchModule(("Hardshrink",), _module),)
    torch_functions = (TorchFunction(("hardshrink",), _call),)
    onnx_ops = (OnnxOp(("Shrink",), _node),)
    params = (Param("lambd", lambd, required=True, form="a threshold", help="The threshold below which values are 0."),)
    primary = "lambd"
    category = Category.ELEMENTWISE
    example = ("8x8x4", "hardshrink")

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del x, rounding
        return Plan((ModuleStep("Hardshrink", (p["lambd"],), (), "shrink"),))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(input=True)


@pytest.fixture
def with_hardshrink() -> Iterator[tuple[Any, ...]]:
    with registry.using((*registry.REGISTERED, HardShrink())) as kinds:
        yield kinds


def _rows(text: str) -> list[tuple[str, str]]:
    """The kinds and outputs of the imported spec's rows, analysed in the registry of the moment."""
    report = analyze(load_spec("imported.yaml", text))
    return [(row.kind, str(row.output)) for row in report.rows]


def test_the_registry_holds_the_kind_for_the_block_only() -> None:
    before = registry.REGISTERED
    with registry.using((*before, HardShrink())) as kinds:
        assert registry.REGISTERED is kinds
        assert registry.resolve("hardshrink") is not None
        assert registry.onnx_ops()["Shrink"] is _node
    assert registry.REGISTERED is before
    assert registry.resolve("hardshrink") is None
    assert "Shrink" not in registry.onnx_ops()


@pytest.mark.slow  # the first run on PyTorch's meta device costs 0.7 s
@pytest.mark.torch
def test_a_model_with_the_kinds_torch_module_and_function_imports(with_hardshrink: tuple[Any, ...]) -> None:
    pytest.importorskip("torch")
    import torch  # noqa: PLC0415 - torch only for this test
    from torch import nn  # noqa: PLC0415

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv = nn.Conv2d(3, 8, 3)
            self.shrink = nn.Hardshrink(0.25)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return nn.functional.hardshrink(self.shrink(self.conv(x)), 0.75)

    model = Net()
    assert with_hardshrink[-1].name == "hardshrink"
    text = import_model("test:Net", "12x10x3", model=model).text
    layers = yaml.safe_load(text)["layers"]
    assert layers[1:] == [{"hardshrink": {"lambd": 0.25}, "name": "shrink"}, {"hardshrink": {"lambd": 0.75}}]
    rows = _rows(text)
    expected = "x".join(map(str, [*model(torch.zeros(1, 3, 12, 10)).shape[2:], 8]))
    assert rows[-2:] == [("hardshrink", expected), ("hardshrink", expected)]


@pytest.mark.slow
@pytest.mark.torch
def test_without_the_kind_the_module_has_no_layer_kind() -> None:
    torch = pytest.importorskip("torch")
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Hardshrink())
    with pytest.raises(ModelError, match=r"1 operation convcalc has no layer kind for:\n  1 \(Hardshrink\)"):
        import_model("test:Net", "12x10x3", model=model)


def test_an_onnx_graph_with_the_kinds_operator_imports(tmp_path: Path, with_hardshrink: tuple[Any, ...]) -> None:
    del with_hardshrink
    pytest.importorskip("onnx")
    from onnx import helper  # noqa: PLC0415

    from tests.test_import_onnx_checks import conv, save, weight  # noqa: PLC0415 - onnx only here

    nodes = [
        conv("c", "x", "w", "h", pads=[1, 1, 1, 1]),
        helper.make_node("Shrink", ["h"], ["y"], "s", lambd=0.5),
    ]
    text = import_model(str(save(tmp_path, nodes, [weight("w", 4, 3, 3, 3)])), None).text
    assert yaml.safe_load(text)["layers"][-1] == {"hardshrink": {"lambd": 0.5}}
    assert _rows(text)[-1] == ("hardshrink", "8x8x4")
    biased = [nodes[0], helper.make_node("Shrink", ["h"], ["y"], "s", lambd=0.5, bias=0.5)]
    with pytest.raises(ModelError, match=r"no layer kind for:\n  y \(Shrink\): reads h"):
        import_model(str(save(tmp_path, biased, [weight("w", 4, 3, 3, 3)])), None)
