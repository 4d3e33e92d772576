"""Wall time and peak memory of convcalc's commands beside `python -c pass`, measured alike.

    python benchmarks/startup.py [--runs N]

Each command runs N times (after one warm-up run) as a child process; the wall time is measured
around the child, and its peak resident memory is read from the kernel's accounting for that child
(os.wait4). Medians are printed, with the ratio to `python -c pass`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(argv: list[str]) -> tuple[float, int]:
    """One run: wall seconds and peak RSS in KiB."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    elapsed = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss


def main() -> None:
    """Run the benchmark and print a table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    convcalc = shutil.which("convcalc") or str(Path(sys.executable).parent / "convcalc")
    cases = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "convcalc show vgg16": [convcalc, "show", "vgg16"],
        "convcalc show vgg16 --format json": [convcalc, "show", "vgg16", "--format", "json"],
    }
    results = {}
    for name, argv in cases.items():
        measure(argv)  # warm-up: byte-code caches, page cache
        runs = [measure(argv) for _ in range(args.runs)]
        results[name] = (statistics.median(t for t, _ in runs), statistics.median(m for _, m in runs))
    base_time, base_mem = results["python -c pass"]
    print(f"{'command':40} {'median wall':>12} {'x pass':>7} {'peak RSS':>10} {'x pass':>7}")
    for name, (wall, mem) in results.items():
        print(f"{name:40} {wall * 1000:9.1f} ms {wall / base_time:7.1f} {mem / 1024:6.1f} MiB {mem / base_mem:7.1f}")
    print(f"({args.runs} runs each, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs)")


if __name__ == "__main__":
    main()
