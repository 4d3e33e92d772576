"""What `-o` writes onto: devices and FIFOs in place, descriptors as themselves, hard links kept.

The device nodes are the test's own (`os.mknod` in a temporary folder, as root), never the
system's: a broken writer would replace them, not /dev/null.
"""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.cli.output import overwrite

SPEC = "input: 8x8x3\nlayers:\n  - conv3-4 p1\n  - relu\n"
WRITERS = [["draw", "lenet5"], ["export", "lenet5"], ["schema"]]


def _stdout(args: list[str]) -> bytes:
    """What the command prints without -o: what -o must write, whatever the target."""
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    return result.stdout_bytes


def _device(folder: Path, name: str, kind: int, major: int, minor: int) -> Path:
    if os.geteuid() != 0:  # pragma: no cover - CI and this machine run as root
        pytest.skip("making a device node needs root")
    node = folder / name
    os.mknod(node, 0o666 | kind, os.makedev(major, minor))
    return node


@pytest.mark.parametrize("args", WRITERS)
def test_a_character_device_is_written_in_place_not_replaced(tmp_path: Path, args: list[str]) -> None:
    null = _device(tmp_path, "null", stat.S_IFCHR, 1, 3)  # the numbers of /dev/null: writes vanish
    result = CliRunner().invoke(main, [*args, "-o", str(null)])
    assert result.exit_code == 0, result.output
    assert stat.S_ISCHR(null.stat().st_mode)
    assert null.stat().st_rdev == os.makedev(1, 3)
    assert [p.name for p in tmp_path.iterdir()] == ["null"]  # no temporary file left beside it


@pytest.mark.parametrize("args", WRITERS)
def test_a_full_device_is_one_line_and_exit_2_not_wrote(tmp_path: Path, args: list[str]) -> None:
    full = _device(tmp_path, "full", stat.S_IFCHR, 1, 7)  # /dev/full's numbers: every write is ENOSPC
    result = CliRunner().invoke(main, [*args, "-o", str(full)])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {full}: No space left on device\n"
    assert stat.S_ISCHR(full.stat().st_mode)


def test_a_block_device_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    # Major 240 is for local, experimental use: were it opened, it would name no disk (ENXIO).
    disk = _device(tmp_path, "disk", stat.S_IFBLK, 240, 0)
    result = CliRunner().invoke(main, ["draw", "lenet5", "-o", str(disk)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {disk}: it is a block device (a disk); convcalc writes files, terminals and pipes\n"
    )
    assert stat.S_ISBLK(disk.stat().st_mode)


@pytest.mark.parametrize("args", WRITERS)
def test_a_fifo_reader_gets_the_whole_output(tmp_path: Path, args: list[str]) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))  # opens, then reads to the end
    reader.start()
    try:
        result = CliRunner().invoke(main, [*args, "-o", str(fifo)])
    finally:
        reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert got == [_stdout(args)]
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["fifo"]


@pytest.mark.slow
def test_a_fifo_whose_reader_goes_away_ends_as_a_closed_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)

    def read_a_little() -> None:
        with fifo.open("rb") as f:
            f.read(10)

    reader = threading.Thread(target=read_a_little)
    reader.start()
    try:
        # The figure is ~1 MB, past what a pipe holds: the writer meets the closed end.
        spec = tmp_path / "big.yaml"
        spec.write_text("input: 8x8x8\nlayers:\n  - repeat: 2000\n    layers: [conv3-8 p1]\n", encoding="utf-8")
        result = CliRunner().invoke(main, ["draw", str(spec), "--full", "-o", str(fifo)])
    finally:
        reader.join(timeout=30)
    assert (result.exit_code, result.stderr) == (141, "")


@pytest.mark.parametrize("form", ["/dev/fd/{fd}", "/proc/self/fd/{fd}"])
def test_a_descriptor_path_is_written_through_the_descriptor(form: str) -> None:
    if not Path(form.format(fd=0)).exists():  # pragma: no cover - Linux has both
        pytest.skip(f"{form} is not on this system")
    read_end, write_end = os.pipe()
    got: list[bytes] = []
    with os.fdopen(read_end, "rb") as pipe:
        reader = threading.Thread(target=lambda: got.append(pipe.read()))  # the schema is more than a pipe holds
        reader.start()
        try:
            result = CliRunner().invoke(main, ["schema", "-o", form.format(fd=write_end)])
        finally:
            os.close(write_end)
            reader.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert got == [_stdout(["schema"])]


def test_a_closed_descriptor_path_is_one_line_and_exit_2() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    os.close(write_end)  # a number no descriptor has now
    result = CliRunner().invoke(main, ["schema", "-o", f"/dev/fd/{write_end}"])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write /dev/fd/{write_end}: Bad file descriptor\n"


def _run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "convcalc", *args], capture_output=True, check=False, timeout=60)


def test_dev_stdout_into_a_pipe_is_standard_output() -> None:
    """Not resolved to /proc/self/fd/1 and on to `pipe:[1234]`, a path that names nothing."""
    done = _run(["schema", "-o", "/dev/stdout"])
    assert done.returncode == 0, done.stderr
    assert done.stdout == _stdout(["schema"])


def test_dev_stdout_appended_to_a_log_keeps_the_log(tmp_path: Path) -> None:
    """`>> log`: the shell's descriptor is written, not the log replaced by a new file."""
    log = tmp_path / "log"
    log.write_bytes(b"earlier lines\n")
    with log.open("ab") as out:
        done = subprocess.run(
            [sys.executable, "-m", "convcalc", "schema", "-o", "/dev/stdout"], stdout=out, check=False, timeout=60
        )
    assert done.returncode == 0
    assert log.read_bytes() == b"earlier lines\n" + _stdout(["schema"])


@pytest.mark.parametrize("args", WRITERS)
def test_dash_is_standard_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, [*args, "-o", "-"])
    assert result.exit_code == 0
    assert result.stdout_bytes == _stdout(args)
    assert list(tmp_path.iterdir()) == []  # no file named -


@pytest.mark.parametrize("args", WRITERS)
def test_a_hard_link_is_not_split(tmp_path: Path, args: list[str]) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_bytes(b"x" * 200_000)  # longer than the output: what is left over is cut
    os.link(first, second)
    result = CliRunner().invoke(main, [*args, "-o", str(second)])
    assert result.exit_code == 0, result.output
    assert first.stat().st_ino == second.stat().st_ino
    assert first.stat().st_nlink == 2
    assert first.read_bytes() == _stdout(args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["first", "second"]


def test_a_hard_link_that_grows_on_a_full_disk_keeps_its_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_bytes(b"old")
    os.link(first, second)
    reserved: list[tuple[int, int]] = []

    def full(fd: int, offset: int, length: int) -> None:
        reserved.append((offset, length))
        os.ftruncate(fd, 10)  # as a reservation that got part of the way does
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "posix_fallocate", full, raising=False)
    result = CliRunner().invoke(main, ["draw", "lenet5", "-o", str(second)])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {second}: No space left on device\n"
    assert reserved == [(3, len(_stdout(["draw", "lenet5"])) - 3)]
    assert first.read_bytes() == b"old"


@pytest.mark.parametrize("unsupported", [errno.EOPNOTSUPP, None])
def test_without_reserving_space_a_hard_link_is_still_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, unsupported: int | None
) -> None:
    """A file system that cannot reserve (EOPNOTSUPP), or a system without posix_fallocate (macOS)."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.write_bytes(b"old")
    os.link(first, second)

    def cannot(*_: object) -> None:
        raise OSError(unsupported, "not supported")

    if unsupported is None:
        monkeypatch.delattr(os, "posix_fallocate", raising=False)
    else:
        monkeypatch.setattr(os, "posix_fallocate", cannot, raising=False)
    overwrite(str(second), b"new text", 3)
    assert first.read_bytes() == b"new text"


def test_a_spec_reached_through_a_hard_link_is_not_written(tmp_path: Path) -> None:
    spec, other = tmp_path / "net.yaml", tmp_path / "other.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    os.link(spec, other)
    result = CliRunner().invoke(main, ["export", str(spec), "-o", str(other)])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {other}: it is the spec being read ({spec}); choose another file\n"
    assert spec.read_text(encoding="utf-8") == SPEC


@pytest.mark.parametrize(
    ("source", "output"),
    [("net.onnx", "net.onnx"), ("net.py:Net", "net.py"), ("net.py:Net", "./net.py"), ("net.onnx", "link.onnx")],
)
def test_import_may_not_write_over_the_model(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str, output: str
) -> None:
    """Refused before the model is read: its code does not run, and neither onnx nor torch is needed."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "net.onnx").write_bytes(b"\x08\x07 the user's ONNX model")
    (tmp_path / "net.py").write_text("raise SystemExit('the model ran')\n", encoding="utf-8")
    (tmp_path / "link.onnx").symlink_to(tmp_path / "net.onnx")
    result = CliRunner().invoke(main, ["import", source, "-o", output])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: cannot write {Path(output)}: it is the model being read ({source}); choose another file\n"
    )
    assert (tmp_path / "net.onnx").read_bytes() == b"\x08\x07 the user's ONNX model"
    assert (tmp_path / "net.py").read_text(encoding="utf-8") == "raise SystemExit('the model ran')\n"


@pytest.mark.torch
@pytest.mark.slow  # torch is imported and the model traced
def test_import_may_not_write_over_the_module_of_package_module_attribute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pkg.mod:Net -o pkg/mod.py`: the module's file is known once it is imported, and refused then."""
    pytest.importorskip("torch")
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "__init__.py").write_text("", encoding="utf-8")
    code = (
        "import torch.nn as nn\n\n\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(3, 4, 3)\n\n    def forward(self, x):\n        return self.conv(x)\n"
    )
    (tmp_path / "zoo" / "nets.py").write_text(code, encoding="utf-8")
    result = CliRunner().invoke(main, ["import", "zoo.nets:Net", "--input", "8x8x3", "-o", "zoo/nets.py"])
    assert result.exit_code == 2
    assert "it is the model's module being read (zoo.nets:Net)" in result.stderr
    assert (tmp_path / "zoo" / "nets.py").read_text(encoding="utf-8") == code
    fine = CliRunner().invoke(main, ["import", "zoo.nets:Net", "--input", "8x8x3", "-o", "nets.yaml"])
    assert fine.exit_code == 0, fine.output
    assert "conv3-4" in (tmp_path / "nets.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [["draw", "lenet5"], ["export", "lenet5"]])
def test_wrote_prints_the_path_inert(tmp_path: Path, args: list[str]) -> None:
    out = tmp_path / "a\x1b]0;pwned\x07\nwrote b.svg"
    result = CliRunner().invoke(main, [*args, "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert result.stderr.count("\n") == 1  # one line, whatever the name holds
    assert "\x1b" not in result.stderr
    assert "\x07" not in result.stderr
    assert f"{tmp_path}/a\\x1b]0;pwned\\x07\\nwrote b.svg" in result.stderr
    assert out.read_bytes() == _stdout(args)


def test_a_path_that_cannot_be_written_is_named_inert(tmp_path: Path) -> None:
    folder = tmp_path / "not\na folder"
    folder.write_text("a file", encoding="utf-8")
    result = CliRunner().invoke(main, ["schema", "-o", str(folder / "x.json")])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {tmp_path}/not\\na folder/x.json: Not a directory\n"


def test_a_folder_or_a_socket_is_one_line_and_exit_2(tmp_path: Path) -> None:
    import socket  # noqa: PLC0415 - this test only

    sock = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock))
        for target, why in [(tmp_path, "Is a directory"), (sock, "No such device or address")]:
            result = CliRunner().invoke(main, ["export", "lenet5", "-o", str(target)])
            assert result.exit_code == 2
            assert result.stderr == f"error: cannot write {target}: {why}\n"
    finally:
        server.close()
    assert stat.S_ISSOCK(sock.stat().st_mode)


def test_a_new_file_beside_the_spec_is_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    Path("net.yaml").write_text(SPEC, encoding="utf-8")
    result = CliRunner().invoke(main, ["export", "net.yaml", "-o", "sub/net.py"])
    assert result.exit_code == 0, result.output
    assert Path("sub/net.py").read_text(encoding="utf-8").startswith('"""')
    assert Path("net.yaml").read_text(encoding="utf-8") == SPEC


def test_a_read_only_file_is_not_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "mine.svg"
    out.write_text("the user's figure", encoding="utf-8")
    out.chmod(0o444)
    if os.access(out, os.W_OK):  # root may write anything: ask as a user would be answered
        real = os.access

        def access(p: object, mode: int, **kw: object) -> bool:
            return real(p, mode, **kw) and not (str(p) == str(out) and mode & os.W_OK)  # type: ignore[arg-type]

        monkeypatch.setattr(os, "access", access)
    result = CliRunner().invoke(main, ["draw", "lenet5", "-o", str(out)])
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {out}: Permission denied\n"
    assert out.read_text(encoding="utf-8") == "the user's figure"
