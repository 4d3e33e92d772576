"""Grading against an answer key (`convcalc check --key`, docs/grading.md).

The key is a spec: its network, and its `expect:` answers, each a question worth one point. A
student's answers are checked against the key's network (never the student's own), so a wrong
network with answers that match it earns nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.engine.analyze import analyze
from convcalc.engine.checks import evaluate
from convcalc.errors import ConvcalcError, Location, SpecError
from convcalc.spec.answers import WHOLE, Answers, load_answers

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.report import Check, Report


@dataclass(frozen=True, slots=True)
class Mark:
    """One question of the key, and the student's answer to it (None: not answered)."""

    question: Check
    answer: Check | None

    @property
    def right(self) -> bool:
        """The student answered, and the answer holds for the key's network."""
        return self.answer is not None and self.answer.ok


@dataclass(frozen=True, slots=True)
class Grade:
    """One student's row of the grade sheet."""

    source: str
    student: str
    marks: tuple[Mark, ...] = ()
    error: ConvcalcError | None = None  # the file could not be read
    unknown: tuple[SpecError, ...] = ()  # answers to no layer of the key's network
    network: str = ""  # where the student's own network departs from the key's ("" when it does not)

    @property
    def points(self) -> int:
        """Questions answered right."""
        return sum(1 for m in self.marks if m.right)

    @property
    def wrong(self) -> tuple[Mark, ...]:
        """Questions answered wrong (not the unanswered ones)."""
        return tuple(m for m in self.marks if m.answer is not None and not m.answer.ok)

    @property
    def knock_on(self) -> int:
        """Wrong answers that only follow from an earlier stride that does not fit."""
        return sum(1 for m in self.wrong if m.answer is not None and m.answer.knock_on)

    @property
    def unanswered(self) -> tuple[Mark, ...]:
        """Questions the student left out."""
        return tuple(m for m in self.marks if m.answer is None)


def resolver(report: Report) -> Callable[[str | int, Location], str]:
    """An address of a student's answer (a layer's name, its row index, `network`) to a path of the key."""
    by_name: dict[str, list[str]] = {}
    for g in report.groups:
        by_name.setdefault(g.name.casefold(), []).append(g.path)
    for r in report.rows:
        if r.path not in {g.path for g in report.groups}:  # a merge row answers to its composite's name
            by_name.setdefault(r.name.casefold(), []).append(r.path)
    by_index = {r.index: r.path for r in report.rows}  # 0 is the input
    index = {r.path: r.index for r in report.rows}  # a composite's path is its merge row's

    def resolve(address: str | int, at: Location) -> str:
        if isinstance(address, int) and not isinstance(address, bool):
            if address in by_index:
                return by_index[address]
            msg = f"no row #{address} in the key's network: its rows are #0 (the input) to #{len(report.rows) - 1}"
            raise SpecError(msg, at)
        name = str(address)
        if name.casefold() == WHOLE:
            return ""
        paths = by_name.get(name.casefold(), [])
        if len(paths) == 1:
            return paths[0]
        if paths:
            rows = ", ".join(f"#{index[p]}" for p in paths[:5] if p in index)
            msg = f"'{name}' names {len(paths)} layers of the key's network: answer by row index ({rows}…)"
            raise SpecError(msg, at)
        msg = f"no layer named '{name}' in the key's network; answer by a layer's name, its row index or `{WHOLE}`"
        raise SpecError(msg, at)

    return resolve


def departure(key: Report, theirs: Report) -> str:
    """Where a student's network departs from the key's: the first row whose layer or volume differs."""
    for mine, other in zip(key.rows, theirs.rows, strict=False):
        if (mine.path, mine.kind, mine.output) != (other.path, other.kind, other.output):
            theirs_row = f"{other.label} → {other.output or '?'}"
            return f"row #{other.index}: {theirs_row}, the key's {mine.label} → {mine.output or '?'}"
    if len(key.rows) != len(theirs.rows):
        return f"{len(theirs.rows) - 1} rows, the key's {len(key.rows) - 1}"
    return ""


def grade(key: Report, answers: Answers) -> Grade:
    """One student's answers against the key's network: a mark per question of the key."""
    checks = evaluate(answers.expectations, key)
    given = {(c.path, c.key): c for c in checks}  # a second answer to the same question wins
    marks = tuple(Mark(q, given.get((q.path, q.key)) or _instead(q, given)) for q in key.checks)
    network = departure(key, analyze(answers.spec)) if answers.spec is not None else ""
    return Grade(answers.source, answers.student, marks, unknown=answers.unknown, network=network)


def _instead(question: Check, given: dict[tuple[str, str], Check]) -> Check | None:
    """An answer that says the same as the question asks: an output size says that the stride fits.

    Asked whether a stride fits, a student who gives the layer's output instead answers "it
    fits" (wrong when it does not: the output does not exist); asked for an output, a student who
    answers `fits: false` is wrong when it fits.
    """
    if question.key == "fits":
        return given.get((question.path, "output"))
    if question.key == "output":
        answer = given.get((question.path, "fits"))
        return answer if answer is not None and answer.expected == "false" else None
    return None


def grade_file(key: Report, source: str) -> Grade:
    """A student's file graded, or the reason it could not be read."""
    try:
        return grade(key, load_answers(source, resolver(key)))
    except ConvcalcError as exc:
        return Grade(source, _stem(source), error=exc)


def _stem(source: str) -> str:
    name = source.replace("\\", "/").rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name
