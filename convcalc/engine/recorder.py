"""The forward pass of a training step, call by call: what each op makes, and the node autograd records.

Follows `Network.run` in train mode (convcalc.pytorch), as engine/timeline.py follows it in eval
mode: names hold their values until assigned again, a statement's local holds the value being
computed on. What each PyTorch op makes and saves, and what its backward makes (CPU, float32,
torch 2.13; tests/step_measure.py measures it):

- Conv, ConvTranspose: saves its input; backward makes the input's gradient (when it needs
  one), the weight's and the bias's.
- Linear: `addmm(bias, x, weight.t())`: a TBackward0 node on the weight, then AddmmBackward0,
  which saves x; backward makes the bias's (a sum over the batch), x's and the weight's gradients.
- BatchNorm (train): saves its input and the batch's mean and 1/std (C float32 each, made with
  the output); backward makes the input's, weight's and bias's gradients.
- max pool: saves its input and its int64 indices; average pool its input; an adaptive average
  pool to 1 is a mean, which saves nothing; backward makes the input's gradient.
- dropout (train, CPU): `x * noise`, the noise made first and saved: the mask its kind keeps.
- activations save their output (relu, tanh, sigmoid) or input (the others), as kinds.saved says.
- views (flatten, squeeze, unsqueeze, permute, reshape) make nothing; their backward is a view
  of the gradient. narrow (U-Net's crop) is a slice: its backward makes the whole input's
  gradient (zeros, then the slice), as select's (class_token_out's x[:, 0]). F.pad keeps nothing.
- a merge: convcalc.pytorch.join reshapes each operand first (ViewBackward0; an alias,
  ReshapeAliasBackward0, of a tensor not contiguous); add passes the same gradient to both
  operands; concat's backward passes slices (views); multiply keeps each operand for the other's
  gradient (opnodes.unreduced: a broadcast one's). Strides: opnodes' docstring.
- lrn is Python: its ops are engine/lrn_step.py's; the token kinds' tokensteps.py's, attention's attnsteps.py's.
- an op no built-in has keeps what its kind's `saved` rule says, its backward a gradient the
  size of its input; engine/stepscope.py names the kinds this does not follow.
- an op none of whose inputs needs a gradient records nothing, and makes and frees its scratch.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from convcalc.bridges.program import Apply, Invoke, Join
from convcalc.engine import attnsteps, opnodes, tokensteps
from convcalc.engine.lrn_step import lrn
from convcalc.engine.opnodes import BY_RULE, NAMED, node_name, own_bytes, padded, unreduced
from convcalc.kinds.registry import KINDS
from convcalc.kinds.saved import standalone
from convcalc.options import ActivationFunction, Rounding
from convcalc.spec.model import Merge

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.bridges.program import Call, Program, Statement
    from convcalc.engine.autograd import Graph
    from convcalc.engine.tape import Node, Tensor
    from convcalc.kinds.plan import FunctionStep, ModuleStep
    from convcalc.kinds.saved import Keep
    from convcalc.report import LayerRow, Report

_FLOAT = 4
_INDEX = 8
_VIEWS = {".unsqueeze": "UnsqueezeBackward0", ".squeeze": "SqueezeBackward1", ".view": "ViewBackward0"}
_VIEWS |= {".reshape": "ViewBackward0", "torch.flatten": "ViewBackward0", ".permute": "PermuteBackward0"}
_SAME = {"Identity"}
_MODULES = {**tokensteps.MODULES, "SelfAttention": attnsteps.self_attention}
_ACTIVATIONS = {a.torch: a.value for a in ActivationFunction if a.torch}


class Forward:
    """Runs the program's statements on simulated tensors; `on_event(row, call, high)` after each call."""

    def __init__(
        self, report: Report, prog: Program, graph: Graph, on_event: Callable[[str, str, int], None], *, batch: int
    ) -> None:
        self.rows = {r.path: r for r in report.rows}
        self.modules = {a.path: a for a in prog.attributes}
        self.batch = batch
        self.rounding = Rounding(report.rounding)
        self.graph = graph
        self.params: dict[tuple[str, ...], list[Tensor]] = {}
        for a in prog.attributes:
            row = self.rows[a.row]
            sizes = tokensteps.leaves(a.module) or [n * _FLOAT for n in (row.weights, row.biases) if n]
            self.params[a.path] = [graph.leaf(a.row, n) for n in sizes]
        self.names: dict[str, Tensor] = {}
        self.cropped: dict[str, list[int]] = {}  # a crop row's dims after its narrows so far
        self.on_event = on_event

    def run(self, prog: Program, x: Tensor) -> Tensor:
        """The forward's output (held once); every name dropped, as Network.run returns."""
        self.names["x"] = x.hold()
        for s in prog.statements:
            self.assign(s.target, self.statement(s))
        out = self.names["x"].hold()
        for t in self.names.values():
            t.drop()
        return out

    def assign(self, target: str, value: Tensor) -> None:
        """`target = value`: the name's old value dropped."""
        old = self.names.get(target)
        self.names[target] = value
        if old is not None:
            old.drop()

    def statement(self, s: Statement) -> Tensor:
        return self.join(s) if isinstance(s, Join) else self.apply(s)

    def event(self, row: str, call: str, extra: int = 0) -> None:
        self.on_event(row, call, self.graph.memory.total + extra)

    def apply(self, s: Apply) -> Tensor:
        value = self.names[s.source].hold()
        marks = sorted(s.rows)
        for done, call in enumerate(s.calls, 1):
            row = next(self.rows[path] for at, path in marks if at >= done)
            out = self.call(call, row, value, last=any(at == done for at, _ in marks))
            value.drop()
            value = out
            self.called(value)
        return value

    def called(self, value: Tensor) -> None:
        """After each call of a statement, its value so far: a recompute stops here (engine/recompute.py)."""

    def made(self, row: LayerRow) -> int:
        assert row.output is not None  # noqa: S101 - a program is made of a computed report
        return self.batch * row.output.values * _FLOAT

    def node(self, name: str, row: str, inputs: list[Tensor | None], backward: object) -> Node:
        return self.graph.node(name, row, inputs, backward)  # type: ignore[arg-type]

    def grads(self, *inputs: Tensor | None) -> object:
        """A backward that makes a new gradient for each input that needs one."""
        fresh = self.graph.fresh
        sizes = [t.bytes if t is not None and t.grad else None for t in inputs]
        return lambda _g: [None if n is None else fresh(n) for n in sizes]

    def out(self, size: int, fn: Node | None) -> Tensor:
        return self.graph.new(size, fn=fn)

    def call(self, c: Call, row: LayerRow, x: Tensor, *, last: bool) -> Tensor:
        if isinstance(c, Invoke):
            return self.module(self.modules[c.path].module, c.path, row, x)
        return self.function(c, row, x, last=last)

    def module(self, step: ModuleStep, path: tuple[str, ...], row: LayerRow, x: Tensor) -> Tensor:
        cls, params = step.cls, self.params[path]
        size = self.made(row)
        keep = KINDS[row.kind].saved(row.config, row, self.rounding)
        if cls in _SAME or (cls.startswith("Dropout") and keep.view):  # the input itself (dropout with p = 0)
            self.event(row.path, cls)
            return x.hold()
        if cls == "Linear":
            return self.linear(row, x, params, size)
        if cls in _MODULES:
            return _MODULES[cls](self, row, x, params)
        if not x.grad and not params:  # autograd records nothing: the op as in inference, its scratch its kind's
            dropout = cls.startswith("Dropout")
            scratch = own_bytes(keep, self.batch) if dropout else KINDS[row.kind].scratch(row.config, row, self.batch)
            out = self.out(size, None)
            out.channels_last = x.channels_last and cls != "LayerNorm"
            self.event(row.path, cls, scratch)
            return out
        if cls == "LocalResponseNorm":
            out = lrn(self, row, x, int(step.args[0]))  # type: ignore[arg-type]
        elif cls.endswith("Pool1d") or (cls == "GroupNorm" and opnodes.copied(x, row)):
            out = opnodes.wrapped(self, cls, row, x, params, keep)
        else:
            out = self.recorded(cls, row, x, params, keep)
        self.event(row.path, cls)
        return out

    def recorded(self, cls: str, row: LayerRow, x: Tensor, params: list[Tensor], keep: Keep) -> Tensor:
        """A module's op on x, which needs a gradient: its node, what it keeps (module docstring)."""
        size = self.made(row)
        own: list[Tensor] = []
        if cls.startswith("Dropout"):  # _dropout_impl: noise = empty_like(x).bernoulli_(), then x * noise
            own.append(self.graph.new(own_bytes(keep, self.batch)))  # the mask the kind's rule keeps
            fn = self.node("MulBackward0", row.path, [x, None], opnodes.like_grad(self.graph, x))
        else:
            fn = self.node(node_name(cls, row), row.path, [x, *params], self.grads(x, *params))
            if "MaxPool" in fn.name:  # its input and its int64 indices
                own.append(self.graph.new(size // _FLOAT * _INDEX))
            elif cls.startswith("BatchNorm"):  # its input and the batch's mean and 1/std
                own += [self.graph.new(row.output.depth * _FLOAT) for _ in range(2)]  # type: ignore[union-attr]
        out = self.out(size, fn)
        # an op the built-ins do not have, or one measured to: what its kind's rule says it keeps
        if fn.name == f"{cls}Backward" or fn.name in BY_RULE:
            self.keep(fn, keep, x, out)
        elif fn.name not in {"MulBackward0", "MeanBackward1"}:
            fn.keep(x)
        fn.keep(*own)
        for t in own:
            t.drop()
        if fn.name == "MeanBackward1" and x.channels_last:  # a channels-last input: the mean, then as_strided
            view = out.view(fn=self.node("AsStridedBackward1", row.path, [out], self.grads(out))).hold()
            out.drop()
            return view
        opnodes.kept(out, x, cls, row)
        return out

    def keep(self, fn: Node, keep: Keep, x: Tensor, out: Tensor) -> None:
        """A row's `Keep` (convcalc.kinds.saved): its input, its output, and bytes of its own."""
        if keep.input:
            fn.keep(x)
        if keep.output:
            fn.keep(out)
        own = own_bytes(keep, self.batch)
        if own:
            t = self.graph.new(own)
            fn.keep(t)
            t.drop()

    def linear(self, row: LayerRow, x: Tensor, params: list[Tensor], size: int) -> Tensor:
        weight, *bias = params
        t = self.node("TBackward0", row.path, [weight], lambda g: [g[0].view()])
        mat2 = weight.view(fn=t).hold()
        if bias:
            fn = self.node("AddmmBackward0", row.path, [bias[0], x, mat2], self.grads(bias[0], x, weight))
        else:
            fn = self.node("MmBackward0", row.path, [x, mat2], self.grads(x, weight))
        fn.keep(x)  # for the weight's gradient
        mat2.drop()
        out = self.out(size, fn)
        self.event(row.path, "Linear")
        return out

    def function(self, c: FunctionStep, row: LayerRow, x: Tensor, *, last: bool = True) -> Tensor:
        name = c.function
        if name in tokensteps.FUNCTIONS or (name == "torch.flatten" and x.channels_last):
            return tokensteps.function(self, c, row, x)
        if name in _VIEWS:
            assert row.input is not None  # noqa: S101 - computed
            flips = name == ".permute" and prod(row.input.spatial) > 1  # layernorm's to channels last and back
            fn = (
                self.node(_VIEWS[name], row.path, [x], lambda g: [opnodes.viewed(g[0], flips=flips)])
                if x.grad
                else None
            )
            out = x.view(fn=fn).hold()
            if flips:
                out.channels_last = not x.channels_last
            self.event(row.path, name)
            return out
        if name == ".narrow":  # U-Net's crop, one spatial dim at a time: (axis, start, length)
            assert row.input is not None  # noqa: S101 - computed
            dims = self.cropped.setdefault(row.path, [row.input.depth, *row.input.spatial])
            dims[int(c.args[0]) - 1] = int(c.args[2])  # type: ignore[arg-type]
            fn = self.node("SliceBackward0", row.path, [x], self.grads(x)) if x.grad else None
            out = x.view(self.batch * prod(dims) * _FLOAT, fn=fn).hold()
            out.strided = x.strided or self.batch * prod(dims[: int(c.args[0]) - 1]) > 1  # type: ignore[arg-type]
            self.event(row.path, name)
            return out
        size = self.made(row) if last or name == ".new_zeros" else x.bytes
        if name == ".new_zeros":
            size //= self.batch
        if name == "F.pad":
            size = self.batch * prod(padded(row, c)) * _FLOAT
        if not x.grad or name == ".new_zeros":
            out = self.out(size, None)
            self.event(row.path, name)
            return out
        backward = opnodes.like_grad(self.graph, x) if name in _ACTIVATIONS else self.grads(x)
        fn = self.node(NAMED.get(name, f"{name}Backward"), row.path, [x], lambda g: backward(g)[:1])  # type: ignore[operator]
        out = self.out(size, fn)
        out.channels_last = x.channels_last
        if name in _ACTIVATIONS:  # laid out as x; what the activation's backward reads (kinds.saved)
            opnodes.like(out, x)
            self.keep(fn, standalone(_ACTIVATIONS[name], size // self.batch // _FLOAT), x, out)
        # else F.pad, the one other function of the kinds' plans: its backward is a slice of the
        # gradient, and it keeps nothing
        self.event(row.path, name)
        return out

    def join(self, s: Join) -> Tensor:
        row = self.rows[s.row]
        size = self.made(row)
        parts = [self.names[n] for n in s.sources]
        if s.merge is Merge.CONCAT:
            sizes = [t.bytes for t in parts]
            fn = self.node("CatBackward0", row.path, list(parts), lambda g: [g[0].view(n) for n in sizes])
            value = self.out(size, fn if any(t.grad for t in parts) else None)
            value.channels_last = all(t.channels_last for t in parts)
            self.event(s.row, s.merge.value)
        else:  # convcalc.pytorch.join reshapes each operand to the widest rank first: a view each
            parts = [self.reshaped(t, row.path) for t in parts]
            value = parts[0].hold()
            high = 0  # two partial sums live at once: with three operands or more, the most is mid-join
            for t in parts[1:]:
                if s.merge is Merge.ADD:
                    fn = self.node("AddBackward0", row.path, [value, t], lambda g: [g[0], g[0]])
                else:
                    fn = self.node("MulBackward0", row.path, [value, t], self.grads(value, t))
                    # each operand is kept for the other's gradient (derivatives.yaml's mul)
                    fn.keep(*([value] if t.grad else []), *([t] if value.grad else []))
                    fn.scratch = unreduced(value, t, size)
                nxt = self.out(size, fn if value.grad or t.grad else None)
                nxt.channels_last = value.channels_last  # TensorIterator: the first operand's layout
                high = max(high, self.graph.memory.total)
                value.drop()
                value = nxt
            self.event(s.row, s.merge.value, max(0, high - self.graph.memory.total))
            for t in parts:
                t.drop()
        for step in s.then:
            out = self.function(step, row, value)
            value.drop()
            value = out
        return value

    def reshaped(self, t: Tensor, row: str) -> Tensor:
        name = "ReshapeAliasBackward0" if t.strided or t.channels_last else "ViewBackward0"  # _reshape_alias
        fn = self.node(name, row, [t], lambda g: [g[0].view()]) if t.grad else None
        return t.view(fn=fn).hold()
