"""ShuffleNet v2's channel ops as torch.fx traces them: the split into chunks, and the shuffle written out.

- `x.chunk(N, dim=1)` (or `torch.chunk`, or `torch.split(x, C/N, dim=1)`), each of whose users
  is a `[i]`: the call is a view, and each `[i]` the layer `chunk<i>/<N>` on `x`. A fork of
  chunks that meet in a concat is then a parallel of branches that each begin with their chunk.
- `x.narrow(1, start, length)` where that is a chunk (convcalc's export writes chunks so).
- torchvision's `channel_shuffle` (torchvision/models/shufflenetv2.py), traced as
  `x.view(N, G, C/G, H, W)`, `torch.transpose(x, 1, 2)`, `.contiguous()`, `x.view(N, C, H, W)`:
  the last view is the layer `channel_shuffle<G>`, the ones before it views. Each value between
  has one user, else the ops stay what they are (refused as ops convcalc has no kind for).
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer.fxlast import shape

if TYPE_CHECKING:
    from convcalc.bridges.importer.graph import Op

RESHAPES = frozenset({"view", "reshape"})
TRANSPOSES = frozenset({"transpose", "swapaxes", "swapdims"})


def _name(node: Any) -> str:
    target = node.target
    return target if isinstance(target, str) else getattr(target, "__name__", "")


def _call(node: Any, names: frozenset[str]) -> bool:
    return hasattr(node, "op") and node.op in {"call_function", "call_method"} and _name(node) in names


def _arg(node: Any, at: int, name: str, default: Any) -> Any:
    return node.kwargs.get(name, node.args[at] if len(node.args) > at else default)


def chunks(node: Any) -> int | None:
    """How many chunks a split of the channels makes (`x.chunk(2, dim=1)`), every user taking one `[i]`; else None."""
    if not _call(node, frozenset({"chunk", "split"})) or not node.args:
        return None
    x = shape(node.args[0])
    if not _channels(node, _arg(node, 2, "dim", 0)):
        return None
    if any(u.target is not operator.getitem or not isinstance(u.args[1], int) for u in node.users):
        return None
    if _name(node) == "chunk":
        n = _arg(node, 1, "chunks", None)
        return n if isinstance(n, int) and n > 0 else None
    size = _arg(node, 1, "split_size_or_sections", _arg(node, 1, "split_size", None))
    # An int size that divides the channels makes C/size equal chunks, as x.chunk(C/size) does.
    return x[1] // size if isinstance(size, int) and size > 0 and x[1] % size == 0 else None


def _channels(node: Any, dim: Any) -> bool:
    """Whether `dim` of a call's value is its channels (1, or 1 - ndim counted from the end)."""
    x = shape(node.args[0]) if node.args else ()
    return len(x) >= 2 and dim in {1, 1 - len(x)}  # noqa: PLR2004 - N and C


def _narrowed(node: Any) -> dict[str, Any] | None:
    """`x.narrow(1, start, length)` where it is a chunk (convcalc's export writes a chunk so); else None.

    It is chunk start/length of ⌈C/length⌉ when torch.chunk makes chunks of `length` channels there.
    """
    depth = shape(node.args[0])[1]
    start, length = _arg(node, 2, "start", None), _arg(node, 3, "length", None)
    if not isinstance(start, int) or not isinstance(length, int) or length < 1 or start < 0 or start % length:
        return None
    n, index = -(-depth // length), start // length
    if -(-depth // n) != length or index >= n or start + length > depth:
        return None
    return {"chunk": {"index": index, "chunks": n}}


class Splits:
    """The ops met so far by node name, as fx.py reads the nodes in order (a shuffle's end marks its views)."""

    def __init__(self) -> None:
        self.ops: dict[str, Op] = {}

    def read(self, node: Any, op: Op) -> None:
        """Read `node`'s op (`read`), and keep it."""
        read(node, op, self.ops)
        self.ops[node.name] = op


def read(node: Any, op: Op, ops: dict[str, Op]) -> None:
    """Read `node`'s op as a chunk's view, a chunk, or the end of a channel shuffle (and mark its views among `ops`)."""
    if chunks(node) is not None:
        op.view = True  # its `[i]`s read its input
        return
    if node.target is operator.getitem and node.args and hasattr(node.args[0], "op"):
        n = chunks(node.args[0])
        if n is not None:
            depth = shape(node.args[0].args[0])[1]
            made = -(-depth // -(-depth // n))  # torch.chunk makes fewer where the last would be empty
            index = node.args[1] + made if node.args[1] < 0 else node.args[1]
            op.layer = {"chunk": {"index": index, "chunks": n}}
        return
    if _call(node, frozenset({"narrow"})) and _channels(node, _arg(node, 1, "dim", None)):
        op.crop = False  # a crop cuts spatial dims; this cuts channels
        op.layer = _narrowed(node)
        return
    groups, between = _shuffle(node)
    if groups:
        op.layer = {"channel_shuffle": groups}
        for name in between:
            ops[name].view = True


def _shuffle(node: Any) -> tuple[int, list[str]]:
    """The channel shuffle of torchvision ending at `node`: its groups and its ops before `node`; else (0, [])."""
    if not _call(node, RESHAPES) or not node.args:
        return 0, []
    between: list[str] = []
    at = node.args[0]
    if _call(at, frozenset({"contiguous"})) and len(at.users) == 1:
        between.append(at.name)
        at = at.args[0]
    if not _call(at, TRANSPOSES) or len(at.users) != 1 or tuple(at.args[1:3]) not in {(1, 2), (2, 1)}:
        return 0, []
    between.append(at.name)
    grouped = at.args[0]
    if not _call(grouped, RESHAPES) or len(grouped.users) != 1 or not grouped.args:
        return 0, []
    between.append(grouped.name)
    x, split, out = shape(grouped.args[0]), shape(grouped), shape(node)
    # N x C x S... viewed as N x G x C/G x S..., transposed, and viewed back as N x C x S....
    if len(x) < 2 or len(split) != len(x) + 1 or out != x:  # noqa: PLR2004 - N and C
        return 0, []
    groups = split[1]
    if groups < 1 or x[1] % groups or split != (x[0], groups, x[1] // groups, *x[2:]):
        return 0, []
    return groups, between
