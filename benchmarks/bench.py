"""Wall time and peak memory of convcalc's commands beside `python -c pass` and PyTorch, measured alike.

    python benchmarks/bench.py [--runs N] [--quick] [--markdown] [--inherit-env]

Every row is a child process, run N times after one warm-up run (the 100,000-layer rows: at most 3
times, without a warm-up). Runs go round-robin over the rows, so a change in the machine's load
spreads over all of them instead of landing on one. The wall time is measured around the child
(perf_counter from spawn to reaping), its CPU time (user + system) and peak resident memory are the
kernel's accounting for that child (os.wait4), taken by a small launcher process (see LAUNCHER)
so that the benchmark's own memory does not leak into the children's peak RSS. Medians over the
runs that exited 0 are printed, with the ratios to `python -c pass`; a failed run is retried once
and counted in the `failed` column. Last, each target of docs/performance.md with its verdict:
the 100,000-layer specs checked in under 10 s and in at most 12× the 10,000-layer time (the
growth ratio), the table within 8× `python -c pass`, torchinfo at least 25× the table's time
and memory.

Rows: `python -c pass`; `python -c 'import click, yaml'` (the floor of any command: its two
dependencies imported, nothing done); `convcalc show vgg16` (table and JSON), `convcalc layer`, `convcalc check`
over every built-in spec; generated sequential and residual specs of 1,000, 10,000 and 100,000
leaf layers through `convcalc check` and `convcalc show --format json`; and, when torch and
torchinfo import, torchinfo's summary() of the same VGG16 built in PyTorch (benchmarks/torch_vgg16.py,
a real forward pass on the CPU), a forward pass on PyTorch's meta device, and `import torch` alone.
`--quick` leaves out the 100,000-layer rows and the PyTorch rows.

Byte-code: by default the children get a private byte-code cache (PYTHONPYCACHEPREFIX in the
temporary directory, PYTHONDONTWRITEBYTECODE unset), so that after the warm-up they import compiled
modules, as an installed package does, and nothing is written into the source tree.
`--inherit-env` runs them with this environment unchanged instead (where PYTHONDONTWRITEBYTECODE=1
and the package is an editable install, every run then compiles convcalc from source).
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
TORCH_SCRIPT = HERE / "torch_vgg16.py"
SIZES = (1_000, 10_000, 100_000)
BIG = 100_000
BIG_RUNS = 3
RESIDUAL_BODY = "[conv3-16 p1, bn, relu, conv3-16 p1, bn]"
RESIDUAL_LEAVES = 5  # leaf layers per residual block (the merge row with its relu is not counted)
BASE = "python -c pass"
TABLE = "convcalc show vgg16"
JSON = "convcalc show vgg16 --format json"
TORCHINFO = "torchinfo summary(vgg16)"
META = "torch meta-device forward(vgg16)"
KIB_PER_MIB = 1024
# The targets (docs/performance.md, "The targets"). The old one of `show vgg16 --format json`
# within 5× `python -c pass` is retired: the ratio is still printed, no longer judged.
BIG_SECONDS = 10.0  # each 100,000-layer spec checked in under 10 s
BIG_GROWTH = 12.0  # and at most 12× the time of its 10,000-layer spec
TABLE_TIMES_PASS = 8.0  # `show vgg16` within 8× `python -c pass`
TORCHINFO_TIMES = 25.0  # torchinfo at least 25× the table's wall time and peak memory


@dataclass
class Run:
    """One run of a child: wall and CPU seconds, peak RSS in KiB, exit code, end of its stderr."""

    wall: float
    cpu: float
    rss_kib: float
    code: int
    stderr: str


@dataclass
class Case:
    """A row of the table: the command, how many runs it gets, its good runs and its failed ones."""

    label: str
    argv: list[str]
    runs: int
    warmup: bool = True
    done: list[Run] = field(default_factory=list)
    failed: list[Run] = field(default_factory=list)

    def median(self, attribute: str) -> float:
        """The median of one measurement over the good runs (NaN when there are none)."""
        values = [getattr(run, attribute) for run in self.done]
        return statistics.median(values) if values else math.nan


# The children are started by this small launcher rather than by the benchmark itself: on Linux a
# child's peak RSS (ru_maxrss) counts the memory of the process it was spawned from (exec records
# the high-water mark of the address space it replaces, which vfork and posix_spawn share with the
# parent), so a benchmark that has grown to 20 MiB or more would read at least that for
# `python -c pass`. Run with -I -S and only built-in modules, the launcher stays near 8 MiB, below
# any Python child. It reads `stderr-path NUL argv0 NUL argv1 ...` lines and answers
# `wall-seconds cpu-seconds ru_maxrss exit-code` for each.
LAUNCHER = """
import os, sys, time
flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
for line in sys.stdin:
    stderr, *argv = line.rstrip("\\n").split("\\0")
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
        (os.POSIX_SPAWN_OPEN, 2, stderr, flags, 0o600),
    ]
    start = time.perf_counter()
    try:
        pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    except OSError as error:
        with open(stderr, "w") as file:
            print(error, file=file)
        print(0, 0, 0, 127, flush=True)
        continue
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - start
    print(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, os.waitstatus_to_exitcode(status), flush=True)
"""


class Launcher:
    """The launcher process, and one run of a command through it."""

    def __init__(self, env: dict[str, str], scratch: Path) -> None:
        self.stderr = scratch / "stderr.txt"
        argv = [sys.executable, "-I", "-S", "-c", LAUNCHER]
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)

    def measure(self, argv: list[str]) -> Run:
        """Run argv once, stdout to /dev/null; its wall time, CPU time, peak RSS and exit code."""
        if any("\0" in arg or "\n" in arg for arg in argv):
            msg = f"an argument holds a NUL or a newline: {argv}"
            raise ValueError(msg)
        stdin, stdout = self.process.stdin, self.process.stdout
        if stdin is None or stdout is None:
            raise RuntimeError("the launcher has no pipes")
        stdin.write("\0".join([str(self.stderr), *argv]) + "\n")
        stdin.flush()
        answer = stdout.readline().split()
        if len(answer) != 4:
            msg = f"the launcher stopped (exit {self.process.wait()})"
            raise RuntimeError(msg)
        wall, cpu, maxrss, code = float(answer[0]), float(answer[1]), int(answer[2]), int(answer[3])
        tail = self.stderr.read_bytes()[-2000:].decode(errors="replace")
        # ru_maxrss is in KiB on Linux, in bytes on macOS.
        rss_kib = maxrss / KIB_PER_MIB if sys.platform == "darwin" else maxrss
        return Run(wall, cpu, rss_kib, code, tail)

    def close(self) -> None:
        """End the launcher: it stops at the end of its input."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait()


def write_sequential(path: Path, leaves: int) -> Path:
    """A spec of `leaves` leaf layers: `conv3-16 p1` and `relu`, alternating, on 32x32x16."""
    lines = [f"name: sequential-{leaves}", "input: 32x32x16", "layers:"]
    lines += ["  - conv3-16 p1\n  - relu"] * (leaves // 2)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_residual(path: Path, leaves: int) -> Path:
    """A spec of `leaves` leaf layers in residual blocks of 5, written out one by one (no `repeat:`)."""
    lines = [f"name: residual-{leaves}", "input: 32x32x16", "layers:"]
    block = f"  - residual: {{layers: {RESIDUAL_BODY}, activation: relu}}"
    lines += [block] * (leaves // RESIDUAL_LEAVES)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def short(leaves: int) -> str:
    """1000 → 1k."""
    return f"{leaves // 1000}k"


def find_convcalc() -> str:
    """The convcalc script beside this interpreter, else the one on PATH."""
    beside = Path(sys.executable).parent / "convcalc"
    found = str(beside) if beside.is_file() else shutil.which("convcalc")
    if found is None:
        sys.exit("error: no convcalc script beside this Python or on PATH; install the package first")
    return str(Path(found).absolute())


def find_specs(env: dict[str, str]) -> list[str]:
    """The built-in specs' files, from convcalc.builtins.specs_dir(), else the checkout's specs/."""
    code = "from convcalc.builtins import specs_dir; print(specs_dir())"
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    folder = Path(found.stdout.strip()) if found.returncode == 0 else ROOT / "specs"
    specs = sorted(str(p) for p in folder.glob("*.yaml"))
    if not specs:
        sys.exit(f"error: no built-in specs found in {folder}")
    return specs


def import_problem(module: str, env: dict[str, str]) -> str | None:
    """None when `module` imports in a child Python; else why it does not."""
    code = (
        "import importlib, sys\n"
        "try:\n"
        f"    importlib.import_module({module!r})\n"
        "except Exception as error:\n"
        f"    sys.exit(f'{module} does not import ({{type(error).__name__}}: {{error}})')\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    if found.returncode == 0:
        return None
    return found.stderr.strip().splitlines()[-1] if found.stderr.strip() else f"{module}: exit {found.returncode}"


def child_env(*, inherit: bool, scratch: Path) -> dict[str, str]:
    """The children's environment: with a private byte-code cache unless `inherit`."""
    env = dict(os.environ)
    if not inherit:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(scratch / "pycache")
    return env


def build_cases(args: argparse.Namespace, scratch: Path, env: dict[str, str]) -> tuple[list[Case], list[str]]:
    """The rows to measure, and notes on the rows left out."""
    convcalc = find_convcalc()
    python = sys.executable
    runs = args.runs
    specs = find_specs(env)
    cases = [
        Case(BASE, [python, "-c", "pass"], runs),
        # The floor under any click + PyYAML command: importing the two dependencies, nothing else.
        Case("python -c 'import click, yaml'", [python, "-c", "import click, yaml"], runs),
        Case(TABLE, [convcalc, "show", "vgg16"], runs),
        Case(JSON, [convcalc, "show", "vgg16", "--format", "json"], runs),
        Case('convcalc layer 32x32x3 "conv5-10 s1 p2"', [convcalc, "layer", "32x32x3", "conv5-10 s1 p2"], runs),
        Case(f"convcalc check <{len(specs)} built-in specs>", [convcalc, "check", *specs], runs),
    ]
    notes = []
    for leaves in SIZES:
        if args.quick and leaves >= BIG:
            notes.append(f"{short(leaves)}-layer rows left out (--quick)")
            continue
        big = leaves >= BIG
        count = min(runs, BIG_RUNS) if big else runs
        for kind, writer in (("seq", write_sequential), ("res", write_residual)):
            spec = str(writer(scratch / f"{kind}-{leaves}.yaml", leaves))
            name = f"{kind}-{short(leaves)}"
            cases.append(Case(f"convcalc check {name}", [convcalc, "check", spec], count, warmup=not big))
            cases.append(
                Case(
                    f"convcalc show {name} --format json", [convcalc, "show", spec, "--format", "json"], count, not big
                )
            )
    if args.quick:
        notes.append("PyTorch rows left out (--quick)")
        return cases, notes
    problem = import_problem("torch", env)
    if problem is not None:
        notes.append(f"PyTorch rows left out: {problem}; pip install torch torchinfo to add them")
        return cases, notes
    cases.append(Case("python -c 'import torch'", [python, "-c", "import torch"], runs))
    problem = import_problem("torchinfo", env)
    if problem is None:
        cases.append(Case(TORCHINFO, [python, str(TORCH_SCRIPT), "torchinfo"], runs))
    else:
        notes.append(f"torchinfo row left out: {problem}; pip install torchinfo to add it")
    cases.append(Case(META, [python, str(TORCH_SCRIPT), "meta"], runs))
    return cases, notes


def run_all(cases: list[Case], launcher: Launcher) -> None:
    """The warm-ups, then the runs round-robin over the cases; progress on standard error."""
    for case in cases:
        if case.warmup:
            print(f"warm-up  {case.label}", file=sys.stderr)
            launcher.measure(case.argv)
    for index in range(max(case.runs for case in cases)):
        for case in cases:
            if index < case.runs:
                run_once(case, index, launcher)


def run_once(case: Case, index: int, launcher: Launcher) -> None:
    """One good run of a case; a failed run is kept apart (not in the medians) and retried once.

    A failure can be transient: the package is edited while the benchmark runs.
    """
    for attempt in ("", " (retry)"):
        run = launcher.measure(case.argv)
        flag = "" if run.code == 0 else f", exit {run.code}"
        print(
            f"run {index + 1}/{case.runs}{attempt}  {case.label}: {run.wall * 1000:.0f} ms, "
            f"{run.rss_kib / KIB_PER_MIB:.1f} MiB{flag}",
            file=sys.stderr,
        )
        if run.code == 0:
            case.done.append(run)
            return
        case.failed.append(run)


def ratio(numerator: float, denominator: float) -> str:
    """A ratio with one decimal, ×; a dash when either side has no good run."""
    if math.isnan(numerator) or math.isnan(denominator):
        return "–"
    return f"{numerator / denominator:.1f}×"


def table_rows(cases: list[Case]) -> tuple[list[str], list[list[str]]]:
    """The header and the cells of the main table."""
    base = cases[0]
    header = ["command", "runs", "wall ms", "(min–max)", "× pass", "CPU ms", "peak RSS MiB", "× pass", "failed"]
    rows = []
    for case in cases:
        if not case.done:
            rows.append([case.label, "0", *["–"] * (len(header) - 3), str(len(case.failed))])
            continue
        wall, cpu, rss = case.median("wall"), case.median("cpu"), case.median("rss_kib")
        walls = [run.wall * 1000 for run in case.done]
        rows.append(
            [
                case.label,
                str(len(case.done)),
                f"{wall * 1000:,.0f}",
                f"{min(walls):,.0f}–{max(walls):,.0f}",
                ratio(wall, base.median("wall")),
                f"{cpu * 1000:,.0f}",
                f"{rss / KIB_PER_MIB:,.1f}",
                ratio(rss, base.median("rss_kib")),
                str(len(case.failed)),
            ]
        )
    return header, rows


def render(header: list[str], rows: list[list[str]], *, markdown: bool) -> str:
    """A table as aligned text (first column left, the others right) or as Markdown."""
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|---" + "|---:" * (len(header) - 1) + "|"]
        lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
        return "\n".join(lines)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        first, *rest = cells
        return "  ".join([first.ljust(widths[0]), *(c.rjust(w) for c, w in zip(rest, widths[1:], strict=True))])

    return "\n".join([line(header), "-" * len(line(header)), *(line(row) for row in rows)])


def ratio_rows(by_label: dict[str, Case]) -> list[list[str]]:
    """The requested ratios: JSON and table against `python -c pass`, torchinfo and meta against the table."""
    pairs = [(JSON, BASE), (TABLE, BASE), (TORCHINFO, TABLE), (META, TABLE)]
    rows = []
    for top, bottom in pairs:
        if top in by_label and bottom in by_label:
            a, b = by_label[top], by_label[bottom]
            rows.append(
                [
                    f"{top} / {bottom}",
                    ratio(a.median("wall"), b.median("wall")),
                    ratio(a.median("cpu"), b.median("cpu")),
                    ratio(a.median("rss_kib"), b.median("rss_kib")),
                ]
            )
    return rows


def per_layer(wall: dict[int, float], leaves: int) -> str:
    """The marginal wall time per leaf layer beyond the smallest spec, in µs."""
    first = SIZES[0]
    if leaves not in wall or first not in wall:
        return "–"
    return f"{(wall[leaves] - wall[first]) * 1e6 / (leaves - first):,.0f}"


def growth_rows(by_label: dict[str, Case]) -> list[list[str]]:
    """Each generated row across sizes: medians, the 10k→100k growth, and the marginal µs per layer."""
    _, mid, last = SIZES
    rows = []
    for kind in ("seq", "res"):
        for command in ("convcalc check {}", "convcalc show {} --format json"):
            found = {n: by_label.get(command.format(f"{kind}-{short(n)}")) for n in SIZES}
            cases = {n: case for n, case in found.items() if case is not None and case.done}
            wall = {n: case.median("wall") for n, case in cases.items()}
            rss = {n: case.median("rss_kib") / KIB_PER_MIB for n, case in cases.items()}
            rows.append(
                [
                    command.format(kind),
                    *(f"{wall[n] * 1000:,.0f}" if n in wall else "–" for n in SIZES),
                    ratio(wall.get(last, math.nan), wall.get(mid, math.nan)),
                    per_layer(wall, mid),
                    per_layer(wall, last),
                    *(f"{rss[n]:,.1f}" if n in rss else "–" for n in (mid, last)),
                    ratio(rss.get(last, math.nan), rss.get(mid, math.nan)),
                ]
            )
    return rows


def verdict(measured: float, target: float, *, at_most: bool) -> str:
    """`met`, `NOT met`, or a dash when the row has no good run."""
    if math.isnan(measured):
        return "–"
    return "met" if (measured <= target if at_most else measured >= target) else "NOT met"


def target_rows(by_label: dict[str, Case]) -> list[list[str]]:
    """Each target of docs/performance.md: what it asks, what was measured, met or not."""
    rows = []
    _, mid, last = SIZES
    for kind in ("seq", "res"):  # the target is for `check`; `show --format json` is in the table above
        label, smaller = f"convcalc check {kind}-{short(last)}", f"convcalc check {kind}-{short(mid)}"
        big, middle = by_label.get(label), by_label.get(smaller)
        if big is not None and middle is not None:
            seconds, growth = big.median("wall"), big.median("wall") / middle.median("wall")
            rows.append(
                [f"{label} under {BIG_SECONDS:.0f} s", f"{seconds:,.1f} s", verdict(seconds, BIG_SECONDS, at_most=True)]
            )
            rows.append(
                [
                    f"{label}: at most {BIG_GROWTH:.0f}× the 10k time",
                    f"{growth:.1f}×",
                    verdict(growth, BIG_GROWTH, at_most=True),
                ]
            )
    if TABLE in by_label:
        times = by_label[TABLE].median("wall") / by_label[BASE].median("wall")
        rows.append(
            [
                f"{TABLE} within {TABLE_TIMES_PASS:.0f}× {BASE}",
                f"{times:.1f}×",
                verdict(times, TABLE_TIMES_PASS, at_most=True),
            ]
        )
    if TORCHINFO in by_label and TABLE in by_label:
        for what, attribute in (("wall time", "wall"), ("peak RSS", "rss_kib")):
            times = by_label[TORCHINFO].median(attribute) / by_label[TABLE].median(attribute)
            rows.append(
                [
                    f"{TORCHINFO} at least {TORCHINFO_TIMES:.0f}× the table's {what}",
                    f"{times:.1f}×",
                    verdict(times, TORCHINFO_TIMES, at_most=False),
                ]
            )
    return rows


def main() -> None:
    """Measure, then print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per row (default 7; the 100k rows: at most 3)")
    parser.add_argument("--quick", action="store_true", help="leave out the 100k-layer rows and the PyTorch rows")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--inherit-env", action="store_true", help="no private byte-code cache for the children")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory(prefix="convcalc-bench-") as tmp:
        scratch = Path(tmp)
        env = child_env(inherit=args.inherit_env, scratch=scratch)
        cases, notes = build_cases(args, scratch, env)
        launcher = Launcher(env, scratch)
        try:
            run_all(cases, launcher)
        finally:
            launcher.close()
    by_label = {case.label: case for case in cases}
    heading = "### {}" if args.markdown else "{}"
    print(heading.format("Medians"))
    print(render(*table_rows(cases), markdown=args.markdown))
    print()
    print(heading.format("Ratios of medians"))
    print(render(["ratio", "wall", "CPU", "peak RSS"], ratio_rows(by_label), markdown=args.markdown))
    print()
    print(heading.format("Generated specs: wall ms by leaf layers; µs per layer beyond the 1k spec; peak RSS MiB"))
    header = ["command", "1k", "10k", "100k", "10k→100k", "µs/layer 10k", "µs/layer 100k", "MiB 10k", "MiB 100k"]
    print(render([*header, "RSS 10k→100k"], growth_rows(by_label), markdown=args.markdown))
    print()
    print(heading.format("Targets (docs/performance.md)"))
    print(render(["target", "measured", "verdict"], target_rows(by_label), markdown=args.markdown))
    print()
    for case in cases:
        if case.failed:
            last = case.failed[-1]
            notes.append(
                f"{case.label}: {len(case.failed)} failed run(s) left out of the medians; "
                f"the last one, exit {last.code}: {last.stderr.strip()}"
            )
    cache = "inherited environment" if args.inherit_env else "private byte-code cache"
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    notes.append(
        f"Python {sys.version.split()[0]} ({sys.executable}), {os.cpu_count()} CPUs, load average {load}, {cache}"
    )
    for note in notes:
        print(f"- {note}" if args.markdown else f"note: {note}")


if __name__ == "__main__":
    main()
