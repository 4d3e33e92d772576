"""Output files: written beside, then moved into place; never half a file, never the spec itself."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.cli.output import replace_file

SPEC = "input: 8x8x3\nlayers:\n  - conv3-4 p1\n  - relu\n"


def _half_then_full(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make os.write write half of its first chunk, then fail as a full disk does."""
    real = os.write
    calls: list[int] = []

    def write(fd: int, data: bytes | memoryview) -> int:
        calls.append(len(data))
        if len(calls) == 1:
            return real(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", write)
    return calls


@pytest.mark.parametrize(("command", "old"), [("draw", "<svg>old</svg>\n"), ("export", "# the old module\n")])
def test_a_full_disk_leaves_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str, old: str
) -> None:
    out = tmp_path / "prev.out"
    out.write_text(old, encoding="utf-8")
    calls = _half_then_full(monkeypatch)
    result = CliRunner().invoke(main, [command, "lenet5", "-o", str(out)])
    assert len(calls) == 2  # half was written, then the disk was full
    assert result.exit_code == 2
    assert result.stderr == f"error: cannot write {out}: No space left on device\n"
    assert out.read_text(encoding="utf-8") == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prev.out"]  # no temporary file left behind


def _limit_file_size() -> None:  # pragma: no cover - runs in the child
    import resource  # noqa: PLC0415 - POSIX only

    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))


def test_a_file_size_limit_leaves_the_previous_file(tmp_path: Path) -> None:
    """A quota in a real process: the kernel refuses the write past 4 kB (EFBIG; Python ignores SIGXFSZ)."""
    pytest.importorskip("resource", reason="RLIMIT_FSIZE is POSIX")
    out = tmp_path / "prev.svg"
    out.write_text("<svg>old</svg>\n", encoding="utf-8")
    # Not measured by coverage (CI's --cov): its data file, written at exit, would meet the limit too.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS")}
    done = subprocess.run(
        [sys.executable, "-m", "convcalc", "draw", "vgg16", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=_limit_file_size,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == f"error: cannot write {out}: File too large\n"
    assert out.read_text(encoding="utf-8") == "<svg>old</svg>\n"
    assert [p.name for p in tmp_path.iterdir()] == ["prev.svg"]


def test_ctrl_c_while_writing_leaves_the_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "m.py"
    out.write_text("old\n", encoding="utf-8")

    def interrupted(*_: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", interrupted)
    with pytest.raises(KeyboardInterrupt, match=r"^$"):
        replace_file(out, b"new\n")
    assert out.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["m.py"]


@pytest.mark.parametrize("command", ["export", "draw"])
def test_the_output_may_not_be_the_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str) -> None:
    spec = tmp_path / "net.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    (tmp_path / "link.yaml").symlink_to(spec)
    monkeypatch.chdir(tmp_path)
    for source, output in [
        ("net.yaml", "net.yaml"),
        (str(spec), "./net.yaml"),
        ("link.yaml", "net.yaml"),
        ("net.yaml", "link.yaml"),
    ]:
        result = CliRunner().invoke(main, [command, source, "-o", output])
        assert result.exit_code == 2, (source, output)
        message = f"error: cannot write {Path(output)}: it is the spec being read ({source}); choose another file\n"
        assert result.stderr.endswith(message), result.stderr
        assert spec.read_text(encoding="utf-8") == SPEC
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.yaml", "net.yaml"]


def test_a_file_named_like_a_built_in_spec_can_be_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["draw", "lenet5", "-o", "lenet5"])
    assert result.exit_code == 0
    assert (tmp_path / "lenet5").read_text(encoding="utf-8").startswith("<?xml")


def test_replacing_keeps_the_permissions(tmp_path: Path) -> None:
    kept = tmp_path / "kept.svg"
    kept.write_text("old", encoding="utf-8")
    kept.chmod(0o640)
    replace_file(kept, b"new")
    assert kept.read_bytes() == b"new"
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    umask = os.umask(0o027)
    try:
        replace_file(tmp_path / "new.svg", b"x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.svg").stat().st_mode) == 0o640  # 0o666 & ~0o027, as open() gives


def test_writing_through_a_link_replaces_its_target(tmp_path: Path) -> None:
    target = tmp_path / "real.svg"
    target.write_text("old", encoding="utf-8")
    link = tmp_path / "link.svg"
    link.symlink_to(target)
    replace_file(link, b"new")
    assert link.is_symlink()
    assert target.read_bytes() == b"new"


def test_concurrent_writers_never_show_a_partial_file(tmp_path: Path) -> None:
    out = tmp_path / "same.svg"
    texts = [bytes([65 + i]) * 200_000 for i in range(6)]  # each writer's whole file
    out.write_bytes(texts[0])
    seen: set[bytes] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            seen.add(out.read_bytes())

    def write(text: bytes) -> None:
        for _ in range(5):
            replace_file(out, text)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        with ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(write, texts))
    finally:
        stop.set()
        reader.join()
    assert seen <= set(texts)  # every read saw one writer's whole file
    assert out.read_bytes() in texts
    assert [p.name for p in tmp_path.iterdir()] == ["same.svg"]
