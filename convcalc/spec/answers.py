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
from convcalc.spec.common import check_keys, suggest
from convcalc.spec.expect import KEYS as ASKED
from convcalc.spec.expect import parse_expect, parse_one
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


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An answer that could not be read: the question it answers (`path`, `key`) and why."""

    path: str
    key: str
    error: SpecError


def _split_number(answer: PosMap, keys: list[object], k: int) -> int:
    """How many entries after `keys[k]` YAML split off its number at commas (`params: 73,856` in `{…}`)."""
    n = 0
    while k + n + 1 < len(keys):
        nxt = keys[k + n + 1]
        digits = isinstance(nxt, int) and not isinstance(nxt, bool) and 0 <= nxt < 1000  # noqa: PLR2004
        if not digits or answer[nxt] is not None:
            break
        n += 1
    return n


def read_answer(value: object, path: str, at: Location) -> tuple[list[Expectation], list[Unreadable], list[SpecError]]:
    """One address's answers, each on its own: read, unreadable (a known question), or unknown."""
    if not isinstance(value, PosMap):
        return list(parse_expect(value, path, at)), [], []  # not a mapping: the message says what goes there
    found: list[Expectation] = []
    unreadable: list[Unreadable] = []
    unknown: list[SpecError] = []
    keys = list(value)
    k = 0
    while k < len(keys):
        key, item = keys[k], value[keys[k]]
        split = _split_number(value, keys, k) if isinstance(item, int) and not isinstance(item, bool) else 0
        k += 1 + split
        if key not in ASKED:
            msg = f"cannot expect '{key}'; {suggest(str(key), ASKED)}expectations are about: {', '.join(ASKED)}"
            unknown.append(SpecError(msg, value.key_at[key]))
            continue
        if item is None:
            continue  # left blank: not answered
        if split:
            written = ",".join([str(item), *(f"{n:03d}" for n in keys[k - split : k])])
            msg = (
                f"`{key}: {written}` inside {{…}}: YAML splits it at the comma ({key} {item}, "
                f"then `{keys[k - split]}`); write {written.replace(',', '')} or quote it: '{written}'"
            )
            unreadable.append(Unreadable(path, str(key), SpecError(msg, value.at(key))))
            continue
        try:
            found.append(parse_one(str(key), item, path, value.at(key)))
        except SpecError as exc:
            unreadable.append(Unreadable(path, str(key), exc))
    return found, unreadable, unknown


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


def load_answers(source: str, resolve: Callable[[str | int, Location], str]) -> Answers:
    """Read a student's file; each answer's address resolved to a path of the key's network."""
    stem = os.path.splitext(os.path.basename(source))[0]  # noqa: PTH119, PTH122 - paths stay strings (builtins.py)
    content = read_text(source, source)
    data = _parse(content, source)
    if isinstance(data, PosMap) and "layers" in data:
        spec = load_spec(source, content)
        return Answers(source, stem, spec.expectations, spec=spec)
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
        read, bad, unasked = read_answer(value, path, answers.at(address))
        found += read
        unreadable += bad
        unknown += unasked
    return Answers(source, student, tuple(found), tuple(unknown), unreadable=tuple(unreadable))
