"""The kinds' torch and ONNX names are PyTorch's and ONNX's own, and the activations' table is one.

Each kind declares the torch.nn classes, torch functions and ONNX operators `convcalc import`
reads as it (convcalc.kinds.vocab); a name misspelt there would never match a model. These tests
look each one up in torch and in onnx's operator schemas.
"""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest

from convcalc.kinds import fromtorch, registry
from convcalc.kinds.plan import ACTIVATION_STEPS
from convcalc.kinds.saved import KEEPS_OUTPUT, NO_OP
from convcalc.kinds.vocab import Call
from convcalc.options import ACTIVATIONS, ActivationFunction, Keeps


def test_every_activation_is_one_member_with_its_step_and_what_it_keeps() -> None:
    assert tuple(a.value for a in ActivationFunction) == ACTIVATIONS
    assert ActivationFunction.RELU.value == "relu"
    assert ActivationFunction.RELU.functions == ("relu", "relu_")
    assert ACTIVATION_STEPS["identity"] == ()
    assert {a.value for a in ActivationFunction if a.keeps is Keeps.OUTPUT} == KEEPS_OUTPUT
    assert {"identity"} == NO_OP
    for a in ActivationFunction:
        assert bool(a.torch) == bool(ACTIVATION_STEPS[a.value])


def test_a_call_reads_an_argument_by_keyword_or_place() -> None:
    call = Call("dropout", ("x", 0.2), {"inplace": True})
    assert call.arg(1, "p", 0.5) == 0.2
    assert call.arg(2, "training", "default") == "default"
    assert Call("dropout", ("x",), {"p": 0.1}).arg(1, "p", 0.5) == 0.1


def test_a_name_two_kinds_declare_is_read_by_the_first() -> None:
    fc = registry.KINDS["fc"]
    with registry.using((*registry.REGISTERED, fc)):  # listed twice: the first one reads Linear
        assert registry.torch_modules()["Linear"] is fc.torch_modules[0].read


@pytest.mark.slow  # torch's import
@pytest.mark.torch
def test_every_torch_name_a_kind_declares_is_torchs() -> None:
    torch = pytest.importorskip("torch")
    # torchvision's own modules and fx-wrapped functions that its models use (issue 25), on the bare
    # package `convcalc import` loads where torchvision's C extension does not.
    from convcalc.bridges.importer import torchvision_models  # noqa: PLC0415 - imports torch

    torchvision_models.models()
    ops, convnext, vit = (
        importlib.import_module(f"torchvision.{m}") for m in ("ops", "models.convnext", "models.vision_transformer")
    )
    # convcalc's own token modules, those of an exported spec, read back by `convcalc import` (issue 27).
    own = importlib.import_module("convcalc.bridges.modules")
    for name in registry.torch_modules():
        classes = (torch.nn, ops, convnext, vit, own)
        assert any(isinstance(getattr(place, name, None), type) for place in classes), name
    for name in registry.torch_functions():
        places = (torch.nn.functional, torch, torch.Tensor, ops)
        assert any(callable(getattr(place, name, None)) for place in places), name
    for a in ActivationFunction:
        if a.torch:
            space, _, function = a.torch.partition(".")
            assert callable(getattr({"F": torch.nn.functional, "torch": torch}[space], function)), a


def test_every_onnx_operator_a_kind_declares_is_onnxs() -> None:
    onnx = pytest.importorskip("onnx")
    for op in registry.onnx_ops():
        assert onnx.defs.has(op), op


def test_the_torch_readers_leave_out_what_the_kind_cannot_be() -> None:
    """A module's attributes, as torch.nn names them, on stand-ins: what is no convcalc layer reads as None."""
    conv = {"out_channels": 8, "in_channels": 3, "kernel_size": (3, 3), "stride": (1, 1), "dilation": (1, 1)}
    conv |= {"groups": 1, "bias": object(), "padding": "valid"}
    assert fromtorch.conv(SimpleNamespace(**conv, padding_mode="zeros")) == {"conv": {"filters": 8, "size": 3}}
    assert fromtorch.conv(SimpleNamespace(**conv, padding_mode="reflect")) is None
    assert fromtorch.batchnorm(SimpleNamespace(track_running_stats=False, affine=True)) is None
    assert fromtorch.batchnorm(SimpleNamespace(track_running_stats=True, affine=False)) == {"bn": {"affine": False}}
    assert fromtorch.flatten(SimpleNamespace(start_dim=0, end_dim=-1)) is None
    for mode, scale, layer in (
        ("bilinear", 2.0, None),
        ("nearest", None, None),
        ("nearest", 1.5, None),
        ("nearest", 2.0, {"upsample": 2}),
        ("nearest", (2.0, 3.0), {"upsample": [2, 3]}),
    ):
        assert fromtorch.upsample(SimpleNamespace(mode=mode, scale_factor=scale)) == layer, (mode, scale)
