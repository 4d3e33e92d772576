"""`convcalc check --key KEY STUDENT...`: a class graded against an answer key (docs/grading.md)."""

from __future__ import annotations

import sys

import click

from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, EXIT_UNREADABLE, console
from convcalc.cli.streams import echo_data
from convcalc.engine.analyze import analyze
from convcalc.engine.grading import grade_file
from convcalc.render import checks as check_text
from convcalc.render import grades as sheet
from convcalc.render.inert import inert


def grade_class(key_arg: str, students: list[str], fmt: str) -> None:
    """Grade each student's file against the key.

    Exits 1 when the key's own answers do not hold, 2 when a file cannot be read.
    """
    key = analyze(open_spec(key_arg))  # a key that cannot be read: exit 2, as every unreadable spec
    if not key.checks:
        msg = f"the key {key_arg} has no answers: write them under `expect:` beside its layers"
        raise click.UsageError(msg)
    wrong = [c for c in key.checks if not c.ok]
    for c in wrong:
        click.echo(inert(f"{c.file}:{c.line}:{c.column}: error: the key's answer is wrong: "
                         f"{check_text.message(c, key)}"), err=True)  # fmt: skip
    if wrong:
        sys.exit(EXIT_DESIGN_ERROR)
    grades = [grade_file(key, s) for s in students]
    if fmt == "json":
        echo_data(sheet.render_json(grades, key), "json")
    elif fmt == "csv":
        click.echo(sheet.render_csv(grades, key), nl=False)
    else:
        sheet.render_text(grades, key, console())
    if any(g.error is not None for g in grades):
        sys.exit(EXIT_UNREADABLE)
