"""PyTorch names: the dotted path of each module (layer1.0.conv1), and the exported class's name.

A layer's path is the names of the composites that hold it, then its own, joined by dots as
PyTorch nests modules: a `module:` key gives the name as written, else the `name:` does (its dots
nest too), else an unnamed layer is numbered by kind (conv1, conv2, maxpool1). Each part is read
as Python reads names (NFKC, so `ﬁlter` is `filter`), lowered, with `_` for other characters,
cut to MAX_NAME characters, and given a trailing `_` when Python or nn.Module has the name
(`class_`, `forward_`); two layers never share a path (`a_b`, `a_b_2`).
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections import Counter

MAX_NAME = 40  # a name's parts are cut to this length, so that lines stay readable

# Names the exported file defines or imports at the top level.
_FILE_NAMES = {"F", "nn", "torch", "product", "model", "out"}

# nn.Module's own attributes (torch 2.13's dir(nn.Module), and `training`), and nn.ModuleDict's
# methods: a layer named `forward` or `keys` would replace the method (and add_module refuses it).
RESERVED = frozenset(
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
        "clear",
        "items",
        "keys",
        "pop",
        "update",
        "values",
    ]
)

Path = tuple[str, ...]


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


def word(text: str) -> str:
    """Text as letters, digits and single underscores, in the form Python reads names in.

    Python reads names in NFKC form (`ﬁlter` is `filter`, `x²` is `x2`): so do the names here,
    so that two names Python would take for one are told apart.
    """
    w = re.sub(r"\W+", "_", unicodedata.normalize("NFKC", text)).lower()
    w = "".join(c if ("a" + c).isidentifier() else "_" for c in w)
    return re.sub("_+", "_", w).strip("_")


def part(text: str) -> str:
    """One part of a path: an identifier nn.Module does not use, or digits and the like (`0`, `5x5`)."""
    name = word(text)[:MAX_NAME].rstrip("_") or "layer"
    return f"{name}_" if keyword.iskeyword(name) or name in RESERVED else name


def parts(dotted: str) -> Path:
    """layer1.0 → ("layer1", "0")."""
    return tuple(part(p) for p in dotted.split(".") if p.strip())


class Namer:
    """Gives each module a path no other module has (nor holds as a container)."""

    def __init__(self) -> None:
        self.leaves: set[Path] = set()
        self.containers: set[Path] = set()
        self.counts: Counter[Path] = Counter()  # unnamed modules of each stem under each prefix so far

    def numbered(self, prefix: Path, stem: str) -> Path:
        """conv1, conv2 ... under prefix."""
        self.counts[(*prefix, stem)] += 1
        return self.claim((*prefix, f"{stem}{self.counts[(*prefix, stem)]}"))

    def claim(self, path: Path) -> Path:
        """The path, or a free one like it; a first part that is not an identifier gets `layer_`."""
        if not path[0].isidentifier():
            path = (f"layer_{path[0]}", *path[1:])
        if any(path[:i] in self.leaves for i in range(1, len(path))):
            path = ("_".join(path),)  # inside a layer that has no parts: a name of its own
        base, n = path, 1
        while path in self.leaves or path in self.containers:
            n += 1
            path = (*base[:-1], f"{base[-1]}_{n}")
        self.leaves.add(path)
        self.containers.update(path[:i] for i in range(1, len(path)))
        return path
