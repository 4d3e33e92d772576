"""ONNX operators as convcalc's layers, each checked against the shapes it reads.

A node convcalc has a kind for becomes that layer, as the kind reads it (`Kind.onnx_ops`,
convcalc.kinds.fromonnx); a node that is malformed (a conv whose weight does not fit its input's
channels, pads that are not a begin and an end per spatial dim, a pool with no kernel) is refused
with a message naming it, since a spec written from it would compute something else. A node
convcalc has no kind for is left without a layer (an unsupported op).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer.onnxcheck import label
from convcalc.errors import OnnxError
from convcalc.kinds import registry

if TYPE_CHECKING:
    from convcalc.bridges.importer.graph import Op

MERGES = {"Add": "add", "Concat": "concat", "Mul": "multiply"}
VIEWS = {"Flatten", "Reshape", "Identity"}  # functions, not modules, in PyTorch's exporters' names


@dataclass(frozen=True, slots=True)
class Node:
    """One node and what it reads: its attributes, its weights' dims, its small constants, its input's dims."""

    proto: Any
    attrs: dict[str, Any]
    sizes: list[list[int] | None]  # per input: the weight's dims, None when it is no weight
    values: dict[str, Any]  # small constants it reads, by name (Clip's bounds, ReduceMean's axes)
    dims: tuple[int, ...]  # its first input's dims (N, C, spatial); () or 0s where not known
    out: tuple[int, ...]  # its output's dims
    zero_bias: bool = False  # a bias the exporter removed because it was zero (the model has it)

    def bad(self, what: str) -> OnnxError:
        """The error for a malformed node: its name, its op, and what is wrong."""
        return OnnxError(f"{label(self.proto)} is malformed: {what}")

    def ints(self, name: str, n: int, default: int, least: int) -> list[int]:
        """An attribute of one whole number per dim (strides, dilations), each at least `least`."""
        value = self.attrs.get(name, [default] * n)
        if not isinstance(value, list) or len(value) != n or any(not isinstance(v, int) or v < least for v in value):
            msg = f"{name} {value!r} must be {n} whole numbers of at least {least}, one per spatial dim"
            raise self.bad(msg)
        return value

    def channels(self) -> int:
        """Its input's channels, 0 where shape inference did not give them."""
        return self.dims[1] if len(self.dims) > 1 else 0


def to_layer(op: Op, node: Node) -> None:
    """Give `op` the layer, merge or view of its node, or nothing where convcalc has no kind for it.

    The layer is the registered kinds' to say (`Kind.onnx_ops`), and to check: a malformed node is refused by name.
    """
    t = node.proto.op_type
    read = registry.onnx_ops().get(t)
    if read is not None:
        op.layer = read(node)
    elif t in MERGES and (len(op.inputs) > 1 or t == "Concat"):  # a Concat of one value is that value
        axis = node.attrs.get("axis")
        if t != "Concat" or (isinstance(axis, int) and axis in {1, -len(node.dims) + 1 if node.dims else -3}):
            op.merge = MERGES[t]
    elif t == "Identity":
        op.view = True
