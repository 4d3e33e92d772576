"""Specs with `checkpoint: true` for the checkpointing tests (issue 26)."""

from __future__ import annotations

from pathlib import Path

from convcalc.builtins import specs_dir

# ResNet-50 as built-in, its 16 bottlenecks grouped in torchvision's four stages (layer1 to
# layer4), each checkpointed: the first block of a stage changes the volume, the rest repeat.
_STAGES = """
  stage:
    args: {width: null, out: null, stride: 1, rest: null}
    layers:
      - bottleneck: {width: "${width}", out: "${out}", stride: "${stride}"}
      - repeat: "${rest}"
        layers: [{bottleneck: {width: "${width}", out: "${out}"}}]
layers:
  - conv: {filters: 64, size: 7, stride: 2, pad: 3}
    name: conv1
  - bn:
    name: bn1
  - relu:
    name: relu
  - maxpool: {size: 3, stride: 2, pad: 1}
    name: maxpool
"""
_CALLS = [
    ("layer1", 64, 256, 1, 2),
    ("layer2", 128, 512, 2, 3),
    ("layer3", 256, 1024, 2, 5),
    ("layer4", 512, 2048, 2, 2),
]
_TAIL = """  - gap:
    name: avgpool
  - fc: 1000
    name: fc
expect: {output: 1000, params: 25557032, macs: 4.089G}
"""


def resnet50_stages(*, checkpoint: bool = True) -> str:
    """ResNet-50's text with its stages as blocks, each with `checkpoint:` as asked."""
    head = (Path(specs_dir()) / "resnet50.yaml").read_text(encoding="utf-8").split("\nlayers:\n")[0]
    calls = "".join(
        f"  - stage: {{width: {w}, out: {o}, stride: {s}, rest: {r}}}\n"
        f"    name: {n}\n    checkpoint: {str(checkpoint).lower()}\n"
        for n, w, o, s, r in _CALLS
    )
    return head + _STAGES + calls + _TAIL


# Small networks, each with checkpointed blocks of another shape: a chain ending in a conv
# (the recompute stops before it), a residual, a parallel, DenseNet's concat, a block at the
# input (which needs no gradient), a max pool's indices and a fused activation.
SMALL = {
    "ends in a conv": """
input: 12x12x3
layers:
  - conv3-8 p1
  - repeat: 1
    checkpoint: true
    layers: [conv3-8 p1, relu, conv3-8 p1]
  - relu
  - fc-10
""",
    "residual and parallel": """
input: 12x12x3
rounding: floor
layers:
  - conv3-8 p1
  - residual: {layers: [conv3-8 p1, bn, relu, conv3-8 p1, bn], activation: relu}
    checkpoint: true
  - parallel: {branches: [[conv1-4], [conv3-4 p1, relu], [maxpool3 s1 p1, conv1-4]]}
    checkpoint: true
  - maxpool
  - gap
  - fc-5
""",
    "concat and the input": """
input: 10x10x3
layers:
  - repeat: 1
    checkpoint: true
    layers: [maxpool3 s1 p1, {conv: {filters: 6, size: 3, pad: 1, activation: gelu}}]
  - residual: {layers: [bn, relu, conv1-8, bn, relu, conv3-4 p1], merge: concat}
    checkpoint: true
  - residual: {layers: [bn, relu, conv3-4 p1], merge: concat}
  - flatten
  - fc-3
""",
}
