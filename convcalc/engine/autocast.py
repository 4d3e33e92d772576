"""Which type each op runs in under `--precision amp` (torch.amp autocast), in bytes per value.

Autocast keeps the model's float32 weights and casts per op. convcalc follows the op lists of
torch.amp's documentation ("Autocast Op Reference", PyTorch 2.13):

- conv1d/2d/3d, conv_transpose1d/2d/3d and linear are in the lower-precision list on both CUDA
  (float16) and CPU (bfloat16): convcalc's conv, deconv and fc run in 16 bits, keep a 16-bit
  copy of their input (their input itself when it is 16-bit already) and the 16-bit copy of
  their weight that autocast makes (linear keeps it only when its input needs a gradient);
- the float32 lists: on CUDA layer_norm, group_norm, softmax, log_softmax and softplus (from
  the docs, not measured: no CUDA here); on CPU max_pool3d, avg_pool3d and adaptive_avg_pool3d
  (measured): these ops cast a 16-bit input to a float32 copy and give float32;
- every other op runs in its input's type, a merge in the widest of its operands' (autocast's
  promote list has cat; add and mul promote as PyTorch always does).

The network's input is float32. Measured on CPU under `torch.autocast("cpu", dtype=torch.bfloat16)`
(tests/test_amp_oracle.py); both 16-bit types are 2 bytes, so the CPU figure is the CUDA one
wherever the two lists agree. Not modelled: lrn (its avg_pool3d runs in float32 on CPU and makes
its output float32), counted in its input's type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.report import LayerRow

HALF = 2  # float16 on CUDA, bfloat16 on CPU
FULL = 4  # float32

LOWER = frozenset({"conv", "deconv", "fc"})
_CUDA_FULL_ACTIVATIONS = frozenset({"softmax", "log_softmax", "softplus"})
_CUDA_FULL = frozenset({"layernorm", "groupnorm"})
_CPU_FULL_3D = frozenset({"pool", "adaptive_pool"})  # max_pool3d, avg_pool3d, adaptive_avg_pool3d


def activation_type(function: str | None, *, cuda: bool) -> int | None:
    """The type an activation runs in: FULL where autocast casts it to float32, else None (its input's)."""
    return FULL if cuda and function in _CUDA_FULL_ACTIVATIONS else None


def op_type(row: LayerRow, size: int, *, cuda: bool) -> int:
    """The bytes per value `row`'s op runs in (and gives), on an input of `size` bytes per value."""
    if row.kind in LOWER:
        return HALF
    if cuda and row.kind in _CUDA_FULL:
        return FULL
    if row.kind == "activation":
        return activation_type(row.config.get("function"), cuda=cuda) or size
    three_d = row.input is not None and len(row.input.spatial) == 3  # noqa: PLR2004 - volumetric
    if not cuda and three_d and row.kind in _CPU_FULL_3D and not _adaptive_max(row):
        return FULL
    return size


def _adaptive_max(row: LayerRow) -> bool:
    """adaptive_max_pool3d is in neither list: it runs in its input's type."""
    return row.kind == "adaptive_pool" and row.config.get("type") == "max"  # a PoolType is a str


def weight_copy(row: LayerRow, *, input_grad: bool) -> int:
    """Bytes of the 16-bit weight copy a conv, deconv or fc keeps for backward (0 for other rows)."""
    if row.kind not in LOWER or (row.kind == "fc" and not input_grad):
        return 0
    return row.weights * HALF
