"""`convcalc check --key KEY STUDENT...`: a class graded against an answer key (docs/grading.md)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, EXIT_UNREADABLE, console
from convcalc.cli.streams import echo_data
from convcalc.engine.grading import Grade, Key, grade_file
from convcalc.render import checks as check_text
from convcalc.render import grades as sheet
from convcalc.render.blank import blank
from convcalc.render.inert import inert
from convcalc.spec.answers import student_name

if TYPE_CHECKING:
    from convcalc.cli.files import Files


def grade_class(key_arg: str, students: Files, fmt: str, *, template: bool = False) -> None:
    """Grade each student's file against the key (or, with `template`, write the blank answer sheet).

    Exits 1 when the key's own answers do not hold, 2 when a file cannot be read.
    """
    graded = Key.of(open_spec(key_arg))  # a key that cannot be read: exit 2, as every unreadable spec
    key = graded.report
    if not key.checks:
        msg = f"the key {key_arg} has no answers: write them under `expect:` beside its layers"
        raise click.UsageError(msg)
    wrong = [c for c in key.checks if not c.ok]
    for c in wrong:
        click.echo(inert(f"{c.file}:{c.line}:{c.column}: error: the key's answer is wrong: "
                         f"{check_text.message(c, key)}"), err=True)  # fmt: skip
    if wrong:
        sys.exit(EXIT_DESIGN_ERROR)
    if template:
        click.echo(blank(key), nl=False)
        return
    for path in students.skipped:
        click.echo(inert(f"{path}: note: not graded: it is the key ({key_arg})"), err=True)
    grades = [Grade(s, student_name(s), error=students.broken[s]) if s in students.broken else grade_file(graded, s)
              for s in students.paths]  # fmt: skip
    if fmt == "json":
        echo_data(sheet.render_json(grades, key), "json")
    elif fmt == "csv":
        click.echo(sheet.render_csv(grades, key), nl=False)
    else:
        sheet.render_text(grades, key, console())
    if any(g.error is not None for g in grades):
        sys.exit(EXIT_UNREADABLE)
