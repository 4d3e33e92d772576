"""The variable that holds a general graph's output while later layers still read it (`from:`).

The program (bridges/program.py) writes each list's values to one name (`x`, `branch1`), which
the next layer overwrites. An output that a later layer names again (Inception's block input,
read by each branch) is first copied to a name of its own: the layer's name, under the modules'
path where it sits (`mixed_7b_branch3x3_1`), never one the program gives (`x`, `identity`,
`shortcut`, `branch1`) nor one the exported file uses, nor one given before, so that a graph
nested in another's layer cannot overwrite it.
"""

from __future__ import annotations

import keyword
import re
from typing import TYPE_CHECKING

from convcalc.bridges.names import word

if TYPE_CHECKING:
    from collections.abc import Container

    from convcalc.bridges.names import Path

# The program's own names, and the exported file's (its imports, `self`, `model`, `out`, `product`).
_TAKEN = re.compile(r"x|identity\d*|shortcut\d*|branch[\d_]*|self|model|out|product|torch|nn|F")


def held(name: str, prefix: Path, made: Container[str]) -> str:
    """A fresh variable for the output of the layer `name` under the modules' path `prefix`."""
    base = "_".join(w for w in (word(p) for p in (*prefix, name)) if w) or "value"
    if base == "input":
        base = "x_input"  # Python's `input`, and the list's input: said as such
    if not base.isidentifier() or keyword.iskeyword(base) or _TAKEN.fullmatch(base):
        base = f"v_{base}"
    found, n = base, 1
    while found in made:
        n += 1
        found = f"{base}_{n}"
    return found
