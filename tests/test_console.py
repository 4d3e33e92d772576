"""The tables of `show`, `list` and `diff` on a rich console: colour, width and wide characters as rich does them."""

from __future__ import annotations

import re
import textwrap
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from rich.cells import cell_len
from rich.text import Text

from convcalc import analyze, load_spec
from convcalc.cli import main
from convcalc.diff import compare
from convcalc.render import diff_table, table
from convcalc.render.layout import Columns, fit, measure, printable, wrap

if TYPE_CHECKING:
    import io
    from collections.abc import Callable
    from pathlib import Path

    from click.testing import Result
    from rich.console import Console

# Every variable rich reads for colour and width, unset unless a test sets it.
_CLEAN = dict.fromkeys(("NO_COLOR", "FORCE_COLOR", "COLORTERM", "COLUMNS", "LINES", "TTY_COMPATIBLE"))
_COMMANDS = (["show", "alexnet", "--input", "224x224x3"], ["list"], ["diff", "alexnet", "zfnet"])
_ESCAPE = "\x1b"
_SGR = re.compile(r"\x1b\[([0-9;]*)m")

WIDE = """\
    name: 幅の広い名前
    input: 8x8x3
    layers:
      - {layer: conv3-4, name: "畳み込み層その一"}
      - {layer: relu, name: "ok 👍🏽 done"}
      - {layer: conv1-4, name: "zero\\u200bwidth\\u200bspaces"}
      - {layer: relu, name: "a\\tb"}
      - {layer: conv1-4, name: plain}
    """


def invoke(args: list[str], **env: str) -> Result:
    result = CliRunner().invoke(main, args, env={**_CLEAN, "TERM": "xterm-256color", **env})
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def table_lines(text: str) -> list[str]:
    """The header and the row lines of a table: from the line above the rule to the first blank line."""
    lines = text.splitlines()
    rule = next(i for i, line in enumerate(lines) if line.startswith("───"))
    end = lines.index("", rule)
    return [lines[rule - 1], *(line for line in lines[rule + 1 : end] if not line.startswith("  "))]


@pytest.mark.slow
@pytest.mark.parametrize("args", _COMMANDS)
def test_no_color_gives_no_escape_codes(args: list[str]) -> None:
    result = invoke(args, NO_COLOR="1")
    assert result.stdout.count("\n") > 10
    assert _ESCAPE not in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize("args", _COMMANDS)
def test_force_color_gives_colour(args: list[str]) -> None:
    result = invoke(args, FORCE_COLOR="1")
    assert _SGR.search(result.stdout), result.stdout
    plain = _SGR.sub("", result.stdout)
    assert plain == invoke(args).stdout  # the same text, only styled


def test_force_color_styles_the_flagged_rows() -> None:
    lines = invoke(["show", "alexnet", "--input", "224x224x3"], FORCE_COLOR="1").stdout.splitlines()
    assert next(line for line in lines if "CONV1" in line).startswith("\x1b[1;31m")  # an error: bold red
    assert next(line for line in lines if "CONV2" in line).startswith(" 4 ")  # no problem: plain
    diff = invoke(["diff", "alexnet", "zfnet"], FORCE_COLOR="1").stdout.splitlines()
    assert next(line for line in diff if "CONV1" in line).startswith("\x1b[33m~")  # changed: yellow


def test_no_color_keeps_bold_but_drops_colours_on_a_forced_terminal() -> None:
    """rich's reading of NO_COLOR (no-color.org asks for no colour): bold and dim stay, colours go."""
    out = invoke(["show", "alexnet", "--input", "224x224x3"], NO_COLOR="1", FORCE_COLOR="1").stdout
    codes = set(_SGR.findall(out))
    assert codes == {"0", "1", "2"}, codes  # reset, bold, dim: no 31 (red)


@pytest.mark.parametrize(
    ("args", "name"), [(["show", "vgg16"], "CONV3-128"), (["diff", "alexnet", "zfnet"], "MAX POOL1")]
)
def test_columns_narrows_the_table(args: list[str], name: str) -> None:
    wide = invoke(args, COLUMNS="100").stdout
    narrow = invoke(args, COLUMNS="60").stdout
    assert max(cell_len(line) for line in narrow.splitlines()) <= 60
    assert max(cell_len(line) for line in wide.splitlines()) > 60
    assert f"   {name}   " in wide
    assert f"   {name[:7]}…   " in narrow  # the name column gave way, cut where rich would cut it


@pytest.mark.slow
def test_list_narrows_its_descriptions() -> None:
    narrow = invoke(["list"], COLUMNS="70").stdout
    assert max(cell_len(line) for line in narrow.splitlines()) <= 70
    assert "…" in narrow
    assert "alexnet" in narrow


def test_a_console_per_call() -> None:
    """Two calls in one process, each at its own width: no console is kept between commands."""
    first = invoke(["show", "vgg16"], COLUMNS="50").stdout
    second = invoke(["show", "vgg16"], COLUMNS="120").stdout
    assert max(map(cell_len, first.splitlines())) <= 50 < max(map(cell_len, second.splitlines()))


def test_a_very_narrow_console_cuts_every_line(plain_console: Callable[..., tuple[Console, io.StringIO]]) -> None:
    console, out = plain_console(width=30)
    table.render_table(analyze(load_spec("wide.yaml", textwrap.dedent(WIDE))), console)
    lines = out.getvalue().splitlines()
    assert max(map(cell_len, lines)) <= 30
    assert all(line.endswith("…") for line in table_lines(out.getvalue()))  # the name cannot give way enough


def test_wide_characters_keep_the_columns_aligned(plain_console: Callable[..., tuple[Console, io.StringIO]]) -> None:
    console, out = plain_console()
    table.render_table(analyze(load_spec("wide.yaml", textwrap.dedent(WIDE))), console)
    text = out.getvalue()
    lines = table_lines(text)
    assert text.startswith("幅の広い名前\n")
    assert len(lines) == 7  # the header and six rows
    assert any("畳み込み層その一" in line for line in lines)
    assert any("ok 👍🏽 done" in line for line in lines)
    assert any("zero\u200bwidth\u200bspaces" in line for line in lines)
    assert any(" a b " in line for line in lines)  # a tab in a name is a space
    # The last column is right-aligned: as rich measures them, every line ends at the same cell.
    assert {cell_len(line) for line in lines} == {cell_len(lines[0])}
    assert len({len(line) for line in lines}) > 1  # ...which counting characters would not give


def test_wide_characters_keep_the_diff_aligned(plain_console: Callable[..., tuple[Console, io.StringIO]]) -> None:
    a = analyze(load_spec("a.yaml", textwrap.dedent(WIDE)))
    b = analyze(load_spec("b.yaml", textwrap.dedent(WIDE).replace("8x8x3", "10x10x3")))
    console, out = plain_console()
    diff_table.render_table(compare(a, b, ()), console)
    header, *rows = table_lines(out.getvalue())
    rows = [line for line in rows if line.startswith("~")]  # not the summary beneath
    assert len(rows) == 6
    assert any("畳み込み層その一" in line for line in rows)
    assert {cell_len(line) for line in rows} == {cell_len(header)}  # MACs, the last column, right-aligned


ESCAPES = """\
    name: "\\e[2Jnet"
    description: "rings \\a and \\e]0;title\\a"
    input: 8x8x3
    layers:
      - {layer: conv3-4, name: "\\e[31mred\\e[0m"}
      - {layer: conv3-4 s2, name: "\\x9b31mcsi"}
    """


@pytest.mark.parametrize("force", ["", "1"])
def test_escape_sequences_in_a_spec_are_not_emitted(force: str, tmp_path: Path) -> None:
    path = tmp_path / "escapes.yaml"
    path.write_text(textwrap.dedent(ESCAPES), encoding="utf-8")
    for args in (["show", str(path)], ["diff", str(path), "alexnet"]):
        result = invoke(args, FORCE_COLOR=force)
        out = _SGR.sub("", result.stdout) if force else result.stdout  # rich's own codes, when forced
        assert "\x1b" not in out, args
        assert "\x07" not in out, args
        assert "\x9b" not in out, args
        assert r"\x1b[31mred\x1b[0m" in out, args
    shown = invoke(["show", str(path)]).stdout
    assert shown.startswith(r"\x1b[2Jnet — rings \x07 and \x1b]0;title\x07")
    assert r"\x9b31mcsi" in shown


def test_printable_and_fit() -> None:
    assert printable("conv3-64 畳み込み") == "conv3-64 畳み込み"
    assert printable("a\x1b[2Jb\x7f\n") == "a\\x1b[2Jb\\x7f\\n"  # a name stays on its row
    assert fit("INCEPTION_3A", 8) == "INCEPTI…"
    assert fit("卷积层卷积层", 7) == "卷积层…"
    assert cell_len(fit("卷积层卷积层", 6)) == 6  # a wide character that would be cut in half is a space
    assert fit("short", 8) == "short"
    assert fit("anything", 0) == ""


@pytest.mark.parametrize(
    ("cells", "line"),
    [
        (("ab", "cd", "7"), "ab     cd      7"),  # one cell a character: laid out by str.format
        (("卷积", "cd", "7"), "卷积   cd      7"),  # wide characters: padded by cells, not characters
        (("a\u200bb", "cd", "7"), "a\u200bb     cd      7"),  # a zero-width space takes no cell
        (("abcdef", "卷积层", "123"), "abc…   卷…   123"),  # cut to their columns
        (("ab", "", ""), "ab"),  # no trailing spaces
    ],
)
def test_columns_pad_and_cut_by_cells(cells: tuple[str, ...], line: str) -> None:
    columns = Columns([4, 3, 3], {2})
    assert columns.width == 16
    assert columns.line(cells, measure([cells])[0]) == line


def test_wrap_breaks_as_rich_does_but_keeps_a_mark_with_its_word(
    plain_console: Callable[..., tuple[Console, io.StringIO]],
) -> None:
    console, _ = plain_console()

    def lines(text: str, width: int) -> list[str]:
        return [line.plain for line in wrap(console, Text(text), width)]

    assert lines("the stride does not fit here", 12) == ["the stride", "does not fit", "here"]
    assert lines("✗ /a/long/path.yaml:4:40: check failed", 12) == ["✗ /a/long/pa", "th.yaml:4:40", ": check", "failed"]
    assert lines("✗ short words here", 8) == ["✗ short", "words", "here"]
    assert lines("x /a/long/path.yaml", 8) == ["x", "/a/long/", "path.yam", "l"]  # only a mark is kept
