"""Where a student's wrong answer comes from (docs/grading.md#marks): an earlier mistake, or a stride.

- Carried forward: the answer is what convcalc computes for its layer when the network is
  re-analysed from the student's own nearest earlier answered output (a student who forgot a pad
  and answered 222 → 111 → 111 consistently). The later answers are right *for their own earlier
  answer*: an error carried forward, not a new one.
- Knock-on: after a stride that does not fit (strict), the key's sizes are floor's stand-ins; a
  wrong answer is a knock-on error of that stride when it is what the key's network gives with
  the stride rounded up instead (ceil): it follows from the stride, not from a slip of its own.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from convcalc.engine.analyze import analyze
from convcalc.engine.checks import evaluate
from convcalc.errors import ConvcalcError
from convcalc.options import Rounding
from convcalc.spec.model import Junction, Wired
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.report import Report
    from convcalc.spec.expect import Expectation
    from convcalc.spec.model import Spec

# What a layer's input size decides (`rf` starts over from the answered output; `biases` do not depend on it).
CARRIED = frozenset({"output", "params", "weights", "activations", "memory", "macs", "flops", "fits"})


class Sources:
    """The key's network, re-analysed: with its strides rounded up, and from a student's answered outputs."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self._ceil: Report | None = None
        self._key: Report | None = None

    def knock_on(self, answer: Expectation) -> bool:
        """Whether the answer holds on the key's network with its strides that do not fit rounded up."""
        if self._ceil is None:
            self._ceil = analyze(replace(self.spec, rounding=Rounding.CEIL, expectations=()))
        return all(c.ok for c in evaluate((answer,), self._ceil))

    def carried(self, answer: Expectation, outputs: dict[int, tuple[tuple[int, ...], str]]) -> str:
        """What the answer is carried forward from ("" when nothing): the student's earlier output answer.

        `outputs` holds the student's answered outputs of the key's top-level layers by their
        place (1 for the first layer), each with its address for the sheet. The answer is carried
        forward when it holds on the layers from the nearest such place to its own, analysed from
        that output as the key's network does them.
        """
        if answer.key not in CARRIED or (answer.path == "" and answer.key != "output"):
            return ""
        if any(isinstance(n, (Junction, Wired)) for n in self.spec.layers):
            return ""  # a general graph's layers read outputs before the student's: no slice of it stands alone
        own = int(answer.path.split(".")[0]) if answer.path else len(self.spec.layers) + 1
        earlier = [q for q in outputs if q < own]
        if not earlier:
            return ""
        q = max(earlier)
        shape, where = outputs[q]
        return where if self._holds(answer, q, own, shape) else ""

    def _key_unfit(self, q: int, own: int) -> bool:
        """Whether a stride of the key's own layers q+1..own does not fit."""
        if self._key is None:
            self._key = analyze(replace(self.spec, expectations=()))
        return any(
            d.code == "stride-does-not-fit" and d.path and q < int(d.path.split(".")[0]) <= own
            for d in self._key.diagnostics
        )

    def _holds(self, answer: Expectation, q: int, own: int, shape: tuple[int, ...]) -> bool:
        rank = len(self.spec.input.spatial)
        if len(shape) not in {1, rank + 1} or min(shape) < 1:
            return False  # an answer of another rank, or no volume: nothing to analyse from
        layers = self.spec.layers[q:own]
        start = Volume(tuple(shape[:-1]), shape[-1])
        # The student's own size may make a stride not fit where the key's does (111 into a 2x2
        # pool): an answer that rounds it as frameworks do, down or up, follows from that size too.
        # (Where the key's own stride does not fit, a rounded answer is a knock-on error instead.)
        roundings = [self.spec.rounding]
        if not self._key_unfit(q, own):
            roundings += [r for r in (Rounding.FLOOR, Rounding.CEIL) if r is not self.spec.rounding]
        for rounding in roundings:
            again = replace(self.spec, input=start, layers=layers, expectations=(answer,), rounding=rounding)
            try:
                report = analyze(again)
            except ConvcalcError:  # pragma: no cover - analyze records a layer's failure; this is for what it raises
                return False
            if all(c.ok for c in report.checks):
                return True
        return False
