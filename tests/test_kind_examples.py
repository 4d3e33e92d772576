"""Every registered kind's example, symbolic against numeric, under the three roundings, in the fast tier.

The symbolic engine writes each kind's arithmetic as a closed form beside the numeric one; a slip
in one of them (a dropped `+ 1` in the deconv's size, a wrong residue in the floor rule) showed
only in the slow sweep of the built-in specs. Here each kind's own example (`Kind.example`), and
a variant with a stride that does not always fit where the kind has a stride, runs with its
spatial sizes as symbols: the set of sizes that fit equals a sweep of the numeric engine over
1..64, and every figure's formula equals the numeric row at the sizes that fit.
"""

from __future__ import annotations

import re
from dataclasses import replace

import pytest
from test_symbolic import assert_formulas_are_the_numbers, assert_set_is_the_sweep  # type: ignore[import-not-found]

from convcalc.kinds.registry import REGISTERED
from convcalc.options import Rounding
from convcalc.spec.loader import load_spec
from convcalc.volume import Volume

SYMBOLS = ("H", "W", "T")


def _cases() -> list[tuple[str, str, str]]:
    """(id, input with symbols, layer) per kind: its example, and strided where it has a stride."""
    cases = []
    for kind in REGISTERED:
        given, layer = kind.example
        dims = given.split("x")
        if len(dims) < 2:  # a vector has no spatial size to vary
            continue
        spatial = "x".join(SYMBOLS[: len(dims) - 1])
        cases.append((kind.name, f"{spatial}x{dims[-1]}", layer))
        if any(p.name == "stride" for p in kind.params) and ":" not in layer:
            cases.append((f"{kind.name}-s3", f"{spatial}x{dims[-1]}", re.sub(r" s\d+", "", layer) + " s3"))
    return cases


CASES = _cases()


def test_every_kind_with_a_spatial_example_is_drawn() -> None:
    names = {case[0] for case in CASES}
    spatial = {k.name for k in REGISTERED if "x" in k.example[0]}
    assert spatial <= names
    assert {"conv-s3", "deconv-s3", "pool-s3"} <= names  # the strided variants


@pytest.mark.slow
@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.value)
@pytest.mark.parametrize(("case", "given", "layer"), CASES, ids=[c[0] for c in CASES])
def test_each_kind_example_symbolic_equals_numeric(case: str, given: str, layer: str, rounding: Rounding) -> None:
    if layer.startswith("opaque"):
        pytest.skip("an opaque layer's volume is the framework's, fixed: no formula to compare")
    body = f"  - {layer}" if ":" not in layer else f"  - {{{layer}}}"
    spec = load_spec(f"{case}.yaml", f"input: {given}\nrounding: {rounding.value}\nlayers:\n{body}\n")
    numbers = {"H": 9, "W": 9, "T": 9}
    sizes = tuple(numbers[s] for s in given.split("x")[:-1])
    spec = replace(spec, input=Volume(sizes, spec.input.depth), example=True)
    assert_set_is_the_sweep(spec, 64)
    assert_formulas_are_the_numbers(spec, 16)
