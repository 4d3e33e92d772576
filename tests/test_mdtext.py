"""convcalc.render.mdtext: whatever the text, a CommonMark renderer shows exactly its characters."""

from __future__ import annotations

import html

from hypothesis import example, given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from convcalc.render.inert import inert
from convcalc.render.mdtext import inline, paragraph

# As GitHub renders before it sanitises: CommonMark, tables, raw HTML passed through.
MD = MarkdownIt("commonmark", {"html": True}).enable("table")
# Text rich in what Markdown reads: every ASCII punctuation mark, digits, spaces, line feeds, w.
MARKDOWNISH = st.text(st.sampled_from("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ \n\t1.w:/ab"), max_size=40)


def _shown(text: str) -> str:
    """What the page should say: the text on one line, its controls written out."""
    return inert(" ".join(text.splitlines()))


@given(st.one_of(MARKDOWNISH, st.text(max_size=40)))
@example("<script>ran()</script>")
@example("![x](http://198.51.100.1/x.png)")
@example("1. one")
@example("7) seven")
@example("---")
@example("  # heading #")
@example("&amp; &#60; &lt;")
@example("[x]: http://198.51.100.1/ref")
@example("\xa0a\u3000")
def test_a_paragraph_renders_as_its_characters(text: str) -> None:
    expected = _shown(text).strip()
    rendered = MD.render(paragraph(text))
    if not expected:
        assert rendered == "", rendered
        return
    assert rendered.startswith("<p>"), rendered
    assert rendered.endswith("</p>\n"), rendered
    assert html.unescape(rendered[3:-5]) == expected


@given(st.one_of(MARKDOWNISH, st.text(max_size=40)))
@example("a | b\n| forged | row |")
@example("x\\")
@example("\xa0")
def test_a_table_cell_holds_its_characters(text: str) -> None:
    rendered = MD.render(f"| a | b |\n|--|--|\n| {inline(text)} | end |\n")
    body = rendered.split("<tbody>")[1]
    assert body.count("<td>") == 2, rendered
    cell = body.split("<td>")[1].split("</td>")[0]
    assert html.unescape(cell) == _shown(text).strip()  # a cell loses its outer spaces, Unicode ones too
    assert "<" not in cell
