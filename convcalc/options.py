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


class Keeps(str, Enum):
    """What an activation's backward reads, measured with PyTorch 2.13 (convcalc.kinds.saved)."""

    NOTHING = "nothing"  # no op at all (identity)
    OUTPUT = "output"  # a derivative written in the result (relu, sigmoid, tanh, softmax)
    INPUT = "input"
    INPUT_AND_ONE_MORE = "input and one more"  # softsign is Python, x / (1 + |x|): x and 1 + |x|


class ActivationFunction(str, Enum):
    """The activation functions a layer may fuse (`activation: relu`) or stand alone as a row, with their vocabulary.

    Each member carries its PyTorch function (`F.relu`, with its keyword arguments; "" for no op),
    what its backward keeps, the torch.nn classes and the torch functions and tensor methods that
    are it (what `convcalc import` reads from a traced model), and its ONNX operators. This is the
    one table of activations: the spec's names, the export's steps, the training memory and the
    importer all read it.
    """

    torch: str
    kwargs: tuple[tuple[str, int], ...]
    keeps: Keeps
    modules: tuple[str, ...]
    functions: tuple[str, ...]
    onnx: tuple[str, ...]
    full_on_cuda: bool  # torch.amp autocasts it to float32 on CUDA (its float32 list)

    def __new__(  # noqa: PLR0913, PLR0917, PYI034 - one argument per field of the table; Self is Python 3.11
        cls,
        value: str,
        torch: str,
        keeps: Keeps,
        modules: tuple[str, ...] = (),
        functions: tuple[str, ...] = (),
        onnx: tuple[str, ...] = (),
        kwargs: tuple[tuple[str, int], ...] = (),
        full_on_cuda: bool = False,  # noqa: FBT001, FBT002 - a column of the table
    ) -> ActivationFunction:
        member = str.__new__(cls, value)
        member._value_ = value
        member.torch, member.keeps, member.kwargs = torch, keeps, kwargs
        member.modules, member.functions, member.onnx = modules, functions, onnx
        member.full_on_cuda = full_on_cuda
        return member

    RELU = ("relu", "F.relu", Keeps.OUTPUT, ("ReLU",), ("relu", "relu_"), ("Relu",))
    RELU6 = ("relu6", "F.relu6", Keeps.INPUT, ("ReLU6",), ("relu6",))  # ONNX: Clip(0, 6), read by the kind
    LEAKY_RELU = ("leaky_relu", "F.leaky_relu", Keeps.INPUT, ("LeakyReLU",), ("leaky_relu",), ("LeakyRelu",))
    ELU = ("elu", "F.elu", Keeps.INPUT, ("ELU",), ("elu",), ("Elu",))
    SELU = ("selu", "F.selu", Keeps.INPUT, ("SELU",), ("selu",), ("Selu",))
    CELU = ("celu", "F.celu", Keeps.INPUT, ("CELU",), ("celu",), ("Celu",))
    GELU = ("gelu", "F.gelu", Keeps.INPUT, ("GELU",), ("gelu",), ("Gelu",))
    SILU = ("silu", "F.silu", Keeps.INPUT, ("SiLU",), ("silu",))
    SWISH = ("swish", "F.silu", Keeps.INPUT)  # silu's other name: read back as silu
    MISH = ("mish", "F.mish", Keeps.INPUT, ("Mish",), ("mish",), ("Mish",))
    SIGMOID = ("sigmoid", "torch.sigmoid", Keeps.OUTPUT, ("Sigmoid",), ("sigmoid",), ("Sigmoid",))
    HARDSIGMOID = ("hardsigmoid", "F.hardsigmoid", Keeps.INPUT, ("Hardsigmoid",), ("hardsigmoid",), ("HardSigmoid",))
    TANH = ("tanh", "torch.tanh", Keeps.OUTPUT, ("Tanh",), ("tanh",), ("Tanh",))
    HARDTANH = ("hardtanh", "F.hardtanh", Keeps.INPUT, ("Hardtanh",), ("hardtanh",))
    HARDSWISH = ("hardswish", "F.hardswish", Keeps.INPUT, ("Hardswish",), ("hardswish",), ("HardSwish",))
    SOFTPLUS = ("softplus", "F.softplus", Keeps.INPUT, ("Softplus",), ("softplus",), ("Softplus",), (), True)
    SOFTSIGN = ("softsign", "F.softsign", Keeps.INPUT_AND_ONE_MORE, ("Softsign",), ("softsign",), ("Softsign",))
    SOFTMAX = ("softmax", "F.softmax", Keeps.OUTPUT, ("Softmax",), ("softmax",), ("Softmax",), (("dim", 1),), True)
    LOG_SOFTMAX = (
        "log_softmax",
        "F.log_softmax",
        Keeps.OUTPUT,
        ("LogSoftmax",),
        ("log_softmax",),
        ("LogSoftmax",),
        (("dim", 1),),  # over the channels
        True,
    )
    IDENTITY = ("identity", "", Keeps.NOTHING, ("Identity",))


# The activations' names, in the table's order (the spec's vocabulary, its schema and its docs).
ACTIVATIONS = tuple(a.value for a in ActivationFunction)
