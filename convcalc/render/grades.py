"""The grade sheet of `convcalc check --key`: text (a rich table, then what each got wrong), CSV, JSON.

Every wrong answer is shown with the true value and its arithmetic, worked out on the key's
network; a knock-on error (it only follows from an earlier stride that does not fit) is marked.
"""

from __future__ import annotations

import csv
import io
import json
from typing import TYPE_CHECKING, Any

from convcalc import __version__
from convcalc.render import checks as check_text
from convcalc.render import numbers
from convcalc.render.csv import text as cell
from convcalc.render.inert import inert
from convcalc.render.json import check as check_json

if TYPE_CHECKING:
    from rich.console import Console

    from convcalc.engine.grading import Grade, Mark
    from convcalc.report import Check, Report

CSV_COLUMNS = (
    "student", "file", "points", "out_of", "wrong", "carried_forward", "knock_on", "unreadable", "unanswered",
    "network", "error", "details",
)  # fmt: skip
SCHEMA_VERSION = 2  # 2: a wrong answer says `answered` and `key_answer` (1 had the check's expected/actual)


def _key_answer(question: Check) -> str:
    """The key's answer as the key writes it, with the true value where that says more (138M = 138,357,544)."""
    actual = question.actual
    if question.key == "fits" or not isinstance(actual, int) or question.expected.replace(",", "") == str(actual):
        return question.expected
    exact = f"{numbers.grouped(actual)} B" if question.key == "memory" else numbers.grouped(actual)
    return f"{question.expected} (= {exact})"


def wrong_line(mark: Mark, key: Report) -> str:
    """A wrong answer in one line: what the student answered, the key's answer, and the true arithmetic."""
    subject = check_text.subject(mark.question, key)
    if mark.unreadable is not None:
        return f"{subject}: unreadable, key {_key_answer(mark.question)}: {mark.unreadable.line()}"
    answer = mark.answer
    assert answer is not None  # noqa: S101 - only answered marks are wrong
    # (A key cannot ask for a size where its stride does not fit: its own answer would not hold.)
    work = check_text.arithmetic(answer, key)
    text = f"{subject}: answered {answer.expected}, key {_key_answer(mark.question)}"
    text = f"{text} ({'; '.join(work)})" if work else text
    if mark.carried:
        text += f"; carried forward from {mark.carried}"
    elif mark.knock_on:
        name = check_text.subject_name(answer.cause, key)
        text += f"; a knock-on error: it follows from {name}, whose stride does not fit (rounded up, it holds)"
    return text


def _unanswered(mark: Mark, key: Report) -> str:
    return f"{check_text.subject(mark.question, key)}: not answered"


def _error(grade: Grade) -> str:
    assert grade.error is not None  # noqa: S101
    return " ".join(e.line() for e in grade.error.all)


def details(grade: Grade, key: Report) -> list[str]:
    """What the student got wrong, left out, or addressed to no layer; where their network departs."""
    if grade.error is not None:
        return [f"could not be read: {_error(grade)}"]
    lines = [f"✗ {wrong_line(m, key)}" for m in grade.wrong]
    lines += [f"– {_unanswered(m, key)}" for m in grade.unanswered]
    lines += [f"? {e.line()}" for e in grade.unknown]
    if grade.network:
        lines.append(f"! the file's own network departs from the key's at {grade.network}; answers graded on the key's")
    return lines


def _points(grade: Grade, out_of: int) -> str:
    return "—" if grade.error is not None else f"{grade.points}/{out_of}"


def totals(grades: list[Grade], key: Report) -> dict[str, int]:
    """The class in numbers (for JSON): students, questions, full marks, points, unreadable files."""
    read = [g for g in grades if g.error is None]
    return {
        "students": len(grades),
        "questions": len(key.checks),
        "full_marks": sum(1 for g in read if g.points == len(key.checks)),
        "points": sum(g.points for g in read),
        "knock_on": sum(g.knock_on for g in read),
        "carried_forward": sum(g.carried for g in read),
        "unreadable_answers": sum(g.unreadable for g in read),
        "unreadable": len(grades) - len(read),
    }


def summary(grades: list[Grade], key: Report) -> str:
    """'4 students, 10 questions: 1 with full marks, mean 6.5; 1 file could not be read'."""
    out_of = len(key.checks)
    read = [g for g in grades if g.error is None]
    text = f"{len(grades)} student{'s' * (len(grades) != 1)}, {out_of} question{'s' * (out_of != 1)}"
    full = sum(1 for g in read if g.points == out_of)
    parts = [f"{full} with full marks"]
    if read:
        parts.append(f"mean {sum(g.points for g in read) / len(read):.1f}")
    unreadable = len(grades) - len(read)
    tail = f"; {unreadable} file{'s' * (unreadable != 1)} could not be read" if unreadable else ""
    return f"{text}: {', '.join(parts)}{tail}"


def render_text(grades: list[Grade], key: Report, console: Console) -> None:
    """The sheet as a table, one row per student, then each student's wrong answers.

    Every name, path and answer comes from a file: printed inert (no escape reaches the terminal,
    no line feed forges a line).
    """
    from rich import box  # noqa: PLC0415 - rich only for the text sheet
    from rich.table import Table  # noqa: PLC0415

    out_of = len(key.checks)
    title = f"Grade sheet — key {key.source} ({key.name}): {out_of} question{'s' * (out_of != 1)}, 1 point each"
    console.print(inert(title), soft_wrap=True)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("Student", overflow="fold")
    for name in ("Points", "Wrong", "Carried", "Knock-on", "Unanswered"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("Note", no_wrap=True)
    for g in grades:
        note = "unreadable" if g.error else "other network" if g.network else ""
        counts = ("",) * 4 if g.error else (str(len(g.wrong)), str(g.carried), str(g.knock_on), str(len(g.unanswered)))
        table.add_row(inert(g.student), _points(g, out_of), *counts, note)
    console.print(table)
    for g in grades:
        lines = details(g, key)
        if lines:
            console.print(inert(f"{g.student} ({g.source}): {_points(g, out_of)}"), soft_wrap=True)
            for line in lines:
                console.print(inert(f"  {line}"), soft_wrap=True)
    console.print(summary(grades, key), soft_wrap=True)


def render_csv(grades: list[Grade], key: Report) -> str:
    """One line per student: points, counts, and what was wrong with the true arithmetic."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    out_of = len(key.checks)
    for g in grades:
        if g.error is not None:
            writer.writerow([cell(g.student), cell(g.source), "", out_of, *[""] * 6, cell(_error(g)), ""])
            continue
        writer.writerow([
            cell(g.student), cell(g.source), g.points, out_of, len(g.wrong), g.carried, g.knock_on, g.unreadable,
            len(g.unanswered), cell(g.network), "", cell(" | ".join(details(g, key))),
        ])  # fmt: skip
    return out.getvalue()


def _answer(mark: Mark, key: Report) -> dict[str, Any]:
    """A wrong answer: what the student answered, the key's answer and true value, and why it is wrong."""
    q, a = mark.question, mark.answer
    at = mark.unreadable.location if mark.unreadable is not None else None
    true = check_json(q)["actual"]
    return {
        "path": q.path, "key": q.key, "name": q.name,
        "answered": a.expected if a is not None else None,
        "key_answer": q.expected, "value": true,
        "file": a.file if a is not None else at.file if at else None,
        "line": a.line if a is not None else at.line if at else None,
        "column": a.column if a is not None else at.column if at else None,
        "arithmetic": check_text.arithmetic(a, key) if a is not None else [],
        "unreadable": mark.unreadable.message if mark.unreadable is not None else "",
        "carried_from": mark.carried, "knock_on": mark.knock_on,
        "cause": a.cause if a is not None else "",
    }  # fmt: skip


def _student(g: Grade, key: Report) -> dict[str, Any]:
    out_of = len(key.checks)
    if g.error is not None:
        errors = [
            {"message": e.message, "file": e.location.file if e.location else g.source,
             "line": e.location.line if e.location else None, "column": e.location.column if e.location else None}
            for e in g.error.all
        ]  # fmt: skip
        return {"student": g.student, "source": g.source, "points": None, "out_of": out_of, "errors": errors}
    return {
        "student": g.student,
        "source": g.source,
        "points": g.points,
        "out_of": out_of,
        "knock_on": g.knock_on,
        "carried_forward": g.carried,
        "wrong": [_answer(m, key) for m in g.wrong],
        "unanswered": [{"path": m.question.path, "key": m.question.key, "name": m.question.name} for m in g.unanswered],
        "unknown": [{"message": e.message, "line": e.location.line if e.location else None} for e in g.unknown],
        "network": g.network,
    }


def render_json(grades: list[Grade], key: Report) -> str:
    """The sheet as JSON: the key, then one object per student."""
    data = {
        "schema_version": SCHEMA_VERSION,
        "convcalc": __version__,
        "key": {"source": key.source, "name": key.name, "questions": [check_json(q) for q in key.checks]},
        "students": [_student(g, key) for g in grades],
        "summary": totals(grades, key),
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)
