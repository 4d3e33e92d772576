"""VGG16 (configuration D) built by hand in PyTorch, for bench.py's comparison rows.

    python benchmarks/torch_vgg16.py torchinfo   # torchinfo.summary(model, input_size=(1, 3, 224, 224))
    python benchmarks/torch_vgg16.py meta        # a forward pass on the meta device (shapes only)

torchvision is not needed: the model is an nn.Sequential of Conv2d(3x3, pad 1) + ReLU and
MaxPool2d(2, 2), then Linear 25088 → 4096 → 4096 → 1000 (with ReLU between), the same network as
`convcalc show vgg16`. Each mode checks that the model has VGG16's 138,357,544 params and gives
a 1000-wide output, and exits 1 otherwise, so a wrong model cannot go unnoticed in the benchmark.

`meta` builds the model under `torch.device("meta")`, so no weights are allocated or initialised
(calling `model.to("meta")` after building on the CPU would first allocate and initialise 553 MB
of float32 weights on the CPU).
"""

from __future__ import annotations

import argparse
import sys

import torch
from torch import nn

CONFIG_D: list[int | str] = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]
INPUT_SIZE = (1, 3, 224, 224)
VGG16_PARAMS = 138_357_544
CLASSES = 1000


def vgg16() -> nn.Sequential:
    """VGG16, configuration D, without dropout (convcalc's spec has none; params are the same)."""
    layers: list[nn.Module] = []
    depth = 3
    for item in CONFIG_D:
        if item == "M":
            layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
        else:
            filters = int(item)
            layers += [nn.Conv2d(depth, filters, kernel_size=3, padding=1), nn.ReLU()]
            depth = filters
    layers += [
        nn.Flatten(),
        nn.Linear(512 * 7 * 7, 4096),
        nn.ReLU(),
        nn.Linear(4096, 4096),
        nn.ReLU(),
        nn.Linear(4096, CLASSES),
    ]
    return nn.Sequential(*layers)


def run_torchinfo() -> int:
    """The torchinfo summary of VGG16 on a 224x224x3 input (it runs a real forward pass on the CPU)."""
    import torchinfo  # noqa: PLC0415 - only this mode needs it, and bench.py checks it is there

    stats = torchinfo.summary(vgg16(), input_size=INPUT_SIZE)
    if stats.total_params != VGG16_PARAMS:
        print(f"error: {stats.total_params:,} params, not {VGG16_PARAMS:,}", file=sys.stderr)
        return 1
    return 0


def run_meta() -> int:
    """A forward pass of VGG16 on the meta device: output shapes without any arithmetic."""
    with torch.device("meta"):
        model = vgg16()
        output = model(torch.empty(INPUT_SIZE))
    params = sum(p.numel() for p in model.parameters())
    print(f"output {tuple(output.shape)}, {params:,} params, device {output.device}")
    if params != VGG16_PARAMS or tuple(output.shape) != (1, CLASSES):
        print(f"error: expected {VGG16_PARAMS:,} params and output (1, {CLASSES})", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    """Run one mode."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=["torchinfo", "meta"])
    args = parser.parse_args()
    with torch.no_grad():
        return run_torchinfo() if args.mode == "torchinfo" else run_meta()


if __name__ == "__main__":
    sys.exit(main())
