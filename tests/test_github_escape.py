"""GitHub's workflow-command escaping (issue 24): `%` first, or a name holding `%0A` forges a line.

The runner decodes %0D, %0A, %3A and %2C, and %25 last; escaping must undo to the text itself
(docs.github.com, "Workflow commands for GitHub Actions"; actions/runner's ActionCommand).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from convcalc.render.github import Problem, annotation, escape


def _unescape(text: str) -> str:
    """What the runner reads: each escape back to its character, `%25` last."""
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ",")):
        text = text.replace(escaped, char)
    return text.replace("%25", "%")


def test_percent_is_escaped_first() -> None:
    assert escape("100%") == "100%25"
    assert escape("a%0Ab") == "a%250Ab"  # not a line feed when the runner reads it
    assert escape("x%3Ay", prop=True) == "x%253Ay"
    assert escape("line\nfeed\r") == "line%0Afeed%0D"
    assert escape("a:b,c", prop=True) == "a%3Ab%2Cc"
    assert escape("a:b,c") == "a:b,c"  # : and , only in properties


@given(st.text(alphabet="%0ADC32,:5\r\nx"), st.booleans())
def test_the_runner_reads_back_the_text_itself(text: str, prop: bool) -> None:  # noqa: FBT001
    assert _unescape(escape(text, prop=prop)) == text


def test_an_annotation_with_percent_escapes_in_its_texts_stays_one_command() -> None:
    line = annotation(Problem("error", "a%2Cb.yaml", 3, 5, "t%3Aitle", "m%0Ae"), "/nowhere")
    assert line == "::error file=a%252Cb.yaml,line=3,col=5,title=t%253Aitle::m%250Ae"
