"""`convcalc check`: every expectation and every diagnostic of every spec, for homework and CI."""

from __future__ import annotations

import json
import os
import sys

import click

from convcalc import __version__
from convcalc.api import NOT_CHECKED, unchecked_report
from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, EXIT_UNREADABLE, complete_spec
from convcalc.cli.files import expand
from convcalc.cli.streams import echo_data
from convcalc.engine.analyze import analyze
from convcalc.engine.checks import ANSWERED, causes
from convcalc.errors import ConvcalcError, Location
from convcalc.render import checks as check_text
from convcalc.render.caps import Cap
from convcalc.render.github import Result, github_lines, step_summary
from convcalc.render.inert import inert
from convcalc.render.json import check as check_json
from convcalc.render.json import diagnostic as diagnostic_json
from convcalc.report import Check, Diagnostic, Report, Severity


def _run(arg: str) -> Result:
    try:
        spec = open_spec(arg)
        if spec.symbols and not spec.example:  # its answers are for a size it does not name: a note says so
            return Result(arg, report=unchecked_report(spec))
        return Result(arg, report=analyze(spec))
    except ConvcalcError as exc:
        return Result(arg, error=exc)


def _append_summary(path: str, text: str) -> None:
    """Append to the job's step summary, or exit 2 with one line: the log above is already printed."""
    try:
        with open(path, "a", encoding="utf-8") as out:  # noqa: PTH123 - appended, as GitHub asks
            out.write(text)
    except OSError as exc:
        why = exc.strerror or str(exc)
        click.echo(inert(f"error: cannot write the step summary (GITHUB_STEP_SUMMARY={path}): {why}"), err=True)
        sys.exit(EXIT_UNREADABLE)


def _where(file: str, line: int | None, column: int | None) -> str:
    return str(Location(file, line, column))


def _shown(report: Report) -> tuple[list[Diagnostic], list[str]]:
    """The diagnostics to print (not the notes; the first SHOWN of each kind), and the count of the rest."""
    cap = Cap()
    # Notes are left out, but those that say a `fits: false` answered a stride error (its error, gone)
    # and that a symbolic spec's answers were not checked (it names no `example:` size).
    told = {ANSWERED, NOT_CHECKED}  # the notes that say why an error is gone, or why answers were not checked
    shown = list(cap.filter(d for d in report.diagnostics if d.severity is not Severity.NOTE or d.code in told))
    return shown, cap.more()


def _knock_on(d: Diagnostic, report: Report, roots: dict[str, str]) -> str:
    """' (a knock-on error of CONV1)' for a stride that does not fit only on the sizes an earlier one made up."""
    root = roots.get(d.path, d.path) if d.code == "stride-does-not-fit" else d.path
    return "" if root == d.path else f" (a knock-on error of {check_text.subject_name(root, report)})"


def _bound(check: Check) -> bool:
    """A budget (`<= 10M`), not an answer."""
    return check.expected.lstrip().startswith(("<", ">"))


def _score(report: Report) -> str:
    """'specs/x.yaml: score 8/10 (2 wrong, 1 of them knock-on)' for a worksheet (answers about its layers).

    A spec whose checks are budgets, or answers about the whole network only (a CI file), gets
    'FILE: 3/4 checks hold (1 fails)': it is not marked.
    """
    checks = report.checks
    wrong = [c for c in checks if not c.ok]
    knock = sum(1 for c in wrong if c.knock_on)
    extra = f", {knock} of them knock-on" if knock else ""
    if not any(c.path and not _bound(c) for c in checks):
        fails = f"{len(wrong)} fail{'s' * (len(wrong) == 1)}{extra}"
        return f"{report.source}: {len(checks) - len(wrong)}/{len(checks)} checks hold ({fails})"
    return f"{report.source}: score {len(checks) - len(wrong)}/{len(checks)} ({len(wrong)} wrong{extra})"


def _text(results: list[Result], *, verbose: bool) -> list[str]:
    lines = []
    scores = verbose or any(not c.ok for r in results if r.report for c in r.report.checks)
    for r in results:
        if r.error is not None:
            lines += str(r.error).split("\n")
            continue
        assert r.report is not None  # noqa: S101 - a result has one or the other
        report = r.report
        shown, more = _shown(report)
        roots = causes(report)
        lines += [
            f"{_where(d.file, d.line, d.column)}: {d.severity.value}: {d.message}{_knock_on(d, report, roots)}"
            for d in shown
        ]
        lines += more
        for c in report.checks:
            where = _where(c.file, c.line, c.column)
            if not c.ok:
                mark = "✗ " if verbose else ""
                lines.append(f"{mark}{where}: error: check failed: {check_text.message(c, report)}")
            elif verbose:
                value = check_text.value_text(c.key, c.actual)
                lines.append(f"✓ {where}: {check_text.subject(c, report)} = {value} (expected {c.expected})")
        if scores and report.checks:
            lines.append(_score(report))
    return lines


def _knock_on_errors(report: Report) -> int:
    """Strides that do not fit only on the sizes an earlier one made up."""
    return sum(1 for path, root in causes(report).items() if path != root)


def _summary(results: list[Result]) -> dict[str, int]:
    reports = [r.report for r in results if r.report is not None]
    checks = [c for rep in reports for c in rep.checks]
    return {
        "files": len(results),
        "checks": len(checks),
        "passed": sum(1 for c in checks if c.ok),
        "failed": sum(1 for c in checks if not c.ok),
        "knock_on": sum(1 for c in checks if c.knock_on),
        "knock_on_errors": sum(_knock_on_errors(rep) for rep in reports),
        "errors": sum(1 for rep in reports for d in rep.diagnostics if d.severity is Severity.ERROR),
        "warnings": sum(1 for rep in reports for d in rep.diagnostics if d.severity is Severity.WARNING),
        "unreadable": sum(1 for r in results if r.error is not None),
    }


def _summary_text(s: dict[str, int]) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    text = f"{n(s['checks'], 'check')} in {n(s['files'], 'file')}: {s['passed']} passed, {s['failed']} failed"
    text += f" ({s['knock_on']} of them knock-on)" if s["knock_on"] else ""
    knock = f" ({s['knock_on_errors']} of them knock-on)" if s["knock_on_errors"] else ""
    extra = [n(s["errors"], "design error") + knock] if s["errors"] else []
    extra += [n(s["warnings"], "warning")] if s["warnings"] else []
    extra += [f"{n(s['unreadable'], 'file')} could not be read"] if s["unreadable"] else []
    return "; ".join([text, *extra])


def _json(results: list[Result]) -> str:
    files = []
    for r in results:
        if r.error is not None:
            errors = [
                {"message": e.message, "file": loc.file, "line": loc.line, "column": loc.column}
                for e in r.error.all
                for loc in [e.location or Location(r.arg)]
            ]
            files.append({"source": r.arg, "ok": False, "error": errors[0], "errors": errors})
        else:
            assert r.report is not None  # noqa: S101
            report = r.report
            roots = causes(report)
            passed = sum(1 for c in report.checks if c.ok)
            files.append({
                "source": report.source,
                "name": report.name,
                "ok": report.ok,
                "score": {"points": passed, "out_of": len(report.checks),
                          "knock_on": sum(1 for c in report.checks if c.knock_on)},
                "checks": [
                    {**check_json(c), "arithmetic": check_text.arithmetic(c, report)} for c in report.checks
                ],
                "diagnostics": [
                    {**diagnostic_json(d), "knock_on_of": roots.get(d.path, d.path) if d.path in roots else ""}
                    for d in report.diagnostics
                ],
            })  # fmt: skip
    data = {"schema_version": 1, "convcalc": __version__, "files": files, "summary": _summary(results)}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


def _usage(specs: tuple[str, ...], fmt: str, key: str | None, *, blank: bool) -> None:
    """The options that do not go together."""
    if blank and (key is None or specs):
        msg = "--blank writes the answer sheet of a key: convcalc check --key KEY --blank (and no SPEC)"
        raise click.UsageError(msg)
    if not specs and not blank:
        msg = "Missing argument 'SPECS...': the specs to check (files, folders, globs or built-in names)"
        raise click.UsageError(msg)
    if key is not None and fmt == "github":
        msg = "--key prints a grade sheet: --format text, csv or json"
        raise click.UsageError(msg)
    if key is None and fmt == "csv":
        msg = "--format csv is for grade sheets (--key); for one spec's rows: convcalc show SPEC --format csv"
        raise click.UsageError(msg)


@click.command(short_help="Check the answers and budgets under expect:, and every stride.")
@click.argument("specs", nargs=-1, shell_complete=complete_spec)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json", "github", "csv")), default="text", show_default=True,
    help="text for people, json for tools, github for GitHub Actions annotations; csv for a grade sheet (--key).",
)  # fmt: skip
@click.option("--verbose", "-v", is_flag=True, help="List the checks that pass too (✓/✗).")
@click.option(
    "--key", metavar="KEY", shell_complete=complete_spec,
    help="Grade each SPEC (a student's answers) against KEY, a spec with the network and the answers.",
)  # fmt: skip
@click.option(
    "--blank", is_flag=True, help="With --key: write the students' answer sheet (the questions, answers blank)."
)
def check(specs: tuple[str, ...], fmt: str, verbose: bool, key: str | None, blank: bool) -> None:  # noqa: FBT001
    """Check the answers and budgets (`expect:`) and the design of each SPEC (files, folders, globs, built-ins).

    Exits 0 when everything holds, 1 when a check fails or a design has an error, 2 when a spec
    cannot be read. With --key, prints a grade sheet (text, csv or json): exits 0 once every
    student is graded, 1 when the key's own answers do not hold, 2 when a file cannot be read.
    With --key KEY --blank: writes the answer sheet to hand out (KEY's layers and questions).
    """
    _usage(specs, fmt, key, blank=blank)
    if key is not None:
        from convcalc.cli.grade import grade_class  # noqa: PLC0415 - only for a class

        grade_class(key, expand(specs, skip=key), fmt, template=blank)
        return
    files = expand(specs, once=False)
    results = [Result(arg, error=files.broken[arg]) if arg in files.broken else _run(arg) for arg in files.paths]
    summary = _summary(results)
    if fmt == "json":
        echo_data(_json(results), "json")
    else:
        base = os.environ.get("GITHUB_WORKSPACE") or os.getcwd()  # noqa: PTH109 - paths as GitHub reads them
        for line in github_lines(results, base) if fmt == "github" else _text(results, verbose=verbose):
            click.echo(inert(line))  # a name, a path or a message from a spec, on its line
        click.echo(_summary_text(summary))
        if fmt == "github" and (summary_file := os.environ.get("GITHUB_STEP_SUMMARY")):
            _append_summary(summary_file, step_summary(results, _summary_text(summary), base))
    if summary["unreadable"]:
        sys.exit(EXIT_UNREADABLE)
    if any(r.report is not None and not r.report.ok for r in results):
        sys.exit(EXIT_DESIGN_ERROR)
