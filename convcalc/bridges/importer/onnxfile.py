"""An ONNX file as a graph: its nodes, its weights' shapes, and its volumes from ONNX's shape inference.

Only the `onnx` package is needed (no torch, no runtime): the volumes are what
`onnx.shape_inference` infers, the parameter counts are the initializers' sizes.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import prod
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer.graph import Graph, Op
from convcalc.bridges.importer.onnxcheck import (
    check_dims,
    check_input,
    check_weights,
    dims_of,
    label,
    ordered,
    said,
)
from convcalc.bridges.importer.onnxnames import folded, names, zero_bias
from convcalc.bridges.importer.onnxops import Node, to_layer
from convcalc.errors import ConvcalcError, Location, ModelError, OnnxError
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from pathlib import Path

SMALL = 8  # a constant this small is read (Clip's bounds, ReduceMean's axes); a weight only counted


def read(path: Path, input_: str | None) -> Graph:
    """The graph of an ONNX file; `input_` (HxWxD) replaces the input's volume before inference."""
    onnx, model = _load(path)
    g = model.graph
    weights = {t.name: t for t in g.initializer}
    first, shapes, small = _prepare(onnx, model, weights, path, input_)
    read = _Read(onnx, weights, shapes, small)
    ops = [Op(0, first, "input", (), _order(shapes[first]), shapes[first])]
    producer = {first: 0}
    constants = set(weights)
    for node in g.node:
        if all(i in constants or not i for i in node.input):
            constants.update(node.output)  # Identity of a weight, Constant: no op of the network
            _constant(onnx, node, small)  # its value, where a later node reads it
            continue
        op = read.op(node, len(ops), producer)
        producer.update((o, op.index) for o in node.output if o)
        ops.append(op)
    output = g.output[0].name
    if output not in producer:
        given = "a constant" if output in constants else "given by no node"
        msg = f"{inert(str(path))}: the graph's output {said(output)} is {given}"
        raise OnnxError(msg)
    graph = Graph(ops, str(path), output=producer[output])
    note = folded(g.node, weights)
    if note:
        graph.notes.append(note)
    kept = sum(zero_bias(n) for n in g.node)
    if kept:
        graph.notes.append(
            f"Biases the exporter removed because they were zero are kept ({kept}): the model has them, as the "
            "torch.fx calls the file records say"
        )
    graph.link()
    return graph


def _prepare(
    onnx: Any, model: Any, weights: dict[str, Any], path: Path, input_: str | None
) -> tuple[str, dict[str, tuple[int, ...]], dict[str, Any]]:
    """Check the graph, order its nodes, infer its shapes: the input's name, every value's dims, the small constants."""
    g = model.graph
    check_weights(list(g.initializer))
    inputs = [i for i in g.input if i.name not in weights]
    where = inert(str(path))
    if len(inputs) != 1:
        msg = f"{where} has {len(inputs)} inputs; a spec has one"
        raise OnnxError(msg)
    if len(g.output) != 1:
        names = ", ".join(said(o.name) for o in g.output)
        msg = f"{where} has {len(g.output)} outputs{f' ({names})' if names else ''}; a spec has one"
        raise ModelError(msg)  # a design the spec cannot hold (exit 1), as a PyTorch model's two outputs
    first = inputs[0].name
    if input_:
        _set_input(inputs[0], input_)
    check_input(first, dims_of(inputs[0]), where)
    nodes = ordered(list(g.node), {first, *weights})
    del g.node[:]
    g.node.extend(nodes)  # shape inference reads them in order: a file listed backwards is inferred too
    small = {k: _array(onnx, t) for k, t in weights.items() if prod(t.dims) <= SMALL and not _external(t)}
    for t in g.initializer:  # only their sizes count: inference then copies no weights (resnet50: 520 → 5 ms)
        if prod(t.dims) > SMALL:
            t.ClearField("raw_data")
            t.ClearField("float_data")
    inferred = _infer(onnx, model).graph
    shapes = {v.name: dims_of(v) for v in [*inferred.value_info, *inferred.input, *inferred.output]}
    shapes[first] = dims_of(inputs[0])
    return first, shapes, small


@dataclass(frozen=True, slots=True)
class _Read:
    """What the nodes are read with: onnx, the weights, every value's dims, the small constants."""

    onnx: Any
    weights: dict[str, Any]
    shapes: dict[str, tuple[int, ...]]
    small: dict[str, Any]

    def op(self, node: Any, index: int, producer: dict[str, int]) -> Op:
        """The op of one node: what it reads, the volume it gives, its layer."""
        out = next(o for o in node.output if o)
        dims = self.shapes.get(out, ())
        check_dims(f"the output of {label(node)}", dims)
        name, module = names(node, self.weights)
        inputs = tuple(dict.fromkeys(producer[i] for i in node.input if i in producer))
        op = Op(index, name or out, node.op_type, inputs, _order(dims), dims, module=module)
        sizes = [list(self.weights[i].dims) if i in self.weights else None for i in node.input]
        values = {i: self.small[i] for i in node.input if i in self.small}
        in_dims = self.shapes.get(node.input[0], ()) if node.input else ()
        node_ = Node(node, _attributes(self.onnx, node), sizes, values, in_dims, dims, zero_bias(node))
        try:
            to_layer(op, node_)
        except (TypeError, ValueError, IndexError, KeyError) as exc:  # an attribute of a type no check foresaw
            msg = f"{label(node)} is malformed: {said(f'{type(exc).__name__}: {exc}')}"
            raise OnnxError(msg) from None
        op.weights = sum(prod(s) for s in sizes if s)
        return op


def _infer(onnx: Any, model: Any) -> Any:
    """ONNX's shape inference (not strict: an op it does not know leaves its output's dims unknown)."""
    try:
        return onnx.shape_inference.infer_shapes(model)
    except Exception as exc:  # noqa: BLE001 - onnx's own message names the node
        msg = f"ONNX's shape inference fails on the graph: {said(' '.join(str(exc).split()))}"
        raise OnnxError(msg) from None


def _external(t: Any) -> bool:
    """A weight whose values are in a file beside the model (the dynamo exporter's .onnx.data)."""
    return bool(t.data_location == 1)  # TensorProto.EXTERNAL


def _array(onnx: Any, t: Any) -> Any:
    """A small constant's values; None where the file's are not values (a wrong count for its dims)."""
    try:
        return onnx.numpy_helper.to_array(t)
    except Exception:  # noqa: BLE001 - a malformed constant is read as no value
        return None


def _constant(onnx: Any, node: Any, small: dict[str, Any]) -> None:
    """A Constant node's value, where it is small (ReLU6's bounds, a reshape's shape)."""
    for a in node.attribute:
        if node.op_type == "Constant" and a.name == "value" and a.HasField("t") and prod(a.t.dims) <= SMALL:
            small[node.output[0]] = _array(onnx, a.t)


def _attributes(onnx: Any, node: Any) -> dict[str, Any]:
    """A node's attributes as Python values; a malformed one is refused with the node's name."""
    try:
        return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    except Exception as exc:  # noqa: BLE001 - onnx says which attribute, in its words
        msg = f"{label(node)} is malformed: an attribute cannot be read ({said(str(exc))})"
        raise OnnxError(msg) from None


def _load(path: Path) -> tuple[Any, Any]:
    """The onnx package and the model in the file."""
    try:
        import onnx  # noqa: PLC0415 - onnx only for this command
        import onnx.numpy_helper  # noqa: PLC0415
        import onnx.shape_inference  # noqa: PLC0415
    except ImportError:
        msg = "reading an ONNX file needs the onnx package (pip install onnx)"
        raise ConvcalcError(msg) from None
    try:
        # The weights' values are not read (only their dims count): a file whose weights are in
        # a .onnx.data beside it, as the dynamo exporter writes it, is read without that file.
        return onnx, onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # noqa: BLE001 - a missing or broken file: say which and why
        msg = f"cannot read {inert(str(path))} as ONNX: {type(exc).__name__}: {said(' '.join(str(exc).split()))}"
        raise ConvcalcError(msg) from None


def _set_input(value: Any, input_: str) -> None:
    """Give the model's input the volume HxWxD (batch 1) before shape inference."""
    from convcalc.spec.loader import parse_input  # noqa: PLC0415 - only with --input

    volume = parse_input(input_, Location("--input"))
    sizes = [1, volume.depth, *volume.spatial]
    dims = value.type.tensor_type.shape.dim
    if not dims:  # an input of no declared shape takes the volume's
        for _ in sizes:
            dims.add()
    if len(dims) != len(sizes):
        have = len(dims) - 2
        msg = (
            f"--input {inert(input_)} has {len(volume.spatial)} spatial dim{'s' * (len(volume.spatial) != 1)}; "
            f"the graph's input {said(value.name)} has {have} (N x C x {'x'.join(['?'] * have) or 'nothing'})"
        )
        raise OnnxError(msg)
    for d, size in zip(dims, sizes, strict=True):
        d.ClearField("dim_param")
        d.dim_value = size


def _order(dims: tuple[int, ...]) -> tuple[int, ...]:
    """N x C x spatial as convcalc writes it: spatial, then C."""
    if len(dims) < 2:  # noqa: PLR2004 - N and C
        return dims
    return (*dims[2:], dims[1])
