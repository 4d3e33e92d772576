"""A module call's ops on simulated tensors that carry their layouts, for the recorder's token modules.

convcalc.engine.attnsteps (SelfAttention) and convcalc.engine.tokensteps (TokenMLP) run their
ops through `Ops`: each simulated tensor has its sizes and strides (convcalc.engine.layout), so
that a reshape is a view or a copy as ATen decides, in forward and in backward, at every batch
and size. Measured (CPU, float32, torch 2.13; tests/step_measure.py):

- a view op's node (TransposeBackward0, ViewBackward0, PermuteBackward0, UnsqueezeBackward0,
  SqueezeBackward1) makes nothing; its backward is the inverse view of the gradient, or, for a
  view's backward reshape the strides do not allow, a copy;
- `reshape` is a view (ViewBackward0, or ReshapeAliasBackward0 of a tensor not contiguous) or a
  copy: CloneBackward0 (the copy, which autograd does not keep) and UnsafeViewBackward0;
- F.linear: on 2-d `addmm` (bias) or `mm`, the weight's transpose first (TBackward0), keeping
  its input; on 3-d, where contiguous with a bias, a view to 2-d, addmm, a view back; else
  `matmul` (the reshape, mm, `_unsafe_view`) and the bias added in place (AddBackward0: its
  backward passes the gradient on and sums the bias's);
- element-wise ops (a Python number's product, dropout's `x * mask`, the activations) keep
  the order of their operand's dims (TensorIterator); their gradients too;
- the activations of nn (an mlp's): one node each (ACTIVATIONS), keeping their input or output
  as kinds.saved says; Softsign is `x / (x.abs() + 1)`: AbsBackward0 keeps x, the add of 1 (an
  8-byte wrapped number while it runs) keeps nothing, DivBackward0 keeps x and the sum; its
  backward makes `grad / d` and `-grad * (x / d) / d`, two temporaries beside its two results
  at the most; AbsBackward0's backward makes `x.sgn()` beside its result.
"""

from __future__ import annotations

from math import prod
from typing import TYPE_CHECKING

from convcalc.engine.layout import Layout, contiguous
from convcalc.kinds.saved import standalone

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.engine.recorder import Forward
    from convcalc.engine.tape import Node, Tensor
    from convcalc.report import LayerRow

_FLOAT = 4
_BATCHED = 3  # a Linear's input of 3 dims: N x L x D
_WRAPPED = 8  # a Python number as a 0-dim tensor, while the op that takes it runs (or is kept)
# The node of each element-wise activation nn's module records (measured); "" is nn.Identity, nothing.
ACTIVATIONS = {
    "relu": "ReluBackward0",
    "relu6": "HardtanhBackward0",
    "leaky_relu": "LeakyReluBackward0",
    "elu": "EluBackward0",
    "selu": "EluBackward0",
    "celu": "CeluBackward0",
    "gelu": "GeluBackward0",
    "silu": "SiluBackward0",
    "swish": "SiluBackward0",
    "mish": "MishBackward0",
    "sigmoid": "SigmoidBackward0",
    "hardsigmoid": "HardsigmoidBackward0",
    "tanh": "TanhBackward0",
    "hardtanh": "HardtanhBackward0",
    "hardswish": "HardswishBackward0",
    "softplus": "SoftplusBackward0",
    "identity": "",
}


def size(shape: tuple[int, ...]) -> int:
    """The bytes of a float32 tensor of these sizes."""
    return prod(shape) * _FLOAT


class Ops:
    """One module call: the simulated tensors' layouts, the most live bytes at op ends."""

    def __init__(self, f: Forward, row: LayerRow) -> None:
        self.f, self.row, self.high = f, row, 0

    # layouts
    def at(self, t: Tensor, lay: Layout) -> Tensor:
        t.layout = lay
        t.strided = t.channels_last = not lay.contiguous  # what the recorder's other ops read
        return t

    def layout(self, t: Tensor, shape: tuple[int, ...]) -> Layout:
        """A tensor's layout: one this call made, else read from its flags (a gradient from outside)."""
        if isinstance(t.layout, Layout) and (not shape or len(shape) == len(t.layout.shape)):
            return t.layout
        if t.storage.bytes < size(shape):  # the loss's seed, expanded
            return Layout(shape, (0,) * len(shape))
        if not (t.strided or t.channels_last):
            return contiguous(shape)
        b, d, n = shape  # a token volume stored N x L x D
        return contiguous((b, n, d)).transpose(1, 2)

    def seen(self, t: Tensor) -> Tensor:
        self.high = max(self.high, self.f.graph.memory.total)
        return t

    # backward helpers: gradients are simulated tensors with layouts
    def fresh(self, lay: Layout) -> Tensor:
        return self.at(self.f.graph.fresh(size(lay.shape)), lay)

    def reshaped(self, g: Tensor, lay: Layout, shape: tuple[int, ...]) -> Tensor:
        """g.reshape(shape): a view where the strides allow, else a contiguous copy."""
        view = lay.view(shape)
        if view is None:
            return self.fresh(contiguous(shape))
        return self.at(g.view(size(shape)), view)

    # forward ops
    def view_op(
        self, x: Tensor, lay: Layout, name: str, out: Layout, back: Callable[[Layout], Layout | None]
    ) -> Tensor:
        """A view op (transpose, view, permute, squeeze, unsqueeze): its node's backward is `back` of the gradient."""
        shape = lay.shape

        def backward(g: list[Tensor]) -> list[Tensor | None]:
            glay = self.layout(g[0], out.shape)
            moved = back(glay)
            return [self.reshaped(g[0], glay, shape) if moved is None else self.at(g[0].view(size(shape)), moved)]

        fn = self.f.node(name, self.row.path, [x], backward) if x.grad else None
        return self.seen(self.at(x.view(fn=fn).hold(), out))

    def transpose(self, x: Tensor, a: int, b: int) -> Tensor:
        lay = self.layout(x, ())
        return self.view_op(x, lay, "TransposeBackward0", lay.transpose(a, b), lambda g: g.transpose(a, b))

    def permute(self, x: Tensor, dims: tuple[int, ...]) -> Tensor:
        lay = self.layout(x, ())
        inverse = tuple(dims.index(d) for d in range(len(dims)))
        return self.view_op(x, lay, "PermuteBackward0", lay.permute(dims), lambda g: g.permute(inverse))

    def view(self, x: Tensor, shape: tuple[int, ...], name: str = "ViewBackward0") -> Tensor:
        """x.view(shape) (x viewable as shape); its backward reshapes the gradient back."""
        lay = self.layout(x, ())
        out = lay.view(shape)
        assert out is not None  # noqa: S101 - the module's views are views
        back = lay.shape
        return self.view_op(x, lay, name, out, lambda g: g.view(back))

    def reshape(self, x: Tensor, shape: tuple[int, ...]) -> Tensor:
        """x.reshape(shape): a view (ViewBackward0; ReshapeAliasBackward0 where x is not contiguous), else a copy."""
        lay = self.layout(x, ())
        if lay.view(shape) is not None:
            return self.view(x, shape, "ViewBackward0" if lay.contiguous else "ReshapeAliasBackward0")
        copy = self.copy(x, lay)
        out = self.view(copy, shape, "UnsafeViewBackward0")
        copy.drop()
        return out

    def copy(self, x: Tensor, lay: Layout) -> Tensor:
        """x.contiguous() / clone: a copy (CloneBackward0 passes the gradient on)."""
        fn = self.f.node("CloneBackward0", self.row.path, [x], lambda g: [g[0]]) if x.grad else None
        return self.seen(self.at(self.f.out(x.bytes, fn), contiguous(lay.shape)))

    def new(self, shape: tuple[int, ...], fn: Node | None, lay: Layout | None = None) -> Tensor:
        return self.seen(self.at(self.f.out(size(shape), fn), lay or contiguous(shape)))

    def scaled(self, x: Tensor, *, wrapped: bool) -> Tensor:
        """X times a Python number: MulBackward0 keeps the number (an 8-byte tensor), MulBackward1 nothing."""
        lay = self.layout(x, ())

        def backward(g: list[Tensor]) -> list[Tensor | None]:
            grad = self.fresh(self.layout(g[0], lay.shape).like(scalar=True))
            return [grad, None] if wrapped else [grad]

        inputs: list[Tensor | None] = [x, None] if wrapped else [x]
        fn = self.f.node("MulBackward0" if wrapped else "MulBackward1", self.row.path, inputs, backward)
        if wrapped:
            number = self.f.graph.new(_WRAPPED)
            fn.keep(number)
            number.drop()
        return self.new(lay.shape, fn, lay.like(scalar=True))

    def dropout(self, x: Tensor, p: float) -> Tensor:
        """_dropout_impl: the mask (empty_like, bernoulli_, div_), then `x * mask`, which keeps the mask."""
        if p == 0:
            return x.hold()
        lay = self.layout(x, ())
        mask = self.f.graph.new(x.bytes)
        fn = self.f.node(
            "MulBackward0", self.row.path, [x, None], lambda g: [self.fresh(self.layout(g[0], lay.shape).like()), None]
        )
        fn.keep(mask)
        mask.drop()
        return self.new(lay.shape, fn, lay.like())

    def expand(self, x: Tensor) -> Tensor:
        """Matmul's expand to the sizes it has: a view; its backward's sum_to_size is the gradient itself."""
        fn = self.f.node("ExpandBackward0", self.row.path, [x], lambda g: [g[0]])
        return self.seen(self.at(x.view(fn=fn).hold(), self.layout(x, ())))

    def linear(self, x: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        """F.linear: on 2-d addmm (mm without a bias); on 3-d addmm of a view if contiguous with a bias, else matmul."""
        lay = self.layout(x, ())
        if len(lay.shape) == _BATCHED and bias is not None and lay.contiguous:
            flat = self.view(x, (lay.shape[0] * lay.shape[1], lay.shape[2]))
            out = self.linear(flat, weight, bias)
            flat.drop()
            view = self.view(out, (*lay.shape[:2], self.layout(out, ()).shape[1]))
            out.drop()
            return view
        path = self.row.path
        mat2 = weight.view(fn=self.f.node("TBackward0", path, [weight], lambda g: [g[0].view()])).hold()
        if len(lay.shape) == _BATCHED:  # matmul: a reshape to 2-d, mm, a view back; the bias added in place
            flat = self.reshape(x, (lay.shape[0] * lay.shape[1], lay.shape[2]))
            out = self.mm(flat, mat2, weight, None)
            flat.drop()
            view = self.view(out, (*lay.shape[:2], self.layout(out, ()).shape[1]), "UnsafeViewBackward0")
            out.drop()
            mat2.drop()
            if bias is not None:
                fn = self.f.node(
                    "AddBackward0",
                    path,
                    [view, bias],
                    lambda g: [g[0], self.fresh(contiguous((bias.bytes // _FLOAT,)))],
                )
                view.fn = fn
            return view
        out = self.mm(x, mat2, weight, bias)
        mat2.drop()
        return out

    def mm(self, x: Tensor, mat2: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        lay = self.layout(x, ())
        rows, width = lay.shape[0], weight.bytes // _FLOAT // lay.shape[1]
        grads = self.f.grads(*([bias] if bias is not None else []), x, weight)
        inputs: list[Tensor | None] = [bias, x, mat2] if bias is not None else [x, mat2]
        fn = self.f.node("AddmmBackward0" if bias is not None else "MmBackward0", self.row.path, inputs, grads)
        fn.keep(x)
        return self.new((rows, width), fn)

    def activation(self, x: Tensor, function: str) -> Tensor:
        """An nn activation module on x (the module docstring)."""
        if function == "softsign":
            return self.softsign(x)
        name = ACTIVATIONS[function]
        if not name:
            return x.hold()
        lay = self.layout(x, ())
        fn = self.f.node(name, self.row.path, [x], lambda g: [self.fresh(self.layout(g[0], lay.shape).like())])
        out = self.new(lay.shape, fn, lay.like())
        keep = standalone(function, x.bytes // _FLOAT)
        fn.keep(*([x] if keep.input else []), *([out] if keep.output else []))
        return out

    def softsign(self, x: Tensor) -> Tensor:
        """F.softsign: x / (x.abs() + 1), three ops (the module docstring)."""
        lay = self.layout(x, ())
        like = lay.like()
        n = x.bytes
        path = self.row.path
        fresh = self.fresh
        absolute = self.f.node("AbsBackward0", path, [x], lambda g: [fresh(self.layout(g[0], like.shape).like())])
        absolute.scratch = n  # x.sgn()
        absolute.keep(x)
        a = self.new(lay.shape, absolute, like)
        number = self.f.graph.new(_WRAPPED)
        plus = self.f.node("AddBackward0", path, [a, None], lambda g: [g[0], None])
        d = self.new(lay.shape, plus, like.like(scalar=True))
        number.drop()
        a.drop()
        div = self.f.node("DivBackward0", path, [x, d], lambda _g: [fresh(like), fresh(like)])
        div.scratch = 2 * n  # x / d and -grad, while their product is made
        out = self.new(lay.shape, div, like)
        div.keep(x, d)
        d.drop()
        return out

    def chain(self, x: Tensor, *steps: Callable[[Tensor], Tensor]) -> Tensor:
        """The tensor x through each step, each input let go once its result is made (x's hold too)."""
        t = x
        for step in steps:
            nxt = step(t)
            t.drop()
            t = nxt
        return t

    def done(self, out: Tensor, cls: str) -> Tensor:
        """The call's event: the most at its ops' ends beyond what is live after it."""
        self.f.event(self.row.path, cls, max(0, self.high - self.f.graph.memory.total))
        return out
