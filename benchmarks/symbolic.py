"""The symbolic `fit` of each built-in spec against `show` of the same spec, and against the sweep.

    python benchmarks/symbolic.py [--runs N] [--markdown] [--costs]

Two measures per built-in, each a median of N runs:
- the command as a user runs it, a child process from spawn to exit: `convcalc fit NAME`,
  `convcalc show NAME` (table), and once `convcalc fit NAME --list` (the numeric sweep over the
  square sizes 1..1024, the old `fit`);
- the work alone, in this process after one warm-up: the symbolic walk and its sets
  (`analyze_closed` + the per-axis report `fit` prints) against the numeric walk (`analyze`).

The target (issue 14, docs/performance.md): the symbolic `fit` within 1.5× the time of `show`.

`--costs` measures instead the specs of issue 22 (D7, D24) whose sets were once listed residue by
residue: strides 2, 3, 5, …, 17 in one spec (modulus 510,510), 4, 3, 5, …, 17 (1,021,020), twenty
3x3/2 pools under ceil rounding, a floor spec of 25,740 residues, and `fit alexnet --list --max
100000`; each the work in this process (median of N) and its peak memory (tracemalloc), against
the target of one second.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import tracemalloc
from typing import TYPE_CHECKING

from click.testing import CliRunner

from convcalc.builtins import builtin_names, open_spec
from convcalc.cli import main as cli
from convcalc.engine.analyze import analyze
from convcalc.engine.symbolic import analyze_closed
from convcalc.render.sizes import axis_report, describe
from convcalc.spec.loader import load_spec

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


def _chain(strides: tuple[int, ...]) -> str:
    return "input: HxWx3\nlayers: [" + ", ".join(f"conv3-4 s{s}" for s in strides) + "]\n"


COSTS = {
    "seven prime strides (510,510)": _chain((2, 3, 5, 7, 11, 13, 17)),
    "strides 4, 3, …, 17 (1,021,020)": _chain((4, 3, 5, 7, 11, 13, 17)),
    "repeat: 20 [maxpool3 s2], ceil": (
        "input: HxWx3\nrounding: ceil\nlayers:\n  - repeat: 20\n    layers: [maxpool3 s2]\n"
    ),
    "floor, 25,740 residues": (
        "input: HxWx3\nrounding: floor\nlayers: [conv3-4 s7 p1, conv3-4 s11 p2, conv3-4 s13 p3, conv5-4 s17 p2, "
        "conv3-4 s3 p1]\n"
    ),
}


def _fit(text: str) -> Callable[[], object]:
    def run() -> object:
        spec = load_spec("net.yaml", text)
        closed = analyze_closed(spec, every_axis=True)
        return describe(closed, spec, axis_report(closed, spec))

    return run


def _peak(fn: Callable[[], object]) -> float:
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def costs(runs: int) -> None:
    """Issue 22's specs: seconds (median) and peak MiB of each, against one second."""
    cases: dict[str, Callable[[], object]] = {name: _fit(text) for name, text in COSTS.items()}
    cases["fit alexnet --list --max 100000"] = lambda: CliRunner().invoke(
        cli, ["fit", "alexnet", "--list", "--max", "100000"]
    )
    worst = 0.0
    for name, fn in cases.items():
        seconds = work(fn, runs)
        worst = max(worst, seconds)
        print(f"{name:36} {seconds * 1000:8.1f} ms  {_peak(fn):6.1f} MiB")
    verdict = "met" if worst <= 1 else "NOT met"
    print(f"\neach under one second: worst {worst:.3f} s, {verdict} (python {sys.version.split()[0]})")


def main() -> None:
    """Measure every built-in and print the table and the target's verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--costs", action="store_true", help="issue 22's costly specs instead of the built-ins")
    args = parser.parse_args()
    if args.costs:
        costs(args.runs)
        return
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
