"""lrn in a training step: F.local_response_norm is Python, so autograd records each of its ops.

torch/nn/functional.py (2.13), for an input of 4 dims or more, with the nodes they record:

    div = input.mul(input)                       # MulBackward0: saves input twice
    div = div.view(N, 1, C, H, -1)               # ViewBackward0
    div = pad(div, (0, 0, 0, 0, size // 2, (size - 1) // 2))   # ConstantPadNdBackward0: C + size - 1 channels
    div = avg_pool3d(div, (size, 1, 1), stride=1).squeeze(1)   # AvgPool3DBackward0 saves the padded; SqueezeBackward1
    div = div.view(sizes)                        # ViewBackward0
    div = div.mul(alpha).add(k).pow(beta)        # MulBackward0 saves alpha (a tensor, 8 B), AddBackward0,
                                                 # PowBackward0 saves its base
    return input / div                           # DivBackward0 saves input and the power

A Python number given for a tensor (alpha, k) is a 0-dim double tensor, 8 bytes. Backward: the
quotient's makes both gradients, the second as `-grad * ((self / other) / other)`, whose three
temporaries live until it is made; the power's `grad * (beta * base.pow(beta - 1))` has two; a
view's backward is a view; the pad's is the unpadded gradient, new.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.engine.recorder import Forward
    from convcalc.engine.tape import Tensor
    from convcalc.report import LayerRow

_WRAPPED = 8


def lrn(fwd: Forward, row: LayerRow, x: Tensor, size: int) -> Tensor:
    """The lrn row's ops on x (which needs a gradient): its output, held once."""
    assert row.input is not None  # noqa: S101 - computed
    g, path, v = fwd.graph, row.path, x.bytes
    padded = v // row.input.depth * (row.input.depth + size - 1)

    def view(t: Tensor, name: str) -> Tensor:
        fn = fwd.node(name, path, [t], lambda gr: [gr[0].view()])
        return t.view(fn=fn).hold()

    def op(name: str, inputs: list[Tensor | None], made: int, scratch: int = 0) -> Tensor:
        fn = fwd.node(name, path, inputs, fwd.grads(*inputs))
        fn.scratch = scratch
        return g.new(made, fn=fn)

    square = op("MulBackward0", [x, x], v)
    assert square.fn is not None  # noqa: S101 - made with a node
    square.fn.keep(x, x)
    shaped = view(square, "ViewBackward0")
    square.drop()
    pad = op("ConstantPadNdBackward0", [shaped], padded)
    shaped.drop()
    fn = fwd.node("AvgPool3DBackward0", path, [pad], fwd.grads(pad))
    fn.keep(pad)
    pad.drop()
    avg = g.new(v, fn=fn)
    squeezed = view(avg, "SqueezeBackward1")
    avg.drop()
    div = view(squeezed, "ViewBackward0")
    squeezed.drop()
    alpha = g.new(_WRAPPED)
    scaled = op("MulBackward0", [div, None], v)
    assert scaled.fn is not None  # noqa: S101 - made with a node
    scaled.fn.keep(alpha)
    alpha.drop()
    fn = fwd.node("AddBackward0", path, [scaled, None], lambda gr: [gr[0], None])
    shifted = g.new(v, fn=fn)
    scaled.drop()
    power = op("PowBackward0", [shifted], v, scratch=2 * v)
    assert power.fn is not None  # noqa: S101 - made with a node
    power.fn.keep(shifted)
    shifted.drop()
    div.drop()
    out = op("DivBackward0", [x, power], v, scratch=2 * v)
    assert out.fn is not None  # noqa: S101 - made with a node
    out.fn.keep(x, power)
    power.drop()
    return out
