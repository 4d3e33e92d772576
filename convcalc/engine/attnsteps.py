"""SelfAttention's ops in a training step (issue 26), for convcalc.engine.recorder.

Measured (CPU, float32, torch 2.13; tests/step_measure.py, and each node's saved tensors): the
module is nn.MultiheadAttention, batch first, in train mode, so F.multi_head_attention_forward:

- the token volume N x D x L transposed to N x L x D, then to L x N x D (views);
- the in-projection `linear(x, in_proj_weight, in_proj_bias)` on that 3-d tensor: where it is
  contiguous and has a bias, a view to 2-d, `addmm` (which keeps the 2-d view) and a view back;
  else `matmul`: the weight's transpose (TBackward0), a reshape to 2-d (a view, or a copy that
  is kept: CloneBackward0 and UnsafeViewBackward0), `mm` (keeps it), a view back, and the bias
  added in place (AddBackward0); its result 3·L·N·D values;
- `unflatten, unsqueeze, transpose, squeeze` (views) and `contiguous`, a copy of 3·L·N·D (the
  projection itself freed); q, k, v are `select`s of it (their backward: a zero tensor of the
  whole copy each, added in place), each viewed as heads, L x N·h x D/h, and transposed;
- need_weights true (the math path): `q * (D/h)^-1/2` (a Python number: an 8-byte tensor the
  mul keeps), `bmm(q, kᵀ)` keeps both (k is the copy), `softmax` keeps its result, dropout
  (p > 0) its mask, then `x * mask`; `bmm(weights, v)` keeps both; the head-averaged weights
  `mean(dim=1)` (N·L·L values) live until the module returns;
- need_weights false, dropout 0: scaled_dot_product_attention takes the CPU flash kernel
  (`_scaled_dot_product_flash_attention_for_cpu`): q, k, v viewed as N x h x L x D/h; it keeps
  them, its output (laid out as q) and its logsumexp (N·h·L); its backward makes three
  gradients laid out N x L x h x D/h;
- need_weights false, dropout > 0: the math kernel: q and kᵀ each times (D/h)^-1/4 (kept by
  nothing but the bmm), matmul's expand and reshape (views: ReshapeAliasBackward0), `bmm`,
  `_safe_softmax` (keeps its result), dropout's mask and product, `bmm` with v;
- the heads back (transpose or permute, a reshape: a view or a copy), the out-projection as a
  2-d Linear (addmm, or mm without a bias), a view to L x N x D, two transposes to N x D x L.

Whether a reshape copies depends on the strides (convcalc.engine.layout): at batch 1 the
L x N x D transpose is contiguous, at batch > 1 it is not. The output is stored L x N x D
(N x L x D at batch 1): the recorder's `strided` flag; a gradient that comes back in is read
from its flags (a transpose of N x L x D, contiguous N x D x L, or the loss's expanded seed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.engine.layout import Layout, contiguous
from convcalc.engine.strided import Ops

if TYPE_CHECKING:
    from convcalc.engine.recorder import Forward
    from convcalc.engine.tape import Tensor
    from convcalc.report import LayerRow

_FLOAT = 4
_WITH_BIASES = 3  # in_proj_bias, out_proj.weight, out_proj.bias after in_proj_weight
_WRAPPED = 8  # a Python number as a 0-dim double tensor


class _Attention(Ops):
    """One SelfAttention call's ops (the module docstring)."""

    def bmm(self, a: Tensor, b: Tensor) -> Tensor:
        la, lb = self.layout(a, ()), self.layout(b, ())
        fn = self.f.node(
            "BmmBackward0",
            self.row.path,
            [a, b],
            lambda _g: [self.fresh(contiguous(la.shape)), self.fresh(contiguous(lb.shape))],
        )
        fn.keep(a, b)
        return self.new((la.shape[0], la.shape[1], lb.shape[2]), fn)

    def softmax(self, x: Tensor, name: str) -> Tensor:
        lay = self.layout(x, ())
        fn = self.f.node(name, self.row.path, [x], lambda _g: [self.fresh(contiguous(lay.shape))])
        out = self.new(lay.shape, fn)
        fn.keep(out)
        return out

    def matmul4(self, a: Tensor, b: Tensor) -> Tensor:
        """Matmul of two 4-d tensors: expand and reshape each to 3-d, bmm, a view back to 4-d."""
        la, lb = self.layout(a, ()), self.layout(b, ())
        flat = []
        for t, lay in ((a, la), (b, lb)):
            e = self.expand(t)
            flat.append(self.reshape(e, (lay.shape[0] * lay.shape[1], *lay.shape[2:])))
            e.drop()
        out = self.bmm(*flat)
        for t in flat:
            t.drop()
        shape = (*la.shape[:3], lb.shape[3])
        view = self.view(out, shape, "UnsafeViewBackward0")
        out.drop()
        return view


def self_attention(f: Forward, row: LayerRow, x: Tensor, params: list[Tensor]) -> Tensor:
    """SelfAttention on x (the module docstring): its output, its event."""
    assert row.input is not None  # noqa: S101 - computed
    w_in, *rest = params
    b_in, w_out, b_out = (rest[0], rest[1], rest[2]) if len(rest) == _WITH_BIASES else (None, rest[0], None)
    heads, p = int(row.config["heads"]), float(row.config["dropout"])
    n, d, length = f.batch, row.input.depth, row.input.spatial[0]
    a = _Attention(f, row)
    a.at(x, a.layout(x, (n, d, length)))
    packed = a.chain(
        x.hold(),
        lambda v: a.transpose(v, 1, 2),
        lambda v: a.transpose(v, 1, 0),
        lambda v: a.linear(v, w_in, b_in),
        lambda v: a.view(v, (length, n, 3, d)),
        lambda v: a.view_op(v, a.layout(v, ()), "UnsqueezeBackward0", a.layout(v, ()).unsqueeze(0), _squeeze0),
        lambda v: a.transpose(v, 0, -2),
        lambda v: a.view_op(v, a.layout(v, ()), "SqueezeBackward1", a.layout(v, ()).squeeze(-2), _unsqueeze2),
        lambda v: v.hold() if a.layout(v, ()).contiguous else a.copy(v, a.layout(v, ())),
    )
    whole = contiguous(a.layout(packed, ()).shape)
    selected = []
    for _ in range(3):  # q, k, v: the three selects first, then each one's heads
        fn = f.node("SelectBackward0", row.path, [packed], lambda _g: [a.fresh(whole)])
        selected.append(a.at(packed.view(fn=fn).hold(), a.layout(packed, ()).select(0)))
    packed.drop()
    qkv = [
        a.chain(one, lambda v: a.view(v, (length, n * heads, d // heads)), lambda v: a.transpose(v, 0, 1))
        for one in selected
    ]
    weights = None
    if row.config["need_weights"]:
        out, weights = _math(a, qkv, p)
        back = a.chain(out, lambda v: a.transpose(v, 0, 1))
    else:
        out = _sdpa(a, qkv, p, (n, heads, length, d // heads))
        back = a.chain(out, lambda v: a.permute(v, (2, 0, 1, 3)))
    for t in qkv:
        t.drop()
    projected = a.chain(back, lambda v: a.reshape(v, (length * n, d)), lambda v: a.linear(v, w_out, b_out))
    y = a.chain(projected, lambda v: a.view(v, (length, n, d)))
    mean = None
    if weights is not None:  # the weights returned, averaged over the heads: held until the module returns
        both = a.view(weights, (n, heads, length, length))
        mean = a.seen(f.out(n * length * length * _FLOAT, f.node("MeanBackward1", row.path, [both], _nothing)))
        both.drop()
        weights.drop()
    out = a.chain(y, lambda v: a.transpose(v, 1, 0), lambda v: a.transpose(v, 1, 2))
    if mean is not None:
        mean.drop()
    return a.done(out, "SelfAttention")


def _squeeze0(g: Layout) -> Layout:
    return g.squeeze(0)


def _unsqueeze2(g: Layout) -> Layout:
    return g.unsqueeze(-2)


def _nothing(_g: list[Tensor]) -> list[Tensor | None]:
    return [None]


def _math(a: _Attention, qkv: list[Tensor], p: float) -> tuple[Tensor, Tensor]:
    """need_weights: q times a Python number, bmm with kᵀ, softmax, dropout, bmm with v: its output and weights."""
    q, k, v = qkv
    qs = a.scaled(q, wrapped=True)
    kt = a.transpose(k, -2, -1)
    scores = a.bmm(qs, kt)
    qs.drop()
    kt.drop()
    attn = a.chain(scores, lambda t: a.softmax(t, "SoftmaxBackward0"), lambda t: a.dropout(t, p))
    return a.bmm(attn, v), attn


def _sdpa(a: _Attention, qkv: list[Tensor], p: float, shape: tuple[int, ...]) -> Tensor:
    """scaled_dot_product_attention of q, k, v viewed as N x h x L x D/h: the flash kernel, or with dropout its math."""
    q4, k4, v4 = (a.view(t, shape) for t in qkv)
    if p == 0:
        out = _flash(a, q4, k4, v4)
    else:
        qs = a.scaled(q4, wrapped=False)
        ks = a.chain(k4, lambda t: a.transpose(t, -2, -1), lambda t: a.scaled(t, wrapped=False))
        scores = a.matmul4(qs, ks)
        qs.drop()
        ks.drop()
        attn = a.chain(scores, lambda t: a.softmax(t, "SafeSoftmaxBackward0"), lambda t: a.dropout(t, p))
        out = a.matmul4(attn, v4)
        attn.drop()
    for t in (q4, v4) if p else (q4, k4, v4):
        t.drop()
    return out


def _flash(a: _Attention, q: Tensor, k: Tensor, v: Tensor) -> Tensor:
    """The CPU flash kernel: keeps q, k, v, its output (laid out as q) and the logsumexp; three gradients back."""
    f = a.f
    lay = a.layout(q, ())
    n, heads, length, e = lay.shape
    grad = contiguous((n, length, heads, e)).transpose(1, 2)
    fn = f.node(
        "ScaledDotProductFlashAttentionForCpuBackward0",
        a.row.path,
        [q, k, v],
        lambda _g: [a.fresh(grad), a.fresh(grad), a.fresh(grad)],
    )
    out = a.new(lay.shape, fn, lay.like())
    lse = f.graph.new(n * heads * length * _FLOAT)
    a.seen(lse)
    fn.keep(q, k, v, out, lse)
    lse.drop()
    return out
