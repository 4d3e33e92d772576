"""A Report beside code: shown once in a kernel, and every line of it within an 80-column output area."""

from __future__ import annotations

import html
import io
import re

import pytest
from rich.console import Console

import convcalc
from convcalc.builtins import builtin_names
from convcalc.render.html import report_html

AREA = 80  # Jupyter's output area before it scrolls (issue 23)


def _html_lines(fragment: str) -> list[str]:
    """The text lines of the HTML table, as the notebook shows them (tags gone, entities read)."""
    (pre,) = re.findall(r"<code>(.*)</code>", fragment, flags=re.DOTALL)
    return html.unescape(re.sub(r"<[^>]+>", "", pre)).splitlines()


def test_recording_the_table_in_a_kernel_displays_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    """rich displays what a Console prints when it thinks it runs in Jupyter: the report then showed twice."""
    import rich.console  # noqa: PLC0415
    import rich.jupyter  # noqa: PLC0415

    displayed: list[object] = []
    monkeypatch.setattr(rich.console, "_is_jupyter", lambda: True)
    monkeypatch.setattr(rich.jupyter, "display", lambda *args, **_: displayed.append(args))
    report = convcalc.analyze("lenet5")
    assert "Params" in report._repr_html_()
    assert displayed == []


@pytest.mark.slow
@pytest.mark.parametrize("name", builtin_names())
def test_every_builtins_report_fits_80_columns(name: str) -> None:
    report = convcalc.analyze(name, batch=8)
    lines = _html_lines(report_html(report))
    assert any(row.name in line for line in lines for row in report.rows[1:2])
    assert max(map(len, lines)) <= AREA, name
    assert all(len(line) <= AREA for line in repr(report).splitlines()), repr(report)
    console = Console(file=io.StringIO(), width=AREA, color_system=None, legacy_windows=False, _environ={})
    console.print(report)
    assert max(map(len, console.file.getvalue().splitlines())) <= AREA  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "layers", "batch"),
    [
        ("x" * 100, ["conv3-8 p1"], 1),  # a long name is cut
        ("y" * 30, ["conv3-8 s2"], 1),  # not ok: the state's words go on a second line
        ("z" * 100, ["conv3-512 p1", "conv3-512 p1", "conv3-512 s2"], 100_000),  # numbers alone too wide
    ],
)
def test_a_long_repr_is_cut_or_wrapped_within_80_columns(name: str, layers: list[str], batch: int) -> None:
    report = convcalc.analyze({"name": name, "input": "512x512x512", "layers": layers}, batch=batch)
    text = repr(report)
    assert max(map(len, text.splitlines())) <= AREA, text
    assert text.startswith(f"<Report {name[:20]}")
    assert text.endswith(">")
    flat = " ".join(text.split())
    for field in (f"{len(report.rows)} rows", f"{report.totals.params:,} params", f"{report.totals.macs:,} MACs"):
        assert field in flat
    assert ("ok>" if report.ok else "not ok: see .diagnostics and .checks>") in flat
    assert (f"batch {batch:,}" in flat) is (batch != 1)


def test_a_repr_that_fits_is_one_line_with_the_whole_name() -> None:
    report = convcalc.analyze("vgg16", batch=8)
    assert "\n" not in repr(report)
    assert repr(report).startswith("<Report VGG16: 22 rows, ")


def test_the_repr_makes_a_name_inert() -> None:
    report = convcalc.analyze({"name": "a\x1b[2Jb", "input": "8x8x1", "layers": ["conv3-1 p1"]})
    assert "\x1b" not in repr(report)
    assert "a\\x1b[2Jb" in repr(report)
