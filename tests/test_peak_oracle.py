"""PyTorch as the oracle of the inference peak: every storage, from the op that makes it to its release.

tests/peak_measure.py runs `convcalc.pytorch.to_module(spec)` once in eval mode under no_grad,
on CPU in float32, under a TorchDispatchMode with weakref finalizers on the storages; convcalc's
timeline (convcalc.engine.timeline) must give the same peak to the byte, and the same live bytes
after every call of the forward (each layer's module or function, each merge).
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import pytest
from apart import apart  # type: ignore[import-not-found]

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode), as training_cases.
from training_cases import SPECS  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import builtin_names, open_spec
from convcalc.engine.timeline import timeline

if TYPE_CHECKING:
    from convcalc.spec.model import Spec
else:
    pytest.importorskip("torch")

# 30 built-in cases and 59 small ones: about 225 s on 2 shared cores (U-Net and the VGGs at batch 8 most of it).
pytestmark = [pytest.mark.torch, pytest.mark.slow]

# Past this many bytes at the peak (U-Net and the VGGs at batch 8), the measurement runs in a
# process of its own (tests/apart.py), so that its gigabytes leave with it rather than stay in this heap.
IN_A_PROCESS = 400_000_000


def _measure(spec: Spec) -> tuple[int, list[int]]:
    from peak_measure import measure  # type: ignore[import-not-found]  # noqa: PLC0415 - imports torch

    peak, boundaries, _ = measure(spec)
    return peak, boundaries


def measured(spec: Spec, computed: int) -> tuple[int, list[int]]:
    if computed > IN_A_PROCESS:
        return apart(_measure, spec)  # type: ignore[no-any-return]
    return _measure(spec)


def check(spec: Spec, what: str) -> None:
    p = timeline(spec, analyze(spec))
    assert p is not None
    peak, boundaries = measured(spec, p.peak)
    lives = [e.live for e in p.events]
    assert len(lives) == len(boundaries), what
    wrong = [
        (i, e.row, e.call, e.live, b) for i, (e, b) in enumerate(zip(p.events, boundaries, strict=True)) if e.live != b
    ]
    assert not wrong, f"{what}: (event, row, call, convcalc, measured): {wrong[:3]}"
    assert p.peak == peak, f"{what}: peak at {p.row} ({p.call})"


@pytest.mark.parametrize("name", builtin_names())
@pytest.mark.parametrize("batch", [1, 8])
def test_every_builtin_specs_peak_is_pytorchs(name: str, batch: int) -> None:
    check(replace(open_spec(name), batch=batch), f"{name} at batch {batch}")


@pytest.mark.parametrize(("name", "text"), list(SPECS.items()), ids=list(SPECS))
def test_every_kind_and_merge_case_has_pytorchs_timeline(name: str, text: str) -> None:
    spec = load_spec(f"{name}.yaml", text)
    for batch in (1, 3):
        check(replace(spec, batch=batch), f"{name} at batch {batch}")
