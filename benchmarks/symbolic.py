"""The symbolic `fit` of each built-in spec against `show` of the same spec, and against the sweep.

    python benchmarks/symbolic.py [--runs N] [--markdown]

Two measures per built-in, each a median of N runs:
- the command as a user runs it, a child process from spawn to exit: `convcalc fit NAME`,
  `convcalc show NAME` (table), and once `convcalc fit NAME --list` (the numeric sweep over the
  square sizes 1..1024, the old `fit`);
- the work alone, in this process after one warm-up: the symbolic walk and its sets
  (`analyze_closed` + the per-axis report `fit` prints) against the numeric walk (`analyze`).

The target (issue 14, docs/performance.md): the symbolic `fit` within 1.5× the time of `show`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import TYPE_CHECKING

from convcalc.builtins import builtin_names, open_spec
from convcalc.engine.analyze import analyze
from convcalc.engine.symbolic import analyze_closed
from convcalc.render.sizes import axis_report

if TYPE_CHECKING:
    from collections.abc import Callable

TARGET = 1.5


def wall(argv: list[str], runs: int) -> float:
    """Median seconds of a child process, output thrown away (exit 1 is a verdict, not a failure)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append(time.perf_counter() - start)
        if done.returncode not in {0, 1}:
            msg = f"{' '.join(argv)} exited {done.returncode}"
            raise SystemExit(msg)
    return statistics.median(times)


def work(fn: Callable[[], object], runs: int) -> float:
    """Median seconds of a call in this process, after one warm-up call."""
    fn()  # warm-up
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Measure every built-in and print the table and the target's verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    exe = shutil.which("convcalc") or sys.exit("convcalc is not on PATH: pip install -e .")
    env_note = f"python {sys.version.split()[0]}, {os.cpu_count()} cores"
    header = ["spec", "fit (s)", "show (s)", "fit/show", "fit --list (s)", "list/fit", "closed (ms)", "numeric (ms)"]
    rows = []
    worst = 0.0
    for name in builtin_names():
        spec = open_spec(name)
        fit = wall([exe, "fit", name], args.runs)
        show = wall([exe, "show", name], args.runs)
        sweep = wall([exe, "fit", name, "--list"], 1)
        closed = work(lambda spec=spec: axis_report(analyze_closed(spec, every_axis=True), spec), args.runs)
        numeric = work(lambda spec=spec: analyze(spec), args.runs)
        worst = max(worst, fit / show)
        rows.append([
            name, f"{fit:.3f}", f"{show:.3f}", f"{fit / show:.2f}×", f"{sweep:.2f}", f"{sweep / fit:.0f}×",
            f"{closed * 1000:.1f}", f"{numeric * 1000:.1f}",
        ])  # fmt: skip
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    verdict = "met" if worst <= TARGET else "NOT met"
    print(f"\nthe symbolic fit within {TARGET}× show: worst {worst:.2f}×, {verdict} ({env_note})")


if __name__ == "__main__":
    main()
