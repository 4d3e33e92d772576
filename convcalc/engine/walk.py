"""The walk over a spec's node tree, shared by every engine that reads a spec (issue 24).

One function, `walk`, decides the order and the composites' rules; what a layer, a merge or a
crop *computes* is a backend's. The backends: the numeric analysis (engine/analyze.py, values
are `State`s), the symbolic one (engine/symbolic.py, `Shape`s of closed forms), training memory
(engine/training.py, the tensors autograd keeps) and the PyTorch program (bridges/program.py,
the names of Python variables). A memory timeline is one more backend; general graphs (`from:`
inputs) are walked by engine/graph.py, with the same backend.

The order, depth first (DESIGN §4):

- a layer: `leaf(layer, x)`;
- a `Sequence` (a repeat, unrolled, or a block): its layers one after another;
- a `Residual`: its body (`layers`), then its shortcut from the same input, then
  `merge(n, [(where, body), (where, shortcut)])`, the body first whatever the merge (PyTorch
  concatenates the shortcut first: the backends that build it swap the two);
- a `Parallel`: each branch from the same input, in order, then `merge(n, branches)`;
- a list with `from:` (a general graph, engine/graph.py): its items in order, each from the
  output it names (`Wired`) or the one before; a `Junction` is `merge(j, parts)` of the outputs
  it names; an output a later item reads again goes through `hold(x, name)` first.

Every composite is bracketed by `enter(n, x)`, which returns the value its shortcut reads (the
input, or a copy kept from the body that overwrites it), and `leave(n, out)`; each of its paths
(`"layers"`, `"shortcut"`, `"downsample"`, `"branches.I"`) runs inside `path(n, which, x, walk)`,
which calls `walk(x)` once. The shortcut forms:

- the identity (no shortcut): the kept input, through `path(n, "shortcut", ...)` as the rest;
- layers written in the spec: walked as a body is;
- `crop` (U-Net's copy and crop): `crop(n, x, body)`, inside the shortcut's path;
- `auto` (torchvision's): rewritten here, once, into explicit layers, walked as written ones
  (in the path `"downsample"` where it projects: the program makes it one statement).
  It is the identity when the volumes agree; else torchvision's downsample, a 1x1 conv to the
  body's depth with the body's stride and no bias (`downsample.0`), then a batchnorm
  (`downsample.1`). The stride is the ratio of the body's jump to the input's where that grows,
  else the stride that takes the input's size to the body's (DESIGN §2.3); where the sizes are
  numbers the conv must give the body's size, else `refuse`. On closed forms (the symbolic
  backend) the same rule: a size that is a formula of H is taken as is (the merge that follows
  checks it), a jump that depends on the size (after a global pool) or a stride that would
  (a body that changes a symbolic size without one) is refused, as having no closed form.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, NoReturn, Protocol, TypeVar, Union

from convcalc.engine import graph
from convcalc.errors import ConvcalcError
from convcalc.kinds.registry import KINDS, fill
from convcalc.options import Rounding
from convcalc.spec.model import Junction, LayerSpec, Node, Parallel, Residual, Sequence, Shortcut, Wired

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.algebra.expr import Expr
    from convcalc.report import Exact, LayerRow

V = TypeVar("V")
Group = Union[Sequence, Residual, Parallel]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True, slots=True)
class Measure:
    """What `shortcut: auto` is decided on: a value's sizes (numbers or closed forms) and jump.

    A jump is None where it depends on the input's size (the symbolic walk, after a global pool).
    """

    spatial: tuple[int | Expr, ...]
    depth: int | Expr
    jump: tuple[Exact | None, ...]
    text: str  # as messages show it: 5x5x8


@dataclass(frozen=True, slots=True)
class Refusal:
    """`shortcut: auto` has no projection: `closed_form` when only the formulas are to blame."""

    message: str
    closed_form: bool


class Backend(Protocol[V]):
    """What a walk computes; each method returns the value after the step."""

    def enter(self, group: Group, x: V) -> V:
        """A composite begins; returns the value its shortcut reads."""

    def path(self, group: Group, which: str, x: V, walk: Callable[[V], V]) -> V:
        """One of its paths (layers, shortcut, downsample, branches.I): `walk(x)`, called once."""

    def leaf(self, layer: LayerSpec, x: V) -> V:
        """A layer of a registered kind."""

    def crop(self, n: Residual, x: V, body: V) -> V:
        """`shortcut: crop`: the input cut to the body's spatial size."""

    def merge(self, group: Residual | Parallel | Junction, parts: list[tuple[str, V]]) -> V:
        """The join; `parts` are (where it comes from, for messages; its value)."""

    def hold(self, x: V, name: str) -> V:
        """A value of a general graph that a later layer of its list reads (`from:`): where it stays."""

    def leave(self, group: Group, out: V) -> V:
        """A composite ends with `out`."""

    def measure(self, x: V) -> Measure:
        """The sizes and jump of a value (only `shortcut: auto` asks)."""

    def refuse(self, n: Residual, x: V, refusal: Refusal) -> NoReturn:
        """`shortcut: auto` cannot project `x` onto the body."""


def walk(nodes: tuple[Node, ...], x: V, backend: Backend[V]) -> V:
    """The nodes one after another, from `x` (a general graph's: engine/graph.py)."""
    if any(isinstance(n, (Junction, Wired)) for n in nodes):
        return graph.walk(nodes, x, backend, _node)
    for n in nodes:
        x = _node(n, x, backend)
    return x


def _node(n: Node, x: V, b: Backend[V]) -> V:
    if isinstance(n, LayerSpec):
        return b.leaf(n, x)
    assert not isinstance(n, (Junction, Wired))  # noqa: S101 - walked by engine/graph.py
    kept = b.enter(n, x)
    if isinstance(n, Sequence):
        out = walk(n.layers, x, b)
    elif isinstance(n, Residual):
        out = _residual(n, x, kept, b)
    else:
        parts = [
            (f"branch {i} ({n.path}.branches.{i})", b.path(n, f"branches.{i}", x, _along(branch, b)))
            for i, branch in enumerate(n.branches)
        ]
        out = b.merge(n, parts)
    return b.leave(n, out)


def _residual(n: Residual, x: V, kept: V, b: Backend[V]) -> V:
    body = b.path(n, "layers", x, _along(n.layers, b))
    shortcut: Callable[[V], V]
    layers, which = n.shortcut, "shortcut"
    if layers is Shortcut.AUTO:
        decided = projection(n, b.measure(kept), b.measure(body))
        if isinstance(decided, Refusal):
            b.refuse(n, kept, decided)
        layers, which = decided, "downsample" if decided else which
    if layers is Shortcut.CROP:
        where, shortcut = f"the cropped input ({n.path}.shortcut.0)", lambda v: b.crop(n, v, body)
    elif layers:
        where, shortcut = f"the shortcut ({n.path}.shortcut)", _along(layers, b)
    else:
        where, shortcut = "the identity shortcut", _itself
    parts = [(f"the body ({n.path}.layers)", body), (where, b.path(n, which, kept, shortcut))]
    return b.merge(n, parts)


def _along(nodes: tuple[Node, ...], b: Backend[V]) -> Callable[[V], V]:
    return lambda v: walk(nodes, v, b)


def _itself(v: V) -> V:
    return v


def measured(row: LayerRow) -> Measure:
    """A computed report row's output, for the backends that walk a report."""
    assert row.output is not None  # noqa: S101 - a program or training walks computed reports only
    return Measure(row.output.spatial, row.output.depth, row.jump, str(row.output))


def not_its_report(n: Residual, refusal: Refusal) -> NoReturn:
    """A report backend's refusal: its report computed this residual, so the spec is another's."""
    msg = f"{n.path}: {refusal.message} (the report is not this spec's)"
    raise ConvcalcError(msg)


def _number(v: int | Expr) -> int | None:
    return v if isinstance(v, int) else v.constant


def projection(n: Residual, x: Measure, body: Measure) -> tuple[LayerSpec, ...] | Refusal:
    """`shortcut: auto` as explicit layers: () for the identity, or torchvision's downsample."""
    if x.depth == body.depth and x.spatial == body.spatial:
        return ()
    if None in x.jump or None in body.jump:
        msg = "shortcut: auto after a global or adaptive pool has no closed form (its stride depends on the size)"
        return Refusal(msg, closed_form=True)
    mismatch = Refusal(
        f"shortcut: auto cannot project {x.text} onto {body.text}: a 1x1 conv with the body's stride does not match it",
        closed_form=False,
    )
    depth = _number(body.depth)
    if not x.spatial or len(x.spatial) != len(body.spatial) or len(x.jump) != len(body.jump) or depth is None:
        return mismatch
    # torchvision's downsample has the body's stride: the ratio of the body's jump to the
    # input's (2 for a 3x3/2 pad 1 conv, which takes 7 to 4, as the 1x1/2 conv does).
    ratios = [Fraction(j) / Fraction(i) for i, j in zip(x.jump, body.jump, strict=True)]  # type: ignore[arg-type]
    if all(r.denominator == 1 and r >= 1 for r in ratios) and any(r > 1 for r in ratios):
        stride = tuple(int(r) for r in ratios)
    else:
        # A body whose jumps do not grow (a deconv in it undoes its stride) has no stride of its
        # own to give: then the stride that takes the input's size to the body's.
        by_size = [_by_size(a, b) for a, b in zip(x.spatial, body.spatial, strict=True)]
        if None in by_size:
            msg = "shortcut: auto over a body that changes the size without a stride has no closed form"
            return Refusal(msg, closed_form=True)
        stride = tuple(s for s in by_size if s is not None)
    sizes = [(_number(a), _number(b)) for a, b in zip(x.spatial, body.spatial, strict=True)]
    if any(a is not None and b is not None and (a - 1) // s + 1 != b for (a, b), s in zip(sizes, stride, strict=True)):
        return mismatch
    s = stride[0] if len(set(stride)) == 1 else stride
    # Judged above by whether it gives the body's size: the rows and columns a 1x1 window with
    # the body's stride skips are torchvision's, so the stride rule does not apply to this
    # layer, which the user never wrote (PyTorch floors it, as here, whatever `rounding` says).
    conv = fill("conv", filters=depth, size=1, stride=s, bias=False, rounding=Rounding.FLOOR)
    label = KINDS["conv"].label({**conv, "rounding": None})
    return (
        LayerSpec("conv", conv, label.split()[0].upper(), label, n.at, f"{n.path}.shortcut.0", "downsample.0"),
        LayerSpec("batchnorm", fill("batchnorm"), "BN", "bn", n.at, f"{n.path}.shortcut.1", "downsample.1"),
    )


def _by_size(a: int | Expr, b: int | Expr) -> int | None:
    """The stride that takes size a to size b: 1 where they agree, ⌈a/b⌉ on numbers, else None."""
    if a == b:
        return 1
    x, y = _number(a), _number(b)
    return -(-x // y) if x is not None and y is not None and y > 0 else None
