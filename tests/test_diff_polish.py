"""`convcalc diff`, issue 23's smaller points: one number style, names not crowded out, the title
when both networks have the same name, `--depth`; and issue 22's D14 for its Markdown."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.diff import Status, compare
from convcalc.fold import fold
from convcalc.render.diff import cells, render_markdown, short, sides, title
from convcalc.render.mdtext import inline as md_escape

if TYPE_CHECKING:
    from pathlib import Path

# A count in a row: up to 999 as it is, then one decimal below 10 of a unit, whole numbers above.
COUNT = re.compile(r"\d{1,3}|\d\.\dK|\d{1,3}[KMGT]|\d\.\d[MGT]")


def _diff(*args: str) -> str:
    result = CliRunner().invoke(main, ["diff", *args])
    assert result.exit_code in {0, 1}, result.output
    return result.stdout


@pytest.mark.parametrize(("n", "text"), [(999, "999"), (1296, "1.3K"), (9408, "9.4K"), (9960, "10K"), (21248, "21K")])
def test_short_counts(n: int, text: str) -> None:
    assert short(n) == text


def test_the_rows_use_one_style_for_counts() -> None:
    for a, b in (("alexnet", "zfnet"), ("googlenet", "resnet18"), ("lenet5", "vgg11")):
        diff = compare(analyze(open_spec(a)), analyze(open_spec(b)), ())
        for rd in diff.rows:
            for cell in cells(rd)[5:]:
                for part in cell.split(" → "):
                    assert COUNT.fullmatch(part) or re.fullmatch(r"[\d,]+", part), (a, b, cell)


def test_two_counts_that_read_alike_are_given_in_full() -> None:
    a = analyze(load_spec("a.yaml", "input: 8x8x1\nlayers: [fc-432]"))  # 27,648 + 432 params
    b = analyze(load_spec("b.yaml", "input: 8x8x1\nlayers: [fc-433]"))  # 27,712 + 433
    conv = compare(a, b, ()).rows[1]
    assert cells(conv)[5] == "28,080 → 28,145"  # both 28K: the style would hide the change
    assert cells(conv)[6] == "27,648 → 27,712"


def test_a_rename_does_not_crowd_the_name_column() -> None:
    a = analyze(open_spec("googlenet"))
    b = analyze(open_spec("resnet18"))
    first = compare(a, b, ()).rows[1]
    table = cells(first, beneath=True)
    assert table[2] == "conv1"
    assert table[3].startswith("renamed from conv1/7x7_s2; bias yes → no")
    assert cells(first)[2] == "conv1/7x7_s2 → conv1"  # Markdown has room for both
    out = " ".join(_diff("googlenet", "resnet18").split())
    assert "conv1 112x112x64 9.5K → 9.4K 118M" in out


def test_the_same_name_on_both_sides_is_titled_by_the_files(tmp_path: Path) -> None:
    text = "name: Net\ninput: 8x8x3\nlayers: [conv3-8]\n"
    (tmp_path / "before.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "after.yaml").write_text(text.replace("conv3-8", "conv3-16"), encoding="utf-8")
    a, b = (analyze(load_spec(tmp_path / f)) for f in ("before.yaml", "after.yaml"))
    diff = compare(a, b, ())
    assert title(diff) == "before.yaml → after.yaml"
    assert sides(diff) == ("before.yaml", "after.yaml")
    out = _diff(str(tmp_path / "before.yaml"), str(tmp_path / "after.yaml"))
    assert out.splitlines()[0] == "before.yaml → after.yaml"
    assert "Net → Net" not in out
    # Two files of the same name: their paths; the same file twice: A and B in the totals.
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "before.yaml").write_text(text, encoding="utf-8")
    again = compare(a, analyze(load_spec(tmp_path / "x" / "before.yaml")), ())
    assert title(again) == f"{tmp_path / 'before.yaml'} → {tmp_path / 'x' / 'before.yaml'}"
    assert sides(compare(a, a, ())) == ("A", "B")


def test_depth_folds_both_networks_before_comparing() -> None:
    a, b = analyze(open_spec("resnet18")), analyze(open_spec("resnet34"))
    folded = compare(fold(a, 1), fold(b, 1), ())
    assert folded.count(Status.ADDED) == 8  # resnet34's eight extra blocks, one row each
    assert folded.count(Status.CHANGED) == 0
    data = json.loads(_diff("resnet18", "resnet34", "--depth", "1", "--format", "json"))
    assert len(data["rows"]) == len(folded.rows)
    assert data["totals"] == json.loads(_diff("resnet18", "resnet34", "--format", "json"))["totals"]
    out = _diff("resnet18", "resnet34", "--depth", "1")
    assert "8 added, 0 removed, 0 changed" in out
    assert "layer3.5" in out
    assert "conv3-64 p1" not in out  # the blocks' layers are folded away


HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=https://example.invalid/x.png onerror=alert(2)>",
    "<details open><summary>x</summary>y</details>",
    "![pixel](https://example.invalid/pixel.png)",
    "[click](https://example.invalid)",
    "https://example.invalid/bare",
    "www.example.invalid",
    "`code` **bold** | pipe &amp; <b>",
]


def test_the_markdown_of_hostile_names_renders_inert(tmp_path: Path) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    layers = "".join(f"  - layer: conv3-{4 + i}\n    name: {json.dumps(n)}\n" for i, n in enumerate(HOSTILE))
    a = tmp_path / "<b>a<i>.yaml"
    b = tmp_path / "[b](https:x).yaml"
    a.write_text(f"name: {json.dumps(HOSTILE[0])}\ninput: 32x32x3\nlayers:\n{layers}", encoding="utf-8")
    b.write_text(
        f"name: {json.dumps(HOSTILE[1])}\ninput: 32x32x3\nlayers:\n{layers.replace('conv3-', 'conv3-1')}",
        encoding="utf-8",
    )
    diff = compare(analyze(load_spec(a)), analyze(load_spec(b)), ())
    text = render_markdown(diff, everything=True)
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").enable("strikethrough").render(text)
    for tag in ("<script", "<img", "<details", "<a ", "<b>", "<i>", "<code", "<strong", "<summary"):
        assert tag not in html, tag
    assert "https\\://" in text  # an escaped : starts no autolink (GFM's extended autolinks)
    assert "www\\." in text
    # Each name reads as written once rendered: markup as text, on one line, in its cell.
    for name in HOSTILE:
        rendered = name.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        assert rendered in html, name
    assert html.count("<tr>") == len(HOSTILE) + 2 + 7  # header, rows (input included), totals' header and rows


def test_md_escape_keeps_a_line_and_its_cell() -> None:
    assert md_escape("a\nb|c") == "a b\\|c"
    assert md_escape("\x1b[2J") == "\\\\x1b\\[2J"  # inert first, then its backslash escaped
    assert md_escape("CONV3-64 p1, 11x11/4") == "CONV3-64 p1, 11x11/4"  # nothing to escape: as it is
