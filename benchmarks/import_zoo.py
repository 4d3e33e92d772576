"""How long `convcalc import` takes for each of torchvision's 80 classification models, and the slowest.

    python benchmarks/import_zoo.py            # best of 3 per model, in milliseconds

Each model is built once with weights=None, on the meta device where its builder allows (RegNet's
computes its widths with torch, so it is built on the CPU: regnet_y_128gf holds 2.6 GB), at its
own input size (its weights' crop size; a ViT built with weights=None takes 224). The time is one
call of convcalc.bridges.importer.import_model on the built model in this process (trace, the
meta-device pass, the decomposition, the spec's text): a model convcalc covers gives its spec, one
it does not is refused with the list of its operations convcalc has no kind for, and both are
timed (the refusal is the command's answer for that model). torch's import and the builds are
not in the figures.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent.parent / "tests"))
from torchvision_models import models

from convcalc.bridges.importer import ModelError, import_model

RUNS = 3


def build(name: str) -> torch.nn.Module:
    """The model with weights=None, on the meta device where its builder allows it."""
    tv = models()
    try:
        with torch.device("meta"):
            return tv.get_model(name, weights=None).eval()
    except NotImplementedError:  # RegNet's builder needs real tensors
        return tv.get_model(name, weights=None).eval()


def size(name: str) -> int:
    """The model's own input size (the weights' crop size; a ViT without weights takes 224)."""
    return 224 if name.startswith("vit_") else int(models().get_model_weights(name).DEFAULT.transforms().crop_size[0])


def timed(name: str) -> tuple[float, str]:
    """The best of RUNS imports in milliseconds, and what it gave."""
    model = build(name)
    side = size(name)
    times, what = [], ""
    for _ in range(RUNS):
        start = time.perf_counter()
        try:
            import_model(f"torchvision.models:{name}", f"{side}x{side}x3", model=model)
            what = f"spec, {side}x{side}"
        except ModelError as exc:
            what = f"refused, {side}x{side}: {str(exc).splitlines()[0].removeprefix('error: ')}"
        times.append((time.perf_counter() - start) * 1000)
    del model
    return min(times), what


def main() -> None:
    """One line per model, then the total and the slowest."""
    warnings.simplefilter("ignore")  # GoogLeNet's and Inception's notices about init_weights
    tv = models()
    results = {}
    for name in tv.list_models(module=tv):
        ms, what = timed(name)
        results[name] = ms
        print(f"{name:22} {ms:8.0f} ms  {what}", flush=True)
    slowest = max(results, key=results.__getitem__)
    total = sum(results.values()) / 1000
    print(f"{len(results)} models, {total:.1f} s in all; slowest {slowest} {results[slowest]:.0f} ms")


if __name__ == "__main__":
    main()
