"""`convcalc check --format github`: GitHub Actions workflow commands, and the job's step summary.

GitHub ties an annotation to a line of a pull request only when `file=` is the path from the
repository's root (`GITHUB_WORKSPACE`, where actions/checkout puts it); an absolute path or one
relative to another folder is shown without a place. Workflow commands and their escaping:
https://docs.github.com/actions/reference/workflow-commands-for-github-actions; the step summary
(Markdown appended to the file named by GITHUB_STEP_SUMMARY):
https://docs.github.com/actions/reference/workflow-commands-for-github-actions#adding-a-job-summary
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from convcalc.errors import Location
from convcalc.render import checks as check_text
from convcalc.render.caps import Cap
from convcalc.render.inert import inert
from convcalc.report import Severity

if TYPE_CHECKING:
    from collections.abc import Iterator

    from convcalc.errors import ConvcalcError
    from convcalc.report import Diagnostic, Report

# Failures listed in the step summary; the log's annotations have them all.
SUMMARY_FAILURES = 50


@dataclass(frozen=True, slots=True)
class Result:
    """One SPEC argument: its report, or why it could not be read."""

    arg: str
    report: Report | None = None
    error: ConvcalcError | None = None


@dataclass(frozen=True, slots=True)
class Problem:
    """One annotation: its level, place, title and message."""

    level: str
    file: str
    line: int | None
    column: int | None
    title: str
    message: str


def relative(file: str, base: str) -> str:
    """`file` from `base` (the repository's root) when it lies inside, with / between folders.

    A file elsewhere (a temporary folder, a built-in spec's `specs/NAME.yaml`) keeps its name.
    """
    if not file or file.startswith("<"):  # <stdin>, <text>
        return file
    if not os.path.isabs(file) and not os.path.exists(file):  # noqa: PTH110, PTH117 - a built-in's specs/NAME.yaml
        return file
    full = os.path.abspath(file)  # noqa: PTH100 - relative names are the working folder's
    root = os.path.abspath(base).rstrip(os.sep)  # noqa: PTH100
    inside = full.startswith(root + os.sep)
    return os.path.relpath(full, root).replace(os.sep, "/") if inside else file


def escape(text: str, *, prop: bool = False) -> str:
    """GitHub's workflow-command escaping: % CR LF always; : and , in properties."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def annotation(p: Problem, base: str) -> str:
    """A workflow command; the file and texts inert first, as in every text format (then GitHub's escapes)."""
    props = [f"file={escape(inert(relative(p.file, base)), prop=True)}"]
    if p.line is not None:
        props.append(f"line={p.line}")
        if p.column is not None:
            props.append(f"col={p.column}")
    props.append(f"title={escape(inert(p.title), prop=True)}")
    return f"::{p.level} {','.join(props)}::{escape(inert(p.message))}"


def _diagnostic(d: Diagnostic) -> Problem:
    title = f"convcalc: {d.code.replace('-', ' ')}" if d.code else "convcalc"
    return Problem(d.severity.value, d.file, d.line, d.column, title, d.message)


def problems(r: Result) -> Iterator[Problem | str]:
    """A result's annotations, and plain lines for the log (how many more of a kind there are)."""
    if r.error is not None:
        for e in r.error.all:
            loc = e.location or Location(r.arg)
            yield Problem("error", loc.file, loc.line, loc.column, "convcalc: cannot read the spec", e.message)
        return
    report = r.report
    assert report is not None  # noqa: S101 - a result has one or the other
    cap = Cap()
    yield from (_diagnostic(d) for d in cap.filter(d for d in report.diagnostics if d.severity is not Severity.NOTE))
    yield from cap.more()  # plain lines in the log: annotations are for places
    for c in report.checks:
        if not c.ok:
            title = f"convcalc: {check_text.subject(c, report)}"
            message = f"check failed: {check_text.message(c, report)}"
            yield Problem("error", c.file, c.line, c.column, title, message)


def github_lines(results: list[Result], base: str) -> list[str]:
    """The log: an annotation per failure, each at its spec's line."""
    return [p if isinstance(p, str) else annotation(p, base) for r in results for p in problems(r)]


def _cell(text: str) -> str:
    """Text for a Markdown table cell or list item: inert, one line, no table or markup breaks."""
    text = inert(text).replace("\\", "\\\\").replace("|", "\\|")
    for ch in "`*_[]<>":
        text = text.replace(ch, "\\" + ch)
    return " ".join(text.split())


def step_summary(results: list[Result], summary: str, base: str) -> str:
    """The job summary in Markdown: a line per spec, then the failures with their places."""
    lines = ["## convcalc check", "", _cell(summary), "", "| Spec | Checks | Failed | Errors | Warnings | |"]
    lines.append("|---|--:|--:|--:|--:|---|")
    failures: list[str] = []
    for r in results:
        if r.report is None:
            lines.append(f"| {_cell(relative(r.arg, base))} | | | | | ✗ cannot be read |")
        else:
            rep = r.report
            failed = sum(1 for c in rep.checks if not c.ok)
            errors = sum(1 for d in rep.diagnostics if d.severity is Severity.ERROR)
            warnings = sum(1 for d in rep.diagnostics if d.severity is Severity.WARNING)
            state = "✓" if rep.ok else "✗"
            name = f"{relative(rep.source, base)} ({rep.name})"
            lines.append(f"| {_cell(name)} | {len(rep.checks)} | {failed} | {errors} | {warnings} | {state} |")
        for p in problems(r):
            if isinstance(p, Problem) and p.level == "error":
                where = str(Location(relative(p.file, base), p.line, p.column)).replace("`", "'")
                failures.append(f"- `{where}`: {_cell(p.message)}")
    if failures:
        lines += ["", "### Failures", "", *failures[:SUMMARY_FAILURES]]
        if len(failures) > SUMMARY_FAILURES:
            lines.append(f"- … and {len(failures) - SUMMARY_FAILURES} more (see the log's annotations)")
    return "\n".join(lines) + "\n\n"
