"""A student's answers for `convcalc check --key` (docs/grading.md).

Either a file of answers, addressed by layer name or by row index (the table's #), or `network`
for the whole network:

    student: Ada Lovelace            # optional; default: the file's stem
    answers:
      CONV1: {output: 55x55x96, params: 34944}
      2: {output: 27x27x96}
      network: {params: 62M}

or a whole spec with `expect:` answers (the network of the exercise, written out): its answers
are addressed by their layers' places, and graded against the key's network, not the student's.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.errors import Location, SpecError
from convcalc.kinds.params import describe, text
from convcalc.spec.common import check_keys
from convcalc.spec.expect import parse_expect
from convcalc.spec.loader import load_spec, read_text
from convcalc.spec.yamlpos import PosMap, parse_yaml

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.spec.expect import Expectation
    from convcalc.spec.model import Spec

WHOLE = "network"
KEYS = ("student", "answers")


@dataclass(frozen=True, slots=True)
class Answers:
    """What one student answered; `spec` when the file is a whole spec (its network, to compare)."""

    source: str
    student: str
    expectations: tuple[Expectation, ...]
    unknown: tuple[SpecError, ...] = ()  # answers addressed to no layer of the key's network
    spec: Spec | None = None


def load_answers(source: str, resolve: Callable[[str | int, Location], str]) -> Answers:
    """Read a student's file; each answer's address resolved to a path of the key's network."""
    stem = os.path.splitext(os.path.basename(source))[0]  # noqa: PTH119, PTH122 - paths stay strings (builtins.py)
    content = read_text(source, source)
    data = parse_yaml(content, source)
    if isinstance(data, PosMap) and "layers" in data:
        spec = load_spec(source, content)
        return Answers(source, stem, spec.expectations, spec=spec)
    if not isinstance(data, PosMap) or "answers" not in data:
        msg = "a student's file maps `answers:` to layer names or indices (or is a spec with `expect:`)"
        raise SpecError(msg, data.here if isinstance(data, PosMap) else Location(source, 1, 1))
    check_keys(data, KEYS, "a student's file")
    student = text("student")(data.get("student", stem), data.at("student"))
    answers = data["answers"]
    if not isinstance(answers, PosMap):
        msg = f"`answers:` maps a layer's name or index (or `{WHOLE}`) to its answers, not {describe(answers)}"
        raise SpecError(msg, data.at("answers"))
    found: list[Expectation] = []
    unknown: list[SpecError] = []
    for address, value in answers.items():
        at = answers.key_at[address]
        try:
            path = resolve(address, at)
        except SpecError as exc:
            unknown.append(exc)
            continue
        found += parse_expect(value, path, answers.at(address))
    return Answers(source, student, tuple(found), tuple(unknown))
