"""The token kinds' ops in a training step (issue 27), for convcalc.engine.recorder.

Measured (CPU, float32, torch 2.13; tests/step_measure.py): a token volume N x D x L is stored
N x L x D, a transpose of it:

- `.flatten` is a view (ViewBackward0; of a channels-last grid, tokens', an alias,
  ReshapeAliasBackward0, stored N x L x D), `.transpose` a view (TransposeBackward0), neither makes
  anything; their backward is a view of the gradient.
- `.contiguous` of a transpose copies it (CloneBackward0, which keeps nothing; its backward passes
  the gradient on); of a contiguous tensor it is the tensor itself, and records nothing.
- a token tensor stored N x L x D is `channels_last` for the recorder (strided, and element-wise
  ops keep its order): torch.flatten of it (an fc on tokens) copies it (CloneBackward0, then
  UnsafeViewBackward0), as of a channels-last grid.
- TokenMLP (mlp): its transpose to N x L x D, then each Linear on the 3-d tensor (a view to
  2-d and `addmm` where it is contiguous, else `matmul`: convcalc.engine.strided), the
  activation module (strided.ACTIVATIONS; Softsign's three ops), Dropout(p > 0) its mask and
  `x * mask` (MulBackward0), Dropout(0) its input; then the transpose back. Its input may be
  stored N x L x D (after patchify), L x N x D (after attention at batch > 1) or N x D x L (the
  spec's own tokens): the layouts decide the copies. Its four parameters are tensors of their
  own (two weights, two biases, in `parameters()` order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.engine.layout import Layout, contiguous
from convcalc.engine.strided import Ops

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.engine.recorder import Forward
    from convcalc.engine.tape import Tensor
    from convcalc.kinds.plan import FunctionStep, ModuleStep
    from convcalc.report import LayerRow

FUNCTIONS = frozenset({".flatten", ".transpose", ".contiguous", ".select", ".unflatten"})
_FLOAT = 4
_VIEW_NODES = {".flatten": "ViewBackward0", ".transpose": "TransposeBackward0"}


def function(f: Forward, c: FunctionStep, row: LayerRow, x: Tensor) -> Tensor:
    """One of FUNCTIONS on x (the module docstring)."""
    name = c.function
    if name == "torch.flatten":  # of a tensor stored in another order
        return flatten_copy(f, row, x)
    if name == ".select":  # class_token_out's x[:, 0]: a view; its backward makes the whole input's gradient
        fn = f.node("SelectBackward0", row.path, [x], f.grads(x)) if x.grad else None
        out = x.view(f.made(row), fn=fn).hold()
        out.strided = out.channels_last = False  # a token of N x L x D: contiguous
        f.event(row.path, name)
        return out
    if name == ".flatten" and row.input is not None and len(row.input.spatial) == 1:  # of tokens: x itself
        f.event(row.path, name)
        return x.hold()
    if name == ".unflatten":
        return unflatten(f, row, x)
    if name == ".contiguous":
        if not x.strided:
            out = x.hold()
        else:
            fn = f.node("CloneBackward0", row.path, [x], lambda g: [g[0]]) if x.grad else None
            out = f.out(x.bytes, fn)
        f.event(row.path, name)
        return out
    node = "ReshapeAliasBackward0" if name == ".flatten" and x.channels_last else _VIEW_NODES[name]
    fn = f.node(node, row.path, [x], lambda g: [g[0].view()]) if x.grad else None
    out = x.view(fn=fn).hold()
    if name == ".transpose":
        out.strided = out.channels_last = not x.strided and _transposed(x, row)
    f.event(row.path, name)
    return out


def unflatten(f: Forward, row: LayerRow, x: Tensor) -> Tensor:
    """Grid's `x.unflatten(2, sides)`: a view of any strides (ViewBackward0); where x's layout is known, its strides.

    ATen's view gives a dim of size 1 a stride of its own (at batch 1 the batch's): a grid of
    tokens stored N x L x D then reads as channels last at batch > 1 only, as the conv after it does.
    """
    fn = f.node("ViewBackward0", row.path, [x], lambda g: [g[0].view()]) if x.grad else None
    out = x.view(fn=fn).hold()
    v = row.output
    assert v is not None  # noqa: S101 - computed
    lay = x.layout.view((f.batch, v.depth, *v.spatial)) if isinstance(x.layout, Layout) else None
    if lay is not None:
        out.layout, out.strided = lay, not lay.contiguous
        out.channels_last = lay.channels_last if len(v.spatial) == 2 else x.channels_last  # noqa: PLR2004 - 4-d
    f.event(row.path, ".unflatten")
    return out


def flatten_copy(f: Forward, row: LayerRow, x: Tensor) -> Tensor:
    """torch.flatten of a tensor stored in another order (tokens as N x L x D): reshape copies it."""
    fn = f.node("CloneBackward0", row.path, [x], lambda g: [g[0]]) if x.grad else None
    copy = f.out(x.bytes, fn)
    out = copy.view(fn=f.node("UnsafeViewBackward0", row.path, [copy], lambda g: [g[0].view()]) if x.grad else None)
    out.hold()
    copy.drop()
    f.event(row.path, "torch.flatten")
    return out


def _transposed(x: Tensor, row: LayerRow) -> bool:
    """Whether swapping dims 1 and 2 of x leaves it not contiguous: both longer than 1."""
    del x
    v = row.output
    assert v is not None  # noqa: S101 - computed
    return v.depth > 1 and len(v.spatial) == 1 and v.spatial[0] > 1


def leaves(step: ModuleStep) -> tuple[int, ...] | None:
    """The bytes of each parameter of a module whose parameters are not one weight and one bias, else None."""
    if step.cls == "SelfAttention":  # in_proj_weight, in_proj_bias, out_proj.weight, out_proj.bias
        d = int(step.args[0])  # type: ignore[arg-type]
        bias = dict(step.kwargs).get("bias", True)
        sizes = (3 * d * d, 3 * d, d * d, d) if bias else (3 * d * d, d * d)
        return tuple(n * _FLOAT for n in sizes)
    if step.cls != "TokenMLP":
        return None
    d, hidden = (int(a) for a in step.args)  # type: ignore[arg-type]
    return tuple(n * _FLOAT for n in (d * hidden, hidden, hidden * d, d))


def mlp(f: Forward, row: LayerRow, x: Tensor, params: list[Tensor]) -> Tensor:
    """TokenMLP on x (the module docstring): its output, its event."""
    assert row.input is not None  # noqa: S101 - computed
    w1, b1, w2, b2 = params
    p = float(row.config["dropout"])
    ops = Ops(f, row)
    ops.at(x, ops.layout(x, (f.batch, row.input.depth, row.input.spatial[0])))
    activation = str(getattr(row.config["activation"], "value", row.config["activation"]))
    steps: tuple[Callable[[Tensor], Tensor], ...] = (
        lambda v: ops.linear(v, w1, b1),
        lambda v: ops.activation(v, activation),
        lambda v: ops.dropout(v, p),
        lambda v: ops.linear(v, w2, b2),
        lambda v: ops.dropout(v, p),
        lambda v: ops.transpose(v, 1, 2),
    )
    t = ops.transpose(x, 1, 2)
    for step in steps:
        nxt = step(t)
        t.drop()
        t = nxt
    return ops.done(t, "TokenMLP")


def class_token(f: Forward, row: LayerRow, x: Tensor, params: list[Tensor]) -> Tensor:
    """ClassToken on x: transpose, the weight's expand over the batch, cat, transpose back."""
    assert row.input is not None  # noqa: S101 - computed
    n, d, length = f.batch, row.input.depth, row.input.spatial[0]
    ops = Ops(f, row)
    ops.at(x, ops.layout(x, (n, d, length)))
    t = ops.transpose(x, 1, 2)
    (w,) = params

    def reduce(g: list[Tensor]) -> list[Tensor | None]:  # sum_to_size over the batch; at batch 1 the gradient
        if n > 1:
            return [ops.fresh(contiguous((1, 1, d)))]
        return [ops.at(g[0].view(), ops.layout(g[0], (1, 1, d)))]

    expand = f.node("ExpandBackward0", row.path, [w], reduce)
    token = ops.at(w.view(n * w.bytes, fn=expand).hold(), Layout((n, 1, d), (0, d, 1)))
    sizes = [token.bytes, t.bytes]

    def split(g: list[Tensor]) -> list[Tensor | None]:  # slices of the gradient
        strides = ops.layout(g[0], (n, length + 1, d)).strides
        return [
            ops.at(g[0].view(sizes[0]), Layout((n, 1, d), strides)),
            ops.at(g[0].view(sizes[1]), Layout((n, length, d), strides)),
        ]

    joined = ops.new((n, length + 1, d), f.node("CatBackward0", row.path, [token, t], split))
    token.drop()
    t.drop()
    out = ops.transpose(joined, 1, 2)
    joined.drop()
    return ops.done(out, "ClassToken")


def position_embedding(f: Forward, row: LayerRow, x: Tensor, params: list[Tensor]) -> Tensor:
    """PositionEmbedding on x: transpose, the weight added (broadcast over the batch), transpose back."""
    assert row.input is not None  # noqa: S101 - computed
    n, d, length = f.batch, row.input.depth, row.input.spatial[0]
    ops = Ops(f, row)
    ops.at(x, ops.layout(x, (n, d, length)))
    t = ops.transpose(x, 1, 2)
    (w,) = params

    def backward(g: list[Tensor]) -> list[Tensor | None]:
        if n > 1:  # summed over the batch: a new tensor
            return [g[0], ops.fresh(contiguous((1, length, d)))]
        return [g[0], g[0]]  # the same gradient: held twice, AccumulateGrad copies it

    added = ops.new((n, length, d), f.node("AddBackward0", row.path, [t, w], backward), ops.layout(t, ()).like())
    t.drop()
    out = ops.transpose(added, 1, 2)
    added.drop()
    return ops.done(out, "PositionEmbedding")


MODULES = {"TokenMLP": mlp, "ClassToken": class_token, "PositionEmbedding": position_embedding}
