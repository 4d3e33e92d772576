"""The arithmetic behind a row, worked out with its numbers (`--explain`, `convcalc layer`, checks).

W2 = (32 − 5 + 2·2)/1 + 1 = 32
params = (5·5·3 + 1)·10 = 760
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from convcalc.kinds.conv import sliding_windows
from convcalc.render.numbers import grouped

if TYPE_CHECKING:
    from convcalc.options import Rounding
    from convcalc.report import LayerRow
    from convcalc.volume import Volume

# The lecture's names: W2 = (W1 − F + 2P)/S + 1, H2 likewise, D2 = K.
_DIM = {1: ("L",), 2: ("H", "W"), 3: ("T", "H", "W")}


def _per(value: int | tuple[int, ...], n: int) -> tuple[int, ...]:
    return (value,) * n if isinstance(value, int) else value


def _dims(n: int) -> tuple[str, ...]:
    return _DIM.get(n, tuple(f"X{i + 1}" for i in range(n)))


def _output(row: LayerRow, x: Volume, rounding: Rounding) -> list[str]:
    c, kind = row.config, row.kind
    names = _dims(len(x.spatial))
    lines = []
    if kind in {"conv", "pool"}:
        rounding = c.get("rounding") or rounding
        work = []
        for w in sliding_windows(c, x):
            got = w.output(rounding)
            rounded = "" if w.exact == got else f" → {got} ({rounding.value})"
            work.append(f"{w.formula()}{rounded}")
        if len(set(work)) == 1:  # a square input: H2 = W2 = ...
            lines.append(" = ".join(f"{name}2" for name in names) + f" = {work[0]}")
        else:
            lines += [f"{name}2 = {text}" for name, text in zip(names, work, strict=True)]
        depth = f"K = {c['filters']}" if kind == "conv" else f"D1 = {x.depth}"
        lines.append(f"D2 = {depth}")
    elif kind == "deconv" and row.output is not None:
        n = len(x.spatial)
        size, stride, dil = _per(c["size"], n), _per(c["stride"], n), _per(c["dilation"], n)
        pad = _per(0 if c["pad"] == "valid" else c["pad"], n)
        extra = _per(c["output_padding"], n)
        for i, name in enumerate(names):
            lines.append(
                f"{name}2 = ({x.spatial[i]} − 1)·{stride[i]} − 2·{pad[i]} + {dil[i]}·({size[i]} − 1) + {extra[i]} + 1"
                f" = {row.output.spatial[i]}"
            )
        lines.append(f"D2 = K = {c['filters']}")
    elif kind == "fc":
        lines.append(f"output = {c['units']} units (the {x} input, flattened: {grouped(x.values)} values)")
    return lines


def _params(row: LayerRow, x: Volume) -> list[str]:
    c, kind = row.config, row.kind
    if row.params == 0 and row.buffers == 0:
        return []
    bias = " + 1" if c.get("bias") else ""
    if kind in {"conv", "deconv"}:
        window = "·".join(map(str, _per(c["size"], len(x.spatial))))
        groups = x.depth if c["groups"] == "depthwise" else c["groups"]
        if kind == "conv":
            per = f"{window}·{x.depth}" + (f"/{groups}" if groups != 1 else "")
            return [f"params = ({per}{bias})·{c['filters']} = {grouped(row.params)}"]
        outs = f"{c['filters']}" + (f"/{groups}" if groups != 1 else "")
        plus = f" + {c['filters']}" if c.get("bias") else ""
        return [f"params = {window}·{x.depth}·{outs}{plus} = {grouped(row.params)}"]
    if kind == "fc":
        ins = "·".join(map(str, x.as_list())) if x.spatial else str(x.depth)
        plus = f" + {c['units']}" if c.get("bias") else ""
        return [f"params = {ins}·{c['units']}{plus} = {grouped(row.params)}"]
    lines = [f"params = 2·{x.depth} = {grouped(row.params)} (scale and shift per channel)"] if row.params else []
    if row.buffers:
        lines.append(f"buffers = 2·{x.depth} = {grouped(row.buffers)} (running mean and variance, not trained)")
    return lines


def explain(row: LayerRow, rounding: Rounding, bytes_per_value: int, batch: int) -> list[str]:
    """The worked arithmetic of one row: output size, params, memory, MACs."""
    x = row.input
    if x is None or row.output is None:
        return []
    lines = _output(row, x, rounding) + _params(row, x)
    if row.activations:
        per_batch = f" × {batch}" if batch > 1 else ""
        values = "·".join(map(str, row.output.as_list()))
        lines.append(
            f"memory = {values} = {grouped(row.activations)} values × {bytes_per_value} B{per_batch}"
            f" = {grouped(row.memory)} B"
        )
    elif row.kind not in {"add", "concat", "multiply"}:
        lines.append("memory = 0 (in place, or a view of its input)")
    if row.macs:
        lines.append(f"MACs = {_macs(row, x)} = {grouped(row.macs)}")
    return lines


def _macs(row: LayerRow, x: Volume) -> str:
    c = row.config
    assert row.output is not None  # noqa: S101 - explain() checked
    if row.kind == "fc":
        return f"{grouped(x.values)}·{c['units']}"
    window = "·".join(map(str, _per(c["size"], len(x.spatial))))
    groups = x.depth if c["groups"] == "depthwise" else c["groups"]
    per = f"{x.depth}" + (f"/{groups}" if groups != 1 else "")
    if row.kind == "deconv":
        return f"{'·'.join(map(str, x.spatial))}·{per}·{window}·{c['filters']}"
    return f"{'·'.join(map(str, row.output.spatial))}·{c['filters']}·{window}·{per}"
