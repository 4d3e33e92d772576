"""The command line through click's CliRunner: exact exit codes and messages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import pytest
from click.testing import CliRunner

from convcalc.cli import main

if TYPE_CHECKING:
    from click.testing import Result


def run(*args: str, stdin: str | None = None) -> Result:
    result = CliRunner().invoke(main, list(args), input=stdin)
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "net.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_show_vgg16_table() -> None:
    result = run("show", "vgg16")
    assert result.exit_code == 0
    assert "138,357,544 (138.36 M) = 138,344,128 weights + 13,416 biases" in result.stdout
    assert "forward 60.95 MB" in result.stdout
    assert result.stderr == ""


def test_show_vgg16_json_totals_are_exact() -> None:
    result = run("show", "vgg16", "--format", "json")
    assert result.exit_code == 0
    totals = json.loads(result.stdout)["totals"]
    assert totals["params"] == 138_357_544
    assert totals["weights"] == 138_344_128
    assert totals["biases"] == 13_416
    assert totals["activations"] == 15_237_608
    assert totals["forward_bytes"] == 60_950_432
    assert totals["macs"] == 15_470_264_320


def test_alexnet_at_224_does_not_fit() -> None:
    result = run("show", "alexnet", "--input", "224x224x3")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    conv1 = next(i for i, line in enumerate(lines) if " CONV1 " in line)
    assert "54x54x96" in lines[conv1]
    beneath = " ".join(" ".join(lines[conv1 + 1 : conv1 + 4]).split())
    assert "✗ specs/alexnet.yaml:13:5: error: (224 − 11)/4 + 1 = 54.25: the stride does not fit" in beneath


def test_alexnet_at_224_floor_warns_and_passes() -> None:
    result = run("show", "alexnet", "--input", "224x224x3", "--rounding", "floor")
    assert result.exit_code == 0
    assert "warning: (224 − 11)/4 + 1 = 54.25: floored to 54x54" in " ".join(result.stdout.split())


def test_alexnet_at_227_is_clean() -> None:
    result = run("show", "alexnet")
    assert result.exit_code == 0
    assert "error" not in result.stdout
    assert "warning" not in result.stdout
    assert "62,378,344" in result.stdout


def test_json_diagnostics_also_on_stderr() -> None:
    result = run("show", "alexnet", "--input", "224x224x3", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["ok"] is False
    first = data["diagnostics"][0]
    assert (first["code"], first["path"], first["line"], first["column"]) == ("stride-does-not-fit", "1", 13, 5)
    note, first = result.stderr.splitlines()[:2]
    assert note == "note: the spec's expect: answers are not checked, as --input changes the network"
    assert first.startswith("specs/alexnet.yaml:13:5: error: (224 − 11)/4 + 1 = 54.25")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "input: 32x32x3\nlayers:\n  - conv3-8\n  - [unclosed\n",
            "5:1: error: YAML: did not find expected ',' or ']'",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv3-8\n  - convolve3-8\n",
            "4:5: error: unknown layer kind 'convolve3-8'; did you mean 'conv'?",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv: {size: 3}\n",
            "3:11: error: conv needs `filters` (the number of filters K)",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv: {filters: 8, size: 3, stride: 0}\n",
            "3:41: error: stride must be positive, got 0",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv3-8 s0\n",
            "3:5: error: stride must be positive, got 0",
        ),
        (
            "input: 32x32x3\ninput: 64x64x3\nlayers: [conv3-8]\n",
            "2:1: error: duplicate key 'input' (first given at line 1)",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv: {filters: 8, size: 3, fliters: 2}\n",
            "3:33: error: unknown parameter 'fliters' for conv; did you mean 'filters'?",
        ),
        (
            "input: 32x32x3\nlayers:\n  - conv3-8 q4\n",
            "3:5: error: unknown token 'q4' in 'conv3-8 q4'; did you mean 's4'? conv is written conv<F>-<K>",
        ),
        (
            "input: 32x32x3\nlayer:\n  - conv3-8\n",
            "2:1: error: unknown key 'layer' in the spec; did you mean 'layers'?",
        ),
        (
            "input: !!python/object/apply:os.system [ls]\nlayers: []\n",
            "1:8: error: YAML: the tag '!!python/object/apply:os.system' is not allowed",
        ),
    ],
)
def test_unreadable_specs_exit_2_with_location(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    result = run("show", path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith(f"{path}:{message}")
    assert result.stderr.count("\n") == 1


def test_missing_spec_suggests_builtin() -> None:
    result = run("show", "alexnte")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "alexnte: error: no such file, and no built-in spec of that name; did you mean 'alexnet'?"
    )


def test_spec_from_stdin() -> None:
    result = run("show", "-", "--format", "csv", stdin="input: 32x32x3\nlayers: [conv5-10 s1 p2]\n")
    assert result.exit_code == 0
    assert "\n1,1,CONV5-10,conv,conv5-10 p2,32x32x10,10240,40960,760,750,10," in result.stdout


def test_bad_input_option_exits_2() -> None:
    result = run("show", "vgg16", "--input", "224by224")
    assert result.exit_code == 2
    assert result.stderr.startswith("--input: error: input '224by224' is not a volume")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("7x7", "input 7x7 has two numbers: write 7x7x1 for a 7x7 image with one channel, or {length: 7, depth: 7}"),
        ("Hx2Wx3", "'2W' is neither a number nor a symbol"),
        ("HxWxC", "its depth 'C' must be a number"),
    ],
)
def test_ambiguous_or_unreadable_inputs_exit_2(given: str, said: str) -> None:
    for args in (("layer", given, "conv3-1 p1"), ("show", "vgg16", "--input", given)):
        result = run(*args)
        assert result.exit_code == 2
        assert said in result.stderr


def test_design_error_that_stops_the_walk(tmp_path: Path) -> None:
    path = write(tmp_path, "input: 4x4x3\nlayers:\n  - conv3-8\n  - conv3-8\n  - conv3-8\n")
    result = run("show", path, "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert [row["output"] for row in data["layers"]] == [[4, 4, 3], [2, 2, 8], None]
    assert data["totals"]["output"] is None
    assert result.stderr.startswith(
        f"{path}:4:5: error: height: the 3-wide conv window is larger than the padded input"
    )


def test_batch_and_dtype_scale_memory() -> None:
    result = run("show", "vgg16", "--format", "json", "--batch", "2", "--dtype", "float16")
    totals = json.loads(result.stdout)["totals"]
    assert totals["forward_bytes"] == 15_237_608 * 2 * 2
    assert totals["macs"] == 2 * 15_470_264_320


def test_binary_units() -> None:
    result = run("show", "vgg16", "--binary")
    assert "forward 58.13 MiB" in result.stdout


def test_markdown_format() -> None:
    result = run("show", "vgg16", "--format", "markdown")
    assert result.exit_code == 0
    assert "| 19 | FC-4096 | 4096 | 4096 | 102,764,544 | 103M | 224 |" in result.stdout


def test_list_shows_builtins() -> None:
    result = run("list")
    assert result.exit_code == 0
    assert "vgg16" in result.stdout
    assert "138.36 M" in result.stdout
    assert "alexnet" in result.stdout


def test_unknown_option_is_a_usage_error() -> None:
    result = run("show", "vgg16", "--fromat", "json")
    assert result.exit_code == 2
    assert "No such option '--fromat'. Did you mean '--format'?" in result.stderr


@pytest.mark.slow
def test_json_does_not_import_rich() -> None:
    code = (
        "import sys\nfrom convcalc.cli import main\n"
        "try:\n    main(['show', 'vgg16', '--format', 'json'], standalone_mode=False)\n"
        "finally:\n    print(sorted(m for m in sys.modules if m.split('.')[0] == 'rich'), file=sys.stderr)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.strip() == "[]"
    assert json.loads(done.stdout)["totals"]["params"] == 138_357_544


def test_python_dash_m() -> None:
    done = subprocess.run([sys.executable, "-m", "convcalc", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("0.1.0")


def test_shell_completion_of_builtin_names() -> None:
    from click.shell_completion import ShellComplete  # noqa: PLC0415

    complete = ShellComplete(main, {}, "convcalc", "_CONVCALC_COMPLETE")
    for command in ("show", "check", "fit", "draw", "export", "diff"):
        found = complete.get_completions([command], "vg")
        assert [c.value for c in found if c.type == "plain"] == ["vgg11", "vgg13", "vgg16", "vgg19"]
        assert found[0].type == "file"  # and files, which the shell completes itself
    commands = complete.get_completions([], "")
    assert [c.value for c in commands] == [
        "show",
        "check",
        "layer",
        "fit",
        "diff",
        "list",
        "export",
        "draw",
        "schema",
        "import",
    ]


def test_bash_completion_script() -> None:
    result = CliRunner().invoke(main, [], env={"_CONVCALC_COMPLETE": "bash_source"}, prog_name="convcalc")
    assert result.exit_code == 0
    assert "_convcalc_completion()" in result.stdout
    assert "complete -o nosort -F _convcalc_completion convcalc" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("command", [["show", "vgg16"], ["show", "vgg16", "--format", "json"], ["export", "lenet5"]])
def test_a_full_disk_is_an_error_not_a_traceback(command: list[str]) -> None:
    with Path("/dev/full").open("w", encoding="utf-8") as full:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", *command], stdout=full, stderr=subprocess.PIPE, text=True, check=False
        )
    assert done.returncode == 2
    assert done.stderr == "error: cannot write the output: No space left on device\n"


BASH, CONVCALC = shutil.which("bash"), shutil.which("convcalc")


@pytest.mark.slow
@pytest.mark.skipif(BASH is None or CONVCALC is None, reason="needs bash and an installed convcalc")
def test_bash_completes_builtin_names(tmp_path: Path) -> None:
    """The script click writes, run by bash as a <TAB> runs it (bash passes the command as $1)."""
    assert BASH is not None
    assert CONVCALC is not None
    (tmp_path / "vgg_notes.txt").write_text("a file that also starts with vg\n", encoding="utf-8")
    env = {**os.environ, "_CONVCALC_COMPLETE": "bash_source"}
    script = subprocess.run([CONVCALC], env=env, capture_output=True, text=True, check=True).stdout
    tab = (
        "COMP_WORDS=(convcalc show vg); COMP_CWORD=2; "
        f'_convcalc_completion {CONVCALC} 2>/dev/null; printf "%s\\n" "${{COMPREPLY[@]}}"'
    )
    done = subprocess.run(
        [BASH, "--norc", "-c", f"{script}\n{tab}"], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    assert done.stdout.split() == ["vgg11", "vgg13", "vgg16", "vgg19"]


def test_an_os_error_on_input_names_the_path_not_the_output() -> None:
    name = "a" * 5000 + "*"  # too long a file name for the system to look at
    result = CliRunner().invoke(main, ["check", name])
    assert result.exit_code == 2
    assert result.stderr == f"{name}: error: File name too long\n"


BUG_LINE = (
    "convcalc {}: internal error: RuntimeError: a bug planted by the test (a bug in convcalc; "
    "please report it, with the traceback that CONVCALC_TRACEBACK=1 shows)\n"
)


def _plant_a_bug(monkeypatch: pytest.MonkeyPatch, module: str) -> None:
    def analyze(*_args: object, **_kwargs: object) -> NoReturn:
        raise RuntimeError("a bug planted\n by the test")  # a newline too: the message stays one line

    monkeypatch.setattr(f"convcalc.cli.{module}.analyze", analyze)


@pytest.mark.parametrize(
    ("module", "args"),
    [
        ("show", ["show", "vgg16"]),
        ("show", ["show", "vgg16", "--format", "json"]),
        ("check", ["check", "lenet5"]),
        ("layer", ["layer", "32x32x3", "conv5-10 s1 p2"]),
        ("diff", ["diff", "vgg11", "vgg16"]),
    ],
)
def test_an_unexpected_exception_is_one_line_and_exit_70(
    monkeypatch: pytest.MonkeyPatch, module: str, args: list[str]
) -> None:
    _plant_a_bug(monkeypatch, module)
    monkeypatch.delenv("CONVCALC_TRACEBACK", raising=False)
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 70
    assert isinstance(result.exception, SystemExit)
    assert result.stderr == BUG_LINE.format(args[0])
    assert "Traceback" not in result.output


@pytest.mark.parametrize("value", ["", "0"])
def test_an_empty_or_zero_convcalc_traceback_shows_none(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    _plant_a_bug(monkeypatch, "show")
    result = CliRunner().invoke(main, ["show", "vgg16"], env={"CONVCALC_TRACEBACK": value})
    assert result.exit_code == 70
    assert result.stderr == BUG_LINE.format("show")


def test_convcalc_traceback_shows_the_traceback_before_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _plant_a_bug(monkeypatch, "show")
    result = CliRunner().invoke(main, ["show", "vgg16"], env={"CONVCALC_TRACEBACK": "1"})
    assert result.exit_code == 70
    assert result.stderr.startswith("Traceback (most recent call last):\n")
    assert "in show\n    report = analyze(loaded)\n" in result.stderr
    assert "RuntimeError: a bug planted\n by the test\n" in result.stderr
    assert result.stderr.endswith(BUG_LINE.format("show"))


@pytest.mark.parametrize("command", [["show", "vgg16"], ["show", "vgg16", "--format", "json"], ["check", "vgg16"]])
def test_an_interrupt_exits_130_quietly_not_as_a_bug(monkeypatch: pytest.MonkeyPatch, command: list[str]) -> None:
    """Ctrl-C: the code a shell gives a process SIGINT ended (128 + 2), no traceback (issue 13, point 6)."""

    def analyze(*_args: object, **_kwargs: object) -> NoReturn:
        raise KeyboardInterrupt

    monkeypatch.setattr(f"convcalc.cli.{command[0]}.analyze", analyze)
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 130
    assert result.stderr == "convcalc: interrupted\n"


def _into_a_closed_pipe(args: list[str]) -> tuple[int, bytes]:
    """Run convcalc with its standard output a pipe whose reader has already gone, as `| head` leaves it."""
    env = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
    read_end, write_end = os.pipe()
    os.close(read_end)  # the first write meets EPIPE, whatever the size of the pipe's buffer
    try:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", *args], stdout=write_end, stderr=subprocess.PIPE, env=env,
            check=False, timeout=120,
        )  # fmt: skip
    finally:
        os.close(write_end)
    return done.returncode, done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ["show", "{big}"],
        ["show", "{big}", "--format", "json"],
        ["show", "{big}", "--format", "csv"],
        ["show", "{big}", "--format", "markdown"],
        ["show", "{big}", "--explain"],
        ["check", "{big}", "--format", "json"],
        ["diff", "{big}", "{other}"],
        ["diff", "{big}", "{other}", "--format", "json"],
        ["schema"],
        ["layer", "32x32x3", "conv5-10 s1 p2"],
        ["export", "{big}"],
        ["draw", "{big}"],
        ["list"],
    ],
)
def test_a_closed_pipe_ends_quietly_with_141_whatever_the_command(args: list[str], tmp_path: Path) -> None:
    """The reader went away (`| head`): 128 + SIGPIPE, as a shell reports a Unix tool's, and nothing said."""
    big, other = tmp_path / "big.yaml", tmp_path / "other.yaml"
    big.write_text("input: 8x8x8\nlayers:\n  - repeat: 300\n    layers: [conv3-8 p1]\n", encoding="utf-8")
    other.write_text("input: 8x8x8\nlayers:\n  - repeat: 300\n    layers: [conv3-16 p1]\n", encoding="utf-8")
    assert _into_a_closed_pipe([a.format(big=big, other=other) for a in args]) == (141, b"")


def test_a_bug_in_a_real_process_is_one_line_on_stderr(tmp_path: Path) -> None:
    """Through the interpreter, as a user meets it: the line, exit 70, nothing on stdout."""
    code = (
        "import sys, convcalc.cli.show as show\n"
        "def analyze(*args): raise RuntimeError('a bug planted by the test')\n"
        "show.analyze = analyze\n"
        "sys.argv = ['convcalc', 'show', 'vgg16']\n"
        "from convcalc.cli import main\n"
        "main()\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "CONVCALC_TRACEBACK"}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env, cwd=tmp_path
    )
    assert done.returncode == 70
    assert done.stdout == ""
    assert done.stderr == BUG_LINE.format("show")
