"""`checkpoint: true` in the training step's timeline (issue 26): torch.utils.checkpoint, use_reentrant=False.

What PyTorch 2.13 does (torch/utils/checkpoint.py, `_checkpoint_without_reentrant_generator`), on CPU:

- forward: `torch.get_rng_state()` (5,056 bytes, the CPU generator's state, kept for the
  recompute); `_NoopSaveInputs` saves the block's input; the block runs under a saved-tensor hook
  that keeps nothing (a holder per tensor an op would save), so its intermediates go as in an
  inference pass and its nodes hold no tensor;
- backward: the first node of the block that unpacks a saved tensor runs the block's forward
  again, from the saved input, under `fork_rng` (which keeps the generator's state, 5,056 bytes
  more, until it ends) and a hook that keeps each tensor packed, in order, for its holder; it
  stops as soon as the last holder has its tensor (early stop): where that op saves what it reads,
  before it runs, where it saves what it makes, once it has. Each node then finds its tensors
  as it would have saved them, and frees them when it has run; when the block's last node that
  saved anything has run, the saved input and the generator's state go.

`Checkpointing` is the recorder's Forward with that: `forward(...)` gives it to steptime for a
program with checkpointed blocks (bridges/checkpoint.py's regions), Forward otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.engine.recorder import Forward
from convcalc.engine.tape import Node, Part

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.bridges.checkpoint import Region
    from convcalc.bridges.program import Program
    from convcalc.engine.autograd import Graph
    from convcalc.engine.tape import Tensor
    from convcalc.report import Report

    OnEvent = Callable[[str, str, int], None]

RNG_STATE = 5056  # torch.get_rng_state(): the CPU generator's mt19937 state, a uint8 tensor


class _Stop(Exception):  # noqa: N818 - PyTorch's _StopRecomputationError, by another name
    """The recompute has made every tensor the block saved."""


class _Frame:
    """One checkpointed block: its input and generator state, its holders, and what the recompute made."""

    def __init__(self, region: Region, x: Tensor, rng: Tensor) -> None:
        self.region = region
        self.input = x
        self.rng = rng
        self.count = 0  # holders made in forward
        self.nodes = 0  # nodes with a holder, not yet run in backward
        self.recomputed: dict[int, Tensor] = {}
        self.done = False  # recomputed
        self.filled = 0
        self.stopped = False
        self.before = False  # the last holder was filled before its op ran: the op does not run
        self.made: set[int] = set()  # storages made since the recompute's last node (what an op makes)


class _Saving(Node):
    """A node of a checkpointed block: what it would save is a holder; in backward, its frame's tensors."""

    __slots__ = ("frame", "holders")
    frame: _Frame
    holders: list[int]  # the frame's holders of what it would have saved, in order

    def keep(self, *tensors: Tensor) -> None:
        if not self.holders:
            self.frame.nodes += 1
        for _ in tensors:
            self.holders.append(self.frame.count)
            self.frame.count += 1

    def release(self) -> None:
        frame = self.frame
        for k in self.holders:
            frame.recomputed.pop(k).unsave()
        if self.holders:
            self.holders = []
            frame.nodes -= 1
            if frame.nodes == 0:  # the last holder gone: the frame, its input and state with it
                frame.input.unsave()
                frame.rng.drop()


class _Filling(Node):
    """A node the recompute makes: what it saves fills the next holder (and it keeps nothing itself)."""

    __slots__ = ("frame",)
    frame: _Frame

    def keep(self, *tensors: Tensor) -> None:
        frame = self.frame
        for t in tensors:
            t.save()
            frame.recomputed[frame.filled] = t
            frame.filled += 1
            if frame.filled == frame.count and not frame.stopped:
                frame.stopped = True
                frame.before = id(t.storage) not in frame.made


class Checkpointing(Forward):
    """The forward of a program with checkpointed blocks; their recompute is in backward, as events there."""

    def __init__(  # noqa: PLR0913 - Forward's, and where the recompute's events go
        self, report: Report, prog: Program, graph: Graph, on_event: OnEvent, on_recompute: OnEvent, *, batch: int
    ) -> None:
        super().__init__(report, prog, graph, on_event, batch=batch)
        self.on_forward = on_event
        self.on_recompute = on_recompute
        self.regions = {r.start: r for r in prog.checkpoints if r.stop > r.start}
        self.statements = prog.statements
        self.frame: _Frame | None = None
        self.filling: _Frame | None = None
        made = graph.new

        def new(size: int, part: Part = Part.ACTIVATIONS, *, fn: Node | None = None) -> Tensor:
            t = made(size, part, fn=fn)
            if self.filling is not None:
                self.filling.made.add(id(t.storage))
            return t

        graph.new = new  # type: ignore[method-assign] # what an op makes, seen by the recompute

    def run(self, prog: Program, x: Tensor) -> Tensor:
        """As Forward.run, a checkpointed block's statements inside its own call."""
        self.names["x"] = x.hold()
        i = 0
        while i < len(prog.statements):
            region = self.regions.get(i)
            if region is None:
                self.assign(prog.statements[i].target, self.statement(prog.statements[i]))
                i += 1
                continue
            self.assign(region.target, self.block(region))
            i = region.stop
        out = self.names["x"].hold()
        for t in self.names.values():
            t.drop()
        return out

    def block(self, region: Region) -> Tensor:
        """checkpoint(block, x): the generator's state and the input kept, the block run saving nothing."""
        x = self.names[region.source]
        rng = self.graph.new(RNG_STATE, Part.SAVED)
        x.save()
        self.frame = _Frame(region, x, rng)
        try:
            out = self.inside(region)
        finally:
            self.frame = None
        return out

    def inside(self, region: Region) -> Tensor:
        """The block's statements on its input, with names of their own (the exported method's locals)."""
        outer, self.names = self.names, {region.source: self.names[region.source].hold()}
        try:
            for s in self.statements[region.start : region.stop]:
                self.assign(s.target, self.statement(s))
            return self.names[region.target].hold()
        finally:
            for t in self.names.values():
                t.drop()
            self.names = outer

    def called(self, value: Tensor) -> None:
        """The recompute stops after the call that fills its last holder."""
        if self.filling is not None and self.filling.stopped:
            value.drop()
            raise _Stop

    def event(self, row: str, call: str, extra: int = 0) -> None:
        f = self.filling
        if f is not None and f.stopped and f.before:
            return  # the op whose input was the last to be saved does not run
        super().event(row, call, extra)

    def node(self, name: str, row: str, inputs: list[Tensor | None], backward: object) -> Node:
        frame, filling = self.frame, self.filling
        if frame is None and filling is None:
            return super().node(name, row, inputs, backward)
        made = super().node(name, row, inputs, backward)  # its number and edges, as Graph.node makes them
        seq, edges = made.seq, made.edges
        if filling is not None:
            filler = _Filling(seq, name, row, edges, backward)  # type: ignore[arg-type]
            filler.frame = filling
            filling.made = set()
            return filler
        assert frame is not None  # noqa: S101 - one of the two is open
        run = backward

        def unpack_first(got: list[Tensor]) -> list[Tensor | None]:
            if node.holders and not frame.done:
                self.recompute(frame)
            result: list[Tensor | None] = run(got)  # type: ignore[operator]
            return result

        node = _Saving(seq, name, row, edges, unpack_first)
        node.frame, node.holders = frame, []
        return node

    def recompute(self, frame: _Frame) -> None:
        """The block's forward again, from its saved input, until every holder has its tensor."""
        frame.done = True
        fork = self.graph.new(RNG_STATE)  # fork_rng's copy of the generator's state
        self.filling, self.on_event = frame, self.on_recompute
        # The input detached, needing a gradient as it did: its ops record nodes again, and save.
        outer, self.names = self.names, {frame.region.source: frame.input.view(fn=frame.input.fn).hold()}
        try:
            for s in self.statements[frame.region.start : frame.region.stop]:
                self.assign(s.target, self.statement(s))
                if frame.stopped:
                    break
        except _Stop:
            pass
        finally:
            for t in self.names.values():
                t.drop()
            self.names, self.filling, self.on_event = outer, None, self.on_forward
            fork.drop()


def forward(  # noqa: PLR0913 - Forward's, and where the recompute's events go
    report: Report, prog: Program, graph: Graph, on_event: OnEvent, on_recompute: OnEvent, *, batch: int
) -> Forward:
    """The recorder for the program: Checkpointing where it checkpoints a block."""
    if any(r.stop > r.start for r in prog.checkpoints):
        return Checkpointing(report, prog, graph, on_event, on_recompute, batch=batch)
    return Forward(report, prog, graph, on_event, batch=batch)
