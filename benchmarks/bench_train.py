"""`convcalc show --train` beside `convcalc show`: the training block must cost at most 1.2× (issue 15).

    python benchmarks/bench_train.py [--runs N]

Two measurements. The command: `show SPEC` and `show SPEC --train` as child processes, for
vgg16, resnet50 and densenet121 (the largest built-in), run N times each after a warm-up, the
two alternating so that the machine's load falls on both alike; medians of the wall time (spawn
to exit). The library: analyze(spec) against analyze(spec) followed by training(spec, report),
in this process, on a generated residual network of 10,000 layers, where the walk itself, not
Python's start, is the cost. The verdict line judges the command's ratio on each spec.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from convcalc import analyze, load_spec
from convcalc.engine.training import training

SPECS = ("vgg16", "resnet50", "densenet121")
TARGET = 1.2
BLOCKS = 2_000  # residual blocks of 5 layers: 10,000 leaf layers


def _wall(args: list[str]) -> float:
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb"}
    start = time.perf_counter()
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def command(runs: int) -> list[tuple[str, float, float]]:
    """(spec, median of show, median of show --train), in seconds."""
    rows = []
    for name in SPECS:
        plain = [sys.executable, "-m", "convcalc", "show", name]
        train = [*plain, "--train"]
        _wall(plain), _wall(train)  # warm-up: the byte-code cache
        times: dict[str, list[float]] = {"plain": [], "train": []}
        for _ in range(runs):
            times["plain"].append(_wall(plain))
            times["train"].append(_wall(train))
        rows.append((name, statistics.median(times["plain"]), statistics.median(times["train"])))
    return rows


def library(runs: int) -> tuple[float, float]:
    """Medians of analyze, and of analyze then training, on a 10,000-layer residual network."""
    block = "  - residual: {layers: [conv3-16 p1, bn, relu, conv3-16 p1, bn], activation: relu}\n"
    spec = load_spec("big.yaml", "input: 8x8x16\nlayers:\n" + block * BLOCKS)
    plain, train = [], []
    for _ in range(runs):
        start = time.perf_counter()
        report = analyze(spec)
        middle = time.perf_counter()
        training(spec, report, per_row=False)  # as `show --train` does
        end = time.perf_counter()
        plain.append(middle - start)
        train.append(end - start)
    return statistics.median(plain), statistics.median(train)


def main() -> None:
    """Print both measurements and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    runs = parser.parse_args().runs
    print(f"{'command':<32}{'show':>10}{'--train':>10}{'ratio':>8}")
    worst = 0.0
    for name, plain, train in command(runs):
        ratio = train / plain
        worst = max(worst, ratio)
        print(f"{'convcalc show ' + name:<32}{plain:>9.3f}s{train:>9.3f}s{ratio:>8.2f}")
    plain, train = library(max(runs // 2, 3))
    print(f"{'analyze (+ training), 10,000 layers':<32}{plain:>9.3f}s{train:>9.3f}s{train / plain:>8.2f}")
    verdict = "holds" if worst <= TARGET else "fails"
    print(f"target: show --train within {TARGET}× show — {verdict} (worst {worst:.2f}×)")


if __name__ == "__main__":
    main()
