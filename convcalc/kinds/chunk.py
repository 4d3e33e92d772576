"""A chunk of the channels (PyTorch's `x.chunk(N, dim=1)[I]`): how ShuffleNet v2 splits its input in two.

A `parallel` whose branches each begin with a chunk is a channel split: ShuffleNet v2's unit
passes `chunk0/2` through and sends `chunk1/2` through its branch, then concatenates them
(docs/spec.md, "Channel split").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.base import Category, Head, Kind, LayerFailure, Params, Working
from convcalc.kinds.params import Param, count, positive
from convcalc.kinds.plan import FunctionStep, Plan
from convcalc.kinds.rule import Sizes
from convcalc.kinds.saved import Keep

if TYPE_CHECKING:
    from convcalc.kinds.rule import Given, Need
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

NARROW_NOTE = "`chunk<I>/<N>` is `x.narrow(1, start, size)`, the same view as `x.chunk(N, dim=1)[I]`."


def span(depth: int, chunks: int, index: int) -> tuple[int, int]:
    """The first channel and the number of channels of chunk `index`, as torch.chunk cuts `depth` channels.

    torch.chunk makes chunks of ⌈C/N⌉ channels, the last one smaller, and fewer than N where
    the last would be empty (torch.chunk's docs): 10 channels in 4 chunks are 3, 3, 3 and 1,
    and 4 channels in 3 chunks are 2 and 2, with no third. Raises LayerFailure for a chunk that
    does not exist.
    """
    if index >= chunks:
        msg = f"chunk {index} of {chunks}: the index counts from 0 to {chunks - 1}, as PyTorch's x.chunk({chunks})[i]"
        raise LayerFailure("no-such-chunk", msg)
    size = -(-depth // chunks)
    start = index * size
    if start >= depth:
        made = -(-depth // size)
        msg = (
            f"x.chunk({chunks}) of {depth} channels makes only {made} chunks of up to {size} channels "
            f"(PyTorch's rule): there is no chunk {index}"
        )
        raise LayerFailure("no-such-chunk", msg)
    return start, min(size, depth - start)


class Chunk(Kind):
    """The I-th of N chunks of the channels, counted from 0: a view of its input (no copy, no weights).

    Autograd keeps nothing for it (a slice's gradient needs only sizes); a layer after it that
    keeps its input keeps the whole tensor it is a view of (measured with torch 2.13.0,
    tests/test_training_oracle.py).
    """

    name = "chunk"
    params = (
        Param(
            "index",
            count("index"),
            required=True,
            form="the chunk's index, from 0",
            help="Which chunk of the channels this layer takes, counted from 0 as PyTorch's x.chunk(N, dim=1)[I].",
        ),
        Param(
            "chunks",
            positive("chunks"),
            required=True,
            form="the number of chunks",
            help="How many chunks the channels are cut into: ⌈C/N⌉ channels each, the last smaller (torch.chunk).",
        ),
    )
    head = Head(r"(\d+)/(\d+)", ("index", "chunks"), "<I>/<N>")
    category = Category.RESHAPE
    example = ("28x28x116", "chunk1/2")
    output_rule = "D2 = ⌈D1/N⌉ (the last chunk: the rest)"
    params_rule = "0"
    # No torch vocabulary of its own: `x.chunk(2, dim=1)` gives a tuple, and its `[i]` is the
    # layer; the importer reads the pair (convcalc/bridges/importer/fxsplit.py).

    def label(self, p: Params) -> str:
        return f"chunk{p['index']}/{p['chunks']}"

    def plan(self, p: Params, x: Volume, rounding: Rounding) -> Plan:
        del rounding
        start, size = span(x.depth, p["chunks"], p["index"])
        return Plan((FunctionStep(".narrow", (1, start, size)),), (NARROW_NOTE,))

    def rule(self, p: Params, x: Given, need: Need) -> Sizes:
        del need
        _, size = span(x.static_depth("chunk"), p["chunks"], p["index"])
        return Sizes(x.spatial, size, x.jump, in_place=True)

    def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
        del rounding
        assert row.input is not None  # noqa: S101 - a computed row has an input
        depth, n = row.input.depth, p["chunks"]
        start, size = span(depth, n, p["index"])
        last = "" if size == -(-depth // n) else f", the last chunk: {depth} − {start} = {size}"
        which = f"channel {start}" if size == 1 else f"channels {start} to {start + size - 1}"
        return Working(output=(f"D2 = ⌈{depth}/{n}⌉ = {-(-depth // n)}{last}: {which} of {depth}",))

    def saved(self, p: Params, row: LayerRow, rounding: Rounding) -> Keep:
        del p, row, rounding
        return Keep(view=True)  # a view of its input: the gradient needs only its place
