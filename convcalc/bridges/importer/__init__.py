"""A spec from a model: a PyTorch module (traced with torch.fx) or an ONNX file (docs/import.md).

    text = import_model("torchvision.models:resnet18").text

The readers (fx.py; onnxfile.py, with onnxcheck.py, onnxops.py and onnxnames.py) give one
graph (graph.py); its series-parallel decomposition becomes residual and parallel blocks;
write.py makes the layers a person would write (fused activations, repeats, defaults; nodes.py
holds them), calls.py the calls of a built-in block (`transformer`), blocks.py the `blocks:`, and
text.py the YAML. fxlast.py and fxtokens.py read channels-last values and tokens (ViT's).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from convcalc.bridges.importer import text, write
from convcalc.bridges.importer.graph import Graph, decompose
from convcalc.errors import ModelError
from convcalc.render.inert import inert

__all__ = ["Imported", "ModelError", "import_graph", "import_model"]

DEFAULT_INPUT = "224x224x3"


@dataclass(frozen=True, slots=True)
class Imported:
    """The spec's text, and what the import noticed (BatchNorm folded, ops kept opaque)."""

    text: str
    name: str
    notes: tuple[str, ...]


def import_model(source: str, input_: str | None = None, *, opaque: bool = False, model: Any = None) -> Imported:
    """The spec of SOURCE: `package.module:attribute`, `file.py:Name`, or an .onnx file.

    `model` is an nn.Module already built for SOURCE (the tests pass torchvision's), else SOURCE's.
    """
    from convcalc.spec.loader import parse_input  # noqa: PLC0415 - the loader is not needed to read a model

    if source.lower().endswith(".onnx"):
        from convcalc.bridges.importer import onnxfile  # noqa: PLC0415 - onnx only for an ONNX file

        graph = onnxfile.read(Path(source), input_)
        name = Path(source).stem
    else:
        from convcalc.bridges.importer import fx  # noqa: PLC0415 - torch only for a PyTorch source
        from convcalc.errors import Location  # noqa: PLC0415

        volume = parse_input(input_ or DEFAULT_INPUT, Location("--input"))
        graph = fx.read(model if model is not None else fx.load(source), volume, source)
        name = source.rpartition(":")[2]
    return import_graph(graph, name, opaque=opaque)


def import_graph(graph: Graph, name: str, *, opaque: bool = False) -> Imported:
    """The spec of a graph the readers made."""
    unsupported = graph.unsupported()
    if unsupported and not opaque:
        raise ModelError(_unsupported(graph, unsupported))
    items = decompose(graph)
    layers = write.finish(write.nodes(items))
    defaults = write.defaults(layers)
    first = graph.ops[0]
    header = [f"Imported by `convcalc import` from {graph.source}, input {'x'.join(map(str, first.shape))}."]
    header += graph.notes
    if unsupported:
        ops = ", ".join(dict.fromkeys(inert(op.op) for op in unsupported))  # a comment line stays one line
        header.append(f"Opaque layers keep the volume the framework computed and count no MACs: {ops}.")
    top: dict[str, Any] = {"name": name, "input": "x".join(map(str, first.shape)), "rounding": "floor"}
    if defaults:
        top["defaults"] = defaults
    return Imported(text.dump(header, top, layers), name, tuple(graph.notes))


def _unsupported(graph: Graph, ops: list[Any]) -> str:
    """Every unsupported op by name and place: what it reads, what it gives (in the framework's order)."""
    # Names and op types from the file, inert: no escape or line feed of theirs reaches the terminal or a log.
    names = {op.index: inert(op.name) for op in graph.ops}
    lines = []
    for op in ops:
        reads = ", ".join(names[i] for i in op.inputs) or "nothing"
        shape = "x".join(map(str, op.dims)) or "no tensor"
        lines.append(f"  {names[op.index]} ({inert(op.op)}): reads {reads}, gives {shape}")
    return (
        f"{len(ops)} operation{'s' * (len(ops) != 1)} convcalc has no layer kind for:\n"
        + "\n".join(lines)
        + "\n`--opaque` writes each run of them as one opaque layer that keeps the volume it gives and counts no MACs"
    )
