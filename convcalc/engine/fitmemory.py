"""`show --train --fit-memory SIZE` (issue 26): the cheapest checkpointed blocks under which a step fits.

The candidates are the spec's outermost composites and block calls (a `repeat`, `residual`,
`parallel` or call that no other one holds: ResNet's bottlenecks, DenseNet's dense blocks and
transitions); a choice checkpoints some of them. Its cost is the MACs backward runs again
(convcalc.engine.checkpoint), the sum of its blocks' own, as each block is recomputed alone.
The peak is a function passed in (the step's peak, or any other figure), computed for each
choice the search looks at.

Up to EXHAUSTIVE candidates, the choices are tried in order of cost, then of how many blocks,
from none on (a heap over the candidates sorted by cost: a choice is followed by itself with the
next candidate added, and with its last one moved to the next, which reaches every subset once
and never before a cheaper one): the first that fits is the answer, whatever the peak does.
Beyond, a branch and bound, the costliest candidate first: each is taken or left, and a branch
ends when its cost reaches the cheapest choice that fits so far, when its choice fits, or when
even taking every candidate still open leaves the peak over the limit. That last cut assumes
that checkpointing more does not raise the peak, which holds where the blocks keep far more for
backward than their input and the recompute's temporaries (a ResNet's, a DenseNet's); it can
fail for blocks that keep little (each checkpoint also keeps the generator's 5 kB state).
tests/test_fit_memory.py compares both with a brute force over every subset. `tries` bounds the
peaks computed, past which the best found so far is returned with `exact` False.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from convcalc.spec.model import LayerSpec, Node, Parallel, Residual, Sequence

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from convcalc.report import Report, Training
    from convcalc.spec.model import Spec

    PeakOf = Callable[[Spec], int]  # a spec with its `checkpoint:` flags set -> bytes
    CostOf = Callable[[Spec], int]  # the same -> the MACs backward runs again

TRIES = 20_000  # peaks computed before the search stops being exhaustive
EXHAUSTIVE = 12  # candidates up to which every cheaper choice is tried (4,096 choices at most)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A block that can be checkpointed: its path, name and cost (the MACs backward runs again)."""

    path: str
    name: str
    macs: int


@dataclass(frozen=True, slots=True)
class Fit:
    """The answer: the blocks to checkpoint (None: no choice fits), and what they give."""

    limit: int
    blocks: tuple[Candidate, ...] | None
    peak: int  # the choice's; when none fits, with every candidate checkpointed
    recompute_macs: int
    baseline: int  # nothing checkpointed
    candidates: int
    tried: int  # peaks computed
    exact: bool  # the search ran to its end


def outermost(nodes: tuple[Node, ...]) -> list[Sequence | Residual | Parallel]:
    """The composites no other composite holds, in order."""
    return [n for n in nodes if isinstance(n, (Sequence, Residual, Parallel))]


def candidates(spec: Spec, cost_of: CostOf) -> list[Candidate]:
    """The spec's outermost composites, with what checkpointing each alone costs."""
    return [Candidate(n.path, n.name, cost_of(with_checkpoints(spec, {n.path}))) for n in outermost(spec.layers)]


def with_checkpoints(spec: Spec, paths: set[str] | frozenset[str]) -> Spec:
    """The spec with `checkpoint: true` on exactly the composites at `paths`."""

    def mark(n: Node) -> Node:
        if isinstance(n, LayerSpec):
            return n
        on = n.path in paths
        if isinstance(n, Sequence):
            return replace(n, layers=tuple(map(mark, n.layers)), checkpoint=on)
        if isinstance(n, Residual):
            shortcut = tuple(map(mark, n.shortcut)) if isinstance(n.shortcut, tuple) else n.shortcut
            return replace(n, layers=tuple(map(mark, n.layers)), shortcut=shortcut, checkpoint=on)
        assert isinstance(n, Parallel)  # noqa: S101 - the last kind of node
        return replace(n, branches=tuple(tuple(map(mark, b)) for b in n.branches), checkpoint=on)

    return replace(spec, layers=tuple(map(mark, spec.layers)))


class _Search:
    def __init__(self, spec: Spec, limit: int, peak_of: PeakOf, found: list[Candidate], tries: int) -> None:
        self.spec, self.limit, self.peak_of, self.tries = spec, limit, peak_of, tries
        self.found = sorted(found, key=lambda c: -c.macs)  # the costliest first: the cost cut comes early
        self.best: tuple[int, int, tuple[Candidate, ...]] | None = None  # cost, blocks, choice
        self.tried = 0
        self.memo: dict[frozenset[str], int] = {}

    def peak(self, blocks: tuple[Candidate, ...]) -> int:
        key = frozenset(b.path for b in blocks)
        if key not in self.memo:
            self.tried += 1
            self.memo[key] = self.peak_of(with_checkpoints(self.spec, key))
        return self.memo[key]

    def run(self, i: int, chosen: tuple[Candidate, ...], cost: int) -> None:
        if self.tried >= self.tries:
            return
        if self.best is not None and (cost, len(chosen)) >= self.best[:2]:
            return  # no cheaper than a choice that fits
        if self.peak(chosen) <= self.limit:
            self.best = (cost, len(chosen), chosen)
            return
        if i == len(self.found) or self.peak((*chosen, *self.found[i:])) > self.limit:
            return  # even every block still open, checkpointed, leaves it over
        c = self.found[i]
        self.run(i + 1, (*chosen, c), cost + c.macs)
        self.run(i + 1, chosen, cost)


def by_cost(costs: list[int]) -> Iterator[tuple[int, ...]]:
    """Every subset of indices into `costs` (sorted, ascending), the cheapest first, then the smallest."""
    yield ()
    heap: list[tuple[int, int, tuple[int, ...]]] = [(costs[0], 1, (0,))] if costs else []
    while heap:
        cost, size, chosen = heapq.heappop(heap)
        yield chosen
        last = chosen[-1]
        if last + 1 < len(costs):
            heapq.heappush(heap, (cost + costs[last + 1], size + 1, (*chosen, last + 1)))
            heapq.heappush(heap, (cost - costs[last] + costs[last + 1], size, (*chosen[:-1], last + 1)))


def _in_order(search: _Search) -> None:
    """Every choice, the cheapest first, until one fits."""
    found = sorted(search.found, key=lambda c: c.macs)
    for chosen in by_cost([c.macs for c in found]):
        if search.tried >= search.tries:
            return
        blocks = tuple(found[i] for i in chosen)
        if search.peak(blocks) <= search.limit:
            search.best = (sum(b.macs for b in blocks), len(blocks), blocks)
            return


def fit_memory(  # noqa: PLR0913 - the spec, the limit, the two figures, and the search's bounds
    spec: Spec,
    limit: int,
    peak_of: PeakOf,
    cost_of: CostOf,
    *,
    tries: int = TRIES,
    exhaustive: int = EXHAUSTIVE,
) -> Fit:
    """The cheapest checkpointed blocks under which `peak_of` is at most `limit` bytes."""
    spec = with_checkpoints(spec, set())
    found = candidates(spec, cost_of)
    search = _Search(spec, limit, peak_of, found, tries)
    if len(found) <= exhaustive:
        _in_order(search)
    else:
        search.run(0, (), 0)
    baseline = search.peak(())
    exact = search.tried < tries
    if search.best is None:
        return Fit(limit, None, search.peak(tuple(found)), 0, baseline, len(found), search.tried, exact)
    cost, _, blocks = search.best
    order = {c.path: i for i, c in enumerate(found)}
    chosen = tuple(sorted(blocks, key=lambda b: order[b.path]))
    return Fit(limit, chosen, search.peak(blocks), cost, baseline, len(found), search.tried, exact)


def sum_of_parts(report: Report, **options: Any) -> tuple[PeakOf, CostOf]:
    """The training total (weights, gradients, state, saved) and the recompute, as `training` computes them."""
    from convcalc.engine.training import training  # noqa: PLC0415 - engine/training imports nothing of this

    def block(spec: Spec) -> Training:
        t = training(spec, report, per_row=False, **options).training
        assert t is not None  # noqa: S101 - the search runs on computed reports only
        return t

    return (lambda s: block(s).total), (lambda s: block(s).recompute_macs)


def step_peak(report: Report, optimizer: str, *, foreach: bool | None, device: str = "cpu") -> tuple[PeakOf, CostOf]:
    """The training step's peak (convcalc.engine.steptime, float32) and the recompute."""
    from convcalc.engine.steptime import step_timeline  # noqa: PLC0415 - only this search walks the step
    from convcalc.engine.training import Device, Optimizer  # noqa: PLC0415

    def peak(spec: Spec) -> int:
        step = step_timeline(spec, report, Optimizer(optimizer), foreach=foreach, device=Device(device))
        assert step is not None  # noqa: S101 - the search runs on computed reports only
        return step.peak

    return peak, sum_of_parts(report)[1]
