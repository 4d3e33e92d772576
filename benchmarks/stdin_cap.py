"""Endless standard input, as `cat /dev/zero | convcalc show -`: the time and peak memory of the refusal.

    python benchmarks/stdin_cap.py [--runs N]

Each run feeds zeros to `convcalc show -` from this process until the child stops reading, and
reports the child's wall time and its peak resident memory (os.wait4). Standard input is read up
to the file size limit (10,000,000 bytes, docs/limits.md) and no further; before issue 22 the
whole stream was read and the command ended in MemoryError.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time


def once() -> tuple[float, int, int]:
    """Seconds, peak kB and exit code of one run."""
    started = time.monotonic()
    with subprocess.Popen(
        [sys.executable, "-m", "convcalc", "show", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    ) as child:
        stdin = child.stdin
        assert stdin is not None  # noqa: S101 - Popen gave a pipe

        def zeros() -> None:
            chunk = b"\0" * 65536
            try:
                while True:
                    stdin.write(chunk)
            except (BrokenPipeError, ValueError):  # the child stopped reading
                pass

        feeder = threading.Thread(target=zeros, daemon=True)
        feeder.start()
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        feeder.join(timeout=10)
    return seconds, usage.ru_maxrss, child.returncode


def main() -> None:
    """Run it --runs times and print the median time, the range and the largest peak."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    runs = [once() for _ in range(parser.parse_args().runs)]
    codes = sorted({code for _, _, code in runs})
    seconds = [s for s, _, _ in runs]
    peaks = [kb for _, kb, _ in runs]
    print(
        f"cat /dev/zero | convcalc show -: exit {codes}, {statistics.median(seconds):.2f} s median "
        f"({min(seconds):.2f}-{max(seconds):.2f}), peak {max(peaks) / 1000:.0f} MB"
    )


if __name__ == "__main__":
    main()
