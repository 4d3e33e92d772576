"""Which rows the training step's timeline does not follow to the byte (convcalc.engine.recorder).

tests/test_step_oracle.py and tests/test_token_step.py measure the timeline against PyTorch's
allocator. Each kind says whether it is followed (`Kind.step_followed`): today all are but
lrn on a tensor of fewer than 4 dims (F.local_response_norm runs other ops there) and opaque
(its op is not PyTorch's). A report with such a row has no step figure (`show --train` says
so and gives the sum of the parts; docs/peak-memory.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.registry import KINDS

if TYPE_CHECKING:
    from convcalc.report import Report


def unmodelled(report: Report) -> tuple[str, ...]:
    """The kinds of the report's rows the step's timeline does not follow to the byte, in order, once each."""
    found: list[str] = []
    for r in report.rows:
        kind = KINDS.get(r.kind)  # None for a merge (add, concat, multiply): followed (engine/merge.py)
        if kind is not None and r.input is not None and r.kind not in found and not kind.step_followed(r.config, r):
            found.append(r.kind)
    return tuple(found)
