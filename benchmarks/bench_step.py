"""The training step's timeline beside `convcalc show`: ResNet-50's must cost at most 1.5× (issue 26).

    python benchmarks/bench_step.py [--runs N]

Two measurements. The command: `show resnet50` and `show resnet50 --train --optimizer adam` (the
block with the step's timeline and peak) as child processes, N times each after a warm-up, the two
alternating so that the machine's load falls on both alike; medians of the wall time. The library:
`analyze(spec)` (what `show` computes) against `step_timeline(spec, report)` alone, in this
process, medians of N runs. The verdict judges the command's ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from convcalc import analyze
from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze as analyze_spec
from convcalc.engine.steptime import step_timeline
from convcalc.engine.training import Optimizer

TARGET = 1.5


def _wall(args: list[str]) -> float:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def command(runs: int) -> tuple[float, float]:
    """Medians of `show resnet50` and of `show resnet50 --train --optimizer adam`, in seconds."""
    plain = [sys.executable, "-m", "convcalc", "show", "resnet50"]
    train = [*plain, "--train", "--optimizer", "adam"]
    _wall(plain), _wall(train)  # warm-up: the byte-code cache
    times: dict[str, list[float]] = {"plain": [], "train": []}
    for _ in range(runs):
        times["plain"].append(_wall(plain))
        times["train"].append(_wall(train))
    return statistics.median(times["plain"]), statistics.median(times["train"])


def library(runs: int) -> tuple[float, float]:
    """Medians of analyze(resnet50) and of its step's timeline, in seconds."""
    spec = open_spec("resnet50")
    analyze(spec)  # warm-up
    plain, step = [], []
    for _ in range(runs):
        start = time.perf_counter()
        report = analyze_spec(spec)
        middle = time.perf_counter()
        step_timeline(spec, report, Optimizer.ADAM)
        plain.append(middle - start)
        step.append(time.perf_counter() - middle)
    return statistics.median(plain), statistics.median(step)


def main() -> None:
    """Both measurements and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    plain, train = command(runs)
    ratio = train / plain
    print(f"show resnet50: {plain * 1000:.0f} ms; with --train --optimizer adam: {train * 1000:.0f} ms ({ratio:.2f}x)")
    analyzed, step = library(runs)
    print(
        f"library: analyze {analyzed * 1000:.1f} ms, step_timeline {step * 1000:.1f} ms"
        f" ({step / analyzed:.2f}x of analyze)"
    )
    verdict = "within" if ratio <= TARGET else "over"
    print(f"verdict: the command with the timeline is {verdict} {TARGET}x of show")


if __name__ == "__main__":
    main()
