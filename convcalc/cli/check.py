"""`convcalc check`: every expectation and every diagnostic of every spec, for homework and CI."""

from __future__ import annotations

import glob
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import click

from convcalc import __version__
from convcalc.builtins import open_spec
from convcalc.cli.common import EXIT_DESIGN_ERROR, EXIT_UNREADABLE, complete_spec
from convcalc.cli.streams import echo_data
from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError, Location
from convcalc.render import checks as check_text
from convcalc.render.caps import Cap
from convcalc.render.inert import inert
from convcalc.render.json import check as check_json
from convcalc.render.json import diagnostic as diagnostic_json
from convcalc.report import Diagnostic, Report, Severity


@dataclass(frozen=True, slots=True)
class _Result:
    arg: str
    report: Report | None = None
    error: ConvcalcError | None = None


def _expand(args: tuple[str, ...]) -> list[str]:
    """Paths, built-in names, and globs (for shells that do not expand them, and for quoted ones)."""
    out: list[str] = []
    for arg in args:
        if any(c in arg for c in "*?[") and not Path(arg).exists():
            matches = sorted(glob.glob(arg))  # noqa: PTH207 - a user's pattern, any folder
            out += matches or [arg]
        else:
            out.append(arg)
    return out


def _run(arg: str) -> _Result:
    try:
        return _Result(arg, report=analyze(open_spec(arg)))
    except ConvcalcError as exc:
        return _Result(arg, error=exc)


def _where(file: str, line: int | None, column: int | None) -> str:
    return str(Location(file, line, column))


def _shown(report: Report) -> tuple[list[Diagnostic], list[str]]:
    """The diagnostics to print (not the notes; the first SHOWN of each kind), and the count of the rest."""
    cap = Cap()
    shown = list(cap.filter(d for d in report.diagnostics if d.severity is not Severity.NOTE))
    return shown, cap.more()


def _text(results: list[_Result], *, verbose: bool) -> list[str]:
    lines = []
    for r in results:
        if r.error is not None:
            lines += str(r.error).split("\n")
            continue
        assert r.report is not None  # noqa: S101 - a result has one or the other
        report = r.report
        shown, more = _shown(report)
        lines += [f"{_where(d.file, d.line, d.column)}: {d.severity.value}: {d.message}" for d in shown]
        lines += more
        for c in report.checks:
            where = _where(c.file, c.line, c.column)
            if not c.ok:
                mark = "✗ " if verbose else ""
                lines.append(f"{mark}{where}: error: check failed: {check_text.message(c, report)}")
            elif verbose:
                value = check_text.value_text(c.key, c.actual)
                lines.append(f"✓ {where}: {check_text.subject(c, report)} = {value} (expected {c.expected})")
    return lines


def _escape(text: str, *, prop: bool = False) -> str:
    """GitHub's workflow-command escaping: % CR LF always; : and , in properties."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if prop else text


def _annotation(level: str, file: str, line: int | None, column: int | None, message: str) -> str:
    """A workflow command; the file and message inert first, as in every text format (then GitHub's escapes)."""
    props = [f"file={_escape(inert(file), prop=True)}"]
    if line is not None:
        props.append(f"line={line}")
        if column is not None:
            props.append(f"col={column}")
    return f"::{level} {','.join(props)}::{_escape(inert(message))}"


def _github(results: list[_Result]) -> list[str]:
    lines = []
    for r in results:
        if r.error is not None:
            for e in r.error.all:
                loc = e.location or Location(r.arg)
                lines.append(_annotation("error", loc.file, loc.line, loc.column, e.message))
            continue
        assert r.report is not None  # noqa: S101
        shown, more = _shown(r.report)
        lines += [_annotation(d.severity.value, d.file, d.line, d.column, d.message) for d in shown]
        lines += more  # plain lines in the log: annotations are for places
        for c in r.report.checks:
            if not c.ok:
                message = f"check failed: {check_text.message(c, r.report)}"
                lines.append(_annotation("error", c.file, c.line, c.column, message))
    return lines


def _summary(results: list[_Result]) -> dict[str, int]:
    reports = [r.report for r in results if r.report is not None]
    checks = [c for rep in reports for c in rep.checks]
    return {
        "files": len(results),
        "checks": len(checks),
        "passed": sum(1 for c in checks if c.ok),
        "failed": sum(1 for c in checks if not c.ok),
        "errors": sum(1 for rep in reports for d in rep.diagnostics if d.severity is Severity.ERROR),
        "warnings": sum(1 for rep in reports for d in rep.diagnostics if d.severity is Severity.WARNING),
        "unreadable": sum(1 for r in results if r.error is not None),
    }


def _summary_text(s: dict[str, int]) -> str:
    def n(count: int, word: str) -> str:
        return f"{count} {word}{'s' * (count != 1)}"

    text = f"{n(s['checks'], 'check')} in {n(s['files'], 'file')}: {s['passed']} passed, {s['failed']} failed"
    extra = [n(s["errors"], "design error")] if s["errors"] else []
    extra += [n(s["warnings"], "warning")] if s["warnings"] else []
    extra += [f"{n(s['unreadable'], 'file')} could not be read"] if s["unreadable"] else []
    return "; ".join([text, *extra])


def _json(results: list[_Result]) -> str:
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
            files.append({
                "source": r.report.source,
                "name": r.report.name,
                "ok": r.report.ok,
                "checks": [check_json(c) for c in r.report.checks],
                "diagnostics": [diagnostic_json(d) for d in r.report.diagnostics],
            })  # fmt: skip
    data = {"schema_version": 1, "convcalc": __version__, "files": files, "summary": _summary(results)}
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)


@click.command(short_help="Check the answers and budgets under expect:, and every stride.")
@click.argument("specs", nargs=-1, required=True, shell_complete=complete_spec)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json", "github")), default="text", show_default=True,
    help="text for people, json for tools, github for GitHub Actions annotations.",
)  # fmt: skip
@click.option("--verbose", "-v", is_flag=True, help="List the checks that pass too (✓/✗).")
def check(specs: tuple[str, ...], fmt: str, verbose: bool) -> None:  # noqa: FBT001 - a click flag
    """Check the answers and budgets (`expect:`) and the design of each SPEC (files, globs, built-ins).

    Exits 0 when everything holds, 1 when a check fails or a design has an error, 2 when a spec
    cannot be read.
    """
    results = [_run(arg) for arg in _expand(specs)]
    summary = _summary(results)
    if fmt == "json":
        echo_data(_json(results), "json")
    else:
        for line in _github(results) if fmt == "github" else _text(results, verbose=verbose):
            click.echo(inert(line))  # a name, a path or a message from a spec, on its line
        click.echo(_summary_text(summary))
    if summary["unreadable"]:
        sys.exit(EXIT_UNREADABLE)
    if any(r.report is not None and not r.report.ok for r in results):
        sys.exit(EXIT_DESIGN_ERROR)
