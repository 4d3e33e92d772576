"""A spec as a PyTorch program, without torch: the modules to build and the forward steps.

A backend of the walk over the spec (convcalc.engine.walk), reading its report; what it makes
is read by two more: `convcalc.pytorch` builds the modules and runs the statements; `convcalc
export` writes them as a Python file. A module has
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
from typing import TYPE_CHECKING, NoReturn, Union

from convcalc.bridges.checkpoint import Region, region
from convcalc.bridges.graphs import held
from convcalc.bridges.names import Namer, Path, parts
from convcalc.engine.merge import crop_start
from convcalc.engine.walk import Group, Measure, Refusal, measured, not_its_report, walk
from convcalc.errors import ConvcalcError
from convcalc.kinds.plan import FunctionStep, ModuleStep, activation
from convcalc.kinds.registry import KINDS
from convcalc.options import Rounding
from convcalc.spec.model import Junction, LayerSpec, Merge, Parallel, Residual, Sequence, Spec

if TYPE_CHECKING:
    from collections.abc import Callable

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
    ranks: tuple[int, ...] = ()  # each source's rank (N x C x spatial), where the report gives it


Statement = Union[Apply, Join]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True, slots=True)
class Program:
    """Modules in the order they are made, statements in the order they run, from `x` to `x`."""

    attributes: tuple[Attribute, ...]
    statements: tuple[Statement, ...]
    notes: tuple[str, ...]
    checkpoints: tuple[Region, ...] = ()  # `checkpoint: true` blocks: statements run under torch.utils.checkpoint


def program(spec: Spec, report: Report) -> Program:
    """The spec as modules and forward statements (the report gives each layer's input)."""
    if report.totals.output is None:
        msg = "the spec has a layer convcalc cannot compute; fix it (see `convcalc show`) first"
        raise ConvcalcError(msg)
    backend = _Walk(report)
    walk(spec.layers, "x", backend)
    notes = tuple(dict.fromkeys(backend.notes))
    return Program(tuple(backend.attributes), tuple(backend.statements), notes, tuple(backend.regions))


_DEFAULT_COMPOSITE_NAMES = {"residual", "parallel"}


def _own_parts(node: Sequence | Residual | Parallel, suffix: str) -> Path:
    """A composite's part of its layers' paths: its `module:`, or its own name (not convcalc's default)."""
    if node.module:
        return parts(node.module)
    if node.name in _DEFAULT_COMPOSITE_NAMES or node.name.startswith("repeat ×"):
        return ()
    return parts(node.name + suffix)


class _Walk:
    """The program's backend of the walk (engine/walk.py): values are the names that hold them."""

    def __init__(self, report: Report) -> None:
        self.rows: dict[str, LayerRow] = {r.path: r for r in report.rows}
        self.rounding = Rounding(report.rounding)
        self.namer = Namer()
        self.attributes: list[Attribute] = []
        self.statements: list[Statement] = []
        self.notes: list[str] = []
        self.made: dict[str, str] = {"x": "input"}  # each name's value: the row that computed it
        self.dst = ["x"]  # where the statements of the path being walked put their value
        self.prefix: list[Path] = [()]  # the PyTorch path of the modules made there
        self.open: list[Group] = []
        self.kept: list[tuple[str, str]] = []  # per open residual: its input kept, its shortcut's name
        self.levels: list[str] = []  # per open parallel: its branches' names' level
        self.regions: list[Region] = []  # checkpointed blocks, each once closed
        self.region: tuple[int, str] | None = None  # the open one's first statement and input

    def assign(self, target: str, source: str, calls: tuple[Call, ...], rows: tuple[tuple[int, str], ...]) -> str:
        self.statements.append(Apply(target, source, calls, rows))
        self.made[target] = rows[-1][1] if rows else self.made[source]
        return target

    def enter(self, group: Group, x: str) -> str:
        if group.checkpoint:
            self.region = (len(self.statements), x)
        suffix = ""  # the number of its repetition in a repeat (denselayer1, denselayer2)
        parent = self.open[-1] if self.open else None
        if isinstance(parent, Sequence) and parent.kind == "repeat":
            suffix = str(int(group.path[len(parent.path) + 1 :].split(".")[0]) + 1)
        self.prefix.append((*self.prefix[-1], *_own_parts(group, suffix)))
        self.open.append(group)
        if isinstance(group, Parallel):
            self.levels.append("" if not self.levels else f"{len(self.levels) + 1}_")
        if not isinstance(group, Residual):
            return x
        depth = len(self.kept)
        kept = x
        if x == self.dst[-1]:  # keep the input: the body overwrites it
            kept = self.assign("identity" if depth == 0 else f"identity{depth + 1}", x, (), ())
        self.kept.append((kept, "shortcut" if depth == 0 else f"shortcut{depth + 1}"))
        return kept

    def leave(self, group: Group, out: str) -> str:
        self.prefix.pop()
        self.open.pop()
        if isinstance(group, Residual):
            self.kept.pop()
        elif isinstance(group, Parallel):
            self.levels.pop()
        out = out if out == self.dst[-1] else self.assign(self.dst[-1], out, (), ())  # an empty block
        if group.checkpoint and self.region is not None:
            self.regions.append(region(group, self.statements, *self.region, out))
            self.region = None
        return out

    def path(self, group: Group, which: str, x: str, walk: Callable[[str], str]) -> str:
        dst, prefix, mark = self.dst[-1], self.prefix[-1], len(self.statements)
        if which in {"shortcut", "downsample"}:
            assert isinstance(group, Residual)  # noqa: S101 - only a residual has one
            dst = self.kept[-1][1]
            if isinstance(group.shortcut, tuple):  # layers written: named under `shortcut`
                prefix = (*prefix, "shortcut")
        elif which != "layers":
            dst = f"branch{self.levels[-1]}{int(which.split('.')[1]) + 1}"
        self.dst.append(dst)
        self.prefix.append(prefix)
        out = walk(x)
        self.dst.pop()
        self.prefix.pop()
        if which == "downsample":
            self.fuse(mark)  # torchvision's downsample: one statement, as its Sequential
        if which in {"shortcut", "downsample"}:
            return out  # the identity is the kept input itself
        return out if out == dst else self.assign(dst, out, (), ())

    def fuse(self, mark: int) -> None:
        """The chain of statements from `mark` as one (each reads the one before)."""
        chain = [s for s in self.statements[mark:] if isinstance(s, Apply)]
        del self.statements[mark:]
        calls: list[Call] = []
        rows: list[tuple[int, str]] = []
        for s in chain:
            rows += [(len(calls) + done, row) for done, row in s.rows]
            calls += s.calls
        self.assign(chain[-1].target, chain[0].source, tuple(calls), tuple(rows))

    def measure(self, x: str) -> Measure:
        return measured(self.rows[self.made[x]])

    def refuse(self, n: Residual, x: str, refusal: Refusal) -> NoReturn:  # noqa: ARG002 - the protocol's
        not_its_report(n, refusal)

    def hold(self, x: str, name: str) -> str:
        """A general graph's output read again later: a variable of its own (graphs.py names it)."""
        if x != self.dst[-1]:
            return x  # a name the statements of this list do not assign (a branch's input)
        return self.assign(held(name, self.prefix[-1], self.made), x, (), ())

    def merge(self, group: Residual | Parallel | Junction, parts: list[tuple[str, str]]) -> str:
        sources = tuple(name for _, name in parts)
        then: tuple[FunctionStep, ...] = ()
        if not isinstance(group, Parallel):
            then = activation(group.activation)
            if isinstance(group, Residual) and group.merge is Merge.CONCAT:
                sources = sources[::-1]  # the shortcut (the input) first, as torchvision's DenseNet
        dst = self.dst[-1]
        self.statements.append(Join(dst, group.merge, sources, then, group.path, self.ranks(sources)))
        self.made[dst] = group.path
        return dst

    def ranks(self, sources: tuple[str, ...]) -> tuple[int, ...]:
        """Each source's rank: 2 for a vector N x C, N x C x spatial for a volume."""
        outputs = [self.rows[self.made[s]].output for s in sources]
        return tuple(len(v.spatial) + 2 for v in outputs if v is not None)

    def crop(self, n: Residual, x: str, body: str) -> str:  # noqa: ARG002 - the protocol's
        """U-Net's copy and crop: `narrow` on each spatial dim that is cut (a view, as the row's 0 activations say)."""
        row = self.rows[f"{n.path}.shortcut.0"]
        assert row.input is not None  # noqa: S101 - every row but the input has one
        assert row.output is not None  # noqa: S101 - the program is made of a report that computed every row
        dims = zip(row.input.spatial, row.output.spatial, strict=True)
        calls = tuple(
            FunctionStep(".narrow", (axis, crop_start(have, want), want))
            for axis, (have, want) in enumerate(dims, 2)  # N x C x spatial: the spatial dims from 2
            if have != want
        )
        return self.assign(self.dst[-1], x, calls, ((len(calls), row.path),))

    def leaf(self, layer: LayerSpec, x: str) -> str:
        row = self.rows[layer.path]
        own = parts(layer.module) if layer.module else ()
        if not own and layer.name != layer.label.split()[0].upper():  # named in the spec
            own = parts(layer.name)
        prefix = self.prefix[-1]
        path = (*prefix, *own) if own else None  # None: numbered by its kind
        calls = self.calls(self.plan(row), row.path, path, prefix)
        return self.assign(self.dst[-1], x, calls, ((len(calls), row.path),))

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
