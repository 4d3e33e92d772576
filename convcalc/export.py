"""A spec as the source of a standalone PyTorch module (`convcalc export SPEC --to pytorch`).

The file is written as text, so exporting needs no torch; running the file needs only torch.
It reads like a model a person would write: one attribute per layer with parameters (named
after the spec's `name:`s, else `conv1`, `conv2`, `pool1`, ...), stateless steps (activations,
flatten) as function calls in `forward`, residual adds and concatenations spelled out.

The layers are mapped to PyTorch's modules as `convcalc.pytorch.to_module` maps them (the tests
check both against the report): convcalc's `strict` and `floor` rounding are PyTorch's floor,
`ceil` is `ceil_mode` on pools and extra padding at the end of a conv, TensorFlow's asymmetric
`same` padding is an explicit `F.pad`, and a channel `layernorm` is `GroupNorm(1, C)`.
"""

from __future__ import annotations

import keyword
import re
import textwrap
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING, Any

from convcalc.errors import ConvcalcError
from convcalc.kinds.conv import framework_pads, sliding_windows
from convcalc.options import PoolType, Rounding
from convcalc.render import numbers
from convcalc.spec.model import LayerSpec, Merge, Node, Parallel, Residual, Sequence, Spec

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.report import LayerRow, Report
    from convcalc.volume import Volume

WIDTH = 88  # ruff format's default line length, so that the file passes `ruff format --check`

# Activations as the functions PyTorch has for them (torch.nn.functional unless torch.).
_FUNCTIONS = {
    "relu": "F.relu({})",
    "relu6": "F.relu6({})",
    "leaky_relu": "F.leaky_relu({})",
    "elu": "F.elu({})",
    "selu": "F.selu({})",
    "celu": "F.celu({})",
    "gelu": "F.gelu({})",
    "silu": "F.silu({})",
    "swish": "F.silu({})",
    "mish": "F.mish({})",
    "sigmoid": "torch.sigmoid({})",
    "hardsigmoid": "F.hardsigmoid({})",
    "tanh": "torch.tanh({})",
    "hardtanh": "F.hardtanh({})",
    "hardswish": "F.hardswish({})",
    "softplus": "F.softplus({})",
    "softsign": "F.softsign({})",
    "softmax": "F.softmax({}, dim=1)",
    "log_softmax": "F.log_softmax({}, dim=1)",
    "identity": "{}",
}

# The attribute name of a layer the spec does not name: conv1, conv2, pool1, fc1 ...
_STEMS = {
    "conv": "conv",
    "deconv": "deconv",
    "pool": "pool",
    "global_pool": "pool",
    "adaptive_pool": "pool",
    "fc": "fc",
    "batchnorm": "bn",
    "lrn": "lrn",
    "layernorm": "norm",
    "groupnorm": "norm",
    "dropout": "dropout",
    "upsample": "upsample",
}
_DEFAULT_COMPOSITE_NAMES = {"residual", "parallel"}


def class_name(spec_name: str) -> str:
    """A Python class name from the spec's name: ResNet-18 → ResNet18, alexnet paper → AlexnetPaper."""
    words = re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", spec_name))  # accented letters too
    words = ["".join(c for c in w if ("a" + c).isidentifier()) for w in words]  # no ², ① ...
    words = [w for w in words if w]
    name = "".join(w[0].upper() + w[1:] for w in words) or "Net"
    if not name[0].isalpha():
        name = f"Net{name}"
    # Not a keyword (None, True), nor a name the file itself uses.
    return f"{name}Net" if keyword.iskeyword(name) or name in _FILE_NAMES or not name.isidentifier() else name


# Names the exported file defines or imports at the top level.
_FILE_NAMES = {"F", "nn", "torch", "product", "model", "out"}

# nn.Module's own attributes (torch 2.13's dir(nn.Module), and `training`): a layer named
# `forward` or `eval` would replace the method. Such a name gets a trailing _, as PEP 8 suggests.
_MODULE_NAMES = frozenset(
    [
        "T_destination",
        "add_module",
        "apply",
        "bfloat16",
        "buffers",
        "call_super_init",
        "children",
        "compile",
        "cpu",
        "cuda",
        "double",
        "dump_patches",
        "eval",
        "extra_repr",
        "float",
        "forward",
        "get_buffer",
        "get_extra_state",
        "get_parameter",
        "get_submodule",
        "half",
        "ipu",
        "load_state_dict",
        "modules",
        "mtia",
        "named_buffers",
        "named_children",
        "named_modules",
        "named_parameters",
        "parameters",
        "register_backward_hook",
        "register_buffer",
        "register_forward_hook",
        "register_forward_pre_hook",
        "register_full_backward_hook",
        "register_full_backward_pre_hook",
        "register_load_state_dict_post_hook",
        "register_load_state_dict_pre_hook",
        "register_module",
        "register_parameter",
        "register_state_dict_post_hook",
        "register_state_dict_pre_hook",
        "requires_grad_",
        "set_extra_state",
        "set_submodule",
        "share_memory",
        "state_dict",
        "to",
        "to_empty",
        "train",
        "training",
        "type",
        "xpu",
        "zero_grad",
    ]
)
MAX_NAME = 40  # attribute names are cut to this length, so that lines stay readable


def _docstring_text(text: str) -> str:
    """Text safe in triple quotes: backslashes doubled, a quote escaped before a quote or at the end.

    Outer spaces go, as ruff format takes them away; a quote first gets a space before it, as
    ruff format gives it (four quotes in a row would not read).
    """
    text = re.sub(r'"(?="|$)', r'\\"', text.strip().replace("\\", "\\\\"))
    return f" {text}" if text.startswith('"') else text


def to_pytorch_source(spec: Spec, report: Report, version: str) -> str:
    """The text of a Python module that builds the spec with torch.nn."""
    if report.totals.output is None:
        msg = "the spec has a layer convcalc cannot compute; fix it (see `convcalc show`) before exporting"
        raise ConvcalcError(msg)
    writer = _Writer(report)
    writer.nodes(spec.layers, "x", "x", "")
    name = class_name(spec.name)
    functional = ["import torch.nn.functional as F"] if writer.uses_functional else []
    imports = ["import torch", *functional, "from torch import nn"]
    helper = [*_PRODUCT, ""] if writer.uses_product else []
    lines = [
        *_module_docstring(spec, report, name, version, writer.notes),
        "",
        *imports,
        "",
        "",
        *helper,
        f"class {name}(nn.Module):",
        *_class_docstring(spec),
        "",
        "    def __init__(self) -> None:",
        "        super().__init__()",
        *writer.attributes,
        "",
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:",
        *writer.forward,
        "        return x",
        "",
        "",
        'if __name__ == "__main__":',
        f"    model = {name}().eval()",
        "    with torch.no_grad():",
        f"        out = model(torch.zeros({', '.join(map(str, _nchw(spec.input)))}))",
        "    # As convcalc writes volumes: spatial dims, then channels (7x7x512); a vector: 1000.",
        '    print("output:", "x".join(str(n) for n in [*out.shape[2:], out.shape[1]]))',
        '    print(f"params: {sum(p.numel() for p in model.parameters()):,}")',
    ]
    return "\n".join(lines) + "\n"


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


def _nchw(v: Volume) -> list[int]:
    return [1, v.depth, *v.spatial]


def _module_docstring(spec: Spec, report: Report, name: str, version: str, notes: list[str]) -> list[str]:
    t = report.totals
    size = numbers.size(t.forward_bytes)
    macs = "" if t.macs < 1000 else f" ({numbers.precise(t.macs)})"  # noqa: PLR2004 - precise adds a unit from 1000
    title = name if name == spec.name else f"{name}: {spec.name}"
    facts = [
        f"input        {spec.input}  (torch.zeros({', '.join(map(str, _nchw(spec.input)))}))",
        f"output       {t.output}",
        f"params       {t.params:,} (weights {t.weights:,}, biases {t.biases:,})",
        f"MACs         {t.macs:,}{macs} per image",
        f"activations  {t.activations:,} values ({size} as {report.dtype}) per image",
    ]
    head = _docstring_text(f"{title}, exported by convcalc {version} from {spec.source}.")
    lines = [
        *_wrap(f'"""{head}', WIDTH),
        "",
        "Run this file to print the output volume of a zero input and the parameter count.",
        "Needs only torch. convcalc's figures for this network:",
        "",
        *(f"    {fact}" for fact in facts),
    ]
    if notes:
        lines += ["", "Where PyTorch has no such notion, the layers do what PyTorch does:", ""]
        for note in notes:
            lines += _wrap(note, WIDTH, first="- ", rest="  ")
    lines.append('"""')
    return lines


def _wrap(text: str, width: int, first: str = "", rest: str = "") -> list[str]:
    # Words are never broken: a cut between a backslash and what it escapes would change the text.
    return textwrap.wrap(
        text, width, initial_indent=first, subsequent_indent=rest, break_long_words=False, break_on_hyphens=False
    )


def _class_docstring(spec: Spec) -> list[str]:
    text = _docstring_text(spec.description.strip() or spec.name.strip() or "A network")
    wrapped = _wrap(text, WIDTH, first='    """', rest="    ")
    if len(wrapped) == 1 and len(wrapped[0]) + 3 <= WIDTH:
        return [wrapped[0] + '"""']
    return [*wrapped, '    """']


class _Writer:
    """Walks the spec's tree, writing `__init__`'s attributes and `forward`'s lines."""

    def __init__(self, report: Report) -> None:
        self.rows: dict[str, LayerRow] = {r.path: r for r in report.rows}
        self.rounding = Rounding(report.rounding)
        self.attributes: list[str] = []
        self.forward: list[str] = []
        self.notes: list[str] = []
        self.uses_functional = False
        self.uses_product = False
        self.taken: set[str] = set()
        self.counts: Counter[str] = Counter()  # unnamed layers of each stem so far
        self.skip_depth = 0
        self.branch_depth = 0

    # -- names -----------------------------------------------------------------------------

    def attribute(self, layer: LayerSpec, prefix: str) -> str:
        explicit = layer.name != layer.label.split()[0].upper()
        if explicit:
            base = _identifier(layer.name, prefix)
        else:
            stem = _STEMS.get(layer.kind, layer.kind)
            if layer.kind == "pool" and not prefix:
                stem = f"{layer.params['type'].value}pool"
            base = _identifier(stem, prefix)
            self.counts[base] += 1
            base = f"{base}{self.counts[base]}"
        return self.unique(base)

    def unique(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    # -- the tree --------------------------------------------------------------------------

    def nodes(self, nodes: tuple[Node, ...], src: str, dst: str, prefix: str) -> None:
        """Apply `nodes` to `src`, leaving the result in `dst`."""
        current = src
        for node in nodes:
            self.node(node, current, dst, prefix)
            current = dst
        if current != dst:
            self.line(f"{dst} = {current}")

    def node(self, node: Node, src: str, dst: str, prefix: str, suffix: str = "") -> None:
        """Apply one node; `suffix` numbers the repetitions of a repeat (denselayer1, denselayer2)."""
        if isinstance(node, LayerSpec):
            self.leaf(node, src, dst, prefix)
            return
        named = _join(prefix, f"{_composite_name(node.name)}{suffix}" if _composite_name(node.name) else "")
        if isinstance(node, Sequence) and node.kind == "repeat":
            self.repeat(node, src, dst, named)
        elif isinstance(node, Sequence):
            self.nodes(node.layers, src, dst, named)
        elif isinstance(node, Residual):
            self.residual(node, src, dst, named)
        else:
            self.parallel(node, src, dst, named)

    def repeat(self, node: Sequence, src: str, dst: str, prefix: str) -> None:
        """An unrolled repeat: a composite in it takes the number of its repetition."""
        current = src
        for child in node.layers:
            repetition = int(child.path[len(node.path) + 1 :].split(".")[0]) + 1
            self.node(child, current, dst, prefix, str(repetition))
            current = dst
        if current != dst:
            self.line(f"{dst} = {current}")

    def residual(self, node: Residual, src: str, dst: str, prefix: str) -> None:
        if src == dst:
            skip = "identity" if self.skip_depth == 0 else f"identity{self.skip_depth + 1}"
            self.line(f"{skip} = {src}")
        else:
            skip = src
        self.skip_depth += 1
        self.nodes(node.layers, src, dst, prefix)
        if node.shortcut == "auto":
            shortcut = self.projection(node, skip, prefix)
        else:
            shortcut = skip
            if node.shortcut:
                shortcut = "shortcut" if self.skip_depth == 1 else f"shortcut{self.skip_depth}"
                self.nodes(node.shortcut, skip, shortcut, _join(prefix, "shortcut"))  # type: ignore[arg-type]
        self.skip_depth -= 1
        merged = _merge(node.merge, [dst, shortcut])
        if node.activation:
            merged = self.activate(node.activation, merged)
        self.line(f"{dst} = {merged}")

    def projection(self, node: Residual, skip: str, prefix: str) -> str:
        """Torchvision's downsample (a 1x1 conv with the stride, no bias, then batchnorm)."""
        conv_row = self.rows.get(f"{node.path}.shortcut.0")
        if conv_row is None:
            return skip
        x, y = conv_row.input, conv_row.output
        assert x is not None  # noqa: S101 - every row but the input has one
        assert y is not None  # noqa: S101 - the report has an output, so every row has one
        dims = len(x.spatial)
        stride = _dims(conv_row.config["stride"])
        conv = self.unique(_identifier("downsample", prefix))
        bn = self.unique(_identifier("downsample_bn", prefix))
        args = [str(x.depth), str(y.depth), "kernel_size=1", f"stride={stride}", "bias=False"]
        self.attr(conv, f"nn.Conv{dims}d", args)
        self.attr(bn, f"nn.BatchNorm{dims}d", [str(y.depth)])
        shortcut = "shortcut" if self.skip_depth == 1 else f"shortcut{self.skip_depth}"
        self.apply(shortcut, skip, [f"self.{conv}({{}})", f"self.{bn}({{}})"])
        return shortcut

    def parallel(self, node: Parallel, src: str, dst: str, prefix: str) -> None:
        self.branch_depth += 1
        level = "" if self.branch_depth == 1 else f"{self.branch_depth}_"
        outs = []
        for i, branch in enumerate(node.branches, 1):
            out = f"branch{level}{i}"
            self.nodes(branch, src, out, prefix)
            outs.append(out)
        self.branch_depth -= 1
        self.line(f"{dst} = {_merge(node.merge, outs)}")

    # -- leaves ----------------------------------------------------------------------------

    def leaf(self, layer: LayerSpec, src: str, dst: str, prefix: str) -> None:
        row = self.rows[layer.path]
        x = row.input
        assert x is not None  # noqa: S101 - every row but the input has one
        p = layer.params
        kind = layer.kind
        if kind == "activation":
            value = self.activate(p["function"], src)
            if value != dst:  # an identity in place writes nothing
                self.line(f"{dst} = {value}")
            return
        if kind == "flatten":
            self.line(f"{dst} = torch.flatten({src}, 1)")
            return
        steps = ["torch.flatten({}, 1)"] if kind == "fc" and x.spatial else []
        name = self.attribute(layer, prefix)
        rounding = p.get("rounding") or self.rounding
        if kind in {"conv", "pool"}:
            steps += self.windowed(layer, x, rounding, name)
        elif kind == "lrn" and not x.spatial:
            # PyTorch's LocalResponseNorm wants N x C x ...: a vector gets a dim of 1 for it.
            self.attr(name, *_module(kind, p, x))
            steps.append(f"self.{name}({{}}.unsqueeze(-1)).squeeze(-1)")
        else:
            self.attr(name, *_module(kind, p, x))
            steps.append(f"self.{name}({{}})")
        if p.get("activation") and p["activation"] != "identity":
            steps.append(self.function(p["activation"]))
        self.apply(dst, src, steps)

    def apply(self, dst: str, src: str, steps: list[str]) -> None:
        """`dst = f(g(src))` on one line when it fits, else one step per line, as a person writes it."""
        nested = src
        for step in steps:
            nested = step.format(nested)
        if len(steps) == 1 or len(f"        {dst} = {nested}") <= WIDTH:
            self.line(f"{dst} = {nested}")
            return
        current = src
        for step in steps:
            self.line(f"{dst} = {step.format(current)}")
            current = dst

    def windowed(self, layer: LayerSpec, x: Volume, rounding: Rounding, name: str) -> list[str]:
        """The steps of a conv or pool (an explicit pad, then the layer), its attribute written."""
        p = layer.params
        is_pool = layer.kind == "pool"
        n = len(x.spatial)
        windows = sliding_windows(p, x)
        if rounding is Rounding.CEIL and not is_pool:
            self.note("`rounding: ceil` on a conv: padding at the end, so that PyTorch's floor gives ceil's size.")
        pads = framework_pads(windows, rounding, is_pool=is_pool)
        if rounding is Rounding.STRICT:
            self.note("`rounding: strict` is convcalc's check that every stride fits; PyTorch floors.")
        padding = _dims(tuple(lo for lo, _ in pads))
        steps: list[str] = []
        if any(lo != hi for lo, hi in pads):
            self.note("Uneven padding (TensorFlow's `same`) is an explicit F.pad before the layer.")
            fill = ', value=float("-inf")' if is_pool and p["type"] is PoolType.MAX else ""
            flat = ", ".join(str(q) for lo_hi in reversed(pads) for q in lo_hi)  # F.pad: last dim first
            self.uses_functional = True
            steps = [f"F.pad({{}}, ({flat}){fill})"]
            padding = "0"
        stride = _dims(tuple(w.stride for w in windows))
        kernel = _dims(p["size"])
        dilation = _dims(p.get("dilation", 1))
        if is_pool:
            pool = "Max" if p["type"] is PoolType.MAX else "Avg"
            args = [kernel, *([f"stride={stride}"] if stride != kernel else [])]
            args += [f"padding={padding}"] if padding != "0" else []
            args += [f"dilation={dilation}"] if pool == "Max" and dilation != "1" else []
            if rounding is Rounding.CEIL:
                args.append("ceil_mode=True")
            self.attr(name, f"nn.{pool}Pool{n}d", args)
        else:
            args = [str(x.depth), str(p["filters"]), kernel]
            args += [f"stride={stride}"] if stride != "1" else []
            args += [f"padding={padding}"] if padding != "0" else []
            args += [f"dilation={dilation}"] if dilation != "1" else []
            groups = x.depth if p["groups"] == "depthwise" else int(p["groups"])
            args += [f"groups={groups}"] if groups != 1 else []
            args += [] if p["bias"] else ["bias=False"]
            self.attr(name, f"nn.Conv{n}d", args)
        return [*steps, f"self.{name}({{}})"]

    def function(self, name: str) -> str:
        """An activation as a template of a call: F.relu({})."""
        call = _FUNCTIONS[name]
        if call.startswith("F."):
            self.uses_functional = True
        return call

    def activate(self, function: str, value: str) -> str:
        return self.function(function).format(value)

    # -- output ----------------------------------------------------------------------------

    def attr(self, name: str, module: str, args: list[str]) -> None:
        self.attributes += _call(8, f"self.{name} = ", module, args)

    def line(self, text: str) -> None:
        self.uses_functional |= "F." in text
        self.uses_product |= "product(" in text
        if len(text) + 8 <= WIDTH:
            self.forward.append(" " * 8 + text)
            return
        target, expression = text.split(" = ", 1)
        if expression.startswith("torch.cat(["):
            items = expression[len("torch.cat([") : -len("], dim=1)")].split(", ")
            self.forward += [
                f"        {target} = torch.cat(",
                "            [",
                *(f"                {item}," for item in items),
                "            ],",
                "            dim=1,",
                "        )",
            ]
            return
        if expression.startswith("product("):  # one argument a line, as for the concatenation
            items = expression[len("product(") : -1].split(", ")
            self.forward += [f"        {target} = product(", *(f"            {i}," for i in items), "        )"]
            return
        if " + " in expression and "(" not in expression:  # a sum of branches, as ruff format splits it
            terms = expression.split(" + ")
            inside = (
                [f"            {expression}"]
                if len(expression) + 12 <= WIDTH
                else [f"            {'+ ' if i else ''}{term}" for i, term in enumerate(terms)]
            )
            self.forward += [f"        {target} = (", *inside, "        )"]
            return
        # As ruff format splits a call too long for its line: at the outermost brackets.
        head, inner = _outer_call(expression)
        self.forward += [f"        {target} = {head}(", f"            {inner}", "        )"]


def _outer_call(expression: str) -> tuple[str, str]:
    """f(g(x)) → ("f", "g(x)"): the function and the argument of a call that spans the expression."""
    depth = 0
    for i, char in enumerate(expression):
        if char == "(":
            if depth == 0:
                head, inner = expression[:i], expression[i + 1 : -1]
                break
            depth += 1
    else:  # pragma: no cover - every long line the writer makes is a call
        return "", expression
    return head, inner


def _module(kind: str, p: Any, x: Volume) -> tuple[str, list[str]]:
    """The torch.nn class and arguments of a layer without a sliding window."""
    return _MODULES[kind](p, x)


def _no(flag: str, on: object) -> list[str]:
    return [] if on else [f"{flag}=False"]


def _deconv(p: Any, x: Volume) -> tuple[str, list[str]]:
    args = [str(x.depth), str(p["filters"]), _dims(p["size"])]
    pad = 0 if p["pad"] == "valid" else p["pad"]
    for key, value, default in (
        ("stride", p["stride"], 1),
        ("padding", pad, 0),
        ("output_padding", p["output_padding"], 0),
        ("groups", x.depth if p["groups"] == "depthwise" else p["groups"], 1),
        ("dilation", p["dilation"], 1),
    ):
        if value != default:
            args.append(f"{key}={_dims(value)}")
    return f"nn.ConvTranspose{len(x.spatial)}d", args + _no("bias", p["bias"])


def _upsample(p: Any, x: Volume) -> tuple[str, list[str]]:
    del x
    scale = p["scale"] if isinstance(p["scale"], int) else tuple(float(s) for s in p["scale"])
    return "nn.Upsample", [f"scale_factor={scale}", 'mode="nearest"']


def _adaptive(p: Any, x: Volume, output: str) -> tuple[str, list[str]]:
    pool = "Max" if p["type"] is PoolType.MAX else "Avg"
    return f"nn.Adaptive{pool}Pool{len(x.spatial)}d", [output]


_MODULES: dict[str, Callable[[Any, Volume], tuple[str, list[str]]]] = {
    "fc": lambda p, x: ("nn.Linear", [str(x.values), str(p["units"]), *_no("bias", p["bias"])]),
    "deconv": _deconv,
    "batchnorm": lambda p, x: (f"nn.BatchNorm{max(len(x.spatial), 1)}d", [str(x.depth), *_no("affine", p["affine"])]),
    # A channel layernorm normalises what GroupNorm(1, C) does, with the same 2·C parameters.
    "layernorm": lambda p, x: ("nn.GroupNorm", ["1", str(x.depth), *_no("affine", p["affine"])]),
    "groupnorm": lambda p, x: ("nn.GroupNorm", [str(p["groups"]), str(x.depth), *_no("affine", p["affine"])]),
    "lrn": lambda p, x: ("nn.LocalResponseNorm", [str(p["size"])]),
    "dropout": lambda p, x: ("nn.Dropout", [] if p["p"] == 0.5 else [f"p={p['p']}"]),  # noqa: PLR2004 - the default
    "upsample": _upsample,
    "global_pool": lambda p, x: _adaptive(p, x, "1"),
    "adaptive_pool": lambda p, x: _adaptive(p, x, _dims(p["output"])),
}


def _call(indent: int, head: str, func: str, args: list[str]) -> list[str]:
    """`head func(args)` on one line, or one argument per line as ruff format writes it."""
    one = " " * indent + f"{head}{func}({', '.join(args)})"
    if len(one) <= WIDTH:
        return [one]
    pad = " " * indent
    hugged = f"{pad}    {', '.join(args)}"
    if len(hugged) <= WIDTH:
        return [f"{pad}{head}{func}(", hugged, f"{pad})"]
    return [f"{pad}{head}{func}(", *(f"{pad}    {a}," for a in args), f"{pad})"]


def _merge(merge: Merge, values: list[str]) -> str:
    if merge is Merge.CONCAT:
        return f"torch.cat([{', '.join(values)}], dim=1)"
    if merge is Merge.MULTIPLY:
        return f"product({', '.join(values)})"
    return " + ".join(values)


def _dims(value: int | tuple[int, ...]) -> str:
    if isinstance(value, int):
        return str(value)
    if len(set(value)) == 1:
        return str(value[0])
    return f"({', '.join(map(str, value))})"


def _join(prefix: str, name: str) -> str:
    if not name:
        return prefix
    return f"{prefix}_{name}" if prefix else name


def _composite_name(name: str) -> str:
    """A composite's own name; '' for the names convcalc gives unnamed ones."""
    return "" if name in _DEFAULT_COMPOSITE_NAMES or name.startswith("repeat ×") else name


def _identifier(last: str, prefix: str = "") -> str:
    """An attribute name: conv1/7x7_s2 → conv1_7x7_s2, layer1.0 + conv1 → layer1_0_conv1, class → class_.

    A name longer than MAX_NAME loses the end of its prefix, not its own last part.
    """
    tail = _word(last)
    head = _word(prefix)[: max(MAX_NAME - len(tail) - 1, 0)].rstrip("_") if prefix else ""
    name = f"{head}_{tail}" if head else tail[:MAX_NAME].rstrip("_")
    if not name or not name.isidentifier():
        name = f"layer_{name}"
    if keyword.iskeyword(name) or name in _MODULE_NAMES:
        name += "_"
    return name


def _word(text: str) -> str:
    """Text as letters, digits and single underscores, in the form Python reads names in.

    Python reads names in NFKC form (`ﬁlter` is `filter`, `x²` is `x2`): so do the names here,
    so that two names Python would take for one are told apart by unique().
    """
    word = re.sub(r"\W+", "_", unicodedata.normalize("NFKC", text)).lower()
    word = "".join(c if ("a" + c).isidentifier() else "_" for c in word)
    return re.sub("_+", "_", word).strip("_")
