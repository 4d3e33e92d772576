"""A spec as a PyTorch program, without torch: the modules to build and the forward steps.

One walk over the spec and its report, read by both backends: `convcalc.pytorch` builds the
modules and runs the statements; `convcalc export` writes them as a Python file. A module has
its PyTorch path (`layer1.0.conv1`, names.py); a statement assigns a named value (`x`,
`identity`, `shortcut`, `branch1`): a chain of calls (modules and functions) on one value, or a
merge of several. Each statement says which report rows it computes, so that tests can compare
every row's output with PyTorch.

Merges (DESIGN §2.3): a residual is merge(body, shortcut), then its activation; with
`merge: concat` the shortcut (the input) comes first, then the body, as DenseNet's depth is
D_x + D_body and torchvision concatenates old features, then new. A `shortcut: auto` that
projects is torchvision's downsample: `downsample.0` (1x1 conv) and `downsample.1` (batchnorm).
A `shortcut: crop` is U-Net's copy and crop: the input narrowed to the body's size, centred (a view).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from convcalc.bridges.names import Namer, Path, parts
from convcalc.engine.merge import crop_start
from convcalc.errors import ConvcalcError
from convcalc.kinds.plan import FunctionStep, ModuleStep, activation
from convcalc.kinds.registry import KINDS
from convcalc.options import Rounding
from convcalc.spec.model import LayerSpec, Merge, Node, Parallel, Residual, Sequence, Shortcut, Spec

if TYPE_CHECKING:
    from convcalc.kinds.plan import Plan
    from convcalc.report import LayerRow, Report


@dataclass(frozen=True, slots=True)
class Attribute:
    """A module of the network, at its PyTorch path, for the report row it belongs to."""

    path: Path
    module: ModuleStep
    row: str


@dataclass(frozen=True, slots=True)
class Invoke:
    """A call of the module at `path`."""

    path: Path


Call = Union[Invoke, FunctionStep]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True, slots=True)
class Apply:
    """target = calls[-1](...calls[0](source)); `rows` are (calls done, row path) along the way."""

    target: str
    source: str
    calls: tuple[Call, ...]
    rows: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class Join:
    """target = then(merge(sources)): add, concatenate along channels, or multiply (broadcast)."""

    target: str
    merge: Merge
    sources: tuple[str, ...]
    then: tuple[FunctionStep, ...]
    row: str


Statement = Union[Apply, Join]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True, slots=True)
class Program:
    """Modules in the order they are made, statements in the order they run, from `x` to `x`."""

    attributes: tuple[Attribute, ...]
    statements: tuple[Statement, ...]
    notes: tuple[str, ...]


def program(spec: Spec, report: Report) -> Program:
    """The spec as modules and forward statements (the report gives each layer's input)."""
    if report.totals.output is None:
        msg = "the spec has a layer convcalc cannot compute; fix it (see `convcalc show`) first"
        raise ConvcalcError(msg)
    walk = _Walk(report)
    walk.nodes(spec.layers, "x", "x", ())
    return Program(tuple(walk.attributes), tuple(walk.statements), tuple(dict.fromkeys(walk.notes)))


_DEFAULT_COMPOSITE_NAMES = {"residual", "parallel"}


def _own_parts(node: Sequence | Residual | Parallel, suffix: str) -> Path:
    """A composite's part of its layers' paths: its `module:`, or its own name (not convcalc's default)."""
    if node.module:
        return parts(node.module)
    if node.name in _DEFAULT_COMPOSITE_NAMES or node.name.startswith("repeat ×"):
        return ()
    return parts(node.name + suffix)


class _Walk:
    def __init__(self, report: Report) -> None:
        self.rows: dict[str, LayerRow] = {r.path: r for r in report.rows}
        self.rounding = Rounding(report.rounding)
        self.namer = Namer()
        self.attributes: list[Attribute] = []
        self.statements: list[Statement] = []
        self.notes: list[str] = []
        self.skip_depth = 0
        self.branch_depth = 0

    def nodes(self, nodes: tuple[Node, ...], src: str, dst: str, prefix: Path) -> None:
        """Apply `nodes` to `src`, leaving the result in `dst`."""
        current = src
        for node in nodes:
            self.node(node, current, dst, prefix)
            current = dst
        if current != dst:
            self.statements.append(Apply(dst, current, ()))

    def node(self, node: Node, src: str, dst: str, prefix: Path, suffix: str = "") -> None:
        """Apply one node; `suffix` numbers the repetitions of a repeat (denselayer1, denselayer2)."""
        if isinstance(node, LayerSpec):
            self.leaf(node, src, dst, prefix)
            return
        inner = (*prefix, *_own_parts(node, suffix))
        if isinstance(node, Sequence) and node.kind == "repeat":
            current = src
            for child in node.layers:  # a composite in it takes the number of its repetition
                repetition = int(child.path[len(node.path) + 1 :].split(".")[0]) + 1
                self.node(child, current, dst, inner, str(repetition))
                current = dst
            if current != dst:
                self.statements.append(Apply(dst, current, ()))
        elif isinstance(node, Sequence):
            self.nodes(node.layers, src, dst, inner)
        elif isinstance(node, Residual):
            self.residual(node, src, dst, inner)
        else:
            self.parallel(node, src, dst, inner)

    def residual(self, node: Residual, src: str, dst: str, prefix: Path) -> None:
        skip = src
        if src == dst:  # keep the input: the body overwrites it
            skip = "identity" if self.skip_depth == 0 else f"identity{self.skip_depth + 1}"
            self.statements.append(Apply(skip, src, ()))
        self.skip_depth += 1
        self.nodes(node.layers, src, dst, prefix)
        shortcut = skip
        out = "shortcut" if self.skip_depth == 1 else f"shortcut{self.skip_depth}"
        if node.shortcut is Shortcut.AUTO:
            shortcut = self.projection(node, skip, out, prefix)
        elif node.shortcut is Shortcut.CROP:
            shortcut = self.crop(node, skip, out)
        elif node.shortcut:
            shortcut = out
            self.nodes(node.shortcut, skip, out, (*prefix, "shortcut"))
        self.skip_depth -= 1
        sources = (shortcut, dst) if node.merge is Merge.CONCAT else (dst, shortcut)
        self.statements.append(Join(dst, node.merge, sources, activation(node.activation), node.path))

    def projection(self, node: Residual, skip: str, out: str, prefix: Path) -> str:
        """Torchvision's downsample (a 1x1 conv with the stride, no bias, then batchnorm), if any."""
        conv, bn = self.rows.get(f"{node.path}.shortcut.0"), self.rows.get(f"{node.path}.shortcut.1")
        if conv is None or bn is None:
            return skip  # the volumes agree: the identity
        calls: list[Call] = []
        for i, row in enumerate((conv, bn)):
            calls += self.calls(self.plan(row), row.path, (*prefix, "downsample", str(i)))
        self.statements.append(Apply(out, skip, tuple(calls), ((1, conv.path), (len(calls), bn.path))))
        return out

    def crop(self, node: Residual, skip: str, out: str) -> str:
        """U-Net's copy and crop: `narrow` on each spatial dim that is cut (a view, as the row's 0 activations say)."""
        row = self.rows[f"{node.path}.shortcut.0"]
        assert row.input is not None  # noqa: S101 - every row but the input has one
        assert row.output is not None  # noqa: S101 - the program is made of a report that computed every row
        dims = zip(row.input.spatial, row.output.spatial, strict=True)
        calls = tuple(
            FunctionStep(".narrow", (axis, crop_start(have, want), want))
            for axis, (have, want) in enumerate(dims, 2)  # N x C x spatial: the spatial dims from 2
            if have != want
        )
        self.statements.append(Apply(out, skip, calls, ((len(calls), row.path),)))
        return out

    def parallel(self, node: Parallel, src: str, dst: str, prefix: Path) -> None:
        self.branch_depth += 1
        level = "" if self.branch_depth == 1 else f"{self.branch_depth}_"
        outs = []
        for i, branch in enumerate(node.branches, 1):
            out = f"branch{level}{i}"
            self.nodes(branch, src, out, prefix)
            outs.append(out)
        self.branch_depth -= 1
        self.statements.append(Join(dst, node.merge, tuple(outs), (), node.path))

    def leaf(self, layer: LayerSpec, src: str, dst: str, prefix: Path) -> None:
        row = self.rows[layer.path]
        own = parts(layer.module) if layer.module else ()
        if not own and layer.name != layer.label.split()[0].upper():  # named in the spec
            own = parts(layer.name)
        path = (*prefix, *own) if own else None  # None: numbered by its kind
        calls = self.calls(self.plan(row), row.path, path, prefix)
        self.statements.append(Apply(dst, src, calls, ((len(calls), row.path),)))

    def plan(self, row: LayerRow) -> Plan:
        assert row.input is not None  # noqa: S101 - every row but the input has one
        plan = KINDS[row.kind].plan(row.config, row.input, self.rounding)
        self.notes += plan.notes
        return plan

    def calls(self, plan: Plan, row: str, path: Path | None, prefix: Path = ()) -> tuple[Call, ...]:
        """The plan's steps, its module made an attribute (at `path`, or numbered by its stem)."""
        out: list[Call] = []
        for step in plan.steps:
            if isinstance(step, ModuleStep):
                where = self.namer.claim(path) if path else self.namer.numbered(prefix, step.stem)
                self.attributes.append(Attribute(where, step, row))
                out.append(Invoke(where))
            else:
                out.append(step)
        return tuple(out)
