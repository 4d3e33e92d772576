"""What torch.amp's autocast does with a kind's op: the type it runs in, the weight copy it keeps.

Each kind names its rule (`Kind.autocast`, or `Kind.autocast_rule` where a parameter decides);
convcalc.engine.autocast reads it for `--precision amp`. The op lists are torch.amp's (the
"Autocast Op Reference" of PyTorch's documentation), measured on CPU (docs/training-memory.md).
"""

from __future__ import annotations

from enum import Enum

from convcalc.options import ActivationFunction

HALF = 2  # float16 on CUDA, bfloat16 on CPU
FULL = 4  # float32


class Autocast(Enum):
    """How autocast runs one kind's op."""

    INPUT = "input"  # in its input's type
    LOWER = "lower"  # in 16 bits, keeping a 16-bit copy of its weight for backward (conv, deconv)
    LOWER_LINEAR = "lower_linear"  # in 16 bits; the weight copy only where its input needs a gradient (fc)
    FULL_ON_CUDA = "full_on_cuda"  # cast to float32 on CUDA (layer_norm, group_norm, softmax, …)
    FULL_3D_ON_CPU = "full_3d_on_cpu"  # cast to float32 on CPU for a 3-D input (max_pool3d, avg_pool3d, …)
    # A float32 parameter joins a 16-bit input (the class token's cat, the position embedding's add):
    # autocast leaves the op alone and PyTorch promotes to float32 (measured on CPU, torch 2.13).
    PROMOTE = "promote"

    @property
    def lowered(self) -> bool:
        """Whether the op runs in 16 bits whatever its input's type."""
        return self in {Autocast.LOWER, Autocast.LOWER_LINEAR}


def full_on_cuda(function: str | None) -> bool:
    """Whether autocast casts this activation function to float32 on CUDA (None: no activation)."""
    found = _FUNCTIONS.get(function) if function is not None else None
    return found is not None and found.full_on_cuda


_FUNCTIONS = {f.value: f for f in ActivationFunction}
