"""Standard streams at their edges: closed, closing mid-write, endless, and an unwritable step summary.

Real processes where the kernel is the point (a closed descriptor, a pipe whose reader goes
away); in-process runs for the branches. Each command in turn is in the slow tier.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import NoReturn

import click
import pytest
from click.testing import CliRunner

from convcalc.cli import main, streams
from convcalc.errors import OutputError, SpecError
from convcalc.spec.loader import MAX_FILE_BYTES, read_stdin

ENV = {**os.environ, "NO_COLOR": "1", "TERM": "dumb", "COLUMNS": "100"}
BIG = "input: 8x8x8\nlayers:\n  - repeat: 2000\n    layers: [conv3-8 p1]\n"  # every output well over 64 kB
OTHER = BIG.replace("conv3-8", "conv3-16")
CLOSED = b"error: cannot write the output: standard output is closed\n"
TOO_BIG = f"<stdin>: error: standard input is over {MAX_FILE_BYTES:,} bytes, the limit for a spec (docs/limits.md)\n"

# Every command, and the group's own options; {big} and {other} are specs with outputs over a pipe's 64 kB.
EVERY_COMMAND = [
    ["show", "{big}"],
    ["show", "{big}", "--format", "json"],
    ["check", "{big}", "-v"],
    ["check", "{big}", "--format", "github"],
    ["layer", "32x32x3", "conv5-10 s1 p2"],
    ["fit", "{big}"],
    ["fit", "{big}", "--list", "--max", "8"],
    ["diff", "{big}", "{other}"],
    ["list"],
    ["export", "{big}"],
    ["draw", "{big}", "--full"],
    ["schema"],
    ["import", "{onnx}"],
    ["--help"],
    ["--version"],
    ["show", "--help"],
]
# Over 64 kB, so that a reader can close mid-way (check and fit say a few lines about any spec).
BIG_OUTPUT = [a for a in EVERY_COMMAND if "{big}" in a and a[0] not in {"check", "fit"}]


@pytest.fixture
def specs(tmp_path: Path) -> dict[str, str]:
    big, other = tmp_path / "big.yaml", tmp_path / "other.yaml"
    big.write_text(BIG, encoding="utf-8")
    other.write_text(OTHER, encoding="utf-8")
    return {"big": str(big), "other": str(other), "onnx": str(tmp_path / "net.onnx")}


def _args(args: list[str], specs: dict[str, str]) -> list[str]:
    if "{onnx}" in args:
        _onnx(Path(specs["onnx"]))
    return [a.format(**specs) for a in args]


def _onnx(path: Path) -> None:
    """A one-conv ONNX model, made with onnx's helpers (no torch)."""
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper  # noqa: PLC0415

    weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.0] * 108)
    node = helper.make_node("Conv", ["x", "w"], ["y"], "/conv/Conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1])
    graph = helper.make_graph(
        [node],
        "net",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 8, 8])],
        [weight],
    )
    onnx.save(helper.make_model(graph), str(path))


def _close_stdout() -> None:  # pragma: no cover - runs in the child
    os.close(1)


def _with_stdout_closed(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    """`convcalc ARGS >&-`."""
    return subprocess.run(
        [sys.executable, "-m", "convcalc", *args],
        stdout=subprocess.DEVNULL,  # replaced: the child closes its descriptor 1 before convcalc starts
        stderr=subprocess.PIPE,
        preexec_fn=_close_stdout,
        env=ENV,
        check=False,
        timeout=120,
    )


@pytest.mark.slow
def test_closed_stdout_is_one_line_and_exit_2() -> None:
    done = _with_stdout_closed(["show", "vgg16"])
    assert (done.returncode, done.stderr) == (2, CLOSED)


@pytest.mark.slow
@pytest.mark.parametrize("args", EVERY_COMMAND, ids=" ".join)
def test_closed_stdout_is_one_line_and_exit_2_for_every_command(args: list[str], specs: dict[str, str]) -> None:
    done = _with_stdout_closed(_args(args, specs))
    assert (done.returncode, done.stderr) == (2, CLOSED)


@pytest.mark.slow
def test_a_command_that_prints_nothing_runs_with_stdout_closed(tmp_path: Path) -> None:
    """Only a write fails: `draw -o FILE >&-` writes its file, and its file does not become descriptor 1."""
    out = tmp_path / "net.svg"
    done = _with_stdout_closed(["draw", "lenet5", "-o", str(out)])
    assert done.returncode == 0
    assert done.stderr.startswith(f"wrote {out} (".encode())
    assert out.read_bytes().startswith(b"<?xml")


def _reader_goes_away(args: list[str], *, unbuffered: bool) -> tuple[int, bytes, int]:
    """`convcalc ARGS | head -c 100`: the reader takes 100 bytes, then closes while convcalc writes."""
    env = {k: v for k, v in ENV.items() if k != "PYTHONUNBUFFERED"}
    if unbuffered:
        env["PYTHONUNBUFFERED"] = "1"  # as in many CI images: Python's stdout then took a short write as done
    with subprocess.Popen(
        [sys.executable, "-m", "convcalc", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    ) as child:
        assert child.stdout is not None
        assert child.stderr is not None
        got = child.stdout.read(100)
        child.stdout.close()
        err = child.stderr.read()
        return child.wait(timeout=120), err, len(got)


@pytest.mark.slow
@pytest.mark.parametrize("unbuffered", [True, False], ids=["PYTHONUNBUFFERED", "buffered"])
def test_a_reader_that_closes_mid_write_gives_141_silently(unbuffered: bool, specs: dict[str, str]) -> None:  # noqa: FBT001
    assert _reader_goes_away(_args(["show", "{big}", "--format", "json"], specs), unbuffered=unbuffered) == (
        141,
        b"",
        100,
    )


@pytest.mark.slow
@pytest.mark.parametrize("args", BIG_OUTPUT, ids=" ".join)
def test_a_reader_that_closes_mid_write_gives_141_for_every_command(args: list[str], specs: dict[str, str]) -> None:
    assert _reader_goes_away(_args(args, specs), unbuffered=True) == (141, b"", 100)


@pytest.mark.slow
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["show", "--help"]], ids=" ".join)
def test_help_and_version_into_a_closed_pipe_give_141(args: list[str]) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", *args], stdout=write_end, stderr=subprocess.PIPE, env=ENV,
            check=False, timeout=60,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert (done.returncode, done.stderr) == (141, b"")


# In-process: the branches, with the failure planted ------------------------------------------------


def _failing(error: Exception) -> object:
    def fail(*_: object, **__: object) -> NoReturn:
        raise error

    return fail


@pytest.mark.parametrize(
    ("error", "code", "stderr"),
    [
        (OSError(errno.EBADF, "Bad file descriptor"), 2, "error: cannot write the output: standard output is closed\n"),
        (
            OSError(errno.ENOSPC, "No space left on device"),
            2,
            "error: cannot write the output: No space left on device\n",
        ),
        (BrokenPipeError(errno.EPIPE, "Broken pipe"), 141, ""),
    ],
)
def test_the_group_s_own_options_map_output_errors(
    monkeypatch: pytest.MonkeyPatch, error: OSError, code: int, stderr: str
) -> None:
    monkeypatch.setattr(click.decorators, "echo", _failing(error))  # what --version prints with
    result = CliRunner().invoke(main, ["--version"])
    assert (result.exit_code, result.stderr) == (code, stderr)


def test_another_error_of_the_group_s_options_is_not_taken_for_the_output(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(click.decorators, "echo", _failing(PermissionError(errno.EACCES, "Permission denied")))
    result = CliRunner().invoke(main, ["--version"])
    assert isinstance(result.exception, PermissionError)


def test_a_command_s_closed_stdout_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("convcalc.cli.schema.echo_data", _failing(OSError(errno.EBADF, "Bad file descriptor")))
    result = CliRunner().invoke(main, ["schema"])
    assert (result.exit_code, result.stderr) == (2, CLOSED.decode())


class _FlushFails(io.StringIO):
    """A stream whose first flush fails (the runner's own flush, after the command, then holds)."""

    def __init__(self, error: OSError) -> None:
        super().__init__()
        self.error: OSError | None = error

    def flush(self) -> None:
        error, self.error = self.error, None
        if error is not None:
            raise error


@pytest.mark.parametrize(
    ("error", "code"), [(OSError(errno.EBADF, "Bad file descriptor"), 2), (BrokenPipeError(errno.EPIPE, "x"), 141)]
)
def test_what_is_still_buffered_at_exit_is_written_or_mapped(
    monkeypatch: pytest.MonkeyPatch, error: OSError, code: int
) -> None:
    """The flush at exit: output that nothing flushed before (a plain print) fails there."""

    def leave_it_buffered(*_: object, **__: object) -> None:
        sys.stdout = _FlushFails(error)  # the runner puts its own stream back afterwards

    monkeypatch.setattr("convcalc.cli.schema.echo_data", leave_it_buffered)
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == code


def test_whole_writes_write_every_byte_of_short_writes(monkeypatch: pytest.MonkeyPatch) -> None:
    read_end, write_end = os.pipe()
    real = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real(fd, bytes(data[:7])))  # 7 bytes a call, as a pipe may
    raw = streams._WholeWrites(write_end)  # noqa: SLF001 - the class under test
    try:
        assert raw.writable()
        assert raw.fileno() == write_end
        assert not raw.isatty()
        assert raw.write(b"0123456789" * 5) == 50
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        assert pipe.read() == b"0123456789" * 5


@pytest.mark.parametrize("buffering", [0, -1], ids=["unbuffered", "buffered"])
def test_stdout_on_a_descriptor_is_made_to_write_whole(monkeypatch: pytest.MonkeyPatch, buffering: int) -> None:
    read_end, write_end = os.pipe()
    binary = open(write_end, "wb", buffering=buffering)  # noqa: PTH123, SIM115 - a descriptor, as Python's stdout
    old = io.TextIOWrapper(binary, encoding="latin-1", errors="strict", write_through=buffering == 0)
    monkeypatch.setattr(sys, "stdout", old)
    old.write("before ")
    streams._whole_stdout()  # noqa: SLF001
    new = sys.stdout
    assert isinstance(new, io.TextIOWrapper)
    try:
        assert new is not old
        assert (new.encoding, new.errors) == ("latin-1", "strict")
        new.write("after")
        new.flush()
        streams._whole_stdout()  # noqa: SLF001 - a second install leaves it as it is
        assert sys.stdout is new
    finally:
        monkeypatch.setattr(sys, "stdout", sys.__stdout__)
        new.detach()
        old.close()
    with os.fdopen(read_end, "rb") as pipe:
        assert pipe.read() == b"before after"


def test_a_stream_that_is_not_a_descriptor_is_left_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    for stand_in in (io.StringIO(), io.TextIOWrapper(io.BytesIO())):
        monkeypatch.setattr(sys, "stdout", stand_in)
        streams._whole_stdout()  # noqa: SLF001
        assert sys.stdout is stand_in


# Standard input: capped as files are -----------------------------------------------------------------


def test_standard_input_over_the_limit_is_refused() -> None:
    result = CliRunner().invoke(main, ["show", "-"], input=b"#" * (MAX_FILE_BYTES + 1))
    assert result.exit_code == 2
    assert result.stderr == TOO_BIG


def test_standard_input_at_the_limit_is_read() -> None:
    text = b"input: 8x8x3\nlayers: [conv3-4]\n"
    result = CliRunner().invoke(
        main, ["show", "-", "--format", "csv"], input=text + b" " * (MAX_FILE_BYTES - len(text))
    )
    assert result.exit_code == 0, result.output


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource  # noqa: PLC0415 - POSIX only

    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


# The child's address space: convcalc's reading of `-` runs in ~30 MB; reading the whole stream
# met MemoryError (exit 70) at this limit. (Its peak as wait4 gives it is not the child's own:
# Linux keeps the high-water mark of the process it was forked from.)
MEMORY = 1 << 30


@pytest.mark.slow
def test_endless_zeros_on_standard_input_are_refused_quickly_in_bounded_memory() -> None:
    """`cat /dev/zero | convcalc show -`: was MemoryError (exit 70) after filling the memory."""
    pytest.importorskip("resource", reason="RLIMIT_AS is POSIX")
    with subprocess.Popen(
        [sys.executable, "-m", "convcalc", "show", "-"],
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={k: v for k, v in ENV.items() if not k.startswith("COVERAGE_PROCESS")},  # its data too, at exit
        preexec_fn=_limit_memory,  # noqa: PLW1509 - the child only sets a limit; the feeder starts after
    ) as child:
        stdin, stderr = child.stdin, child.stderr
        assert stdin is not None
        assert stderr is not None

        def zeros() -> None:
            chunk = b"\0" * 65536
            try:
                while True:
                    stdin.write(chunk)
            except (BrokenPipeError, ValueError):  # the child stopped reading
                pass

        feeder = threading.Thread(target=zeros, daemon=True)
        started = time.monotonic()
        feeder.start()
        err = stderr.read()
        code = child.wait(timeout=60)
        seconds = time.monotonic() - started
        feeder.join(timeout=10)
    assert code == 2
    assert err == TOO_BIG.encode()
    assert seconds < 20  # ~0.3 s here; generous for a loaded machine


def _close_stdin() -> None:  # pragma: no cover - runs in the child
    os.close(0)


@pytest.mark.slow
def test_closed_standard_input_is_one_line_and_exit_2() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "show", "-"], capture_output=True, preexec_fn=_close_stdin, env=ENV,
        check=False, timeout=60,
    )  # fmt: skip
    assert (done.returncode, done.stderr) == (2, b"<stdin>: error: standard input is closed\n")


def test_standard_input_that_cannot_be_read_is_a_spec_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, _: object) -> int:
            raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(_Failing())))
    with pytest.raises(SpecError, match=r"^<stdin>: error: cannot read standard input: Input/output error$"):
        read_stdin()
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(SpecError, match=r"^<stdin>: error: standard input is closed$"):
        read_stdin()


# GITHUB_STEP_SUMMARY that cannot be written ------------------------------------------------------------


def _summary_into(target: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        main, ["check", "vgg16", "--format", "github"], env={"GITHUB_STEP_SUMMARY": str(target)}
    )
    return result.exit_code, result.stdout, result.stderr


def test_a_step_summary_that_is_a_folder_or_nowhere_is_one_line_and_exit_2(tmp_path: Path) -> None:
    for target, why in [(tmp_path, "Is a directory"), (tmp_path / "no" / "summary.md", "No such file or directory")]:
        code, out, err = _summary_into(target)
        assert code == 2
        assert out.endswith(" passed, 0 failed\n")  # the log is printed first
        assert err == f"error: cannot write the step summary (GITHUB_STEP_SUMMARY={target}): {why}\n"


def test_a_step_summary_on_a_full_device_is_one_line_and_exit_2(tmp_path: Path) -> None:
    if os.geteuid() != 0:  # pragma: no cover
        pytest.skip("making a device node needs root")
    full = tmp_path / "full"
    os.mknod(full, 0o666 | stat.S_IFCHR, os.makedev(1, 7))  # /dev/full's numbers
    assert _summary_into(full)[0::2] == (
        2,
        f"error: cannot write the step summary (GITHUB_STEP_SUMMARY={full}): No space left on device\n",
    )


def test_a_step_summary_path_is_named_inert(tmp_path: Path) -> None:
    target = tmp_path / "a\x1b[2J\nb"
    target.mkdir()
    code, _, err = _summary_into(target)
    assert code == 2
    shown = f"{tmp_path}/a\\x1b[2J\\nb"
    assert err == f"error: cannot write the step summary (GITHUB_STEP_SUMMARY={shown}): Is a directory\n"


def test_a_message_that_meets_a_closed_pipe_on_standard_error_ends_as_141(monkeypatch: pytest.MonkeyPatch) -> None:
    """`2>&1 | head`: the error line itself cannot be written."""
    monkeypatch.setattr("convcalc.cli.schema.schema_json", _failing(OutputError("cannot write x: a test")))
    monkeypatch.setattr("convcalc.cli.common.click.echo", _failing(BrokenPipeError(errno.EPIPE, "Broken pipe")))
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 141
