"""Which convcalc layer a traced torch.fx node is: torch.nn's modules, and functions and tensor methods.

fx.py traces the model and runs it on the meta device; each node it keeps becomes an Op here. The
layer is the registered kinds' to say (`Kind.torch_modules`, `Kind.torch_functions`): this module
keeps only what is no layer, the merges of branches, the views and the crop.
"""

from __future__ import annotations

from typing import Any

from convcalc.bridges.importer.fxlast import MULS, scaled
from convcalc.bridges.importer.graph import Op
from convcalc.kinds import registry
from convcalc.kinds.vocab import Call

MERGES = {"add": "add", "iadd": "add", "cat": "concat", "concat": "concat", "mul": "multiply", "imul": "multiply"}
VIEWS = {"contiguous", "clone"}


def op_of(node: Any, at: int, inputs: tuple[int, ...], modules: dict[str, Any]) -> Op | None:
    """The op of a traced node; None for a node that gives no tensor (x.shape, x.size(0))."""
    shape = node.meta.get("convcalc_shape")
    if shape is None:
        return None
    op = Op(at, node.name, str(node.target), inputs, _shape(shape), tuple(int(d) for d in shape))
    if node.op == "placeholder":
        op.op = "input"
    elif node.op == "call_module":
        _module(op, modules[node.target], str(node.target))
    elif node.op in {"call_function", "call_method"}:
        _function(op, node)
    return op


def _shape(size: Any) -> tuple[int, ...]:
    """N x C x spatial as convcalc writes it: spatial, then C (N x C: C)."""
    dims = [int(d) for d in size]
    if len(dims) < 2:  # noqa: PLR2004 - N and C
        return tuple(dims)
    return (*dims[2:], dims[1])


def _module(op: Op, m: Any, path: str) -> None:
    op.op, op.name, op.module = type(m).__name__, path, True
    op.weights = sum(p.numel() for p in m.parameters())
    read = registry.torch_modules().get(op.op)
    if read is not None:
        op.layer = read(m)


def _function(op: Op, node: Any) -> None:
    target = node.target
    name = target if isinstance(target, str) else getattr(target, "__name__", str(target))
    where = "method" if node.op == "call_method" else getattr(target, "__module__", "") or ""
    op.op = f".{name}" if node.op == "call_method" else f"{_space(where)}{name}"
    args = node.args
    read = registry.torch_functions().get(name)
    if read is not None:
        op.layer = read(Call(name, tuple(args), dict(node.kwargs)))
    elif name in MULS and scaled(node, 1):  # ConvNeXt's `self.layer_scale * x`, γ of shape (C, 1, 1)
        op.layer = {"scale": None}
    elif name in MERGES and (name in {"cat", "concat"} or sum(_value(a) for a in args) > 1):
        if name in {"cat", "concat"} and node.kwargs.get("dim", args[1] if len(args) > 1 else 0) not in {1, -3}:
            return
        op.merge = MERGES[name]
    elif name in VIEWS:
        op.view = True
    elif name == "narrow":
        op.crop = True


def _value(arg: Any) -> bool:
    """Whether a call's argument is a value the graph computes (not a number, not a parameter: `x * self.gamma`)."""
    return hasattr(arg, "op") and arg.op != "get_attr"


def _space(module: str) -> str:
    """How a function is known: torch.cat, F.relu, operator.add."""
    if module.startswith("torch.nn.functional"):
        return "F."
    if module.startswith("torch"):
        return "torch."
    return f"{module.lstrip('_')}." if module else ""  # _operator.add is operator.add
