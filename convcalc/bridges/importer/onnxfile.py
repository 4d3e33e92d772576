"""An ONNX file as a graph: its nodes, its weights' shapes, and its volumes from ONNX's shape inference.

Only the `onnx` package is needed (no torch, no runtime): the volumes are what
`onnx.shape_inference` infers, the parameter counts are the initializers' sizes.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer.graph import Graph, Op
from convcalc.errors import ConvcalcError, Location

if TYPE_CHECKING:
    from pathlib import Path

# ONNX operators (onnx.ai/onnx/operators) that are one of convcalc's activations.
ACTIVATIONS = {
    "Relu": "relu",
    "LeakyRelu": "leaky_relu",
    "Elu": "elu",
    "Selu": "selu",
    "Celu": "celu",
    "Gelu": "gelu",
    "Mish": "mish",
    "Sigmoid": "sigmoid",
    "HardSigmoid": "hardsigmoid",
    "Tanh": "tanh",
    "HardSwish": "hardswish",
    "Softplus": "softplus",
    "Softsign": "softsign",
    "Softmax": "softmax",
    "LogSoftmax": "log_softmax",
}
MERGES = {"Add": "add", "Concat": "concat", "Mul": "multiply"}


SMALL = 8  # a constant this small is read (Clip's bounds); a weight only counted
INPUTS_WITH_BIAS = 3  # Conv's and Gemm's inputs: X, W and B


def read(path: Path, input_: str | None) -> Graph:
    """The graph of an ONNX file; `input_` (HxWxD) replaces the input's volume before inference."""
    onnx, model = _load(path)
    g = model.graph
    weights = {t.name: t for t in g.initializer}
    inputs = [i for i in g.input if i.name not in weights]
    if len(inputs) != 1:
        msg = f"{path} has {len(inputs)} inputs; a spec has one"
        raise ConvcalcError(msg)
    if input_:
        _set_input(inputs[0], input_)
    small = {k: onnx.numpy_helper.to_array(t) for k, t in weights.items() if prod(t.dims) <= SMALL}
    for t in g.initializer:  # only their sizes count: inference then copies no weights (resnet50: 520 → 5 ms)
        if prod(t.dims) > SMALL:
            t.ClearField("raw_data")
            t.ClearField("float_data")
    inferred = onnx.shape_inference.infer_shapes(model).graph
    shapes = {v.name: _dims(v) for v in [*inferred.value_info, *inferred.input, *inferred.output]}
    first = inputs[0].name
    if not shapes.get(first) or 0 in shapes[first]:
        msg = f"{path}: the input's volume is not fixed; give it with --input HxWxD"
        raise ConvcalcError(msg)
    ops = [Op(0, first, "input", (), _order(shapes[first]), shapes[first])]
    producer = {first: 0}
    constants = set(weights)
    for node in g.node:
        if all(i in constants or not i for i in node.input):
            constants.update(node.output)  # Identity of a weight, Constant: no op of the network
            if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
                small[node.output[0]] = onnx.numpy_helper.to_array(node.attribute[0].t)
            continue
        out = node.output[0]
        inputs_of = tuple(producer[i] for i in node.input if i in producer)
        op = Op(
            len(ops), _name(node.name) or out, node.op_type, inputs_of, _order(shapes.get(out, ())), shapes.get(out, ())
        )
        sizes = [list(weights[i].dims) if i in weights else None for i in node.input]
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        _map(op, node, attrs, sizes, {i: small[i] for i in node.input if i in small})
        op.weights = sum(prod(s) for s in sizes if s)
        producer[out] = op.index
        ops.append(op)
    graph = Graph(ops, str(path), output=producer.get(g.output[0].name) if g.output else None)
    folded = [n for n in g.node if n.op_type == "Conv" and len(n.input) >= INPUTS_WITH_BIAS and _made(n.input[1])]
    if folded:
        graph.notes.append(
            f"BatchNorm folded into the convs by the exporter ({len(folded)} convs with weights it made and a "
            "bias): the batchnorms after them and their params are gone, and each of those convs has a bias"
        )
    graph.link()
    return graph


def _made(weight: str) -> bool:
    """A weight PyTorch's exporter made by folding (onnx::Conv_193), not a module's (layer1.0.conv1.weight)."""
    return weight.startswith("onnx::")


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
        return onnx, onnx.load(str(path))
    except Exception as exc:  # noqa: BLE001 - a missing or broken file: say which and why
        msg = f"cannot read {path} as ONNX: {type(exc).__name__}: {' '.join(str(exc).split())}"
        raise ConvcalcError(msg) from None


def _set_input(value: Any, input_: str) -> None:
    """Give the model's input the volume HxWxD (batch 1) before shape inference."""
    from convcalc.spec.loader import parse_input  # noqa: PLC0415 - only with --input

    volume = parse_input(input_, Location("--input"))
    for d, size in zip(value.type.tensor_type.shape.dim, [1, volume.depth, *volume.spatial], strict=False):
        d.ClearField("dim_param")
        d.dim_value = size


def _dims(value: Any) -> tuple[int, ...]:
    shape = value.type.tensor_type.shape
    return tuple(d.dim_value if d.HasField("dim_value") else 0 for d in shape.dim)


def _order(dims: tuple[int, ...]) -> tuple[int, ...]:
    """N x C x spatial as convcalc writes it: spatial, then C."""
    if len(dims) < 2:  # noqa: PLR2004 - N and C
        return dims
    return (*dims[2:], dims[1])


def _name(node: str) -> str:
    """The module path in a node name of PyTorch's exporter: /layer1/layer1.0/conv1/Conv is layer1.0.conv1."""
    parts = [p for p in node.split("/") if p][:-1]
    path = ""
    for p in parts:
        head, _, tail = p.rpartition(".")
        # A part of a Sequential is written with its container's name: layer1 then layer1.0.
        if head and (path == head or path.endswith(f".{head}")):
            path = f"{path}.{tail}"
        else:
            path = f"{path}.{p}" if path else p
    return path


def _one(value: Any) -> Any:
    """One number when every dim has the same, else a list."""
    values = [int(v) for v in value]
    return values[0] if len(set(values)) == 1 else values


def _window(attrs: dict[str, Any], size: Any, *, default_stride: Any = 1) -> dict[str, Any] | None:
    """stride, pad, dilation from ONNX's strides, pads (begins then ends) and dilations; None if uneven."""
    found: dict[str, Any] = {}
    n = len(attrs.get("kernel_shape", ())) or 1
    strides = _one(attrs.get("strides", [1] * n))
    if strides != default_stride:
        found["stride"] = strides
    pads = list(attrs.get("pads", [0] * 2 * n))
    if pads[:n] != pads[n:] or attrs.get("auto_pad", b"NOTSET") not in {b"NOTSET", "NOTSET"}:
        return None  # uneven or automatic padding: not one `pad`
    if any(pads):
        found["pad"] = _one(pads[:n])
    dilations = _one(attrs.get("dilations", [1] * n))
    if dilations != 1:
        found["dilation"] = dilations
    del size
    return found


def _map(op: Op, node: Any, attrs: dict[str, Any], sizes: list[Any], values: dict[str, Any]) -> None:  # noqa: C901, PLR0912 - one branch per operator
    t = node.op_type
    # A node in a module's scope (/layer1/layer1.0/conv1/Conv) is that module; /Flatten is a function.
    op.module = "/" in node.name.strip("/") and t not in MERGES and t not in {"Flatten", "Reshape", "Identity"}
    if t in {"Conv", "ConvTranspose"} and sizes[1]:
        w = sizes[1]
        group = attrs.get("group", 1)
        filters = w[0] if t == "Conv" else w[1] * group
        window = _window(attrs, w[2:])
        if window is None or (t == "ConvTranspose" and any(attrs.get("output_padding", []))):
            return
        conv: dict[str, Any] = {"filters": filters, "size": _one(w[2:]), **window}
        if group != 1:
            depth = w[1] * group if t == "Conv" else w[0]
            conv["groups"] = "depthwise" if group == depth == filters else group
        if len(node.input) < INPUTS_WITH_BIAS or not node.input[2]:
            conv["bias"] = False
        op.layer = {"conv" if t == "Conv" else "deconv": conv}
    elif t in {"MaxPool", "AveragePool"}:
        size = _one(attrs["kernel_shape"])
        window = _window(attrs, attrs["kernel_shape"], default_stride=size)
        if window is None:
            return
        pool: dict[str, Any] = {"size": size, **window}
        if attrs.get("ceil_mode"):
            pool["rounding"] = "ceil"
        op.layer = {"maxpool" if t == "MaxPool" else "avgpool": pool}
    elif t in {"GlobalAveragePool", "GlobalMaxPool"}:
        op.layer = {"gap" if "Average" in t else "gmp": None}
    elif t == "Gemm" and attrs.get("transB") == 1 and sizes[1] and not attrs.get("transA"):
        op.layer = {"fc": {"units": sizes[1][0], **({} if len(node.input) >= INPUTS_WITH_BIAS else {"bias": False})}}
    elif t == "BatchNormalization":
        op.layer = {"bn": None}
    elif t == "LRN":
        op.layer = {"lrn": attrs["size"]}
    elif t in ACTIVATIONS:
        op.layer = {ACTIVATIONS[t]: None}
    elif t == "Clip":  # ReLU6 is Clip(0, 6); other bounds are no activation convcalc has
        bounds = [float(values[i]) if i in values else None for i in node.input[1:3]]
        if bounds == [0.0, 6.0] or (attrs.get("min"), attrs.get("max")) == (0.0, 6.0):
            op.layer = {"relu6": None}
    elif t == "Dropout":
        op.layer = {"dropout": None}
    elif t == "Flatten" and attrs.get("axis", 1) == 1:
        op.layer = {"flatten": None}
    elif t in MERGES and (len(op.inputs) > 1 or t == "Concat"):  # a Concat of one value is that value
        if t != "Concat" or attrs.get("axis") in {1, -3}:
            op.merge = MERGES[t]
    elif t == "Identity":
        op.view = True
