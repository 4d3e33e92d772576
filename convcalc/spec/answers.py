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

In a file of answers, each answer is read on its own: one convcalc cannot read (`output: none`,
`activations: about 800K`) is kept as unreadable, with its message, and costs only that answer;
one left blank (`params:`) is not answered.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.errors import ConvcalcError, Location, SpecError
from convcalc.kinds.params import describe, text
from convcalc.spec.common import check_keys
from convcalc.spec.expect import Unreadable, lenient, mapping, read_each
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
    unreadable: tuple[Unreadable, ...] = ()  # answers to a question that could not be read


_GROUPED = re.compile(r"(\w+):\s*(\d{1,3}(?:,\d{3})*,)$")  # `params: 2,` before a group that starts with 0


def _parse(content: str, source: str) -> object:
    """The file's YAML; a number written with commas inside `{…}` named as such where YAML refuses its part."""
    try:
        return parse_yaml(content, source)
    except SpecError as exc:
        at = exc.location
        if at is None or at.line is None or at.column is None or "leading zero" not in exc.message:
            raise
        line = content.splitlines()[at.line - 1]
        before, group = _GROUPED.search(line[: at.column - 1]), re.match(r"\d+", line[at.column - 1 :])
        if before is None or group is None:
            raise
        written = before.group(2) + group.group()
        msg = (
            f"`{before.group(1)}: {written}` inside {{…}}: YAML splits it at the comma (and refuses "
            f"'{group.group()}'); write {written.replace(',', '')} or quote it: '{written}'"
        )
        raise SpecError(msg, Location(source, at.line, line.index(before.group(1)) + 1)) from None


def student_name(source: str) -> str:
    """The `student:` of a file that could not be graded, if it can be read at all; else the file's stem."""
    stem = os.path.splitext(os.path.basename(source))[0]  # noqa: PTH119, PTH122 - paths stay strings (builtins.py)
    try:
        data = parse_yaml(read_text(source, source), source)
    except ConvcalcError:
        return stem
    name = data.get("student") if isinstance(data, PosMap) else None
    return name if isinstance(name, str) and name.strip() else stem


def _from_spec(source: str, stem: str, content: str) -> Answers:
    """A student's whole spec: its `expect:` answers, each read on its own, and its network."""
    with lenient() as bad:
        spec = load_spec(source, content)
    unknown = tuple(u.error for u in bad if not u.key)
    return Answers(source, stem, spec.expectations, unknown, spec, tuple(u for u in bad if u.key))


def load_answers(source: str, resolve: Callable[[str | int, Location], str]) -> Answers:
    """Read a student's file; each answer's address resolved to a path of the key's network."""
    stem = os.path.splitext(os.path.basename(source))[0]  # noqa: PTH119, PTH122 - paths stay strings (builtins.py)
    content = read_text(source, source)
    data = _parse(content, source)
    if isinstance(data, PosMap) and "layers" in data:
        return _from_spec(source, stem, content)
    if not isinstance(data, PosMap) or "answers" not in data:
        msg = "a student's file maps `answers:` to layer names or indices (or is a spec with `expect:`)"
        raise SpecError(msg, data.here if isinstance(data, PosMap) else Location(source, 1, 1))
    check_keys(data, KEYS, "a student's file")
    named = data.get("student")
    student = stem if named is None else text("student")(named, data.at("student"))  # blank: the file's
    answers = data["answers"]
    if not isinstance(answers, PosMap):
        msg = f"`answers:` maps a layer's name or index (or `{WHOLE}`) to its answers, not {describe(answers)}"
        raise SpecError(msg, data.at("answers"))
    found: list[Expectation] = []
    unknown: list[SpecError] = []
    unreadable: list[Unreadable] = []
    for address, value in answers.items():
        at = answers.key_at[address]
        try:
            path = resolve(address, at)
        except SpecError as exc:
            unknown.append(exc)
            continue
        if value is None:
            continue  # a layer left blank (the template of `--blank`)
        read, bad = read_each(mapping(value, answers.at(address)), path, blank=True)
        found += read
        unreadable += [u for u in bad if u.key]
        unknown += [u.error for u in bad if not u.key]
    return Answers(source, student, tuple(found), tuple(unknown), unreadable=tuple(unreadable))
