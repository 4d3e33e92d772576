"""Output on a terminal that is not UTF-8 (cp1252, latin-1, ASCII): every command prints and exits as usual.

CliRunner writes to a UTF-8 buffer of its own, so these run convcalc in a subprocess with
PYTHONIOENCODING set, as a Windows console or a redirect there would.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from typing import TYPE_CHECKING

import pytest

from convcalc.render.fallback import FALLBACKS, ascii_form, data_ascii, encodable

if TYPE_CHECKING:
    from pathlib import Path

HOSTILE = textwrap.dedent(
    r"""
    name: "Net\x1b[2J\x1b]0;pwned\x07 \u202egnp.exe é"
    description: "✗ → ⌊x⌋ ≈ 畳み込み"
    input: 8x8x3
    layers:
      - conv: {filters: 4, size: 3}
        name: "=HYPERLINK(\"x\")\x1b[2J"
        expect: {params: 3}
      - conv: {filters: 4, size: 2, stride: 2}
        name: "conv \u202eright"
    """
)

# Every command and format. `{spec}` is the hostile spec above.
COMMANDS = [
    ["show", "vgg16"],
    ["show", "vgg16", "--format", "json"],
    ["show", "vgg16", "--format", "csv"],
    ["show", "vgg16", "--format", "markdown"],
    ["show", "vgg16", "--explain"],
    ["show", "{spec}"],
    ["show", "{spec}", "--explain"],
    ["show", "{spec}", "--format", "json"],
    ["show", "{spec}", "--format", "csv"],
    ["show", "{spec}", "--format", "markdown"],
    ["check", "{spec}", "vgg16"],
    ["check", "-v", "{spec}", "lenet5"],
    ["check", "--format", "json", "{spec}"],
    ["check", "--format", "github", "{spec}"],
    ["fit", "{spec}"],
    ["fit", "alexnet", "--max", "300"],
    ["diff", "alexnet", "zfnet"],
    ["diff", "{spec}", "lenet5"],
    ["diff", "{spec}", "lenet5", "--format", "markdown"],
    ["diff", "{spec}", "lenet5", "--format", "json"],
    ["list"],
    ["layer", "32x32x3", "conv5-10 s1 p2", "maxpool2 s2"],
    ["layer", "32x32x3", "conv5-10 s2 p?"],
    ["draw", "{spec}", "-o", "-"],
    ["draw", "lenet5"],
    ["schema"],
    ["export", "lenet5"],
    ["check", "--help"],
    ["show", "no-such-spec ✗"],
]

# Runs each command in one interpreter (one process per encoding keeps this test quick), each
# output between markers, with the exit code; an exception's traceback goes to stderr.
DRIVER = textwrap.dedent(
    """
    import json, sys
    from convcalc.cli import main
    for args in json.loads(sys.argv[1]):
        print("<<<", flush=True)
        print("<<<", file=sys.stderr, flush=True)
        try:
            main.main(args, prog_name="convcalc")
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        else:
            code = 0
        sys.stdout.flush()
        sys.stderr.flush()
        print(">>>", code, flush=True)
    """
)


def _run_all(encoding: str, spec: Path) -> list[tuple[int, bytes, bytes]]:
    commands = [[a.replace("{spec}", str(spec)) for a in args] for args in COMMANDS]
    env = {**os.environ, "PYTHONIOENCODING": encoding, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(commands)], capture_output=True, env=env, check=False, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode("utf-8", "replace")
    outs = done.stdout.split(b"<<<\n")[1:]
    errs = done.stderr.split(b"<<<\n")[1:]
    assert len(outs) == len(errs) == len(COMMANDS)
    results = []
    for out, err in zip(outs, errs, strict=True):
        body, _, code = out.rpartition(b">>> ")
        results.append((int(code), body, err))
    return results


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[tuple[int, bytes, bytes]]]:
    spec = tmp_path_factory.mktemp("enc") / "net.yaml"
    spec.write_text(HOSTILE, encoding="utf-8")
    return {e: _run_all(e, spec) for e in ("utf-8", "cp1252", "latin-1", "ascii")}


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "ascii"])
def test_every_command_prints_and_exits_as_with_utf8(
    outputs: dict[str, list[tuple[int, bytes, bytes]]], encoding: str
) -> None:
    for args, (code, out, err), (utf8_code, _, _) in zip(COMMANDS, outputs[encoding], outputs["utf-8"], strict=True):
        text = (out + err).decode(encoding)  # every byte is one the encoding has
        assert "Traceback" not in text, (args, text)
        assert "UnicodeEncodeError" not in text, (args, text)
        assert code == utf8_code, (args, code, text)
        if encoding == "ascii":
            assert (out + err).isascii(), args
        assert "\x1b" not in text, args
        assert "\u202e" not in text, args


@pytest.mark.slow
def test_exit_codes_are_the_usual_ones(outputs: dict[str, list[tuple[int, bytes, bytes]]]) -> None:
    codes = {" ".join(args): code for args, (code, _, _) in zip(COMMANDS, outputs["utf-8"], strict=True)}
    assert codes["show vgg16"] == 0
    assert codes["show {spec}"] == 1  # its expectation fails
    assert codes["check --format github {spec}"] == 1
    assert codes["show no-such-spec ✗"] == 2
    assert codes["list"] == 0
    assert codes["schema"] == 0


@pytest.mark.slow
def test_ascii_forms_stand_in_for_what_ascii_lacks(outputs: dict[str, list[tuple[int, bytes, bytes]]]) -> None:
    ascii_ = {" ".join(args): (out, err) for args, (_, out, err) in zip(COMMANDS, outputs["ascii"], strict=True)}
    explain = ascii_["show vgg16 --explain"][0].decode("ascii")
    assert "H2 = W2 = (224 - 3 + 2*1)/1 + 1 = 224" in explain
    assert "backward ~ " in explain
    assert "?" not in explain
    check = ascii_["check -v {spec} lenet5"][0].decode("ascii")
    assert check.startswith("x ")  # ✗
    assert "\nok " in check  # ✓
    show = ascii_["show {spec}"][0].decode("ascii")
    kanji = "".join(f"\\u{ord(c):04x}" for c in "畳み込み")
    assert r"Net\x1b[2J\x1b]0;pwned\x07 \u202egnp.exe e -- x -> floor(x) ~ " + kanji in show
    err = ascii_["show no-such-spec ✗"][1].decode("ascii")
    assert err.startswith("no-such-spec x: error: no such file, and no built-in spec of that name")


@pytest.mark.slow
def test_data_formats_keep_every_character(outputs: dict[str, list[tuple[int, bytes, bytes]]]) -> None:
    for encoding in ("cp1252", "ascii"):
        runs = {" ".join(args): out for args, (_, out, _) in zip(COMMANDS, outputs[encoding], strict=True)}
        assert runs["show {spec} --format json"].isascii()  # valid UTF-8 whatever the console
        report = json.loads(runs["show {spec} --format json"])
        assert report["name"] == "Net\x1b[2J\x1b]0;pwned\x07 \u202egnp.exe é"
        svg = runs["draw {spec} -o -"].decode("ascii")
        assert "&#8594;" in svg  # → as an XML character reference
        assert runs["schema"].isascii()
        assert json.loads(runs["schema"]) == json.loads(outputs["utf-8"][COMMANDS.index(["schema"])][1])


def test_cp1252_show_vgg16_in_its_own_process() -> None:
    env = {**os.environ, "PYTHONIOENCODING": "cp1252", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "show", "vgg16"], capture_output=True, env=env, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == b""
    table = done.stdout.decode("cp1252")
    assert "batch 1 · float32" in table  # cp1252 has ·: it is kept
    assert "backward ≈" not in table
    assert "backward ~ " in table


@pytest.mark.slow
@pytest.mark.parametrize("encoding", ["cp1252", "ascii"])
def test_an_export_to_a_non_utf8_stdout_runs_and_holds_no_control_character(encoding: str, tmp_path: Path) -> None:
    spec = tmp_path / "hostile.yaml"
    spec.write_text('name: "Net\\x1b[2J\\u202e é→"\ninput: 8x8x3\nlayers: [conv3-8 p1, gap, fc-10]\n', encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": encoding, "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "export", str(spec)], capture_output=True, env=env, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert b"\x1b" not in done.stdout
    assert "\u202e".encode() not in done.stdout
    source = tmp_path / "net.py"
    source.write_bytes(done.stdout)  # as `convcalc export SPEC > net.py` leaves it
    compile(source.read_bytes(), str(source), "exec")  # the coding line (PEP 263) tells Python how to read it


def test_ascii_forms() -> None:
    assert ascii_form("✗") == "x"
    assert ascii_form("✓") == "ok"
    assert ascii_form("→") == "->"
    assert ascii_form("é") == "e"
    assert ascii_form("畳") == "\\u7573"
    assert ascii_form("😀") == "\\U0001f600"
    assert all(v.isascii() for v in FALLBACKS.values())
    assert encodable("⌊7/2⌋ · 3×3 …", "ascii") == "floor(7/2) * 3x3 ..."
    assert encodable("⌊7/2⌋ · 3×3 …", "cp1252") == "floor(7/2) · 3×3 …"
    assert encodable("plain", "ascii") == "plain"


def test_data_ascii() -> None:
    assert data_ascii('{"a": "→😀"}', "json") == '{"a": "\\u2192\\ud83d\\ude00"}'
    assert json.loads(data_ascii('{"a": "→😀"}', "json")) == {"a": "→😀"}
    assert data_ascii("<t>→</t>", "xml") == "<t>&#8594;</t>"
