"""A spec's program as the source of a standalone PyTorch module (`convcalc export --to pytorch`).

The file is written as text, so exporting needs no torch; running the file needs only torch.
It reads like a model a person would write: one attribute per module, at its PyTorch path
(`self.conv1`, `self.layer1["0"].conv1`; containers are nn.ModuleDicts), stateless steps
(activations, flatten) as function calls in `forward`, residual adds and concatenations spelled
out. What it computes is the program `convcalc.pytorch.to_module` runs (bridges/program.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.bridges import layout, owncode
from convcalc.bridges.checkpoint import method_names
from convcalc.bridges.names import class_name
from convcalc.bridges.program import Apply, Invoke, Program, program
from convcalc.render import numbers
from convcalc.render.inert import inert, inert_lines
from convcalc.spec.model import Merge

if TYPE_CHECKING:
    from convcalc.bridges.names import Path
    from convcalc.bridges.program import Call
    from convcalc.kinds.plan import Arg, FunctionStep, Kwargs
    from convcalc.report import Report
    from convcalc.spec.model import Spec
    from convcalc.volume import Volume

WIDTH = layout.WIDTH


@dataclass(frozen=True, slots=True)
class Exported:
    """The file's text, and how many modules (layers with parameters or state) it makes."""

    text: str
    modules: int


def to_pytorch_source(spec: Spec, report: Report, version: str) -> str:
    """The text of a Python module that builds the spec with torch.nn."""
    return export_pytorch(spec, report, version).text


def export_pytorch(spec: Spec, report: Report, version: str) -> Exported:
    """The exported file and its number of modules."""
    prog = program(spec, report)
    init = _init(prog)
    forward, methods = _checkpointed(prog)
    name = class_name(spec.name)
    code = [*forward, *methods]
    functional = ["import torch.nn.functional as F"] if any("F." in line for line in code) else []
    helper = [*_PRODUCT, ""] if any("product(" in line for line in code) else []
    helper += owncode.class_lines([a.module.cls for a in prog.attributes if a.module.own])
    checkpoint = ["from torch.utils.checkpoint import checkpoint"] if methods else []
    lines = [
        *_module_docstring(spec, report, name, version, list(prog.notes)),
        "",
        "import torch",
        *functional,
        "from torch import nn",
        *checkpoint,
        "",
        "",
        *helper,
        f"class {name}(nn.Module):",
        *_class_docstring(spec),
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *init,
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *forward,
        "        return x",
        "",
        *methods,
        "",
        'if __name__ == "__main__":',
        f"    model = {name}().eval()",
        "    with torch.no_grad():",
        f"        out = model(torch.zeros({', '.join(map(str, _nchw(spec.input)))}))",
        "    # As convcalc writes volumes: spatial dims, then channels (7x7x512); a vector: 1000.",
        '    print("output:", "x".join(str(n) for n in [*out.shape[2:], out.shape[1]]))',
        '    print(f"params: {sum(p.numel() for p in model.parameters()):,}")',
    ]
    return Exported("\n".join(lines) + "\n", len(prog.attributes))


# Written into the file when a merge multiplies (a gate): PyTorch broadcasts from the last dim,
# convcalc from the first, so a vector N x C scales a volume N x C x H x W channel by channel.
_PRODUCT = [
    "def product(*tensors: torch.Tensor) -> torch.Tensor:",
    '    """Multiply, viewing a vector N x C as N x C x 1 x 1 to scale each channel."""',
    "    rank = max(t.dim() for t in tensors)",
    "    out = tensors[0].reshape(*tensors[0].shape, *[1] * (rank - tensors[0].dim()))",
    "    for t in tensors[1:]:",
    "        out = out * t.reshape(*t.shape, *[1] * (rank - t.dim()))",
    "    return out",
    "",
]


def access(path: Path) -> str:
    """self.layer1["0"].conv1: attributes where the part is a name, else the container's key."""
    return "self" + "".join(f".{p}" if p.isidentifier() else f'["{p}"]' for p in path)


def literal(value: Arg) -> str:
    """A value as Python source (ruff format's double quotes; float("-inf"))."""
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float) and value in {float("inf"), float("-inf")}:
        return f'float("{value}")'
    if isinstance(value, tuple):
        return f"({', '.join(map(literal, value))}{',' if len(value) == 1 else ''})"
    return repr(value)


def arguments(args: tuple[Arg, ...], kwargs: Kwargs) -> list[str]:
    """Positional, then keyword arguments, as source."""
    return [*map(literal, args), *(f"{k}={literal(v)}" for k, v in kwargs)]


def _init(prog: Program) -> list[str]:
    lines: list[str] = []
    made: set[Path] = set()
    for attribute in prog.attributes:
        path = attribute.path
        for i in range(1, len(path)):
            if path[:i] not in made:
                made.add(path[:i])
                lines.append(f"{layout.INDENT}{access(path[:i])} = nn.ModuleDict()")
        m = attribute.module
        cls = m.cls if m.own else f"nn.{m.cls}"  # convcalc's own modules are defined in the file
        lines += layout.call(f"{access(path)} = ", cls, arguments(m.args, m.kwargs))
    return lines


def template(c: Call | FunctionStep) -> str:
    """A call as a template of its value: self.conv1({}), F.relu({}), {}.squeeze(-1)."""
    if isinstance(c, Invoke):
        return f"{access(c.path)}({{}})"
    rest = arguments(c.args, c.kwargs)
    if c.function.startswith("."):
        return f"{{}}{c.function}({', '.join(rest)})"
    return f"{c.function}({', '.join(['{}', *rest])})"


def _checkpointed(prog: Program) -> tuple[list[str], list[str]]:
    """`forward`'s lines, and a method per `checkpoint: true` block that forward checkpoints."""
    regions = [r for r in prog.checkpoints if r.stop > r.start]
    forward: list[str] = []
    methods: list[str] = []
    done = 0
    for r, name in zip(regions, method_names(regions), strict=True):
        forward += _forward(prog, done, r.start)
        forward += layout.statement(f"{r.target} = checkpoint(self.{name}, {r.source}, use_reentrant=False)")
        doc = layout.docstring_text(f"{inert(r.name)} ({r.path}): forward checkpoints it, to run again in backward.")
        methods += [
            f"    def {name}(self, {r.source}: torch.Tensor) -> torch.Tensor:",
            *layout.wrap(f'"""{doc}"""', first="        ", rest="        "),
            *_forward(prog, r.start, r.stop),
            f"        return {r.target}",
            "",
        ]
        done = r.stop
    return forward + _forward(prog, done, len(prog.statements)), methods


def _forward(prog: Program, start: int, stop: int) -> list[str]:
    lines: list[str] = []
    for s in prog.statements[start:stop]:
        if isinstance(s, Apply):
            lines += _apply(s.target, s.source, [template(c) for c in s.calls])
        else:
            value = _merge(s.merge, list(s.sources), s.ranks)
            for step in s.then:
                value = template(step).format(value)
            lines += layout.statement(f"{s.target} = {value}")
    return lines


def _apply(dst: str, src: str, steps: list[str]) -> list[str]:
    """`dst = f(g(src))` on one line when it fits, else one step a line, as a person writes it."""
    nested = src
    for step in steps:
        nested = step.format(nested)
    if nested == dst:
        return []  # an identity in place writes nothing
    if len(steps) <= 1 or len(f"{layout.INDENT}{dst} = {nested}") <= WIDTH:
        return layout.statement(f"{dst} = {nested}")
    lines: list[str] = []
    current = src
    for step in steps:
        lines += layout.statement(f"{dst} = {step.format(current)}")
        current = dst
    return lines


def _merge(merge: Merge, values: list[str], ranks: tuple[int, ...]) -> str:
    if merge is Merge.CONCAT:
        return f"torch.cat([{', '.join(values)}], dim=1)"
    if merge is Merge.MULTIPLY and not (len(ranks) == len(values) and len(set(ranks)) == 1):
        return f"product({', '.join(values)})"
    return (" * " if merge is Merge.MULTIPLY else " + ").join(values)  # equal ranks: PyTorch's own product


def _nchw(v: Volume) -> list[int]:
    return [1, v.depth, *v.spatial]


def _module_docstring(spec: Spec, report: Report, name: str, version: str, notes: list[str]) -> list[str]:
    t = report.totals
    size = numbers.size(t.forward_bytes)
    macs = "" if t.macs < 1000 else f" ({numbers.precise(t.macs)})"  # noqa: PLR2004 - precise adds a unit from 1000
    # The spec's own text goes in inert: a name holding ESC or a bidi override must not reach
    # whoever reads the file in a terminal (docs/limits.md).
    title = name if name == spec.name else f"{name}: {inert(spec.name)}"
    facts = [
        f"input        {spec.input}  (torch.zeros({', '.join(map(str, _nchw(spec.input)))}))",
        f"output       {t.output}",
        f"params       {t.params:,} (weights {t.weights:,}, biases {t.biases:,})",
        f"MACs         {t.macs:,}{macs} per image",
        f"activations  {t.activations:,} values ({size} as {report.dtype}) per image",
    ]
    head = layout.docstring_text(f"{title}, exported by convcalc {version} from {inert(spec.source)}.")
    lines = [
        *layout.wrap(f'"""{head}'),
        "",
        "Run this file to print the output volume of a zero input and the parameter count.",
        "Needs only torch. convcalc's figures for this network:",
        "",
        *(f"    {fact}" for fact in facts),
    ]
    if notes:
        lines += ["", "Where PyTorch has no such notion, the layers do what PyTorch does:", ""]
        for note in notes:
            lines += layout.wrap(note, first="- ", rest="  ")
    lines.append('"""')
    return lines


def _class_docstring(spec: Spec) -> list[str]:
    text = layout.docstring_text(inert_lines(spec.description.strip() or spec.name.strip() or "A network"))
    wrapped = layout.wrap(text, first='    """', rest="    ")
    if len(wrapped) == 1 and len(wrapped[0]) + 3 <= WIDTH:
        return [wrapped[0] + '"""']
    return [*wrapped, '    """']
