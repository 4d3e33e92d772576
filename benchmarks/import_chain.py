"""How long `convcalc import` takes, and how much memory, for long graphs: its cost must grow with the graph, no faster.

    python benchmarks/import_chain.py            # one line per case: nodes, seconds, peak MB

Each case is written to a temporary file, then imported by `python -m convcalc import FILE -o
OUT.yaml` in a child process of its own: the seconds are that process's wall time (the
interpreter's start and the imports included), the megabytes its peak resident size (from
wait4's rusage). The cases:
- `onnx relu chain N`: an ONNX graph of N Relu nodes in a row on a 1x3x8x8 input (the issue's
  case: 10,000 took 54 s and 2.4 GB when every op kept the set of its post-dominators, 100,000
  ran out of memory);
- `onnx residual N`: N/3 blocks of `y = Relu(Add(Relu(x), x))`, a fork and a merge in every
  block, N nodes in all;
- `torch sequential N`: `nn.Sequential` of N ReLU, traced with torch.fx (only with torch).
Each written spec is checked (its `repeat:` count) so that a wrong import cannot be timed.
The target (issue 22): 100,000 nodes in under 10 s and 500 MB.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from onnx import TensorProto, helper, save

ROOT = Path(__file__).resolve().parent.parent


def relu_chain(n: int, path: Path) -> str:
    """N Relu nodes in a row; the spec's repeat count that says it was read."""
    nodes = [helper.make_node("Relu", [f"v{i}"], [f"v{i + 1}"], name=f"relu{i}") for i in range(n)]
    _save(nodes, "v0", f"v{n}", path)
    return f"repeat: {n}"


def residual(n: int, path: Path) -> str:
    """N/3 residual blocks: Relu, Add of it and the block's input, Relu."""
    nodes = []
    at = "x"
    for b in range(n // 3):
        nodes += [
            helper.make_node("Relu", [at], [f"r{b}"], name=f"block{b}.relu"),
            helper.make_node("Add", [f"r{b}", at], [f"a{b}"], name=f"block{b}.add"),
            helper.make_node("Relu", [f"a{b}"], [f"y{b}"], name=f"block{b}.out"),
        ]
        at = f"y{b}"
    _save(nodes, "x", at, path)
    return f"repeat: {n // 3}"


def _save(nodes: list[object], first: str, last: str, path: Path) -> None:
    shape = [1, 3, 8, 8]
    graph = helper.make_graph(
        nodes,
        "chain",
        [helper.make_tensor_value_info(first, TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info(last, TensorProto.FLOAT, shape)],
    )
    save(helper.make_model(graph), str(path))


def sequential(n: int, path: Path) -> str:
    """A Python file whose `chain()` returns nn.Sequential of N ReLU; its last layer's name."""
    path.write_text(
        f"from torch import nn\n\n\ndef chain():\n    return nn.Sequential(*[nn.ReLU() for _ in range({n})])\n"
    )
    return f"name: '{n - 1}'"  # named layers stay one a line


def run(source: str, out: Path, expect: str) -> tuple[float, float]:
    """Seconds and peak megabytes of one `convcalc import` in a child process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "convcalc", "import", source, "-o", str(out)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0 or expect not in out.read_text():
        sys.exit(f"{source}: exit {child.returncode}: {child.stderr.read().decode() if child.stderr else ''}")
    return seconds, usage.ru_maxrss / 1024  # Linux gives kilobytes


def main() -> None:
    """Write each case, import it, print one line each."""
    cases = [("onnx relu chain", relu_chain, n, ".onnx") for n in (10_000, 100_000)]
    cases.append(("onnx residual", residual, 99_999, ".onnx"))
    if importlib.util.find_spec("torch") is not None:
        cases.append(("torch sequential", sequential, 5_000, ".py"))
    with tempfile.TemporaryDirectory() as folder:
        for label, make, n, suffix in cases:
            path = Path(folder) / f"case{suffix}"
            expect = make(n, path)
            source = f"{path}:chain" if suffix == ".py" else str(path)
            seconds, mb = run(source, Path(folder) / "out.yaml", expect)
            print(f"{label} {n:,}: {seconds:.2f} s, {mb:.0f} MB peak")


if __name__ == "__main__":
    main()
