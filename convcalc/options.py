"""Closed vocabularies of the spec format, as enums converted once at the boundary."""

from __future__ import annotations

from enum import Enum


class Rounding(str, Enum):
    """What to do when a stride does not fit (DESIGN §3)."""

    STRICT = "strict"
    FLOOR = "floor"
    CEIL = "ceil"


class DType(str, Enum):
    """Value types, with the bytes each value takes."""

    FLOAT64 = "float64"
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    INT8 = "int8"
    UINT8 = "uint8"

    @property
    def bytes(self) -> int:
        """Bytes per value."""
        return _BYTES[self]


_BYTES = {
    DType.FLOAT64: 8,
    DType.FLOAT32: 4,
    DType.FLOAT16: 2,
    DType.BFLOAT16: 2,
    DType.INT8: 1,
    DType.UINT8: 1,
}


class PoolType(str, Enum):
    """Max or average pooling."""

    MAX = "max"
    AVG = "avg"


# Activation functions a layer may fuse (`activation: relu`) or stand alone as a row.
ACTIVATIONS = (
    "relu",
    "relu6",
    "leaky_relu",
    "elu",
    "selu",
    "celu",
    "gelu",
    "silu",
    "swish",
    "mish",
    "sigmoid",
    "hardsigmoid",
    "tanh",
    "hardtanh",
    "hardswish",
    "softplus",
    "softsign",
    "softmax",
    "log_softmax",
    "identity",
)
