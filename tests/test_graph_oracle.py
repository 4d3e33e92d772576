"""General graphs (`from:`) and Inception v3 against PyTorch (issue 25, slow).

A list whose layers name their inputs is walked by every engine: the numbers (analyze), the
closed forms (symbolic), what autograd keeps (training) and the PyTorch program (to_module and
`convcalc export`). Each is checked against PyTorch on two graphs: torchvision's InceptionE block
written flat with `from:` (its state_dict loads into the spec's module, and both compute the same
output), and a graph that is not series-parallel at all (a value read by a later layer and by a
merge further on, a merge that reads the list's input), against a module written by hand. The
built-in inception_v3 is torchvision's inception_v3 in eval, its AuxLogits left out as
tests/test_import_zoo.py leaves them: params, MACs and every conv's, batchnorm's and fc's volume at
299x299 (on the meta device), and its output with torchvision's own weights (at 75x75, the
smallest it takes, to keep CPU time short: every size runs the same modules).
"""

from __future__ import annotations

import importlib.util
import warnings
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows them as tests.*.
from test_symbolic import assert_formulas_are_the_numbers  # type: ignore[import-not-found]
from test_training_oracle import WHICH, computed, measure  # type: ignore[import-not-found]
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze
from convcalc.engine.symbolic import analyze_closed
from convcalc.export import class_name, to_pytorch_source
from convcalc.spec.loader import load_spec
from convcalc.volume import Volume

if TYPE_CHECKING:
    from pathlib import Path

    from convcalc.spec.model import Spec

pytestmark = [pytest.mark.slow, pytest.mark.torch]
torch = pytest.importorskip("torch")

# torchvision's InceptionE(1280) (Mixed_7b), line for line, on its 8x8x1280 input.
INCEPTION_E = """
name: inception_e
input: 8x8x1280
defaults: {conv: {bias: false}}
blocks:
  basic:
    args: {filters: null, size: 1, pad: 0}
    layers:
      - {conv: {filters: "${filters}", size: "${size}", pad: "${pad}"}, name: conv}
      - {bn: , name: bn}
      - relu
layers:
  - {basic: {filters: 320}, name: branch1x1}
  - {basic: {filters: 384}, name: branch3x3_1, from: [input]}
  - {basic: {filters: 384, size: [1, 3], pad: [0, 1]}, name: branch3x3_2a}
  - {basic: {filters: 384, size: [3, 1], pad: [1, 0]}, name: branch3x3_2b, from: [branch3x3_1]}
  - {basic: {filters: 448}, name: branch3x3dbl_1, from: [input]}
  - {basic: {filters: 384, size: 3, pad: 1}, name: branch3x3dbl_2}
  - {basic: {filters: 384, size: [1, 3], pad: [0, 1]}, name: branch3x3dbl_3a}
  - {basic: {filters: 384, size: [3, 1], pad: [1, 0]}, name: branch3x3dbl_3b, from: [branch3x3dbl_2]}
  - {layer: avgpool3 s1 p1, from: [input]}
  - {basic: {filters: 192}, name: branch_pool}
  - {merge: concat, from: [branch1x1, branch3x3_2a, branch3x3_2b, branch3x3dbl_3a, branch3x3dbl_3b, branch_pool]}
"""

# Not series-parallel: `a` is read by `b`, by `c` two layers on and by `d` past the add of b and c;
# the last merge reads the list's input too. No nesting of residual and parallel writes it.
BRIDGE = """
name: bridge
input: HxWx3
example: 12x10x3
layers:
  - {layer: conv3-8 p1, name: a}
  - {layer: conv1-8, name: b}
  - {layer: bn, name: bn_b}
  - {layer: conv3-8 p1, name: c, from: [a]}
  - {merge: add, from: [bn_b, c], activation: relu, name: bc}
  - {layer: maxpool3 s1 p1, from: [a]}
  - {layer: conv1-8, name: d}
  - {merge: multiply, from: [bc, d], name: gate}
  - {merge: concat, from: [gate, input, a]}
  - {layer: conv1-4, name: e}
  - gap
  - {layer: fc-5, name: fc}
"""


class Bridge(torch.nn.Module):  # type: ignore[misc,name-defined]  # torch: importorskip's module
    """BRIDGE, written by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.a = torch.nn.Conv2d(3, 8, 3, padding=1)
        self.b = torch.nn.Conv2d(8, 8, 1)
        self.bn_b = torch.nn.BatchNorm2d(8)
        self.c = torch.nn.Conv2d(8, 8, 3, padding=1)
        self.d = torch.nn.Conv2d(8, 8, 1)
        self.e = torch.nn.Conv2d(19, 4, 1)
        self.fc = torch.nn.Linear(4, 5)

    def forward(self, x: Any) -> Any:
        a = self.a(x)
        bc = torch.relu(self.bn_b(self.b(a)) + self.c(a))
        d = self.d(torch.nn.functional.max_pool2d(a, 3, 1, 1))
        y = self.e(torch.cat([bc * d, x, a], dim=1))
        return self.fc(torch.flatten(torch.nn.functional.adaptive_avg_pool2d(y, 1), 1))


def _exported(spec: Spec, tmp_path: Path) -> Any:
    path = tmp_path / "net.py"
    path.write_text(to_pytorch_source(spec, analyze(spec), "test"), encoding="utf-8")
    found = importlib.util.spec_from_file_location("exported_graph", path)
    assert found is not None
    assert found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return getattr(module, class_name(spec.name))().eval()


def _randomise_norms(net: Any, eps: float | None = None) -> None:
    """Batchnorm statistics and affine values drawn at random (at their initial values a misplaced one would pass)."""
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
                if eps is not None:
                    m.eps = eps


def _same_outputs(reference: Any, spec: Spec, state: dict[str, Any], tmp_path: Path, batch: int = 2) -> None:
    """The modules of to_module and export load `state` strictly and compute what `reference` does.

    And every row's output has the report's volume.
    """
    from convcalc.pytorch import shape_of, to_module  # noqa: PLC0415 - needs torch

    built = to_module(spec)
    exported = _exported(spec, tmp_path)
    for module in (built.module, exported):
        result = module.load_state_dict(state, strict=True)
        assert (result.missing_keys, result.unexpected_keys) == ([], [])
    v = spec.input
    x = torch.randn(batch, v.depth, *v.spatial, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want = reference(x)
        got = {"to_module": built.module(x), "export": exported(x)}
        seen = built.outputs(x)
    assert want.abs().max() > 0.1  # a real signal
    assert all(float((g - want).abs().max()) <= 1e-4 for g in got.values()), {
        k: (g - want).abs().max() for k, g in got.items()
    }
    rows = analyze(spec).rows
    assert {r.path for r in rows} == set(seen) | {"input"}
    for row in rows[1:]:
        assert row.output is not None
        t = seen[row.path]
        assert (shape_of(t) if t.dim() > 2 else [t.shape[1]]) == row.output.as_list(), row.path


def _flops(module: Any, x: Any) -> int:
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415 - torch only once it is there

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        module(x)
    return int(counter.get_total_flops())


def test_inception_e_written_with_from_computes_torchvisions_block(tmp_path: Path) -> None:
    tv = models()
    spec = load_spec("inception_e.yaml", INCEPTION_E)
    torch.manual_seed(0)
    block = tv.inception.InceptionE(1280).eval()
    _randomise_norms(block, eps=1e-5)  # convcalc's batchnorm is PyTorch's default (torchvision's is 0.001)
    report = analyze(spec)
    assert report.totals.params == sum(p.numel() for p in block.parameters())
    assert report.totals.output is not None
    assert report.totals.output.as_list() == [8, 8, 2048]
    assert report.totals.macs == _flops(block, torch.zeros(1, 1280, 8, 8)) // 2
    _same_outputs(block, spec, block.state_dict(), tmp_path)


def test_a_graph_that_is_not_series_parallel_computes_what_pytorch_computes(tmp_path: Path) -> None:
    spec = load_spec("bridge.yaml", BRIDGE)
    torch.manual_seed(0)
    net = Bridge().eval()
    _randomise_norms(net)
    report = analyze(spec)
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert report.totals.macs == _flops(net, torch.zeros(1, 3, 12, 10)) // 2
    _same_outputs(net, spec, net.state_dict(), tmp_path)


@pytest.mark.parametrize("text", [INCEPTION_E, BRIDGE], ids=["inception_e", "bridge"])
def test_a_general_graph_keeps_for_backward_what_pytorch_keeps(text: str) -> None:
    for batch in (1, 2):
        spec = replace(load_spec("graph.yaml", text), batch=batch)
        assert computed(spec) == measure(spec), f"batch {batch} ({WHICH})"


def test_a_general_graphs_formulas_are_its_numbers() -> None:
    e = INCEPTION_E.replace("input: 8x8x1280", "input: Hx8x1280\nexample: 8x8x1280")
    for spec in (load_spec("bridge.yaml", BRIDGE), load_spec("inception_e.yaml", e)):
        assert analyze_closed(spec, every_axis=True).failure is None
        assert_formulas_are_the_numbers(spec, 12)


def _torchvision_inception(*, meta: bool) -> Any:
    tv = models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # its notice about init_weights
        if meta:
            with torch.device("meta"):
                return tv.inception_v3(weights=None, init_weights=False).eval()
        torch.manual_seed(0)
        return tv.inception_v3(weights=None, init_weights=False).eval()


def test_the_builtin_inception_v3_is_torchvisions_at_299() -> None:
    net = _torchvision_inception(meta=True)
    report = analyze(open_spec("inception_v3"))
    assert report.ok
    aux = sum(p.numel() for p in net.AuxLogits.parameters())
    assert report.totals.params == sum(p.numel() for p in net.parameters()) - aux
    hooks: list[tuple[str, list[int]]] = []
    for m in net.modules():
        if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d, torch.nn.Linear)):
            m.register_forward_hook(lambda m, _, out: hooks.append((type(m).__name__, [*out.shape[2:], out.shape[1]])))
    assert report.totals.macs == _flops(net, torch.zeros(1, 3, 299, 299, device="meta")) // 2
    kinds = {"conv": "Conv2d", "batchnorm": "BatchNorm2d", "fc": "Linear"}
    rows = [(kinds[r.kind], r.output.as_list()) for r in report.rows if r.kind in kinds and r.output is not None]
    assert len(rows) == 94 * 2 + 1  # 94 BasicConv2d, the fc
    assert sorted(rows) == sorted(hooks)


def test_the_builtin_inception_v3_loads_torchvisions_weights_and_computes_its_output(tmp_path: Path) -> None:
    net = _torchvision_inception(meta=False)
    _randomise_norms(net, eps=1e-5)
    # PyTorch names are lowered in convcalc (docs/pytorch.md#names): Mixed_5b is mixed_5b.
    state = {k.lower(): v for k, v in net.state_dict().items() if not k.startswith("AuxLogits.")}
    spec = replace(open_spec("inception_v3"), input=Volume((75, 75), 3), expectations=())
    _same_outputs(net, spec, state, tmp_path, batch=1)


def test_a_module_that_is_not_series_parallel_imports_exactly(tmp_path: Path) -> None:
    from convcalc.bridges.importer import import_model  # noqa: PLC0415 - needs torch

    torch.manual_seed(0)
    net = Bridge().eval()
    _randomise_norms(net)
    text = import_model("bridge.py:Bridge", "12x10x3", model=net).text
    assert "from: [" in text
    spec = load_spec("bridge.yaml", text)
    report = analyze(spec)
    assert report.ok
    assert report.totals.params == sum(p.numel() for p in net.parameters())
    assert report.totals.macs == _flops(net, torch.zeros(1, 3, 12, 10)) // 2
    _same_outputs(net, spec, net.state_dict(), tmp_path)
