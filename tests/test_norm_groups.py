"""Group and layer normalisation over one value per group: PyTorch refuses it, and so does convcalc."""

from __future__ import annotations

import re

import pytest

from convcalc import analyze, load_spec

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


@pytest.mark.parametrize(
    ("volume", "batch", "layer", "groups"),
    [
        ("1x1x4", 1, "groupnorm: 4", 4),
        ("1x1x8", 1, "groupnorm: 4", 4),
        ("1x1x4", 2, "groupnorm: 4", 4),
        ("2x1x4", 1, "groupnorm: 4", 4),
        ("1x1x1", 1, "layernorm", 1),
        ("1x1x2", 1, "layernorm", 1),
        ("{length: 3, depth: 1}", 1, "groupnorm: 1", 1),
    ],
)
def test_one_value_per_group_is_refused_as_pytorch_refuses_it(volume: str, batch: int, layer: str, groups: int) -> None:
    report = analyze(load_spec("n.yaml", f"input: {volume}\nbatch: {batch}\nlayers:\n  - {layer}\n"))
    row = report.rows[1]
    *spatial, depth = (int(n) for n in re.findall(r"\d+", volume))
    x = torch.zeros(batch, depth, *spatial)
    try:
        torch.nn.GroupNorm(groups, depth)(x)
    except ValueError as error:
        assert "more than 1 value" in str(error)  # noqa: PT017 - PyTorch's refusal is the oracle here
        assert [d.code for d in row.diagnostics] == ["one-value-per-group"]
        assert row.output is None
        return
    assert row.diagnostics == ()
    assert row.output is not None
