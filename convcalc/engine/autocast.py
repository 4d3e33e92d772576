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
- the class token's cat and the position embedding's add join a float32 parameter to their
  input: PyTorch promotes, so they give float32 after a 16-bit patchify (measured on CPU);
- every other op runs in its input's type, a merge in the widest of its operands' (autocast's
  promote list has cat; add and mul promote as PyTorch always does).

The network's input is float32. Measured on CPU under `torch.autocast("cpu", dtype=torch.bfloat16)`
(tests/test_amp_oracle.py); both 16-bit types are 2 bytes, so the CPU figure is the CUDA one
wherever the two lists agree. Not modelled: lrn (its avg_pool3d runs in float32 on CPU and makes
its output float32), counted in its input's type.

Each kind names its rule (`Kind.autocast`, convcalc.kinds.amp); this module only reads it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.amp import FULL, HALF, Autocast, full_on_cuda
from convcalc.kinds.registry import KINDS

if TYPE_CHECKING:
    from convcalc.report import LayerRow

__all__ = ["FULL", "HALF", "activation_type", "lowered", "op_type", "weight_copy"]


def _rule(row: LayerRow) -> Autocast:
    """The row's kind's rule (convcalc.kinds.amp); a row of no kind (a merge) runs in its input's type."""
    kind = KINDS.get(row.kind)
    return kind.autocast_rule(row.config) if kind is not None else Autocast.INPUT


def lowered(row: LayerRow) -> bool:
    """Whether autocast runs the row's op in 16 bits (a conv, deconv or fc)."""
    return _rule(row).lowered


def activation_type(function: str | None, *, cuda: bool) -> int | None:
    """The type an activation runs in: FULL where autocast casts it to float32, else None (its input's)."""
    return FULL if cuda and full_on_cuda(function) else None


def op_type(row: LayerRow, size: int, *, cuda: bool) -> int:
    """The bytes per value `row`'s op runs in (and gives), on an input of `size` bytes per value."""
    rule = _rule(row)
    if rule.lowered:
        return HALF
    if rule is Autocast.PROMOTE:  # a float32 parameter joins the input: the op gives float32
        return FULL
    if cuda and rule is Autocast.FULL_ON_CUDA:
        return FULL
    three_d = row.input is not None and len(row.input.spatial) == 3  # noqa: PLR2004 - volumetric
    if not cuda and three_d and rule is Autocast.FULL_3D_ON_CPU:
        return FULL
    return size


def weight_copy(row: LayerRow, *, input_grad: bool) -> int:
    """Bytes of the 16-bit weight copy a conv, deconv or fc keeps for backward (0 for other rows)."""
    rule = _rule(row)
    if rule is Autocast.LOWER or (rule is Autocast.LOWER_LINEAR and input_grad):
        return row.weights * HALF
    return 0
