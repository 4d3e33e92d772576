"""`convcalc import` on torchvision's models (traced and through ONNX) and the round trip of every built-in.

All slow: each model is built, traced or exported at 224x224.
"""

from __future__ import annotations

import json
import warnings
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.torchvision_models.
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.bridges.importer import import_model
from convcalc.builtins import builtin_names, open_spec
from convcalc.cli import main
from convcalc.engine.analyze import analyze
from convcalc.export import class_name
from convcalc.spec.loader import load_spec

if TYPE_CHECKING:
    from pathlib import Path

    from convcalc.report import Report

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")  # the models are built and traced with PyTorch

MODELS = ["resnet18", "resnet50", "densenet121", "vgg16", "alexnet", "mobilenet_v2", "squeezenet1_1"]
# The kinds whose rows torchvision makes a module of, with the classes of those modules.
HOOKED = {
    "conv": ("Conv2d",),
    "fc": ("Linear",),
    "batchnorm": ("BatchNorm2d",),
    "pool": ("MaxPool2d", "AvgPool2d"),
    "adaptive_pool": ("AdaptiveAvgPool2d",),
    "global_pool": ("AdaptiveAvgPool2d",),
}


def _model(name: str) -> Any:
    import torch  # noqa: PLC0415

    torch.manual_seed(0)
    return getattr(models(), name)(weights=None).eval()


def _report(text: str) -> Report:
    return analyze(load_spec("imported.yaml", text))


def _hooked(model: Any, kinds: set[str]) -> list[tuple[str, list[int]]]:
    """(class, output in convcalc's order) of every module of the hooked classes, in the order they run."""
    import torch  # noqa: PLC0415

    classes = {c for k in kinds for c in HOOKED[k]}
    seen: list[tuple[str, list[int]]] = []
    for module in model.modules():
        if type(module).__name__ in classes:
            module.register_forward_hook(
                lambda m, _, out: seen.append((type(m).__name__, [*out.shape[2:], out.shape[1]]))
            )
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return seen


@pytest.mark.parametrize("name", MODELS)
def test_a_torchvision_model_gives_its_params_macs_and_every_modules_volume(name: str) -> None:
    model = _model(name)
    text = import_model(f"torchvision.models:{name}", model=model).text
    report = _report(text)
    assert not [d for d in report.diagnostics if d.severity.value == "error"]
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    # torchvision's published GMACs (its weights' meta "_ops"), to the decimals it gives.
    published = models().get_model_weights(name).DEFAULT.meta["_ops"]
    decimals = len(str(published).split(".")[1])
    assert round(report.totals.macs / 1e9, decimals) == published
    # Every row of a kind torchvision makes a module of, against that module's forward hook, in order.
    has_adaptive = any(type(m).__name__ == "AdaptiveAvgPool2d" for m in model.modules())
    kinds = {k for k in HOOKED if has_adaptive or k not in {"adaptive_pool", "global_pool"}}
    rows = [(r.kind, r.output.as_list()) for r in report.rows if r.kind in kinds and r.output is not None]
    hooks = _hooked(model, kinds)
    assert len(rows) == len(hooks)
    for (kind, shape), (cls, hooked) in zip(rows, hooks, strict=True):
        assert cls in HOOKED[kind]
        assert shape == hooked, (kind, cls)


def _onnx(model: Any, path: Path, *, fold: bool) -> None:
    import torch  # noqa: PLC0415

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
        torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), str(path), dynamo=False, do_constant_folding=fold)


@pytest.mark.parametrize("name", MODELS)
def test_onnx_with_batchnorm_kept_gives_the_same_params_and_volumes(name: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = _model(name)
    path = tmp_path / f"{name}.onnx"
    _onnx(model, path, fold=False)
    from_onnx = _report(import_model(str(path)).text)
    traced = _report(import_model(f"torchvision.models:{name}", model=model).text)
    assert from_onnx.totals.params == sum(p.numel() for p in model.parameters())
    assert from_onnx.totals.macs == traced.totals.macs
    volumes = [(r.kind, r.output) for r in traced.rows if r.params or r.macs]
    assert [(r.kind, r.output) for r in from_onnx.rows if r.params or r.macs] == volumes


@pytest.mark.parametrize("name", MODELS)
def test_onnx_with_batchnorm_folded_says_so_and_loses_its_params(name: str, tmp_path: Path) -> None:
    pytest.importorskip("onnx")
    model = _model(name)
    path = tmp_path / f"{name}.onnx"
    _onnx(model, path, fold=True)
    text = import_model(str(path)).text
    # The exporter folds a batchnorm into the conv it follows (PyTorch's graph says which: a conv
    # whose only user is the batchnorm); the batchnorm's 2·C params go, a bias-less conv gains C.
    import torch  # noqa: PLC0415

    traced = torch.fx.symbolic_trace(model)
    modules = dict(traced.named_modules())
    pairs = [
        (modules[n.args[0].target], modules[n.target])
        for n in traced.graph.nodes
        if n.op == "call_module"
        and type(modules[n.target]).__name__ == "BatchNorm2d"
        and n.args[0].op == "call_module"
        and type(modules[n.args[0].target]).__name__ == "Conv2d"
        and len(n.args[0].users) == 1
    ]
    lost = sum(2 * bn.num_features for _, bn in pairs)
    added = sum(conv.out_channels for conv, _ in pairs if conv.bias is None)
    assert ("# BatchNorm folded into " in text) == bool(pairs)
    assert _report(text).totals.params == sum(p.numel() for p in model.parameters()) - lost + added


def _numbers(report: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Every row that holds values, params or MACs (kind, output, params, MACs, activations), and the totals."""
    rows = [
        (r["kind"], r["output"], r["params"], r["macs"], r["activations"])
        for r in report["layers"]
        if r["activations"] or r.get("params") or r.get("macs")
    ]
    return rows, report["totals"]


# The export of stochastic_depth (x.unsqueeze(1), a channel dropout, .squeeze(1)) and of a multiply
# merge (the `product` helper, whose rank test torch.fx cannot trace) are not read back by the
# importer yet; strict, so that the day they are, this fails and the list goes.
NOT_READ_BACK = {"convnext_tiny"}  # its `scale` exports as a depthwise 1x1 conv, read back as a conv (MACs differ)


@pytest.mark.parametrize(
    "name",
    [
        pytest.param(n, marks=pytest.mark.xfail(strict=True, reason="not read back as the same kinds"))
        if n in NOT_READ_BACK
        else n
        for n in builtin_names()
    ],
)
def test_the_round_trip_of_every_builtin_gives_the_same_report(name: str, tmp_path: Path) -> None:
    pytest.importorskip("torch")
    runner = CliRunner()
    spec = open_spec(name)
    module = tmp_path / f"{name.replace('-', '_')}.py"
    exported = runner.invoke(main, ["export", name, "-o", str(module)])
    assert exported.exit_code == 0, exported.output
    volume = "x".join(map(str, spec.input.as_list()))
    again = tmp_path / "again.yaml"
    source = f"{module}:{class_name(spec.name)}"
    imported = runner.invoke(main, ["import", source, "--input", volume, "-o", str(again)])
    assert imported.exit_code == 0, imported.output
    first = json.loads(runner.invoke(main, ["show", name, "--format", "json"]).stdout)
    second = json.loads(runner.invoke(main, ["show", str(again), "--format", "json"]).stdout)
    assert second["ok"], second["diagnostics"]
    assert _numbers(second) == _numbers(first)
