"""The typed spec: what a YAML file says, checked, with the place of every layer.

A spec's layers form a tree: leaves are `LayerSpec`s; `Sequence` (a `repeat:` or a block call),
`Residual` and `Parallel` hold other nodes. A list of layers may also be a general graph: a
`Wired` node reads an earlier output of its list (`from: [a]`), a `Junction` merges several
(`{merge: concat, from: [a, b]}`); names resolve to positions when the spec is read, so a
graph's edges only point back (no cycle can be written). Every node has a dotted `path` (`5`, `5.layers.2`,
`7.branches.1.0`) that names it in rows, messages and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, Union

if TYPE_CHECKING:
    from collections.abc import Mapping

    from convcalc.errors import Location
    from convcalc.options import DType, Rounding
    from convcalc.spec.expect import Expectation
    from convcalc.volume import Volume


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One layer: its kind (a registry name), converted parameters, display name and place."""

    kind: str
    params: Mapping[str, Any]
    name: str
    label: str
    at: Location
    path: str
    module: str | None = None  # its PyTorch name (`module:`), dotted for nesting: features.0


class Merge(str, Enum):
    """How the outputs of branches, or of a residual body and its shortcut, are joined."""

    ADD = "add"
    CONCAT = "concat"
    MULTIPLY = "multiply"


class Shortcut(str, Enum):
    """A residual's shortcut that the engine makes once the volumes are known (else: layers)."""

    AUTO = "auto"  # torchvision's: the identity, or a 1x1 conv (no bias) and a batchnorm
    CROP = "crop"  # U-Net's copy and crop: the input, cropped to the body's spatial size, centred


@dataclass(frozen=True, slots=True)
class Sequence:
    """Layers one after another: a `repeat:` (already unrolled) or a call of a block."""

    kind: str  # "repeat" or "block"
    name: str
    layers: tuple[Node, ...]
    at: Location
    path: str
    module: str | None = None  # its PyTorch name (`module:`): the prefix of its layers' names
    checkpoint: bool = False  # `checkpoint: true`: torch.utils.checkpoint, keeping only its input


@dataclass(frozen=True, slots=True)
class Residual:
    """y = merge(layers(x), shortcut(x)), then an optional activation fused into the merge row.

    `shortcut` is () for the identity, the layers written, or a `Shortcut` the engine makes when
    the volumes are known: `auto` (torchvision's rule) or `crop` (U-Net's, beside a concat or add).
    """

    name: str
    layers: tuple[Node, ...]
    shortcut: tuple[Node, ...] | Shortcut
    merge: Merge
    activation: str | None
    at: Location
    path: str
    module: str | None = None  # its PyTorch name (`module:`): the prefix of its layers' names
    checkpoint: bool = False  # `checkpoint: true`: torch.utils.checkpoint, keeping only its input


@dataclass(frozen=True, slots=True)
class Parallel:
    """Branches over the same input (Inception), joined by a merge."""

    name: str
    branches: tuple[tuple[Node, ...], ...]
    merge: Merge
    at: Location
    path: str
    module: str | None = None  # its PyTorch name (`module:`): the prefix of its layers' names
    checkpoint: bool = False  # `checkpoint: true`: torch.utils.checkpoint, keeping only its input


@dataclass(frozen=True, slots=True)
class Junction:
    """`{merge: concat, from: [a, b]}`: earlier outputs of its list joined (a node of a general graph).

    `sources` are positions in the list that holds it (-1: the list's input), in the order
    written, which is the order of the concat.
    """

    name: str
    merge: Merge
    sources: tuple[int, ...]
    activation: str | None
    at: Location
    path: str
    module: str | None = None  # its PyTorch name (`module:`)


@dataclass(frozen=True, slots=True)
class Wired:
    """A node that reads an earlier output of its list (`from: [a]`), not the one just before it."""

    node: LayerSpec | Sequence | Residual | Parallel
    source: int  # its position in the list (-1: the list's input)

    @property
    def path(self) -> str:
        """The node's path."""
        return self.node.path

    @property
    def name(self) -> str:
        """The node's name."""
        return self.node.name


Node = Union[LayerSpec, Sequence, Residual, Parallel, Junction, Wired]  # noqa: UP007 - a runtime alias on Python 3.10


@dataclass(frozen=True, slots=True)
class Spec:
    """A whole network description."""

    name: str
    description: str
    source: str
    input: Volume
    batch: int
    dtype: DType
    rounding: Rounding
    layers: tuple[Node, ...]
    expectations: tuple[Expectation, ...] = ()
    # `input: HxWx3`: a symbol per spatial dim (None where a number is given); () when numeric.
    # `input` then holds the `example:` size, or placeholders when there is none (example False).
    symbols: tuple[str | None, ...] = ()
    example: bool = True
    input_at: Location | None = None
