"""How long `convcalc import` takes for torchvision's resnet50, from PyTorch and from ONNX, beside torchinfo.

    python benchmarks/import_resnet50.py            # best of 3 of each, in milliseconds

Each figure is the wall time of one call in this process, torch and torchvision already
imported and the model already built (what differs is the work, not the imports):
- `import (torch.fx)`: convcalc.bridges.importer.import_model on the built model (trace, one
  forward pass for the volumes, the decomposition, the spec's text);
- `import (ONNX)`: the same from an ONNX file of the model (exported once, before timing, with
  `do_constant_folding=False`), with the onnx package only;
- `torchinfo summary()`: torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0), if
  torchinfo is installed.
Each import's spec is checked (25,557,032 params, torchvision's count) so that a wrong import
cannot be timed.
"""

from __future__ import annotations

import sys
import tempfile
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from torchvision_models import models

from convcalc.bridges.importer import import_model
from convcalc.engine.analyze import analyze
from convcalc.spec.loader import load_spec

PARAMS = 25_557_032
RUNS = 3


def best(run: object) -> float:
    """The best wall time of RUNS calls, in milliseconds."""
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        run()  # type: ignore[operator]
        times.append((time.perf_counter() - start) * 1000)
    return min(times)


def checked(text: str) -> None:
    """Exit with a message unless the imported spec has resnet50's params."""
    params = analyze(load_spec("resnet50.yaml", text)).totals.params
    if params != PARAMS:
        sys.exit(f"the imported spec has {params:,} params, not {PARAMS:,}")


def main() -> None:
    """Time the imports and torchinfo, and print one line each."""
    model = models().resnet50(weights=None).eval()
    with tempfile.TemporaryDirectory() as folder:
        onnx_file = str(Path(folder) / "resnet50.onnx")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the legacy exporter's deprecation notice
            torch.onnx.export(model, (torch.zeros(1, 3, 224, 224),), onnx_file, dynamo=False, do_constant_folding=False)
        checked(import_model("torchvision.models:resnet50", model=model).text)
        checked(import_model(onnx_file).text)
        rows = [
            ("import (torch.fx)", best(lambda: import_model("torchvision.models:resnet50", model=model))),
            ("import (ONNX)", best(lambda: import_model(onnx_file))),
        ]
    try:
        import torchinfo  # noqa: PLC0415 - optional

        rows.append(
            ("torchinfo summary()", best(lambda: torchinfo.summary(model, input_size=(1, 3, 224, 224), verbose=0)))
        )
    except ImportError:
        rows.append(("torchinfo summary()", float("nan")))
    for name, ms in rows:
        print(f"{name:22} {ms:8.0f} ms")


if __name__ == "__main__":
    main()
