"""PyTorch's CPU autocast as the oracle of `--precision amp`: what autograd keeps, byte for byte.

Each network's module (`convcalc.pytorch.to_module`) runs one forward pass in train mode under
`torch.autocast("cpu", dtype=torch.bfloat16)` and `torch.autograd.graph.saved_tensors_hooks`,
each storage counted once (parameters and buffers left out, autocast's 16-bit weight copies
counted: they are not the parameters' storage). bfloat16 and CUDA's float16 are both 2 bytes.
lrn is not modelled under amp (docs/training-memory.md): there convcalc's figure is a lower bound.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.training_cases.
from training_cases import SPECS  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.engine.training import Optimizer, Precision, training

if TYPE_CHECKING:
    from collections.abc import Iterable

    import torch

    from convcalc.spec.model import Spec
else:
    torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.torch, pytest.mark.slow]
WHICH = f"the rules were measured with torch 2.13.0; this is torch {torch.__version__}"


def measure(spec: Spec) -> int:
    """Bytes autograd keeps for one forward pass under CPU autocast (bfloat16), in train mode."""
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    module = to_module(spec).module
    module.train()
    own = {t.untyped_storage().data_ptr() for t in (*module.parameters(), *module.buffers())}
    kept: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in own:
            kept[storage.data_ptr()] = storage.nbytes()
        return t.detach()  # as in tests/test_training_oracle.py: no reference cycle through the graph

    v = spec.input
    torch.manual_seed(0)
    x = torch.randn(spec.batch, v.depth, *v.spatial)
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), torch.autocast("cpu", dtype=torch.bfloat16):
        out = module(x)
    del out
    return sum(kept.values())


def computed(spec: Spec) -> int:
    report = training(spec, analyze(spec), precision=Precision.AMP)
    assert report.training is not None
    assert sum(r.saved or 0 for r in report.rows) == report.training.saved  # the rows add up
    return report.training.saved


def _has_lrn(spec: Spec) -> bool:
    return any(r.kind == "lrn" for r in analyze(spec).rows)


def _has_scale(spec: Spec) -> bool:
    return any(r.kind == "scale" for r in analyze(spec).rows)


def _tokens_not_modelled(spec: Spec) -> bool:
    """Issue 27's kinds where `--precision amp` is a lower bound (docs/attention.md).

    An attention or mlp on the network's input: autocast keeps the 16-bit weight copies of its
    later Linears even then (convcalc: none, as for fc). Attention with dropout and need_weights
    false: scaled_dot_product_attention's math path, which CPU autocast runs in float32.
    """
    rows = analyze(spec).rows
    first = len(rows) > 1 and rows[1].kind in {"attention", "mlp"}
    return first or any(
        r.kind == "attention" and not r.config.get("need_weights", True) and r.config.get("dropout", 0) > 0
        for r in rows
    )


@pytest.mark.parametrize(("name", "text"), list(SPECS.items()), ids=list(SPECS))
def test_every_kind_and_merge_under_autocast(name: str, text: str) -> None:
    spec = load_spec(f"{name}.yaml", text)
    if _has_scale(spec):
        # `scale`'s plan is a depthwise conv, which autocast runs in bfloat16 (16-bit copies of its
        # weight and input); convcalc counts what torchvision's `layer_scale * x` keeps, a multiply
        # autocast leaves alone: tests/test_zoo_kinds.py compares with that under autocast.
        pytest.skip("scale under autocast is compared with torchvision's multiply in tests/test_zoo_kinds.py")
    for batch in (1, 3):
        at = replace(spec, batch=batch)
        if _has_lrn(at) or _tokens_not_modelled(at):
            assert computed(at) <= measure(at), f"lrn, tokens: a lower bound, batch {batch} ({WHICH})"
        else:
            assert computed(at) == measure(at), f"batch {batch} ({WHICH})"


# About 10 s on 2 shared cores; the VGGs (2 s each) are represented by vgg11.
@pytest.mark.parametrize(
    "name", ["lenet5", "resnet18", "resnet50", "densenet121", "vgg11", "unet", "googlenet", "shufflenet_v2_x1_0"]
)
def test_builtin_specs_under_autocast(name: str) -> None:
    spec = open_spec(name)
    if _has_lrn(spec):  # googlenet's two LRNs
        assert computed(spec) <= measure(spec), WHICH
    else:
        assert computed(spec) == measure(spec), WHICH


def test_weights_gradients_and_adam_state_stay_float32() -> None:
    """After one step under autocast: torch.optim's state, the weights and their gradients, every byte."""
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    spec = load_spec("small.yaml", "input: 8x8x3\nlayers: [conv3-8 p1, bn, relu, maxpool, fc-10]")
    block = training(spec, analyze(spec), precision=Precision.AMP, optimizer=Optimizer.ADAM).training
    assert block is not None
    module = to_module(spec).module
    module.train()
    step = torch.optim.Adam(module.parameters())
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = module(torch.randn(2, 3, 8, 8)).float().sum()
    loss.backward()
    step.step()

    def nbytes(tensors: Iterable[torch.Tensor]) -> int:
        return sum(t.untyped_storage().nbytes() for t in tensors)

    state = [t for s in step.state.values() for t in s.values() if isinstance(t, torch.Tensor)]
    assert nbytes(state) == block.optimizer_state
    assert nbytes(module.parameters()) == block.weights
    assert nbytes(p.grad for p in module.parameters() if p.grad is not None) == block.gradients
    assert nbytes(module.buffers()) == block.buffers
