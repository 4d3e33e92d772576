"""A spec as a PyTorch module, for the oracle tests. Only this module (and the tests) import torch.

    from convcalc.pytorch import to_module
    built = to_module(spec)          # built.module: nn.Module; built.outputs(x): every row's output

The module is the spec's program (convcalc.bridges.program): the kinds' PyTorch plans, with
the modules at their PyTorch paths (`layer1.0.conv1`, as torchvision names them where the spec
follows it) and the forward statements run in order. `convcalc export` writes the same program
as source, so the two compute the same thing, and both load a state_dict of the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from convcalc.bridges.program import Apply, Invoke, Join, Program, program
from convcalc.engine.analyze import analyze
from convcalc.spec.model import Merge

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.bridges.checkpoint import Region
    from convcalc.kinds.plan import FunctionStep, ModuleStep
    from convcalc.spec.model import Spec


def build(step: ModuleStep) -> nn.Module:
    """The torch.nn module of a plan's module step."""
    if step.own:
        from convcalc.bridges import modules  # noqa: PLC0415 - only the token kinds' plans need it

        own: nn.Module = getattr(modules, step.cls)(*step.args, **dict(step.kwargs))
        return own
    module: nn.Module = getattr(nn, step.cls)(*step.args, **dict(step.kwargs))
    return module


def function(step: FunctionStep) -> Callable[[torch.Tensor], torch.Tensor]:
    """A plan's function step as a callable: F.relu, torch.flatten(·, 1), a tensor method .squeeze(-1)."""
    args, kwargs = step.args, dict(step.kwargs)
    if step.function.startswith("."):
        method = step.function[1:]
        return lambda t: getattr(t, method)(*args, **kwargs)
    space, name = step.function.split(".", 1)
    fn = getattr(nn.functional if space == "F" else torch, name)
    return lambda t: fn(t, *args, **kwargs)


def join(merge: Merge, values: list[torch.Tensor]) -> torch.Tensor:
    """Add, concatenate along channels, or multiply with broadcasting (a vector N x C as N x C x 1 x 1)."""
    if merge is Merge.CONCAT:
        return torch.cat(values, dim=1)
    rank = max(t.dim() for t in values)
    values = [t.reshape(*t.shape, *([1] * (rank - t.dim()))) for t in values]
    result = values[0]
    for t in values[1:]:
        result = result + t if merge is Merge.ADD else result * t
    return result


class Network(nn.Module):
    """A spec's program: its modules at their PyTorch paths, its statements run by forward."""

    def __init__(self, prog: Program) -> None:
        super().__init__()
        for attribute in prog.attributes:
            parent: nn.Module = self
            for part in attribute.path[:-1]:
                if part not in parent._modules:  # noqa: SLF001 - nn.Module's registry of children
                    parent.add_module(part, nn.ModuleDict())
                parent = parent.get_submodule(part)
            parent.add_module(attribute.path[-1], build(attribute.module))
        self.program = prog
        self.steps: list[list[Callable[[torch.Tensor], torch.Tensor]] | None] = [
            [self.call(c) for c in s.calls] if isinstance(s, Apply) else None for s in prog.statements
        ]

    def call(self, c: Invoke | FunctionStep) -> Callable[[torch.Tensor], torch.Tensor]:
        if isinstance(c, Invoke):
            module: Callable[[torch.Tensor], torch.Tensor] = self.get_submodule(".".join(c.path))
            return module
        return function(c)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(x, None)

    def run(self, x: torch.Tensor, seen: dict[str, torch.Tensor] | None) -> torch.Tensor:
        """The output for x; with `seen`, every report row's output by its path too (nothing checkpointed)."""
        values = {"x": x}
        self.execute(0, len(self.steps), values, seen, checkpointed=seen is None)
        return values["x"]

    def execute(
        self,
        start: int,
        stop: int,
        values: dict[str, torch.Tensor],
        seen: dict[str, torch.Tensor] | None,
        *,
        checkpointed: bool,
    ) -> None:
        """Run statements start to stop on the named values; a `checkpoint: true` block under torch.utils.checkpoint."""
        regions = {r.start: r for r in self.program.checkpoints if r.stop > r.start} if checkpointed else {}
        i = start
        while i < stop:
            region = regions.get(i)
            if region is not None:
                out = checkpoint(self.block, region, values[region.source], use_reentrant=False)
                values[region.target] = out
                i = region.stop
                continue
            self.statement(i, values, seen)
            i += 1

    def block(self, region: Region, x: torch.Tensor) -> torch.Tensor:
        """A checkpointed block's statements on its input: its names die with this call, as in the exported method."""
        values = {region.source: x}
        self.execute(region.start, region.stop, values, None, checkpointed=False)
        return values[region.target]

    def statement(self, i: int, values: dict[str, torch.Tensor], seen: dict[str, torch.Tensor] | None) -> None:
        statement, calls = self.program.statements[i], self.steps[i]
        if isinstance(statement, Join):
            value = join(statement.merge, [values[s] for s in statement.sources])
            for step in statement.then:
                value = function(step)(value)
            if seen is not None:
                seen[statement.row] = value
        else:
            assert calls is not None  # noqa: S101 - an Apply has its calls
            value = values[statement.source]
            marks = dict(statement.rows)  # calls done -> the row whose output the value is then
            if seen is not None and 0 in marks:
                seen[marks[0]] = value  # an identity activation's row
            for done, call in enumerate(calls, 1):
                value = call(value)
                if seen is not None and done in marks:
                    seen[marks[done]] = value
        values[statement.target] = value


@dataclass(frozen=True, slots=True)
class Built:
    """The module, and a way to see every report row's output."""

    module: Network

    def outputs(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Each report row's output (by path) for the input x."""
        seen: dict[str, torch.Tensor] = {}
        self.module.run(x, seen)
        return seen


def to_module(spec: Spec) -> Built:
    """Build the spec as an nn.Module (in evaluation mode)."""
    module = Network(program(spec, analyze(spec)))
    module.eval()
    return Built(module)


def zero_input(spec: Spec) -> torch.Tensor:
    """A batch of one zero input, N x C x spatial (PyTorch's order)."""
    v = spec.input
    return torch.zeros(1, v.depth, *v.spatial)


def shape_of(t: torch.Tensor) -> list[int]:
    """A tensor's shape in convcalc's order: spatial dims, then channels (a vector: [N])."""
    return [*t.shape[2:], t.shape[1]]


__all__ = ["Built", "Network", "shape_of", "to_module", "zero_input"]
