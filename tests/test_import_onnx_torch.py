"""`convcalc import` of torchvision's models as torch 2.13 exports them: by default (dynamo), and the legacy way.

`torch.onnx.export(model, (x,), path)` is the dynamo exporter (it needs onnxscript): global
average pooling is a ReduceMean, torch.flatten a Reshape, names are in each node's metadata, each
batchnorm after a conv is folded into it and a bias that is zero is removed. The legacy exporter
(`dynamo=False`) folds the batchnorms too (constant folding is its default). Either way the spec
has the model's params less those of the folded batchnorms, and the note says how many: the
folded pairs and their values come from PyTorch's own graph and weights here, not from convcalc.
All slow: each model is exported at 224x224.
"""

from __future__ import annotations

import re
import warnings
from typing import TYPE_CHECKING, Any

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.torchvision_models.
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.bridges.importer import import_model
from convcalc.engine.analyze import analyze
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.slow, pytest.mark.torch]
torch = pytest.importorskip("torch")
pytest.importorskip("onnx")

MODELS = ["resnet18", "mobilenet_v2", "densenet121"]
# The rows both imports have, whatever was folded: the layers with weights or a window.
COMPARED = {"conv", "fc", "pool", "global_pool"}


def _export(model: Any, path: Path, *, dynamo: bool) -> None:
    if dynamo:
        pytest.importorskip("onnxscript")  # the dynamo exporter's translation to ONNX
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice, the dynamo one's notes
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=dynamo, verbose=False)


def _folded(model: Any, *, dynamo: bool) -> tuple[int, int]:
    """The params the folded batchnorms lose, and those of the biases the exporter gives their convs.

    A batchnorm folds into the conv before it when nothing else reads the conv (PyTorch's graph
    says which); it loses its weight and bias (2·C). The legacy exporter gives the conv a bias
    (C); the dynamo exporter too, unless the folded bias is all zeros (an untrained batchnorm's:
    beta − gamma·mean/√(var + ε) = 0), which it removes.
    """
    traced = torch.fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    lost = added = 0
    for n in traced.graph.nodes:
        if n.op != "call_module" or type(modules[n.target]).__name__ != "BatchNorm2d":
            continue
        before = n.args[0]
        if before.op != "call_module" or type(modules[before.target]).__name__ != "Conv2d" or len(before.users) != 1:
            continue
        conv, bn = modules[before.target], modules[n.target]
        lost += 2 * bn.num_features
        bias = bn.bias - bn.weight * bn.running_mean / torch.sqrt(bn.running_var + bn.eps)
        if conv.bias is None and (not dynamo or bool(bias.abs().max() > 0)):
            added += conv.out_channels
    return lost, added


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
@pytest.mark.parametrize("name", MODELS)
def test_a_default_export_imports_with_the_models_params_less_the_folded_batchnorms(
    name: str, *, dynamo: bool, tmp_path: Path
) -> None:
    torch.manual_seed(0)
    model = getattr(models(), name)(weights=None).eval()
    path = tmp_path / f"{name}.onnx"
    _export(model, path, dynamo=dynamo)
    text = import_model(str(path)).text
    report = analyze(load_spec("imported.yaml", text))
    assert not [d for d in report.diagnostics if d.severity.value == "error"]
    lost, added = _folded(model, dynamo=dynamo)
    assert lost  # every one of these models has convs followed by a batchnorm
    assert report.totals.params == sum(p.numel() for p in model.parameters()) - lost + added
    note = re.search(r"the model has ([\d,]+) params more than this spec", text)
    assert note is not None, text
    assert int(note.group(1).replace(",", "")) == lost - added
    # The same layers, with the same volumes and MACs, as the model traced by torch.fx.
    traced = analyze(load_spec("traced.yaml", import_model(f"torchvision.models:{name}", model=model).text))
    rows = [(r.kind, r.output, r.macs) for r in report.rows if r.kind in COMPARED]
    assert rows == [(r.kind, r.output, r.macs) for r in traced.rows if r.kind in COMPARED]
