"""The docs check themselves: every command is documented, every example in them runs as shown."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from convcalc.cli import main

ROOT = Path(__file__).parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _examples() -> list[tuple[str, str]]:
    """`$ convcalc ...` lines in the docs, with the file they stand in."""
    return [
        (doc.name, line[2:])
        for doc in DOCS
        for line in doc.read_text(encoding="utf-8").splitlines()
        if line.startswith("$ convcalc ")
    ]


def test_every_command_has_help_and_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert isinstance(main, click.Group)
    ctx = click.Context(main)
    names = main.list_commands(ctx)
    assert names == ["show", "check", "layer", "fit", "diff", "list", "export", "draw", "schema", "import"]
    for name in names:
        command = main.get_command(ctx, name)
        assert command is not None
        assert command.help, name
        assert f"convcalc {name}" in readme, name
    listing = CliRunner().invoke(main, ["--help"]).stdout
    assert all(f"  {name} " in listing for name in names)


@pytest.mark.slow
@pytest.mark.parametrize(("doc", "command"), _examples())
def test_examples_in_the_docs_run(doc: str, command: str) -> None:
    result = CliRunner().invoke(main, shlex.split(command)[1:])
    assert result.exit_code in {0, 1}, (doc, command, result.output)
    assert "Traceback" not in result.output


def test_readme_vgg16_excerpt_is_real_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("`convcalc show vgg16` prints")[1].split("```")[1]
    shown = [line.rstrip() for line in block.splitlines() if line.strip() and line.strip() != "..."]
    output = [line.rstrip() for line in CliRunner().invoke(main, ["show", "vgg16"]).stdout.splitlines()]
    for line in shown:
        assert line in output, line


def test_readme_alexnet_excerpt_is_real_output() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split("$ convcalc show alexnet --input 224x224x3")[1].split("```")[0]
    output = CliRunner().invoke(main, ["show", "alexnet", "--input", "224x224x3"]).stdout
    squeeze = re.compile(r"\s+")
    assert squeeze.sub(" ", block).strip() in squeeze.sub(" ", output)


@pytest.mark.parametrize(
    ("doc", "after"), [("README.md", "## The spec format in brief"), ("docs/spec.md", "## A spec file")]
)
def test_format_examples_hold(doc: str, after: str) -> None:
    from convcalc import analyze, load_spec  # noqa: PLC0415

    text = (ROOT / doc).read_text(encoding="utf-8").split(after)[1].split("```yaml")[1].split("```")[0]
    report = analyze(load_spec(doc, text))
    assert report.ok, [d.message for d in report.diagnostics] + [c.key for c in report.checks if not c.ok]


def test_pytorch_doc_excerpt_is_real_output() -> None:
    doc = (ROOT / "docs" / "pytorch.md").read_text(encoding="utf-8")
    excerpt = doc.split("```python\n", 1)[1].split("```", 1)[0]
    head, body = excerpt.split("\n\n", 1)  # the class line and a stand-in docstring, then the code
    exported = CliRunner().invoke(main, ["export", "lenet5"]).stdout
    assert head.splitlines()[0] in exported
    assert "self.c1 = nn.Conv2d(1, 6, 5)" in body
    assert body in exported
