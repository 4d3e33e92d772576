"""`convcalc fit`'s answer: per axis, the sizes that fit, as JSON data and as lines of text."""

from __future__ import annotations

from itertools import islice
from typing import TYPE_CHECKING, Any

from convcalc.engine.sizes import SizeSet, binding

if TYPE_CHECKING:
    from convcalc.engine.sizes import Summary
    from convcalc.engine.symbolic import ClosedReport, Limit
    from convcalc.spec.model import Spec

_NEAREST = 3
_SHOWN = 6  # members listed after the set's formula
LISTED = 10_000  # residues listed one by one in JSON (past it, `residue_runs` alone)
_TEXT_RUNS = 8  # residues or runs of them, and pieces, written out in the text


def _own_sizes(closed: ClosedReport, spec: Spec) -> dict[str, int]:
    """The spec's own (or example) size of each axis's symbol, where it has one.

    With an example (or a numeric input) every axis has one; a symbolic input without one still
    gives some axes as numbers (the 32 of `32xWx3`), and those are judged too.
    """
    given = spec.symbols or (None,) * len(spec.input.spatial)
    return {
        s: n
        for s, n, g in zip(closed.symbols, spec.input.spatial, given, strict=True)
        if s and (spec.example or g is None)
    }


def _limits(closed: ClosedReport, sym: str) -> list[tuple[Limit, bool]]:
    solved = closed.solved.get(sym, [])
    kept = binding([found for _, found in solved])
    return [(limit, k) for (limit, _), k in zip(solved, kept, strict=True)]


def axis_report(closed: ClosedReport, spec: Spec) -> dict[str, dict[str, Any]]:
    """{"height": {"min", "max", "modulus", "residues", "conditions", ...}, "width": {...}}."""
    own = _own_sizes(closed, spec)
    out: dict[str, dict[str, Any]] = {}
    for axis, sym in zip(closed.axes, closed.symbols, strict=True):
        if not sym:  # a number the spec gives (show's symbolic table keeps it)
            continue
        found = closed.sets[sym]
        s = found.summary()
        size = own.get(sym)
        entry: dict[str, Any] = {
            "symbol": sym,
            "min": s.least,
            "max": s.most,
            "modulus": s.modulus,
            "residues": list(s.residues) if s.count <= LISTED else None,
            "residue_runs": [list(run) for run in s.runs],
            "exact": s.exact,
        }
        if not s.exact:
            entry["pieces"] = [{"residues": [a, b], "min": lo, "max": hi} for a, b, lo, hi in found.pieces()]
            entry["pieces_modulus"] = found.modulus
        entry["conditions"] = [
            {
                "layer": limit.name,
                "path": limit.path,
                "line": limit.line,
                "column": limit.column,
                "code": limit.condition.code,
                "condition": limit.condition.text(),
                "python": _python(limit),
                "binding": kept,
            }
            for limit, kept in _limits(closed, sym)
        ]
        entry["size"] = size
        entry["fits"] = size is None or size in found
        entry["nearest"] = found.nearest(size, _NEAREST) if size is not None else found.nearest(1, _NEAREST)
        out[axis] = entry
    if closed.failure is not None or closed.never:
        for entry in out.values():
            entry["fits"] = False
    return out


def _python(limit: Limit) -> str:
    return limit.condition.python()


def set_text(sym: str, s: Summary, found: SizeSet) -> str:
    """H = 32k + 3, k ≥ 2; H ≥ 223; H ≡ 0, 29, 30 or 31 (mod 32), H ≥ 29; no size."""
    if s.least is None or s.least == s.most:
        return "no size fits" if s.least is None else f"{sym} = {s.least:,}"
    if not s.exact:
        pieces = found.pieces()
        parts = [_piece_text(sym, found.modulus, piece) for piece in pieces[:_TEXT_RUNS]]
        more = f"; … ({len(pieces) - _TEXT_RUNS:,} more pieces)" if len(pieces) > _TEXT_RUNS else ""
        return f"{sym} in " + "; ".join(parts) + more
    top = "" if s.most is None else f", {sym} ≤ {s.most:,}"
    if s.modulus == 1:
        if s.most is None:
            return f"{sym} ≥ {s.least:,}" if s.least > 1 else f"any {sym}"
        return f"{s.least:,} ≤ {sym} ≤ {s.most:,}"
    if s.count == 1:
        r = s.runs[0][0]
        k0 = (s.least - r) // s.modulus
        form = f"{s.modulus}k" + (f" + {r}" if r else "")
        return f"{sym} = {form}, k ≥ {k0}{top}"
    return f"{sym} ≡ {_residues_text(s)} (mod {s.modulus:,}), {sym} ≥ {s.least:,}{top}"


def _residues_text(s: Summary) -> str:
    """0, 29, 30 or 31; past a few, the first runs and how many residues in all."""
    if s.count <= _TEXT_RUNS:
        rs = [str(r) for r in s.residues]
        return ", ".join(rs[:-1]) + f" or {rs[-1]}"
    runs = [str(a) if a == b else f"{a}–{b}" for a, b in s.runs[:_TEXT_RUNS]]
    tail = ", …" if len(s.runs) > _TEXT_RUNS else ""
    return f"{', '.join(runs)}{tail} ({s.count:,} residues in {len(s.runs):,} runs)"


def _piece_text(sym: str, modulus: int, piece: tuple[int, int, int, int | None]) -> str:
    a, b, lo, hi = piece
    span = f"{lo}{'…' if hi is None else '..' + str(hi)}"
    return f"{span} step {modulus}" if a == b else f"{span} with {sym} mod {modulus} in {a}..{b}"


def describe(closed: ClosedReport, spec: Spec, axes: dict[str, dict[str, Any]]) -> list[str]:
    """The text answer: per axis the set, a few sizes, the conditions that shape it; then the input."""
    lines = [f"{closed.name} ({spec.rounding.value} rounding): the input sizes that fit"]
    named = level_names(spec)
    if closed.failure is not None:
        f = closed.failure
        lines.append(f"no size fits: {f.name} fails whatever the size: {f.message}")
        return lines
    lines += [f"no size fits: {x.name} (layer {x.path}): {x.condition.text()} is false" for x in closed.never]
    done: dict[str, str] = {}
    for axis, entry in axes.items():
        sym = entry["symbol"]
        if sym in done:
            lines.append(f"{axis} ({sym}): as {done[sym]}")
            continue
        done[sym] = axis
        found = closed.sets[sym]
        s = found.summary()
        first = list(_first(found, _SHOWN))
        more = ", …" if s.most is None or (first and first[-1] < s.most) else ""
        shown = f": {', '.join(map(str, first))}{more}" if first else ""
        lines.append(f"{axis} ({sym}): {set_text(sym, s, found)}{shown}")
        kept = [c for c in entry["conditions"] if c["binding"]]
        for c in kept:
            name = named.get(c["path"], c["layer"])
            where = f" (line {c['line']})" if c["line"] else f" (layer {c['path']})"
            lines.append(f"  {name}{where}: {c['condition']}")
        implied = len(entry["conditions"]) - len(kept)
        if implied and not kept:
            lines.append(f"  (its {implied} condition{'s hold' if implied > 1 else ' holds'} at every size)")
        elif implied:
            lines.append(f"  ({implied} more condition{'s follow' if implied > 1 else ' follows'} from these)")
    if spec.example:
        lines.append(_verdict(spec, axes))
    elif given := {axis: e for axis, e in axes.items() if e["size"] is not None}:
        lines.append(_given_verdict(given))
    return lines


# The names convcalc gives composites that have none of their own (no part of a layer's name).
_UNNAMED = ("residual", "parallel", "repeat ×")


def level_names(spec: Spec) -> dict[str, str]:
    """Each layer's name with the innermost named composite that holds it: `level3.MAXPOOL2`.

    A condition is read by the network's own words (U-Net's levels, ResNet's `layer2.0`), not by a
    path such as `3.layers.3.layers.3.layers.0`; the line beside it says where it is.
    """
    from convcalc.spec.model import LayerSpec  # noqa: PLC0415

    out: dict[str, str] = {}
    todo: list[tuple[Any, str]] = [(node, "") for node in spec.layers]
    while todo:
        node, level = todo.pop()
        node = getattr(node, "node", node)  # a layer that reads an earlier one (`from:`) is that layer
        if isinstance(node, LayerSpec):
            out[node.path] = f"{level}.{node.name}" if level else node.name
            continue
        own = node.name if node.name and not node.name.startswith(_UNNAMED) else level
        children = [*getattr(node, "layers", ()), *(c for b in getattr(node, "branches", ()) for c in b)]
        shortcut = getattr(node, "shortcut", ())
        children += list(shortcut) if isinstance(shortcut, tuple) else []
        todo += [(child, own) for child in children]
    return out


def _first(found: SizeSet, count: int) -> list[int]:
    return list(islice(found.ascending(), count))


def _given_verdict(given: dict[str, dict[str, Any]]) -> str:
    """The sizes a symbolic input gives as numbers: `height 32 does not fit (nearest that fit: 31, 33)`."""
    said = []
    for axis, e in given.items():
        if e["fits"]:
            said.append(f"{axis} {e['size']} fits")
        else:
            near = ", ".join(map(str, e["nearest"])) or "none"
            said.append(f"{axis} {e['size']} does not fit (nearest that fit: {near})")
    return "the input's own " + "; ".join(said) + "."


def _verdict(spec: Spec, axes: dict[str, dict[str, Any]]) -> str:
    if all(e["fits"] for e in axes.values()):
        return f"{spec.input} fits."
    misses = [
        f"{axis} {e['size']}: nearest that fit {', '.join(map(str, e['nearest'])) or 'none'}"
        for axis, e in axes.items()
        if not e["fits"]
    ]
    return f"{spec.input} does not fit ({'; '.join(misses)})"
