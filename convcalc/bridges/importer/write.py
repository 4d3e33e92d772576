"""The decomposed graph as a spec a person would write: shorthand, the model's names, repeats, residuals.

Conv, deconv and fc take the activation that follows them (`activation: relu`, one row, as the
built-in specs write it), an fc the flatten before it; a merge its activation; a run of ops
convcalc has no kind for becomes one opaque layer with the volume the framework computed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from convcalc.bridges.importer.calls import transformer_calls
from convcalc.bridges.importer.graph import Fork, Item, Op, Region
from convcalc.bridges.importer.nodes import Composite, Leaf, Node, prefix
from convcalc.bridges.importer.wired import activation_of, region_nodes
from convcalc.errors import ModelError
from convcalc.kinds import registry
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from convcalc.kinds.base import Kind


def nodes(items: list[Item]) -> list[Node]:
    """The spec's layers for a sequence of items."""
    out: list[Node] = []
    run: list[Op] = []  # consecutive ops convcalc has no kind for
    for item in [*items, None]:
        if isinstance(item, Op) and item.layer is None and item.merge is None:  # a crop alone too
            run.append(item)
            continue
        if run:
            out.append(_opaque(run))
            run = []
        if item is None:
            break
        if isinstance(item, Fork):
            _fork(out, item)
            continue
        if isinstance(item, Region):
            out.append(region_nodes(item, nodes))
            continue
        if _merge_takes(out[-1] if out else None, item):
            continue
        kind, params = _long(item)
        last = out[-1] if out else None
        resolved = registry.resolve(kind)
        assert resolved is not None  # noqa: S101 - the readers write the registered kinds' names
        before = registry.resolve(last.kind) if isinstance(last, Leaf) else None
        if isinstance(last, Leaf) and _fuse(last, before[0] if before else None, *resolved, params):
            continue
        if before and before[0].name in resolved[0].absorbs:
            out.pop()  # an fc flattens its input itself
        out.append(Leaf(kind, params, item.name if item.module else None))
    return out


def _merge_takes(last: Node | None, op: Op) -> bool:
    """A general graph's last merge takes the activation after it (`activation: relu`), as a residual's does."""
    end = last.parts[0][-1] if isinstance(last, Composite) and last.kind == "graph" else None
    function = activation_of(op)
    if not isinstance(end, Leaf) or end.kind != "merge" or "activation" in end.params or function is None:
        return False
    end.params["activation"] = function
    return True


def _fuse(last: Leaf, before: Kind | None, kind: Kind, preset: dict[str, Any], params: dict[str, Any]) -> bool:
    """Make a layer of `kind` a parameter of the `last` one, where that one fuses it (a conv's `activation:`)."""
    # The activation after a residual's merge is the residual's.
    fuses = ("activation",) if last.kind == "residual_merge" else before.fuses if before else ()
    if kind.name not in fuses or kind.name in last.params:
        return False
    last.params[kind.name] = {**preset, **params}[str(kind.primary)]
    return True


def _opaque(run: list[Op]) -> Leaf:
    last = run[-1]
    ops = ", ".join(dict.fromkeys(op.op for op in run))
    params: dict[str, Any] = {"output": "x".join(map(str, last.shape)), "op": ops}
    weights = sum(op.weights for op in run)
    if weights:
        params["weights"] = weights
    modules = [op.name for op in run if op.module]
    return Leaf("opaque", params, (modules[0] if len(modules) == 1 else prefix(modules)) or None)


def _long(op: Op) -> tuple[str, dict[str, Any]]:
    assert op.layer is not None  # noqa: S101 - supported ops only
    ((kind, value),) = op.layer.items()
    if value is None:
        return kind, {}
    if not isinstance(value, dict):
        resolved = registry.resolve(kind)
        assert resolved is not None  # noqa: S101 - the readers write known names
        primary = resolved[0].primary
        return kind, {str(primary): value}
    return kind, dict(value)


def _fork(out: list[Node], fork: Fork) -> None:
    if fork.join.merge is None:  # an op convcalc has no kind for, reading several values
        msg = (
            f"{inert(fork.join.name)} ({inert(fork.join.op)}) reads {len(fork.branches)} values: an opaque layer "
            "reads one, so it cannot stand in for it"
        )
        raise ModelError(msg)
    merge = fork.join.merge
    branches = [nodes(list(b)) for b in fork.branches]
    crop = [all(isinstance(i, Op) and i.crop for i in b) and bool(b) for b in fork.branches]
    if len(branches) == 2:  # noqa: PLR2004 - a body and a shortcut
        # convcalc's concat puts the shortcut first (DenseNet's old features, then the new ones).
        order = [0, 1] if merge == "concat" else sorted([0, 1], key=lambda i: -len(fork.branches[i]))
        short, body = (order[0], order[1]) if merge == "concat" else (order[1], order[0])
        if crop[short] or not fork.branches[short] or merge != "concat":
            options: dict[str, Any] = {}
            if crop[short]:
                options["shortcut"] = "crop"
            if merge != "add":
                options["merge"] = merge
            shortcut = [] if crop[short] else branches[short]
            out.append(Composite("residual", [branches[body], shortcut], options, None))
            out.append(Leaf("residual_merge", {}, None))  # takes the activation after the merge
            return
    out.append(Composite("parallel", branches, {"merge": merge}))


def finish(layers: list[Node], *, repeats: bool = True) -> list[Node]:
    """Fold each residual's merge activation into it; find repeats (not in a graph: `from:` counts places)."""
    done: list[Node] = []
    for node in layers:
        if isinstance(node, Leaf) and node.kind == "residual_merge":
            last = done[-1]
            assert isinstance(last, Composite)  # noqa: S101 - it follows its residual
            if "activation" in node.params:
                last.options["activation"] = node.params["activation"]
            continue
        if isinstance(node, Composite):
            node.parts = [finish(p, repeats=node.kind != "graph") for p in node.parts]
            names = [n for p in node.parts for n in _names(p)]
            node.name = prefix(names) or None
        done.append(node)
    if done and isinstance(done[0], Composite) and done[0].kind == "graph":
        done[:1] = done[0].parts[0]  # first in its list: the graph's input is the list's (no `repeat: 1`)
    done = transformer_calls(done)
    return _repeats(done) if repeats else done


def _names(layers: list[Node]) -> list[str]:
    found: list[str] = []
    for n in layers:
        if n.name:
            found.append(n.name)
        if isinstance(n, Composite):
            found += [m for p in n.parts for m in _names(p)]
    return found


def signature(node: Node) -> str:
    """What a layer computes, without its names: equal signatures repeat."""
    return json.dumps(_signature(node), sort_keys=True)


def _signature(node: Node) -> list[Any]:
    # One dump of the nested lists: a dump of dumps escapes its quotes again at every level (2^depth).
    if isinstance(node, Leaf):
        return [node.kind, node.params]
    return [node.kind, node.options, [[_signature(n) for n in p] for p in node.parts]]


def _repeats(layers: list[Node]) -> list[Node]:
    """Runs of identical layers (or groups of up to 4) as `repeat:`, where that saves lines."""
    sigs = [signature(n) for n in layers]
    n_layers = len(layers)
    # runs[p][i]: how many copies of layers[i : i + p] follow one another from i, counted once
    # from the end (one scan per period: a long run costs its length, not its square).
    runs = {p: [1] * (n_layers + 1) for p in range(1, 5)}
    for p, run in runs.items():
        for i in range(n_layers - 2 * p, -1, -1):
            if sigs[i : i + p] == sigs[i + p : i + 2 * p]:
                run[i] = run[i + p] + 1
    named, composites, wired = [0], [0], [0]  # how many of layers[:k] have a name, are composites, read by name
    for n in layers:
        named.append(named[-1] + bool(n.name))
        composites.append(composites[-1] + isinstance(n, Composite))
        wired.append(wired[-1] + (isinstance(n, Leaf) and (n.reads is not None or n.referenced)))
    out: list[Node] = []
    i = 0
    while i < n_layers:
        best = (1, 1)  # period, count
        for period in range(1, 5):
            count = runs[period][i]
            end = min(i + period * count, n_layers)
            # A composite repeats from two copies; plain layers from three, and only unnamed ones
            # (three named convs in a row read better as three lines, with their names).
            worth = composites[end] > composites[i] or (
                count >= 3 and named[end] == named[i]  # noqa: PLR2004 - three plain layers
            )
            # A layer that reads by name, or is read so, stays in its list: `from:` names its list's layers.
            if count > 1 and worth and wired[end] == wired[i] and period * count > best[0] * best[1]:
                best = (period, count)
        period, count = best
        if count == 1:
            out.append(layers[i])
            i += 1
            continue
        copies = [layers[i + c * period : i + (c + 1) * period] for c in range(count)]
        out.append(_repeat(copies))
        i += period * count
    return out


def _repeat(copies: list[list[Node]]) -> Composite:
    name = prefix([n for copy in copies for n in _names(copy)])
    first = copies[0]
    if len(first) == 1 and isinstance(first[0], Composite) and first[0].kind == "graph":
        first = first[0].parts[0]  # a graph repeated: the repeat's list is its own (no `repeat: 1` in it)
    relative = [_relative(copy) for copy in copies]
    if any(r != relative[0] for r in relative):
        _strip(first, None)
    else:
        _strip(first, "keep")
    return Composite("repeat", [first], {"count": len(copies)}, name or None)


def _relative(copy: list[Node]) -> list[str]:
    names = _names(copy)
    common = prefix(names)
    return [n[len(common) + 1 :] if common else n for n in names]


def _strip(copy: list[Node], mode: str | None) -> None:
    """Names inside a repeat: relative to the copy's own prefix when every copy has the same, else none."""
    common = prefix(_names(copy))

    def walk(layers: list[Node]) -> None:
        for n in layers:
            if isinstance(n, Composite):
                n.name = None
                for p in n.parts:
                    walk(p)
            elif (mode is None and not n.referenced) or not n.name:  # one read by name (`from:`) keeps it
                n.name = None
            else:
                n.name = n.name[len(common) + 1 :] if common else n.name

    walk(copy)


def leaves(layers: list[Node]) -> list[Leaf]:
    """Every layer, composites opened."""
    found: list[Leaf] = []
    for n in layers:
        if isinstance(n, Leaf):
            found.append(n)
        else:
            for p in n.parts:
                found += leaves(p)
    return found


def defaults(layers: list[Node]) -> dict[str, Any]:
    """The conv settings most convs share, as `defaults:` (no bias before a batchnorm, a fused relu)."""
    convs = [leaf for leaf in leaves(layers) if leaf.kind == "conv"]
    found: dict[str, Any] = {}
    for key, absent, value in (("bias", True, False), ("activation", "identity", "relu")):
        if sum(leaf.params.get(key, absent) == value for leaf in convs) * 2 <= len(convs):
            continue
        found[key] = value
        for leaf in convs:
            if leaf.params.pop(key, absent) != value:
                leaf.params[key] = absent
                leaf.overrides = True
    return {"conv": found} if found else {}
