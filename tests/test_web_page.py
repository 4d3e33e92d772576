"""The page's Python side (convcalc.web.page) in CPython, and the site's build without the browser."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from convcalc.api import analyze
from convcalc.builtins import builtin_names, specs_dir
from convcalc.web import build, page
from convcalc.web.__main__ import main as web_main

VGG16 = Path(specs_dir(), "vgg16.yaml").read_text(encoding="utf-8")


def test_a_spec_gives_the_table_checks_figure_and_sizes() -> None:
    result = json.loads(page.spec_result(VGG16))
    report = analyze("vgg16")
    assert result["ok"]
    assert result["rows"] == len(report.rows) == 22
    assert result["params"] == report.totals.params
    assert result["macs"] == report.totals.macs
    assert "138,357,544" in result["table"]
    assert "<svg" in result["figure"]
    assert [c["key"] for c in result["checks"]] == [c.key for c in report.checks]
    assert result["checks"][0]["actual"] == "1000"  # a shape as the spec writes it
    assert any("H = 32k" in line for line in result["sizes"])
    assert result["sizes"][-1] == "224x224x3 fits."


def test_an_error_and_a_wrong_answer_are_at_their_lines() -> None:
    broken = json.loads(page.spec_result("input: 32x32x3\nlayers:\n  - conv5-10 s1 p2 q7\n"))
    assert not broken["ok"]
    assert broken["errors"][0]["line"] == 3
    assert "q7" in broken["errors"][0]["message"]
    sheet = "input: 7x7x1\nlayers:\n  - layer: conv3-1 s3\n    expect: {output: 3x3x1}\n"
    result = json.loads(page.spec_result(sheet))
    assert not result["ok"]
    assert [d["line"] for d in result["diagnostics"]] == [3]
    assert "does not fit" in result["diagnostics"][0]["message"]
    assert result["checks"][0]["line"] == 4
    assert not result["checks"][0]["ok"]


def test_a_symbolic_spec_gives_formulas_and_its_sizes() -> None:
    result = json.loads(page.spec_result("input: HxWx3\nlayers: [conv3-8 s2]\n"))
    assert result["symbolic"]
    assert "⌊" in result["table"] or "/2" in result["table"]
    assert "height (H): H = 2k + 1, k ≥ 1: 3, 5, 7, 9, 11, 13, …" in result["sizes"]
    vector = json.loads(page.spec_result("input: 100\nlayers: [fc-10]\n"))
    assert vector["sizes"] == ["the input 100 is a vector: there are no strides to fit"]


def test_the_calculator_is_convcalc_layer() -> None:
    lecture = json.loads(page.layer_result(" 32x32x3 ", "conv5-10 s1 p2"))
    assert lecture["ok"]
    assert "32x32x3 → 32x32x10" in lecture["text"]
    assert "= 760" in lecture["text"]
    chain = json.loads(page.layer_result("32x32x3", "conv5-10 s1 p?; maxpool"))
    assert "P = 2 → 32x32x10" in chain["text"]
    assert "16x16x10" in chain["text"]
    wrong = json.loads(page.layer_result("7x7x1", "conv3-1 s3"))
    assert not wrong["ok"]
    assert wrong["code"] == 1
    unreadable = json.loads(page.layer_result("<b>x", "conv3-1"))
    assert unreadable["code"] == 2
    assert "<b>" not in unreadable["html"]  # escaped: the page sets it as HTML


def test_report_json_is_show_s_json_and_builtins_are_listed() -> None:
    assert json.loads(page.report_json("lenet5")) == analyze("lenet5").to_dict()
    assert "errors" in json.loads(page.report_json("input: 3x\nlayers: []\n"))
    listed = json.loads(page.builtins())
    assert [b["name"] for b in listed] == builtin_names()
    assert next(b["text"] for b in listed if b["name"] == "vgg16") == VGG16


def test_a_wheel_is_pure_and_lists_its_files(tmp_path: Path) -> None:
    wheel = build.repack(tmp_path, "mdurl")
    path = tmp_path / wheel.file
    assert wheel.file.endswith("-py3-none-any.whl")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == wheel.sha256
    with zipfile.ZipFile(path) as whl:
        names = whl.namelist()
        record = whl.read(next(n for n in names if n.endswith("RECORD"))).decode()
        assert "Root-Is-Purelib: true" in whl.read(next(n for n in names if n.endswith("/WHEEL"))).decode()
    assert "mdurl/__init__.py" in names
    assert not any(n.endswith((".so", ".pyc")) or "__pycache__" in n for n in names)
    assert all(n in record for n in names)
    yaml = build.repack(tmp_path, "PyYAML")
    with zipfile.ZipFile(tmp_path / yaml.file) as whl:
        assert "yaml/__init__.py" in whl.namelist()
        assert not any(n.endswith(".so") for n in whl.namelist())  # the C extension stays out
    again = build.repack(tmp_path / "..", "mdurl")
    assert again.sha256 == wheel.sha256  # the same input gives the same bytes


def test_the_convcalc_wheel_holds_the_package_and_the_builtin_specs(tmp_path: Path) -> None:
    wheel = build.convcalc_wheel(tmp_path)
    with zipfile.ZipFile(tmp_path / wheel.file) as whl:
        names = set(whl.namelist())
    assert {"convcalc/__init__.py", "convcalc/web/page.py", "convcalc/specs/vgg16.yaml"} <= names
    assert not any(n.startswith("convcalc/web/static/") for n in names)


def test_a_missing_distribution_or_npm_and_a_wrong_checksum_are_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(build.BuildError, match="not installed here"):
        build.repack(tmp_path, "no-such-distribution")
    monkeypatch.setattr(shutil, "which", lambda _: None)
    with pytest.raises(build.BuildError, match="npm is needed once"):
        build.fetch_runtime(tmp_path / "cache")
    build.tarball(tmp_path).write_bytes(b"not pyodide")
    with pytest.raises(build.BuildError, match="remove it and build again"):
        build.fetch_runtime(tmp_path)


def test_npm_that_fails_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "npm"
    fake.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda _: str(fake))
    with pytest.raises(build.BuildError, match=r"npm pack pyodide@.* failed: npm error 404 Not Found"):
        build.fetch_runtime(tmp_path / "cache")


def _fake_runtime(cache: Path, monkeypatch: pytest.MonkeyPatch, *, complete: bool = True) -> None:
    """A tarball shaped as pyodide's npm package, with its checksum pinned for the test."""
    cache.mkdir(parents=True, exist_ok=True)
    with tarfile.open(build.tarball(cache), "w:gz") as tar:
        for name in build.RUNTIME[: None if complete else -1]:
            data = f"fake {name}".encode()
            info = tarfile.TarInfo(f"package/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    monkeypatch.setattr(build, "PYODIDE_SHA256", hashlib.sha256(build.tarball(cache).read_bytes()).hexdigest())


def test_build_writes_the_site_and_refuses_a_folder_that_is_not_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    _fake_runtime(cache, monkeypatch)
    site = tmp_path / "site"
    result = CliRunner().invoke(web_main, ["build", str(site), "--cache", str(cache)])
    assert result.exit_code == 0, result.output
    assert "7 wheels" in result.output
    manifest = json.loads((site / "wheels.json").read_text())
    assert {"index.html", "app.js", "style.css"} <= {p.name for p in site.iterdir()}
    assert sorted(p.name for p in (site / "pyodide").iterdir()) == sorted(build.RUNTIME)
    for wheel in manifest["wheels"]:
        assert hashlib.sha256((site / "wheels" / wheel["file"]).read_bytes()).hexdigest() == wheel["sha256"]
    assert CliRunner().invoke(web_main, ["build", str(site), "--cache", str(cache)]).exit_code == 0  # rebuilt
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    refused = CliRunner().invoke(web_main, ["build", str(other), "--cache", str(cache)])
    assert refused.exit_code == 2
    assert "holds no convcalc site" in refused.output
    assert (other / "notes.txt").read_text() == "mine"  # nothing lost
    fetched = CliRunner().invoke(web_main, ["fetch", "--cache", str(cache)])
    assert fetched.exit_code == 0
    assert "checked" in fetched.output


def test_a_tarball_without_the_runtime_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_runtime(tmp_path, monkeypatch, complete=False)
    with pytest.raises(build.BuildError, match=r"has no package/pyodide-lock\.json"):
        build.build(tmp_path / "site", tmp_path)
    monkeypatch.setattr(build, "PYODIDE_SHA256", "0" * 64)
    failed = CliRunner().invoke(web_main, ["fetch", "--cache", str(tmp_path)])
    assert failed.exit_code == 2
    assert "error:" in failed.output


def test_the_cache_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CONVCALC_WEB_CACHE", str(tmp_path))
    assert build.cache_dir() == tmp_path
    monkeypatch.delenv("CONVCALC_WEB_CACHE")
    assert build.cache_dir() == Path.home() / ".cache" / "convcalc" / "web"


@pytest.mark.parametrize("failure", ["closed", "spec"])
def test_sizes_without_a_closed_form_say_so(monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    from convcalc.engine import symbolic  # noqa: PLC0415
    from convcalc.errors import SpecError  # noqa: PLC0415
    from convcalc.kinds.closed import NotClosed  # noqa: PLC0415

    def refuse(*_: object, **__: object) -> None:
        raise NotClosed("too long a period") if failure == "closed" else SpecError("too long a period")

    monkeypatch.setattr(symbolic, "analyze_closed", refuse)
    assert json.loads(page.spec_result(VGG16))["sizes"] == ["no closed form: too long a period"]
