"""The names and notes of an ONNX file from PyTorch's exporters: module paths, folded batchnorms, removed biases.

PyTorch's legacy exporter (`dynamo=False`) writes a node's module path in its name
(/layer1/layer1.0/conv1/Conv) and names the weights it made by folding `onnx::Conv_…`; the
dynamo exporter (torch 2.13's default) names nodes `node_Conv_292` and keeps the path, the
rewrites it made (FuseBatchNormIntoConv) and the torch.fx call of each node in its metadata.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from convcalc.bridges.importer.onnxops import MERGES, VIEWS
from convcalc.kinds.fromonnx import INPUTS_WITH_BIAS

SCOPES = "pkg.torch.onnx.name_scopes"  # the dynamo exporter's module path of a node: ['', 'layer1', 'layer1.0', ...]
RULES = "pkg.onnxscript.rewriter.rule_name"  # the rewrites the dynamo exporter made of a node
FOLDED = "FuseBatchNormIntoConv"
FX = "pkg.torch.onnx.fx_node"  # the dynamo exporter's torch.fx node of a node: its call, with its arguments
# A conv's or a linear's call whose third argument is a tensor (%p_fc_bias), not None: it has a bias.
WITH_BIAS = re.compile(r"aten\.(?:conv\dd|conv_transpose\dd|linear)\.\w+\]\(args = \(%[\w.]+, %[\w.]+, %[\w.]+")
MAX_META = 10_000  # a node's metadata longer than this is no exporter's


def names(node: Any, weights: dict[str, Any]) -> tuple[str, bool]:
    """The module path of a node, and whether it is a module (not a function in one).

    PyTorch's legacy exporter writes the path in the node's name (/layer1/layer1.0/conv1/Conv);
    the dynamo exporter names nodes node_Conv_292 and keeps the path in the node's metadata, and
    a conv it folded a batchnorm into has the batchnorm's path there: its weight's name
    (layer1.0.conv1.weight) says whose it is.
    """
    plain = node.op_type in MERGES or node.op_type in VIEWS
    scopes = _scopes(node)
    if scopes is None:
        return _name(node.name), "/" in node.name.strip("/") and not plain
    weight = node.input[1] if len(node.input) > 1 and node.input[1] in weights else ""
    if node.op_type in {"Conv", "ConvTranspose", "Gemm", "BatchNormalization"} and weight.endswith(".weight"):
        return weight.removesuffix(".weight"), True
    return (scopes[-2] if len(scopes) > 1 else ""), len(scopes) > 2 and not plain  # noqa: PLR2004 - '', module, op


def zero_bias(node: Any) -> bool:
    """A conv or a Gemm whose bias the dynamo exporter removed because it was zero (torchvision's classifiers')."""
    has = len(node.input) >= INPUTS_WITH_BIAS and node.input[2]
    if node.op_type not in {"Conv", "ConvTranspose", "Gemm"} or has:
        return False
    fx = _meta(node, FX)
    return FOLDED not in _meta(node, RULES) and len(fx) <= MAX_META and WITH_BIAS.search(fx) is not None


def _meta(node: Any, key: str) -> str:
    return next((p.value for p in node.metadata_props if p.key == key), "")


def _scopes(node: Any) -> list[str] | None:
    """The dynamo exporter's name scopes of a node, None where it has none (or they are not a list of names)."""
    text = _meta(node, SCOPES)
    if not text or len(text) > MAX_META:
        return None
    try:
        scopes = ast.literal_eval(text)  # a list of strings, as Python writes one; literal_eval runs no code
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        return None
    return scopes


def folded(nodes: Any, weights: dict[str, Any]) -> str | None:
    """The note on the batchnorms an exporter folded into convs, with the params the spec has fewer."""
    count = lost = added = 0
    for n in nodes:
        if n.op_type != "Conv" or len(n.input) < 2 or n.input[1] not in weights:  # noqa: PLR2004 - X and W
            continue
        bias = n.input[2] if len(n.input) >= INPUTS_WITH_BIAS else ""
        if FOLDED in _meta(n, RULES):  # the dynamo exporter: the bias it made is `W_bias`, a zero one removed
            made = bias == f"{n.input[1]}_bias"
        elif _made(n.input[1]) and bias:  # the legacy exporter: a weight it made, and a bias
            made = True
        else:
            continue
        filters = weights[n.input[1]].dims[0]
        count += 1
        lost += 2 * filters  # the batchnorm's weight and bias (its running statistics are buffers)
        added += filters if made else 0
    if not count:
        return None
    less = f", less {added:,} of the biases the exporter gave those convs" if added else ""
    convs = f"{count} conv{'s' * (count != 1)}"
    return (
        f"BatchNorm folded into {convs} by the exporter: the model has {lost - added:,} params more than this spec "
        f"({lost:,} of the batchnorms' weights and biases{less})"
    )


def _made(weight: str) -> bool:
    """A weight PyTorch's exporter made by folding (onnx::Conv_193), not a module's (layer1.0.conv1.weight)."""
    return weight.startswith("onnx::")


def _name(node: str) -> str:
    """The module path in a node name of PyTorch's exporter: /layer1/layer1.0/conv1/Conv is layer1.0.conv1."""
    parts = [p for p in node.split("/") if p][:-1]
    path = ""
    for p in parts:
        head, _, tail = p.rpartition(".")
        # A part of a Sequential is written with its container's name: layer1 then layer1.0.
        if head and (path == head or path.endswith(f".{head}")):
            path = f"{path}.{tail}"
        else:
            path = f"{path}.{p}" if path else p
    return path
