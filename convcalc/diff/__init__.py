"""`convcalc diff`: what changed from one network to another, and whether it fits a budget.

Pure, like the engine: two Reports in, a frozen Diff of raw numbers out; convcalc.render.diff
makes the text.
"""

from __future__ import annotations

from convcalc.diff.align import Alignment
from convcalc.diff.budget import Budget, BudgetResult, Metric, TotalChange, parse_budgets
from convcalc.diff.compare import Diff, ParamChange, RowDiff, Status, compare
from convcalc.errors import BudgetError

__all__ = [
    "Alignment",
    "Budget",
    "BudgetError",
    "BudgetResult",
    "Diff",
    "Metric",
    "ParamChange",
    "RowDiff",
    "Status",
    "TotalChange",
    "compare",
    "parse_budgets",
]
