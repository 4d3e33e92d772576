"""Grading against an answer key (`convcalc check --key`, docs/grading.md).

The key is a spec: its network, and its `expect:` answers, each a question worth one point. A
student's answers are checked against the key's network (never the student's own), so a wrong
network with answers that match it earns nothing. Each answer earns at most the point of its own
question; a wrong one is marked carried forward or knock-on where it follows from an earlier
mistake or a stride that does not fit (engine/carry.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.engine.analyze import analyze
from convcalc.engine.carry import Sources
from convcalc.engine.checks import evaluate
from convcalc.errors import ConvcalcError, Location, SpecError
from convcalc.report import Check
from convcalc.spec.answers import WHOLE, Answers, load_answers, student_name

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.report import Report
    from convcalc.spec.expect import Expectation
    from convcalc.spec.model import Spec


@dataclass(frozen=True, slots=True)
class Mark:
    """One question of the key, and the student's answer to it (None: not answered)."""

    question: Check
    answer: Check | None
    unreadable: SpecError | None = None  # the answer was written, and could not be read
    carried: str = ""  # the earlier answer this wrong one is carried forward from ('CONV1 output 222x222x64')
    knock_on: bool = False  # wrong only because a stride before it does not fit

    @property
    def right(self) -> bool:
        """The student answered, and the answer holds for the key's network."""
        return self.answer is not None and self.answer.ok

    @property
    def answered(self) -> bool:
        """The student wrote an answer (readable or not)."""
        return self.answer is not None or self.unreadable is not None


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
        """Questions answered wrong, unreadable answers included (not the unanswered ones)."""
        return tuple(m for m in self.marks if m.answered and not m.right)

    @property
    def knock_on(self) -> int:
        """Wrong answers that only follow from an earlier stride that does not fit."""
        return sum(1 for m in self.wrong if m.knock_on)

    @property
    def carried(self) -> int:
        """Wrong answers carried forward from the student's own earlier answer."""
        return sum(1 for m in self.wrong if m.carried)

    @property
    def unreadable(self) -> int:
        """Answers that could not be read."""
        return sum(1 for m in self.marks if m.unreadable is not None)

    @property
    def unanswered(self) -> tuple[Mark, ...]:
        """Questions the student left out."""
        return tuple(m for m in self.marks if not m.answered)


@dataclass(frozen=True, slots=True)
class Key:
    """The answer key: its spec, its report, and the analyses that tell where a mistake comes from."""

    spec: Spec
    report: Report
    sources: Sources

    @classmethod
    def of(cls, spec: Spec) -> Key:
        """The key, analysed."""
        return cls(spec, analyze(spec), Sources(spec))


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


def _instead(question: Check, given: dict[tuple[str, str], Check], asked: set[tuple[str, str]]) -> Check | None:
    """An answer that says what the question asks, where the key does not ask it as well.

    Asked only whether a stride fits, an output size answers "it fits"; asked only for an output,
    `fits: false` answers "there is no output" (wrong: the key's own answer says there is one).
    Where the key asks both, each answer earns only its own question's point.
    """
    other = {"fits": "output", "output": "fits"}.get(question.key)
    if other is None or (question.path, other) in asked:
        return None
    answer = given.get((question.path, other))
    if answer is None:
        return None
    if question.key == "fits":
        expected = f"{answer.expected} (an output size: it fits)"
        return Check(question.path, "fits", expected, question.actual, question.actual is True, answer.file,
                     answer.line, answer.column, question.name)  # fmt: skip
    if answer.expected != "false":
        return None  # `fits: true` says nothing of the size
    return Check(question.path, "output", "fits: false (no output)", question.actual, False, answer.file,  # noqa: FBT003
                 answer.line, answer.column, question.name)  # fmt: skip


def _outputs(expectations: tuple[Expectation, ...], report: Report) -> dict[int, tuple[tuple[int, ...], str]]:
    """The student's answered outputs of the key's top-level layers, by place, with their addresses."""
    names = {r.path: r.name for r in report.rows} | {g.path: g.name for g in report.groups}
    out: dict[int, tuple[tuple[int, ...], str]] = {}
    for e in expectations:
        if e.key == "output" and e.path.isdigit():
            out[int(e.path)] = (e.shape, f"{names.get(e.path, e.path)} output {e.text}")
    return out


def grade(key: Key, answers: Answers) -> Grade:
    """One student's answers against the key's network: a mark per question of the key."""
    report = key.report
    checks = evaluate(answers.expectations, report)
    given = {(c.path, c.key): c for c in checks}  # a second answer to the same question wins
    written = {(e.path, e.key): e for e in answers.expectations}
    bad = {(u.path, u.key): u.error for u in answers.unreadable}
    asked = {(q.path, q.key) for q in report.checks}
    outputs = _outputs(answers.expectations, report)
    marks = []
    for q in report.checks:
        where = (q.path, q.key)
        if where in bad and where not in given:
            marks.append(Mark(q, None, unreadable=bad[where]))
            continue
        answer = given.get(where) or _instead(q, given, asked)
        mark = Mark(q, answer)
        expectation = written.get(where)
        if answer is not None and not answer.ok and expectation is not None:
            carried = key.sources.carried(expectation, outputs)
            knock = answer.knock_on and not carried and key.sources.knock_on(expectation)
            mark = Mark(q, answer, carried=carried, knock_on=knock)
        marks.append(mark)
    network = departure(report, analyze(answers.spec)) if answers.spec is not None else ""
    return Grade(answers.source, answers.student, tuple(marks), unknown=answers.unknown, network=network)


def grade_file(key: Key, source: str) -> Grade:
    """A student's file graded, or the reason it could not be read."""
    try:
        return grade(key, load_answers(source, resolver(key.report)))
    except ConvcalcError as exc:
        return Grade(source, student_name(source), error=exc)
