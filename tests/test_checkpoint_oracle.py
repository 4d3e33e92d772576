"""`checkpoint: true` against PyTorch (issue 26): what autograd keeps, and what backward runs again.

The module is `convcalc.pytorch.to_module(spec)`, whose checkpointed blocks run under
torch.utils.checkpoint(use_reentrant=False); the exported file is written the same way. What
autograd keeps is measured under saved_tensors_hooks (tests/test_training_oracle.py: the block's
input is what checkpoint saves), and what backward runs again with FlopCounterMode: a training
step's FLOPs with the blocks checkpointed, less without, halved, are the recompute's MACs.
"""

from __future__ import annotations

import importlib.util
from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from checkpoint_cases import SMALL, resnet50_stages  # type: ignore[import-not-found]
from test_training_oracle import measure  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.engine.training import training
from convcalc.export import class_name, to_pytorch_source

if TYPE_CHECKING:
    from pathlib import Path

    import torch

    from convcalc.spec.model import Spec
else:
    torch = pytest.importorskip("torch")

pytestmark = [pytest.mark.torch, pytest.mark.slow]


def flops(module: torch.nn.Module, x: torch.Tensor) -> int:
    """FLOPs of one forward and backward (torch's count: 2 per multiply-accumulate, bias left out)."""
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415 - imports torch's counter

    with FlopCounterMode(display=False) as counter:
        module(x).sum().backward()
    return int(counter.get_total_flops())


def plain(spec: Spec) -> Spec:
    """The same network, nothing checkpointed."""
    text = spec_text(spec).replace("checkpoint: true", "checkpoint: false")
    return replace(load_spec(spec.source, text), batch=spec.batch)


TEXTS: dict[str, str] = {}


def spec_text(spec: Spec) -> str:
    return TEXTS[spec.source]


def spec_of(name: str, text: str, batch: int = 1) -> Spec:
    TEXTS[name] = text
    return replace(load_spec(name, text), batch=batch)


RECOMPUTED: dict[tuple[str, int], int] = {}  # (spec text, batch) -> the measured MACs: each measured once per file


def recompute_measured(spec: Spec) -> int:
    key = spec_text(spec), spec.batch
    if key not in RECOMPUTED:
        RECOMPUTED[key] = _recompute(spec)
    return RECOMPUTED[key]


def _recompute(spec: Spec) -> int:
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    v = spec.input
    torch.manual_seed(0)
    x = torch.randn(spec.batch, v.depth, *v.spatial)
    with_ = to_module(spec).module.train()
    without = to_module(plain(spec)).module.train()
    without.load_state_dict(with_.state_dict())
    extra = flops(with_, x) - flops(without, x)
    assert extra % 2 == 0
    return extra // 2


CASES = {"resnet50 stages": resnet50_stages(), **SMALL}


@pytest.mark.parametrize("name", list(CASES))
def test_checkpointed_blocks_keep_what_pytorch_keeps_and_recompute_what_it_runs_again(name: str) -> None:
    for batch in (1, 2):
        spec = spec_of(f"{name}.yaml", CASES[name], batch)
        block = training(spec, analyze(spec)).training
        assert block is not None
        assert block.saved == measure(spec), f"batch {batch}"
        assert block.recompute_macs == recompute_measured(spec), f"batch {batch}"
        unchecked = training(plain(spec), analyze(plain(spec))).training
        assert unchecked is not None
        assert unchecked.recompute_macs == 0
        assert block.saved < unchecked.saved


def test_resnet50_stages_recompute_one_more_forward_of_the_stages() -> None:
    spec = spec_of("r50.yaml", resnet50_stages())
    report = analyze(spec)
    stages = {n.path for n in spec.layers[4:8]}
    assert [n.name for n in spec.layers[4:8]] == ["layer1", "layer2", "layer3", "layer4"]
    own = sum(r.macs for r in report.rows if r.path.split(".")[0] in stages)
    block = training(spec, report).training
    assert block is not None
    assert block.recompute_macs == own == recompute_measured(spec)
    assert report.totals.macs == 4_089_184_256  # checkpointing changes no figure of the forward


@pytest.mark.parametrize("name", ["resnet50 stages", "residual and parallel", "concat and the input"])
def test_exported_file_checkpoints_and_computes_what_to_module_does(name: str, tmp_path: Path) -> None:
    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    spec = spec_of(f"{name}.yaml", CASES[name], 2)
    source = to_pytorch_source(spec, analyze(spec), "test")
    assert "checkpoint(self.run_" in source
    assert "use_reentrant=False" in source
    path = tmp_path / "net.py"
    path.write_text(source, encoding="utf-8")
    loaded = importlib.util.spec_from_file_location("net", path)
    assert loaded is not None
    assert loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    exported = getattr(module, class_name(spec.name))()
    built = to_module(spec).module
    exported.load_state_dict(built.state_dict())
    x = torch.randn(2, 3, *spec.input.spatial)
    exported.train()
    built.train()
    torch.testing.assert_close(exported(x), built(x))
    block = training(spec, analyze(spec)).training
    assert block is not None
    assert kept(exported, x) == block.saved


def kept(module: torch.nn.Module, x: torch.Tensor) -> int:
    """Bytes autograd keeps for one forward of a module, each storage once, parameters and buffers left out."""
    own = {t.untyped_storage().data_ptr() for t in (*module.parameters(), *module.buffers())}
    seen: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in own:
            seen[storage.data_ptr()] = storage.nbytes()
        return t.detach()  # no reference cycle through the graph (test_training_oracle.py says why)

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = module(x)
    del out
    return sum(seen.values())
