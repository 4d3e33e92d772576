"""convcalc in CI: GitHub annotations at paths GitHub can place, the step summary, the pre-commit hook."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.render.github import SUMMARY_FAILURES, relative

ROOT = Path(__file__).parent.parent
BUDGET = (ROOT / "examples" / "ci" / "budget.yaml").read_text(encoding="utf-8")
TIGHT = BUDGET.replace('params: "<= 100k"', 'params: "<= 40k"')  # the docs' budget that breaks


def _repo(tmp_path: Path) -> Path:
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "net.yaml").write_text(TIGHT, encoding="utf-8")
    (tmp_path / "specs" / "stride.yaml").write_text("input: 7x7x1\nlayers: [conv3-1 s3]\n", encoding="utf-8")
    return tmp_path


def _check(*args: str, env: dict[str, str]) -> tuple[int, str]:
    result = CliRunner(env=env).invoke(main, ["check", "--format", "github", *args])
    return result.exit_code, result.stdout


def test_absolute_paths_are_written_from_the_workspace(tmp_path: Path) -> None:
    repo = _repo(tmp_path)
    summary = tmp_path / "summary.md"
    code, out = _check(str(repo / "specs" / "net.yaml"), str(repo / "specs"), env={
        "GITHUB_WORKSPACE": str(repo), "GITHUB_STEP_SUMMARY": str(summary),
    })  # fmt: skip
    assert code == 1
    annotations = [line for line in out.splitlines() if line.startswith("::")]
    assert annotations[0].startswith(
        "::error file=specs/net.yaml,line=25,col=11,title=convcalc%3A mobile-classifier params::"
    )
    assert annotations[0].endswith(
        "::check failed: mobile-classifier params: expected <= 40k, got 49,418 (49.42 K) (48,928 weights + 490 biases)"
    )
    assert "file=specs/stride.yaml,line=2,col=10,title=convcalc%3A stride does not fit::" in annotations[-1]
    assert str(tmp_path) not in out
    text = summary.read_text(encoding="utf-8")
    assert text.startswith(
        "## convcalc check\n\n8 checks in 3 files: 6 passed, 2 failed; 1 design error\n"
    )  # net.yaml twice
    assert "| specs/net.yaml (mobile-classifier) | 4 | 1 | 0 | 0 | ✗ |" in text
    assert "| specs/stride.yaml (stride) | 0 | 0 | 1 | 0 | ✗ |" in text
    assert "- `specs/net.yaml:25:11`: check failed: mobile-classifier params: expected \\<= 40k" in text


def test_the_summary_is_appended(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("# an earlier step\n", encoding="utf-8")
    code, _ = _check("lenet5", env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 0
    text = summary.read_text(encoding="utf-8")
    assert text.startswith("# an earlier step\n## convcalc check\n")
    assert "| specs/lenet5.yaml (LeNet-5) |" in text
    assert "Failures" not in text


def test_without_a_workspace_paths_are_from_the_working_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = _repo(tmp_path)
    monkeypatch.chdir(repo / "specs")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    _, out = _check(str(repo / "specs" / "stride.yaml"), env={})
    assert out.startswith("::error file=stride.yaml,line=2,")
    assert not list(repo.rglob("*.md"))


def test_other_formats_write_no_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    result = CliRunner(env={"GITHUB_STEP_SUMMARY": str(summary)}).invoke(main, ["check", "lenet5"])
    assert result.exit_code == 0
    assert not summary.exists()


def test_an_unreadable_file_in_the_summary(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("input: 8x8x3\nlayers: [convo3-4 | *x*]\n", encoding="utf-8")
    summary = tmp_path / "summary.md"
    code, out = _check(
        str(tmp_path / "bad.yaml"), env={"GITHUB_WORKSPACE": str(tmp_path), "GITHUB_STEP_SUMMARY": str(summary)}
    )
    assert code == 2
    assert out.startswith("::error file=bad.yaml,line=2,col=10,title=convcalc%3A cannot read the spec::")
    text = summary.read_text(encoding="utf-8")
    assert "| bad.yaml | | | | | ✗ cannot be read |" in text
    (failure,) = [line for line in text.splitlines() if line.startswith("- ")]
    assert failure.startswith("- `bad.yaml:2:10`: ")
    assert "\\|" in failure  # a | in the message cannot break the Markdown
    assert "\\*x\\*" in failure


def test_a_missing_file_is_annotated_without_a_line(tmp_path: Path) -> None:
    code, out = _check(str(tmp_path / "gone.yaml"), env={"GITHUB_WORKSPACE": str(tmp_path)})
    assert code == 2
    assert out.startswith("::error file=gone.yaml,title=convcalc%3A cannot read the spec::no such file")


def test_many_failures_are_capped_in_the_summary(tmp_path: Path) -> None:
    layers = "".join(f"  - layer: conv1-1\n    expect: {{params: {i}}}\n" for i in range(SUMMARY_FAILURES + 5))
    (tmp_path / "many.yaml").write_text(f"input: 8x8x1\nlayers:\n{layers}", encoding="utf-8")
    summary = tmp_path / "summary.md"
    code, out = _check(str(tmp_path / "many.yaml"), env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert code == 1
    assert sum(line.startswith("::error") for line in out.splitlines()) == SUMMARY_FAILURES + 4  # 2 is right
    listed = [line for line in summary.read_text(encoding="utf-8").splitlines() if line.startswith("- ")]
    assert len(listed) == SUMMARY_FAILURES + 1
    assert listed[-1] == "- … and 4 more (see the log's annotations)"


def test_relative_keeps_names_that_are_not_paths(tmp_path: Path) -> None:
    assert relative("specs/vgg16.yaml", str(tmp_path)) == "specs/vgg16.yaml"  # a file elsewhere
    assert relative("specs/nothing.yaml", str(tmp_path)) == "specs/nothing.yaml"  # no file: a name
    assert relative(str(tmp_path), str(tmp_path)) == str(tmp_path)  # the folder itself is no file in it
    assert relative(f"{tmp_path}-other/n.yaml", str(tmp_path)) == f"{tmp_path}-other/n.yaml"
    assert relative("<stdin>", str(tmp_path)) == "<stdin>"
    assert relative("", str(tmp_path)) == ""
    assert relative("/elsewhere/net.yaml", str(tmp_path)) == "/elsewhere/net.yaml"
    assert relative(str(tmp_path / "a" / "n.yaml"), str(tmp_path)) == "a/n.yaml"


HOOK = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))[0]


def test_the_hook_pattern_is_the_docs_and_the_examples() -> None:
    docs = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    assert f"`files: {HOOK['files']}`" in docs
    assert f"        files: {HOOK['files']}\n" in docs
    example = yaml.safe_load((ROOT / "examples" / "ci" / "pre-commit-config.yaml").read_text(encoding="utf-8"))
    assert example["repos"][0]["hooks"][0]["files"] == HOOK["files"]
    pattern = re.compile(HOOK["files"])
    chosen = ["specs/a.yaml", "models/specs/b.yml", "nets/c.convcalc.yaml", "d.convcalc.yml"]
    left = [".github/workflows/ci.yml", "config.yaml", "specs/readme.md", "myspecs/x.yaml", "specs.yaml"]
    assert all(pattern.search(f) for f in chosen)
    assert not any(pattern.search(f) for f in left)


@pytest.mark.slow  # pre-commit makes the hook's environment: a pip install of this repository (~25 s)
@pytest.mark.skipif(shutil.which("git") is None, reason="pre-commit needs git")
def test_the_hook_runs_through_pre_commit(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "specs").mkdir()
    (repo / "specs" / "bad.yaml").write_text("input: 7x7x1\nlayers: [conv3-1 s3]\n", encoding="utf-8")
    (repo / "models").mkdir()
    (repo / "models" / "net.convcalc.yaml").write_text(TIGHT, encoding="utf-8")
    (repo / "config.yaml").write_text("not: a spec\n", encoding="utf-8")
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache")}
    env.pop("GITHUB_STEP_SUMMARY", None)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(args, cwd=repo, env=env, capture_output=True, text=True, check=False)

    assert run("git", "init", "-q").returncode == 0
    assert run("git", "add", ".").returncode == 0
    # try-repo reads the hook from this working tree's .pre-commit-hooks.yaml (a clone of a local
    # path, no network), and installs convcalc into the hook's environment with pip.
    hook = run(sys.executable, "-m", "pre_commit", "try-repo", str(ROOT), HOOK["id"], "--all-files")
    assert hook.returncode == 1, hook.stdout + hook.stderr
    assert "specs/bad.yaml:2:10: error: " in hook.stdout
    assert "models/net.convcalc.yaml:25:11: error: check failed: mobile-classifier params" in hook.stdout
    assert "config.yaml" not in hook.stdout.replace("net.convcalc.yaml", "")
    assert "2 files" in hook.stdout
