"""Stochastic depth and a squeeze-excitation's multiply, exported by convcalc and read back by the importer.

The export writes stochastic depth as kinds/regularize.py's plan (`x.unsqueeze(1)`, a channel
dropout, `.squeeze(1)`; a reshape form past 2 spatial dims and for mode batch), and a multiply of
operands of one rank as `a * b`; importer/fxdepth.py reads the first back, fxops.py the second.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest
import yaml
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.errors import ConvcalcError

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.torch
pytest.importorskip("torch")
import torch  # noqa: E402 - after the skip
from torch import nn  # noqa: E402

from convcalc.bridges.importer import import_model  # noqa: E402


def _round_trip(tmp_path: Path, spec: str) -> tuple[str, list[Any], list[Any]]:
    """The exported source, and the rows of the spec's report and of its export imported again."""
    runner = CliRunner()
    (tmp_path / "s.yaml").write_text(spec)
    module = tmp_path / "net_depth.py"
    exported = runner.invoke(main, ["export", str(tmp_path / "s.yaml"), "-o", str(module)])
    assert exported.exit_code == 0, exported.output
    volume = spec.split("input:")[1].split(maxsplit=1)[0]
    again = tmp_path / "again.yaml"
    imported = runner.invoke(main, ["import", f"{module}:S", "--input", volume, "-o", str(again)])
    assert imported.exit_code == 0, imported.output

    def rows(path: Path) -> list[Any]:
        report = json.loads(runner.invoke(main, ["show", str(path), "--format", "json"]).stdout)
        assert report["ok"], report["diagnostics"]
        # The rows that hold values, params or MACs (an in-place activation may be its conv's, imported).
        layers = [r for r in report["layers"] if r["activations"] or r.get("params") or r.get("macs")]
        return [(r["kind"], r["output"], r["params"], r["macs"], r["activations"]) for r in layers] + [report["totals"]]

    return module.read_text(), rows(tmp_path / "s.yaml"), rows(again)


@pytest.mark.parametrize(
    ("volume", "layer", "written"),
    [
        ("64", "0.2", "nn.Dropout1d"),  # a vector: N x 1 x C
        ("6x6x32", "0.25", "nn.Dropout3d"),
        ("3x3x3x8", "0.2", ".reshape(-1, 1, 216)"),  # past Dropout3d: the reshape form
        ("6x6x32", "{p: 0.3, mode: batch}", ".reshape(1, 1, -1)"),
    ],
)
def test_stochastic_depth_exported_is_read_back_with_its_p_and_mode(
    volume: str, layer: str, written: str, tmp_path: Path
) -> None:
    spec = f"name: s\ninput: {volume}\nlayers:\n  - residual:\n      layers: [relu, {{stochastic_depth: {layer}}}]\n"
    source, first, second = _round_trip(tmp_path, spec)
    assert written in source
    assert second == first
    assert _depths((tmp_path / "again.yaml").read_text()) == _depths(spec)


def _depths(text: str) -> list[Any]:
    """The spec's stochastic depths' parameters, in long form: {"p": 0.2} or {"p": 0.3, "mode": "batch"}."""
    found: list[Any] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "stochastic_depth" in node:
                p = node["stochastic_depth"]
                found.append(p if isinstance(p, dict) else {"p": p})
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(yaml.safe_load(text))
    return found


def test_a_squeeze_excitation_of_one_rank_exports_as_a_product_fx_traces(tmp_path: Path) -> None:
    spec = """name: s
input: 8x8x16
layers:
  - residual:
      layers: [gap, conv1-4, relu, conv1-16, sigmoid]
      shortcut: identity
      merge: multiply
"""
    source, first, second = _round_trip(tmp_path, spec)
    assert "x = x * identity" in source
    assert "def product" not in source
    assert second == first


def test_a_vector_times_a_volume_keeps_the_product_helper(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "name: s\ninput: 8x8x16\nlayers:\n  - residual:\n      layers: [gap, flatten, fc-16, sigmoid]\n"
        "      shortcut: identity\n      merge: multiply\n"
    )
    result = CliRunner().invoke(main, ["export", str(tmp_path / "s.yaml"), "-o", str(tmp_path / "n.py")])
    assert result.exit_code == 0, result.output
    assert "x = product(x, identity)" in (tmp_path / "n.py").read_text()


class _Drop(nn.Module):
    """A forward that is almost stochastic depth as the export writes it."""

    def __init__(self, forward: Any, drop: Any) -> None:
        super().__init__()
        self.drop = drop
        self.go = forward

    def forward(self, x: Any) -> Any:
        return self.go(self, x)


def _imported(model: nn.Module, volume: str) -> str:
    return import_model("net.py:Net", volume, model=model.eval(), opaque=True).text


def test_the_unsqueeze_dropout_squeeze_reads_as_stochastic_depth() -> None:
    text = _imported(_Drop(lambda m, x: m.drop(x.unsqueeze(1)).squeeze(1), nn.Dropout3d(0.4)), "6x6x8")
    assert _depths(text) == [{"p": 0.4}]


@pytest.mark.parametrize(
    ("forward", "drop"),
    [
        (lambda _, x: torch.relu(x.unsqueeze(1)).squeeze(1), nn.Dropout3d(0.4)),  # no dropout between
        (lambda m, x: m.drop(x.unsqueeze(1)).squeeze(1), nn.Dropout(0.4)),  # no channel dropout
        (lambda m, x: m.drop(x.unsqueeze(1)).squeeze(1), nn.Dropout2d(0.4)),  # not the dropout of that rank
        (lambda m, x: m.drop(torch.unsqueeze(x, 1)).squeeze(1), nn.Dropout3d(0.4)),  # a function, not the method
        (lambda m, x: m.drop(x.unsqueeze(2)).squeeze(2), nn.Dropout3d(0.4)),  # another dim
        (lambda m, x: m.drop(x.reshape(1, 1, 288)).reshape(1, 8, 6, 6), nn.Dropout1d(0.4)),  # neither form
        (lambda m, x: m.drop(x.reshape(1, 1, -1)).reshape(1, 8, 36), nn.Dropout1d(0.4)),  # not back to x
        (lambda m, x: m.drop(x.reshape(-1, 1, 288)).squeeze(1), nn.Dropout1d(0.4)),  # a squeeze of a reshape
        (lambda m, x: _two(m.drop(x.unsqueeze(1)))[0], nn.Dropout3d(0.4)),  # the dropout's value used twice
        (lambda m, x: _twice(x.unsqueeze(1), m), nn.Dropout3d(0.4)),  # the unsqueeze's value used twice
    ],
)
def test_ops_that_are_not_stochastic_depth_stay_what_they_are(forward: Any, drop: Any) -> None:
    try:
        text = _imported(_Drop(forward, drop), "6x6x8")
    except ConvcalcError:
        return  # refused: an op convcalc has no kind for
    assert "stochastic_depth" not in text


def _two(y: Any) -> tuple[Any, Any]:
    return y.squeeze(1), y + 1


def _twice(y: Any, m: Any) -> Any:
    return m.drop(y).squeeze(1) + y.squeeze(1)
