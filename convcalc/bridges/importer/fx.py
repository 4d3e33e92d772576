"""A PyTorch module as a graph: traced with torch.fx, its volumes from a forward pass on the meta device.

torch is imported here only, when `convcalc import` reads a PyTorch source.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer import fxdepth, fxsplit, torchvision_models
from convcalc.bridges.importer.fxlast import Regions
from convcalc.bridges.importer.fxops import op_of
from convcalc.bridges.importer.graph import Graph, Op
from convcalc.errors import ConvcalcError, ModelError
from convcalc.kinds import registry

if TYPE_CHECKING:
    from convcalc.volume import Volume


def load(source: str) -> Any:
    """The module that `package.module:attribute` or `file.py:Name` names, built (a class or a function)."""
    try:
        import torch  # noqa: PLC0415 - torch only for this command
    except ImportError:
        msg = "reading a PyTorch model needs torch (pip install torch); an ONNX file needs only onnx"
        raise ConvcalcError(msg) from None
    where, _, attribute = source.rpartition(":")
    if not where or not attribute:
        msg = f"'{source}' names no model: write package.module:attribute, file.py:Name or an .onnx file"
        raise ConvcalcError(msg)
    if where.endswith(".py") and not Path(where).is_file():
        msg = f"cannot read {where}: no such Python file"
        raise ConvcalcError(msg)
    try:
        # A source that imports torchvision imports it without its C extension where that does not load.
        model = getattr(torchvision_models.load(lambda: _python_module(where), source), attribute)()
    except ConvcalcError:
        raise
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the user's code: whatever it raises is reported (sys.exit too)
        msg = f"cannot build {source}: {_raised(exc)}"
        raise ConvcalcError(msg) from None
    if not isinstance(model, torch.nn.Module):
        msg = f"{source} gives a {type(model).__name__}, not a torch.nn.Module"
        raise ConvcalcError(msg)
    return model


def _raised(exc: BaseException) -> str:
    """What the model's code raised, on one line: `RuntimeError: ...`, or that it called sys.exit."""
    if isinstance(exc, SystemExit):
        return f"its code called sys.exit({exc.code!r}): a model's code must return, not end the process"
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"


def _python_module(where: str) -> Any:
    """The Python module `package.module`, or the one in a file `path/name.py`."""
    if not where.endswith(".py"):
        return importlib.import_module(where)
    path = Path(where)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None  # noqa: S101 - a .py file always has a spec
    assert spec.loader is not None  # noqa: S101
    module = importlib.util.module_from_spec(spec)
    added = sys.modules.setdefault(path.stem, module) is module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        if added:  # as Python's import does: a module that failed is not kept (it is run again on a retry)
            del sys.modules[path.stem]
        raise
    return module


def read(model: Any, volume: Volume, source: str) -> Graph:
    """The traced graph of an nn.Module on a zero input of `volume` (spatial dims, then channels)."""
    import torch  # noqa: PLC0415

    model.eval()  # traced as it runs for inference: no auxiliary outputs (GoogLeNet's in training)
    try:
        traced = _trace(model)
    except KeyboardInterrupt:
        raise
    except SystemExit as exc:
        msg = f"torch.fx cannot trace {source}: {_raised(exc)}"
        raise ConvcalcError(msg) from None
    except Exception as exc:  # noqa: BLE001 - fx says what it cannot trace; the model's line says where
        where = _where(exc, torch.__file__)
        msg = f"torch.fx cannot trace {source}{where}: {_raised(exc)}"
        raise ModelError(msg) from None
    try:
        with torch.no_grad():
            _shapes(traced).run(torch.zeros(1, volume.depth, *volume.spatial, device="meta"))
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - the model refuses the input (or ends the process)
        msg = f"{source} does not run on a {volume} input: {_raised(exc)}{_smallest(model, source, volume)}"
        raise ConvcalcError(msg) from None
    modules = dict(traced.named_modules())
    params = dict(traced.named_parameters())
    ops: list[Op] = []
    index: dict[str, int] = {}
    splits = fxsplit.Splits()  # ShuffleNet's chunks and traced channel shuffles
    attrs: dict[str, int] = {}  # a parameter read as a value (F.layer_norm's weight): its size, until an op takes it
    output = None
    regions = Regions()  # channels-last regions (ConvNeXt): their permutes and the ops between
    for node in traced.graph.nodes:
        if node.op == "output":
            output = _output(node, index, source)
            continue
        if _parameter(node, params, attrs, regions.params):
            continue
        op = op_of(node, len(ops), tuple(index[a.name] for a in node.all_input_nodes if a.name in index), modules)
        if op is not None:
            op.weights += sum(attrs.pop(a.name, 0) for a in node.all_input_nodes)  # each parameter counted once
            regions.read(node, op, modules)
            splits.read(node, op)
            fxdepth.read(node, op, splits.ops, modules)  # stochastic depth as the export writes it
            index[node.name] = op.index
            ops.append(op)
    regions.check(output, ops[-1] if ops else None)
    graph = Graph(ops, source, output=output)
    graph.notes += _unused(model, traced)
    graph.link()
    return graph


def _trace(model: Any) -> Any:
    """The model traced as torch.fx's symbolic_trace does, a module of a class a kind declares as one call (MLPBlock).

    fx keeps torch.nn's modules as calls and traces through the others; a class a registered kind
    reads (`Kind.torch_modules`) is kept too when its reader makes a layer of it, else traced through.
    """
    from torch import fx  # noqa: PLC0415

    readers = registry.torch_modules()

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            read = readers.get(type(m).__name__)
            return super().is_leaf_module(m, qualname) or (read is not None and read(m) is not None)

    tracer = Tracer()
    graph = tracer.trace(model)
    return fx.GraphModule(tracer.root, graph, type(model).__name__)


def _parameter(node: Any, params: dict[str, Any], attrs: dict[str, int], paths: dict[str, str]) -> bool:
    """Whether a node is a parameter read as a value, or a call on parameters alone: its size kept in `attrs`.

    `paths` gets the parameter's path by the node's name (`class_token` for `self.class_token.expand(n, -1, -1)`).
    """
    if node.op == "get_attr" and node.target in params:
        attrs[node.name] = params[node.target].numel()
        paths[node.name] = str(node.target)
        return True
    if _of_parameters(node, attrs):  # ViT's `self.class_token.expand(n, -1, -1)`: still a parameter
        reads = [a.name for a in node.all_input_nodes if a.name in attrs]
        attrs[node.name] = sum(attrs.pop(a) for a in reads)
        paths[node.name] = paths[reads[0]]
        return True
    return False


# Ops on a parameter alone that give a parameter still (a view or copies of it), not a value the input computes.
_OF_PARAMETERS = frozenset({"expand", "expand_as", "repeat", "reshape", "view", "unsqueeze"})


def _of_parameters(node: Any, attrs: dict[str, int]) -> bool:
    """`self.token.expand(n, -1, -1)`: a call that reads parameters (and numbers) only."""
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "")
    tensors = [a for a in node.all_input_nodes if "convcalc_shape" in a.meta]  # not x.shape[0], a number
    return (
        node.op in {"call_method", "call_function"}
        and name in _OF_PARAMETERS
        and bool(tensors)
        and all(a.name in attrs for a in tensors)
    )


def _smallest(model: Any, source: str, volume: Volume) -> str:
    """The model's own smallest input, where torchvision gives it: `; its smallest input is 75x75 (--input 75x75x3)`."""
    size = torchvision_models.min_size(model, source)
    if size is None or all(s >= m for s, m in zip(volume.spatial, size, strict=False)):
        return ""
    shown = "x".join(map(str, size))
    return f"; torchvision gives its smallest input as {shown} (--input {shown}x{volume.depth})"


def _unused(model: Any, traced: Any) -> list[str]:
    """A note for the parameters of modules the model does not call in evaluation mode (GoogLeNet's aux1, aux2)."""
    kept = {id(p) for p in traced.parameters()}
    traced_modules = dict(traced.named_modules())
    left: dict[str, int] = {}
    for name, p in model.named_parameters():
        if id(p) not in kept:
            parts = name.split(".")
            where = next(
                ".".join(parts[:i]) for i in range(1, len(parts) + 1) if ".".join(parts[:i]) not in traced_modules
            )
            left[where] = left.get(where, 0) + p.numel()
    if not left:
        return []
    total = sum(left.values())
    called = ", ".join(left)
    note = (
        f"The model's forward in evaluation mode does not call {called} (an output only training uses): "
        f"it holds {total:,} params more than this spec"
    )
    return [note]


def _output(node: Any, index: dict[str, int], source: str) -> int | None:
    """The op the model returns; a model that returns several tensors is refused (a spec has one output)."""
    returned = [a.name for a in node.all_input_nodes if a.name in index]
    if len(returned) > 1:
        msg = (
            f"{source} returns {len(returned)} tensors ({', '.join(returned)}): a spec has one output; "
            "return one of them from forward (or their torch.cat)"
        )
        raise ModelError(msg)
    return index[returned[0]] if returned else None


def _where(exc: Exception, torch_file: str) -> str:
    """The model's line the exception came from (the last frame outside torch): ' at net.py:12, `if x > 0:`'."""
    torch_dir = str(Path(torch_file).parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(torch_dir)]
    if not frames or frames[-1].filename == __file__:
        return ""
    frame = frames[-1]
    return f" at {Path(frame.filename).name}:{frame.lineno}, `{(frame.line or '').strip()}`"


def _shapes(traced: Any) -> Any:
    """An fx Interpreter that runs on the meta device (shapes only, no arithmetic) and keeps each node's shape.

    The modules' parameters and buffers are given as meta tensors (torch.func.functional_call),
    so the model itself is not changed, and a forward pass costs no compute: resnet50 at
    224x224 takes 1.5 s on the CPU, and 30 ms here.
    """
    import torch  # noqa: PLC0415
    from torch import fx  # noqa: PLC0415

    def meta(t: Any) -> Any:
        return t.to("meta") if isinstance(t, torch.Tensor) else t

    class Shapes(fx.Interpreter):
        def run_node(self, n: Any) -> Any:
            result = super().run_node(n)
            first = result[0] if isinstance(result, (tuple, list)) and result else result
            if isinstance(first, torch.Tensor):  # a module that returns several (attention): the first
                n.meta["convcalc_shape"] = tuple(first.shape)
            return result

        def call_module(self, target: Any, args: Any, kwargs: Any) -> Any:
            module = self.fetch_attr(target)
            state = {k: meta(v) for k, v in [*module.named_parameters(), *module.named_buffers()]}
            return torch.func.functional_call(module, state, args, kwargs)

        def get_attr(self, target: Any, args: Any, kwargs: Any) -> Any:
            return meta(super().get_attr(target, args, kwargs))

    return Shapes(traced)
