"""pixel_shuffle against PyTorch's PixelShuffle: the volume, and the refusals, on random shapes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from convcalc.cli import main

torch = pytest.importorskip("torch")

pytestmark = pytest.mark.torch


def convcalc_row(volume: str, layer: str) -> dict[str, object]:
    spec = f"input: {volume}\nlayers:\n  - {layer}\n"
    result = CliRunner().invoke(main, ["show", "-", "--format", "json"], input=spec)
    assert result.exit_code in {0, 1}, result.output
    row: dict[str, object] = json.loads(result.stdout)["layers"][1]
    return row


@given(
    r=st.integers(1, 4),
    channels=st.integers(1, 40),
    height=st.integers(1, 9),
    width=st.integers(1, 9),
)
def test_the_volume_is_pytorchs(r: int, channels: int, height: int, width: int) -> None:
    row = convcalc_row(f"{height}x{width}x{channels}", f"pixel_shuffle{r}")
    x = torch.zeros(1, channels, height, width)
    if channels % (r * r):
        with pytest.raises(RuntimeError, match="divisible"):
            torch.nn.PixelShuffle(r)(x)
        assert row["output"] is None
        assert [d["code"] for d in row["diagnostics"]] == ["depth-not-divisible"]  # type: ignore[attr-defined]
        return
    out = torch.nn.PixelShuffle(r)(x)
    assert row["output"] == [*out.shape[2:], out.shape[1]]
    assert row["params"] == 0
    assert row["activations"] == out.numel()


@pytest.mark.parametrize("volume", ["{length: 16, depth: 8}", "4x4x4x8", "64"])
def test_only_a_2d_volume_is_shuffled(volume: str) -> None:
    # PyTorch reads the last two dims of any tensor as height and width; convcalc's volumes say
    # which dims are spatial, so a 1-D or 3-D volume (or a vector) is an error, not a guess.
    row = convcalc_row(volume, "pixel_shuffle2")
    assert [d["code"] for d in row["diagnostics"]] in (  # type: ignore[attr-defined]
        ["needs-2d-input"],
        ["needs-spatial-input"],
    )
