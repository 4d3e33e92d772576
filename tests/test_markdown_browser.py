"""`show --format markdown` in a browser: names and descriptions stay text, nothing runs, nothing loads.

The Markdown is rendered as GitHub renders a README or a pull request's comment (CommonMark with
tables, raw HTML passed through: markdown-it-py, rich's own dependency), and the HTML opened in
headless Chromium (tests/browser.py). The payloads call the page's canary `ran()` and load from
198.51.100.1 (TEST-NET-2, never routed) and evil.example; the same payloads, unescaped, are
first shown to run and to load, so that a count of 0 means something.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from browser import chromium_or_skip, visit  # type: ignore[import-not-found]  # tests/ is on sys.path
from click.testing import CliRunner
from markdown_it import MarkdownIt

import convcalc
from convcalc.cli import main
from convcalc.render import numbers
from convcalc.render.inert import inert

if TYPE_CHECKING:
    from pathlib import Path

REMOTE = "http://198.51.100.1"
PAYLOADS = [
    "<script>ran()</script>",
    "<img src=x onerror=ran()>",
    "<svg onload=ran()></svg>",
    "<details open ontoggle=ran()><summary>more</summary>hidden</details>",
    '<iframe srcdoc="<script>parent.ran()</script>"></iframe>',
    "<input autofocus onfocus=ran()>",
    f"![remote]({REMOTE}/image.png)",
    f'<img src="{REMOTE}/tag.png">',
    f"<video poster={REMOTE}/poster.png></video>",
    f"<style>@import url({REMOTE}/style.css);</style>",
    "<link rel=stylesheet href=https://evil.example/link.css>",
    f"[a link]({REMOTE}/link) <{REMOTE}/autolink>",
    "&lt;b&gt;entity&lt;/b&gt; `code` *em* _em_ ~~del~~ $x$",
]
# Elements the page may hold: the heading, the description, the table, the totals list.
ALLOWED = {"h3", "p", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "strong"}


def _html(markdown: str) -> str:
    """Markdown as GitHub renders it before sanitising: CommonMark, tables, raw HTML passed."""
    return str(MarkdownIt("commonmark", {"html": True}).enable("table").render(markdown))


def _spec(tmp_path: Path) -> Path:
    """A spec whose name, description and layer names are the payloads (one a layer)."""
    layers = "\n".join(
        f"  - name: {_yaml(payload)}\n    layer: conv3-4 p1" for payload in [*PAYLOADS, "a | b\n| forged | row |"]
    )
    description = _yaml(" ".join(PAYLOADS[:6]) + "\n\n---\n| x | y |\n|--|--|\n- item")
    path = tmp_path / "evil.yaml"
    path.write_text(
        f"name: {_yaml(PAYLOADS[0] + PAYLOADS[6])}\ndescription: {description}\ninput: 8x8x3\nlayers:\n{layers}\n",
        encoding="utf-8",
    )
    return path


def _yaml(text: str) -> str:
    """A double-quoted YAML scalar (line feeds and quotes escaped)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


@pytest.mark.slow  # Chromium starts in about a second
def test_the_payloads_unescaped_do_run_and_load() -> None:
    """The canary and the recorder work: raw, the payloads run scripts and load from the remote host."""
    chromium_or_skip()
    seen = visit(_html("\n\n".join(PAYLOADS)))
    assert seen.ran >= 3, seen
    assert any("198.51.100.1" in r for r in seen.remote), seen
    assert any("evil.example" in r for r in seen.remote), seen
    assert {"script", "img", "details", "iframe"} <= set(seen.probe["elements"])


@pytest.mark.slow
def test_show_markdown_in_chromium_runs_nothing_and_loads_nothing(tmp_path: Path) -> None:
    chromium_or_skip()
    spec = _spec(tmp_path)
    result = CliRunner().invoke(main, ["show", str(spec), "--format", "markdown"])
    assert result.exit_code == 0, result.output
    seen = visit(_html(result.stdout))
    assert seen.ran == 0, seen
    assert seen.remote == [], seen
    assert set(seen.probe["elements"]) <= ALLOWED, seen.probe["elements"]
    assert seen.local in (["/", "/favicon.ico"], ["/"]), seen.local

    # The structure holds: one table row per layer, each with every cell, the names as text.
    report = convcalc.analyze(spec)
    header, *rows = seen.probe["cells"]
    assert len(rows) == len(report.rows)
    assert {len(cells) for cells in rows} == {len(header)}
    for row, cells in zip(report.rows, rows, strict=True):
        assert cells[1] == inert(" ".join(numbers.display_name(row, indent="· ").splitlines()))
    assert f"<h3>{_text(report.name)}</h3>" in seen.dom
    # The description is one paragraph: its line feeds, rule and table did not become blocks.
    assert seen.probe["elements"]["p"] == 1
    assert seen.probe["elements"]["table"] == 1


def _text(text: str) -> str:
    """Text as Chromium's DOM dump writes it inside an element."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\xa0", "&nbsp;")


@pytest.mark.slow
def test_a_name_from_the_file_name_and_the_diagnostics_stay_text(tmp_path: Path) -> None:
    """Without `name:` the title is the file's name: a file named as a payload runs nothing either."""
    chromium_or_skip()
    spec = tmp_path / "<img src=x onerror=ran()><svg onload=ran()>.yaml"
    spec.write_text("input: 9x9x3\nlayers:\n  - {name: '<b onmouseover=ran()>x</b>', layer: conv3-8 s2}\n")
    spec.write_text(spec.read_text() + "  - conv3-8 s2\n")  # 4 → 1.5: a diagnostic under the table
    result = CliRunner().invoke(main, ["show", str(spec), "--format", "markdown"])
    assert result.exit_code == 1, result.output
    assert "**Diagnostics**" in result.stdout
    seen = visit(_html(result.stdout))
    assert seen.ran == 0, seen
    assert seen.remote == [], seen
    assert set(seen.probe["elements"]) <= ALLOWED, seen.probe["elements"]
    assert "<h3>&lt;img src=x onerror=ran()&gt;&lt;svg onload=ran()&gt;</h3>" in seen.dom


@pytest.mark.slow
def test_diff_markdown_in_chromium_runs_nothing_and_loads_nothing(tmp_path: Path) -> None:
    chromium_or_skip()
    spec = _spec(tmp_path)
    for args in (["diff", str(spec), "lenet5", "--all"], ["diff", "lenet5", str(spec), "--all"]):
        result = CliRunner().invoke(main, [*args, "--format", "markdown"])
        assert result.exit_code in {0, 1}, result.output
        seen = visit(_html(result.stdout))
        assert seen.ran == 0, seen
        assert seen.remote == [], seen
        assert set(seen.probe["elements"]) <= ALLOWED | {"code", "em"}, seen.probe["elements"]
        assert seen.probe["elements"]["table"] >= 1
