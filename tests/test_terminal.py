"""The terminal writer of `show`'s table: widths, wrapping, colour, as rich does them."""

from __future__ import annotations

import io

import pytest

from convcalc.render.terminal import Terminal, cell_len, fit, wrap


def test_cell_widths() -> None:
    assert cell_len("conv3-64") == 8
    assert cell_len("卷积层") == 6  # wide characters take two columns
    assert cell_len("e\u0301") == 1  # a combining accent takes none
    assert fit("INCEPTION_3A", 8) == "INCEPTI…"
    assert fit("卷积层卷积层", 7) == "卷积层…"
    assert fit("short", 8) == "short"


def test_wrap_breaks_at_spaces_and_long_words_where_they_must() -> None:
    assert wrap("the stride does not fit here", 12) == ["the stride", "does not fit", "here"]
    assert wrap("abcdefghijkl", 5) == ["abcde", "fghij", "kl"]
    # A mark stays with the word after it, even when that word must be broken.
    assert wrap("✗ /a/long/path.yaml:4:40: check failed", 12) == ["✗ /a/long/pa", "th.yaml:4:40", ": check", "failed"]
    assert wrap("two  spaces", 4) == ["two", "spac", "es"]
    assert wrap("", 10) == [""]


def test_print_wraps_under_the_indent_or_crops() -> None:
    out = io.StringIO()
    term = Terminal(out, 20, color=False)
    term.print("one two three four five six", indent=4)
    term.print("a very long line that is cut", crop=True)
    assert out.getvalue() == "    one two three\n    four five six\na very long line th…\n"


def test_styles_only_with_colour() -> None:
    assert Terminal(io.StringIO(), 80, color=True).style("x", "bold red") == "\x1b[1;31mx\x1b[0m"
    assert Terminal(io.StringIO(), 80, color=False).style("x", "bold red") == "x"
    out = io.StringIO()
    Terminal(out, 80, color=True).print_parts([("VGG16", "bold"), (" — a network", "")])
    assert out.getvalue() == "\x1b[1mVGG16\x1b[0m — a network\n"


@pytest.mark.parametrize(
    ("env", "tty", "colour"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"TERM": "dumb"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_follows_the_conventions(
    env: dict[str, str],
    tty: bool,  # noqa: FBT001
    colour: bool,  # noqa: FBT001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    class Stream(io.StringIO):
        def isatty(self) -> bool:
            return tty

    assert Terminal(Stream()).color is colour


def test_width_from_columns_or_80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "123")
    assert Terminal(io.StringIO()).width == 123
    monkeypatch.delenv("COLUMNS")
    assert Terminal(io.StringIO()).width == 80  # not a terminal


def test_wrapping_keeps_words_whole_and_paragraphs_apart() -> None:
    assert wrap("xxxxxxxxx a abcdefghi", 10) == ["xxxxxxxxx", "a", "abcdefghi"]  # only a mark is kept with a word
    assert wrap("aaaa  bbbb", 4) == ["aaaa", "bbbb"]  # double spaces make no empty line
    out = io.StringIO()
    Terminal(out, 40, color=False).print_parts(
        [("lit", "bold"), (" — Short.\nSecond line, long enough to wrap once.", "")]
    )
    assert out.getvalue() == "lit — Short.\nSecond line, long enough to wrap once.\n"


def test_odd_columns_values(monkeypatch: pytest.MonkeyPatch) -> None:
    for value, width in (("\u00b2", 80), ("0", 80), ("-5", 80), ("abc", 80), ("1", 20), ("300", 300)):
        monkeypatch.setenv("COLUMNS", value)
        assert Terminal(io.StringIO()).width == width, value
