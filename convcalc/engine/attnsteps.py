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

from convcalc.engine.layout import contiguous
from convcalc.engine.strided import Ops, size

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.engine.recorder import Forward
    from convcalc.engine.tape import Node, Tensor
    from convcalc.report import LayerRow

_FLOAT = 4
_WRAPPED = 8  # a Python number as a 0-dim double tensor


class _Attention(Ops):
    """One SelfAttention call's ops (the module docstring)."""

    def bmm(self, a: Tensor, b: Tensor) -> Tensor:
        la, lb = self.layout(a, ()), self.layout(b, ())
        fn = self.f.node(
            "BmmBackward0", self.row.path, [a, b], lambda _g: [self.fresh(contiguous(la.shape)), self.fresh(contiguous(lb.shape))]
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
        """matmul of two 4-d tensors: expand and reshape each to 3-d, bmm, a view back to 4-d."""
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
    bias = len(params) == 4
    b_in, w_out, b_out = (rest[0], rest[1], rest[2]) if bias else (None, rest[0], None)
    heads = int(row.config["heads"])
    p = float(row.config["dropout"])
    weights = bool(row.config["need_weights"])
    n, d, length = f.batch, row.input.depth, row.input.spatial[0]
    e = d // heads
    a = _Attention(f, row)
    a.at(x, a.layout(x, (n, d, length)))
    t = a.transpose(x, 1, 2)
    query = a.transpose(t, 1, 0)
    t.drop()
    proj = a.linear(query, w_in, b_in)
    query.drop()
    for step in (
        lambda v: a.view(v, (length, n, 3, d)),
        lambda v: a.view_op(v, a.layout(v, ()), "UnsqueezeBackward0", a.layout(v, ()).unsqueeze(0), lambda g: g.squeeze(0)),
        lambda v: a.transpose(v, 0, -2),
        lambda v: a.view_op(v, a.layout(v, ()), "SqueezeBackward1", a.layout(v, ()).squeeze(-2), lambda g: g.unsqueeze(-2)),
    ):
        nxt = step(proj)
        proj.drop()
        proj = nxt
    lay = a.layout(proj, ())
    packed = proj.hold() if lay.contiguous else a.copy(proj, lay)
    proj.drop()
    whole = contiguous(lay.shape)
    selected = []
    for _ in range(3):  # q, k, v: the three selects first, then each one's heads
        fn = f.node("SelectBackward0", row.path, [packed], lambda _g: [a.fresh(whole)])
        selected.append(a.at(packed.view(fn=fn).hold(), a.layout(packed, ()).select(0)))
    qkv = []
    for one in selected:
        heads_view = a.view(one, (length, n * heads, e))
        one.drop()
        qkv.append(a.transpose(heads_view, 0, 1))
        heads_view.drop()
    packed.drop()
    q, k, v = qkv
    mean = None
    if weights:
        qs = a.scaled(q, wrapped=True)
        kt = a.transpose(k, -2, -1)
        scores = a.bmm(qs, kt)
        qs.drop()
        kt.drop()
        attn = a.softmax(scores, "SoftmaxBackward0")
        scores.drop()
        dropped = a.dropout(attn, p)
        attn.drop()
        out = a.bmm(dropped, v)
        back = a.transpose(out, 0, 1)
    else:
        q4, k4, v4 = (a.view(t, (n, heads, length, e)) for t in qkv)
        if p == 0:
            out = _flash(a, q4, k4, v4)
        else:
            qs = a.scaled(q4, wrapped=False)
            kt = a.transpose(k4, -2, -1)
            ks = a.scaled(kt, wrapped=False)
            kt.drop()
            scores = a.matmul4(qs, ks)
            qs.drop()
            ks.drop()
            attn = a.softmax(scores, "SafeSoftmaxBackward0")
            scores.drop()
            dropped = a.dropout(attn, p)
            attn.drop()
            out = a.matmul4(dropped, v4)
            dropped.drop()
        for t in (q4, k4, v4):
            t.drop()
        back = a.permute(out, (2, 0, 1, 3))
    for t in (q, k, v):
        t.drop()
    out.drop()
    flat = a.reshape(back, (length * n, d))
    back.drop()
    projected = a.linear(flat, w_out, b_out)
    flat.drop()
    y = a.view(projected, (length, n, d))
    projected.drop()
    if weights:  # the weights returned, averaged over the heads: held until the module returns
        both = a.view(dropped, (n, heads, length, length))
        mean = a.seen(f.out(n * length * length * _FLOAT, f.node("MeanBackward1", row.path, [both], lambda _g: [None])))
        both.drop()
        dropped.drop()
    y1 = a.transpose(y, 1, 0)
    y.drop()
    y2 = a.transpose(y1, 1, 2)
    y1.drop()
    if mean is not None:
        mean.drop()
    return a.done(y2, "SelfAttention")


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
