"""What a kind is called in the frameworks `convcalc import` reads: torch.nn modules, torch functions, ONNX ops.

Each kind declares its vocabularies as class attributes (`torch_modules`, `torch_functions`,
`onnx_ops`), and the importer iterates the registry: a kind that declares a torch module is
imported with no edit to the importer (docs/kinds.md, "Adding a kind"). The records hold the
framework's names and a reader from what the framework gives (a module, a call's arguments, an
ONNX node) to the layer in long form (`{"conv": {"filters": 64, "size": 3}}`, `{"relu": None}`),
or None where this one cannot be written as the kind (a conv with `padding_mode="reflect"`): it
is then an operation convcalc has no kind for. Nothing here imports torch or onnx: a reader reads
attributes by name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

Layer = dict[str, Any]  # a layer in long form: its name (a kind's or an alias) and its parameters, or None


@dataclass(frozen=True, slots=True)
class TorchModule:
    """torch.nn classes, by name, that are the kind, and how a module's attributes become the layer."""

    classes: tuple[str, ...]
    read: Callable[[Any], Layer | None]


@dataclass(frozen=True, slots=True)
class Call:
    """A traced call of a torch function or tensor method: its name and arguments (the value first)."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)

    def arg(self, at: int, name: str, default: Any) -> Any:
        """An argument given by keyword or at its place (the value is at 0), else its default."""
        return self.kwargs.get(name, self.args[at] if len(self.args) > at else default)


@dataclass(frozen=True, slots=True)
class TorchFunction:
    """Functions and tensor methods, by name (`relu`, `relu_`, `flatten`), that are the kind."""

    names: tuple[str, ...]
    read: Callable[[Call], Layer | None]


class OnnxNode(Protocol):
    """What an ONNX reader is given (convcalc.bridges.importer.onnxops.Node): the node, read and checked."""

    @property
    def proto(self) -> Any: ...  # the NodeProto: op_type, input, output, name
    @property
    def attrs(self) -> dict[str, Any]: ...
    @property
    def sizes(self) -> list[list[int] | None]: ...  # per input: the weight's dims, None when it is no weight
    @property
    def values(self) -> dict[str, Any]: ...  # small constants it reads, by name
    @property
    def dims(self) -> tuple[int, ...]: ...  # its first input's dims (N, C, spatial)
    @property
    def out(self) -> tuple[int, ...]: ...  # its output's dims
    @property
    def zero_bias(self) -> bool: ...  # a bias the exporter removed because it was zero

    def bad(self, what: str) -> Exception:
        """The error to raise for a malformed node (it names the node)."""

    def ints(self, name: str, n: int, default: int, least: int) -> list[int]:
        """An attribute of one whole number per dim, each at least `least` (else the node's error)."""

    def channels(self) -> int:
        """Its input's channels, 0 where shape inference did not give them."""


@dataclass(frozen=True, slots=True)
class OnnxOp:
    """ONNX operator types that are the kind, and how a node becomes the layer (raising `node.bad` if malformed)."""

    types: tuple[str, ...]
    read: Callable[[OnnxNode], Layer | None]


def always(layer: Layer) -> Callable[[Any], Layer]:
    """A reader that gives the same layer whatever it reads (ReLU: `{"relu": None}`)."""

    def read(_: Any) -> Layer:
        return dict(layer)

    return read


def ints(value: Any) -> int | list[int]:
    """One number when every dim has the same, else a list (as a spec writes per-dim values)."""
    if isinstance(value, int):
        return value
    values = [int(v) for v in value]
    return values[0] if len(set(values)) == 1 else values


class Vocabulary:
    """What `convcalc import` reads as a kind: every Kind has these parts (docs/kinds.md), empty unless declared."""

    # torch.nn classes by name, and how their attributes become the kind's parameters.
    torch_modules: ClassVar[tuple[TorchModule, ...]] = ()
    # torch functions and tensor methods (F.dropout, x.flatten).
    torch_functions: ClassVar[tuple[TorchFunction, ...]] = ()
    onnx_ops: ClassVar[tuple[OnnxOp, ...]] = ()
    # Kinds whose layer straight after this one becomes its parameter of that name (a conv's `activation:`).
    fuses: ClassVar[tuple[str, ...]] = ()
    # Kinds whose layer straight before this one it does itself, so an import leaves it out (an fc flattens).
    absorbs: ClassVar[tuple[str, ...]] = ()
