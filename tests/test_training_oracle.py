"""PyTorch as the oracle of training memory: what autograd keeps, and what torch.optim holds.

Every figure here is measured on the module `convcalc.pytorch.to_module` builds from the spec:
one forward pass in train mode under `torch.autograd.graph.saved_tensors_hooks`, on CPU, in
float32, each storage counted once (by its address), parameters and buffers left out, the input
counted when an op keeps it. The rules (convcalc.kinds.saved) were measured with torch 2.13.0;
CI pins that version. convcalc's figure must equal the measurement to the byte.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from convcalc import analyze, load_spec
from convcalc.builtins import builtin_names, open_spec
from convcalc.engine.training import Optimizer, training
from convcalc.kinds import registry

if TYPE_CHECKING:
    import torch

    from convcalc.kinds.base import Kind
    from convcalc.spec.model import Spec
else:
    torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


def measured(spec: Spec) -> int:
    """Bytes autograd keeps for one forward pass of the spec's module, in train mode, on CPU."""
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    module = to_module(spec).module
    module.train()
    own = {t.untyped_storage().data_ptr() for t in (*module.parameters(), *module.buffers())}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in own:
            kept[storage.data_ptr()] = storage.nbytes()
        return t  # the graph holds it: no other tensor reuses its address while we count

    v = spec.input
    torch.manual_seed(0)
    x = torch.randn(spec.batch, v.depth, *v.spatial)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = module(x)
    del out
    return sum(kept.values())


def computed(spec: Spec) -> int:
    report = training(spec, analyze(spec))
    assert report.training is not None
    assert sum(r.saved or 0 for r in report.rows) == report.training.saved  # the rows add up
    return report.training.saved


@pytest.mark.slow  # 13 specs, two batches each: about 110 s on 2 shared cores (the VGGs are 60 of it)
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtin_spec_keeps_what_pytorch_keeps(name: str) -> None:
    for batch in (1, 8):
        spec = replace(open_spec(name), batch=batch)
        assert computed(spec) == measured(spec), f"{name} at batch {batch}"


def _one_layer(kind: Kind, *, after_conv: bool) -> str:
    """The kind's example, first (its input needs no gradient) or after a conv (it does)."""
    volume, layer = kind.example
    first = [f"conv1-{volume.split('x')[-1]}"] if after_conv and "x" in volume else []
    return f"input: {volume}\nlayers:\n" + "".join(f"  - {line}\n" for line in (*first, layer))


# Beyond each kind's example: every activation alone and fused, the padded copies an uneven pad
# makes, the pools' special cases, the merges and the activation after a residual's merge.
CASES = {
    **{
        f"{f}-alone": f"input: 6x6x4\nlayers: [conv1-4, {f}, conv1-4]"
        for f in ("relu", "relu6", "leaky_relu", "elu", "gelu", "silu", "sigmoid", "tanh", "softsign", "identity")
    },
    **{
        f"{f}-fused": f"input: 6x6x4\nlayers: [{{conv: {{filters: 4, size: 3, activation: {f}}}}}, fc-3]"
        for f in ("relu", "silu", "hardswish", "softmax", "softsign", "identity")
    },
    "same-uneven-conv": "input: 7x7x3\nlayers: [conv3-4 s2 psame, maxpool2 s2 psame]",
    "ceil-conv-and-pool": "input: 8x8x3\nrounding: ceil\nlayers: [conv3-4 s2, maxpool3 s2]",
    "pools": "input: 9x9x3\nlayers: [conv1-4, avgpool3 s2 p1, adaptive_maxpool2, adaptive_avgpool1, gmp]",
    "gap-first": "input: 5x5x3\nlayers: [gap, fc-2]",
    "pool-first": "input: 8x8x3\nlayers: [maxpool, bn, relu, lrn]",
    "lrn-vector": "input: 12\nlayers: [fc-8, lrn: 3, dropout: 0.0, dropout, fc-2]",
    "1d-and-3d": "input: 16x3\nlayers: [conv3-4, maxpool, bn, gmp]",
    "3d": "input: 4x6x6x2\nlayers: [conv3-4 p1, {groupnorm: 2}, layernorm, maxpool, upsample]",
    "deconv": "input: 4x4x8\nlayers: [{deconv: {filters: 4, size: 4, stride: 2, pad: 1, activation: tanh}}]",
    "residual-silu": (
        "input: 8x8x4\nlayers:\n  - residual: {layers: [conv3-4 p1, bn], activation: silu}\n"
        "  - residual: {layers: [conv3-8 s2 p1, bn, relu], shortcut: auto, activation: relu}\n"
        "  - residual: {layers: [conv1-4], merge: concat}"
    ),
    "squeeze-excitation": (
        "input: 6x6x8\nlayers:\n  - conv1-8\n"
        "  - parallel: {branches: [[], [gap, fc-2, relu, fc-8, sigmoid], [conv1-8]], merge: multiply}\n"
        "  - parallel: {branches: [[conv1-8], [maxpool3 s1 p1]], merge: add}"
    ),
    "multiply-first": "input: 4x4x2\nlayers:\n  - parallel: {branches: [[], [relu]], merge: multiply}\n  - conv1-2",
}


def _specs() -> dict[str, str]:
    kinds = {
        f"{k.name}-{where}": _one_layer(k, after_conv=where == "after")
        for k in registry.REGISTERED
        for where in ("first", "after")
    }
    return {**kinds, **CASES}


@pytest.mark.slow  # about 60 small networks: 8 s
@pytest.mark.parametrize(("name", "text"), list(_specs().items()), ids=list(_specs()))
def test_every_kind_and_merge_keeps_what_pytorch_keeps(name: str, text: str) -> None:
    spec = load_spec(f"{name}.yaml", text)
    for batch in (1, 3):
        at = replace(spec, batch=batch)
        assert computed(at) == measured(at), f"batch {batch}"


OPTIMIZERS: dict[Optimizer, Any] = {
    Optimizer.SGD: lambda p: torch.optim.SGD(p, lr=0.1),
    Optimizer.MOMENTUM: lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
    Optimizer.ADAM: torch.optim.Adam,
    Optimizer.ADAMW: torch.optim.AdamW,
}


@pytest.mark.parametrize("optimizer", list(Optimizer), ids=lambda o: o.value)
def test_weights_gradients_buffers_and_optimizer_state_are_what_torch_holds(optimizer: Optimizer) -> None:
    """After one step, in float32 on CPU: every byte of torch.optim's state, and of the model."""
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    spec = load_spec(
        "small.yaml",
        "input: 8x8x3\nlayers: [conv3-8 p1, bn, relu, {conv: {filters: 4, size: 1, bias: false}}, maxpool, fc-10]",
    )
    block = training(spec, analyze(spec), optimizer=optimizer).training
    assert block is not None
    module = to_module(spec).module
    module.train()
    step = OPTIMIZERS[optimizer](module.parameters())
    module(torch.randn(2, 3, 8, 8)).sum().backward()
    step.step()

    def nbytes(tensors: Any) -> int:
        return sum(t.untyped_storage().nbytes() for t in tensors)

    state = [t for s in step.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    assert nbytes(state) == block.optimizer_state
    assert nbytes(module.parameters()) == block.weights
    assert nbytes(p.grad for p in module.parameters()) == block.gradients
    assert nbytes(module.buffers()) == block.buffers
