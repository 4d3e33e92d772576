"""Every registered layer kind has every part convcalc needs, and every part works: no torch needed.

A kind is one class and one registry line (DESIGN §1). This walk is what makes that true: a kind
that lacks a part (a parameter's help, its drawing category, its worked formula, its PyTorch
plan ...) fails here, and each kind's example goes through every command that reads kinds.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from convcalc.cli import main
from convcalc.kinds import docs, registry
from convcalc.kinds.base import Category, Context, Kind, Outcome, Params, State, Working
from convcalc.kinds.params import Param, positive
from convcalc.schema import spec_schema
from convcalc.spec import shorthand

if TYPE_CHECKING:
    from convcalc.options import Rounding
    from convcalc.report import LayerRow

SPEC_MD = Path(__file__).parent.parent / "docs" / "spec.md"
# What a kind states as class attributes; its methods are abstract in Kind.
ATTRIBUTES = ("name", "category", "example", "output_rule", "params_rule")


def missing_parts(cls: type) -> list[str]:
    """What a kind class lacks, by name: [] for a complete one."""
    missing = [f"method {m}" for m in sorted(getattr(cls, "__abstractmethods__", ()))]
    missing += [f"attribute {a}" for a in ATTRIBUTES if not getattr(cls, a, None)]
    if not (cls.__doc__ or "").strip():
        missing.append("docstring")
    params: tuple[Param, ...] = getattr(cls, "params", ())
    missing += [f"help of parameter {p.name}" for p in params if not p.help.strip()]
    if not isinstance(getattr(cls, "category", None), Category):
        missing.append("a Category")
    return missing


def example_spec(kind: Kind) -> str:
    """A one-layer spec of the kind's example, as YAML text."""
    volume, layer = kind.example
    return f"name: {kind.name}\ninput: {volume}\nlayers:\n  - {layer}\n"


@pytest.mark.parametrize("kind", registry.REGISTERED, ids=lambda k: k.name)
def test_every_kind_has_every_part(kind: Kind) -> None:
    assert missing_parts(type(kind)) == []


@pytest.mark.slow  # 15 kinds × 8 commands: about 8 s
@pytest.mark.parametrize("kind", registry.REGISTERED, ids=lambda k: k.name)
def test_every_kind_goes_through_every_command(kind: Kind, tmp_path: Path) -> None:
    path = tmp_path / f"{kind.name}.yaml"
    path.write_text(example_spec(kind), encoding="utf-8")
    runner = CliRunner()

    shown = runner.invoke(main, ["show", str(path), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    row = json.loads(shown.stdout)["layers"][1]
    assert row["kind"] == kind.name
    assert row["diagnostics"] == []

    explained = runner.invoke(main, ["show", str(path), "--explain"])
    assert explained.exit_code == 0, explained.output
    if kind.summary:  # `convcalc layer` takes shorthand
        worked = runner.invoke(main, ["layer", kind.example[0], kind.example[1], "--explain"])
        assert worked.exit_code == 0, worked.output
        assert "memory = " in worked.output
        brief = runner.invoke(main, ["layer", kind.example[0], kind.example[1], "--brief"])
        assert brief.exit_code == 0, brief.output
        assert brief.output == worked.output.splitlines()[0] + "\n"

    drawn = runner.invoke(main, ["draw", str(path), "-o", str(tmp_path / "f.svg")])
    assert drawn.exit_code == 0, drawn.output
    assert "<svg" in (tmp_path / "f.svg").read_text(encoding="utf-8")

    exported = runner.invoke(main, ["export", str(path), "--to", "pytorch"])
    assert exported.exit_code == 0, exported.output
    compile(exported.stdout, f"{kind.name}.py", "exec")  # Python source, whatever torch says

    jsonschema.validate(yaml.safe_load(example_spec(kind)), spec_schema())


@pytest.mark.slow
@pytest.mark.parametrize("kind", registry.REGISTERED, ids=lambda k: k.name)
def test_the_label_reads_back_as_the_same_layer(kind: Kind, tmp_path: Path) -> None:
    """A row's label is shorthand: read back, it is the same layer with the same numbers."""
    if not kind.summary:
        pytest.skip(f"{kind.name} has no shorthand (long form only)")
    first = json.loads(_show(tmp_path, example_spec(kind)))["layers"][1]
    again = json.loads(_show(tmp_path, f"input: {kind.example[0]}\nlayers:\n  - {first['label']}\n"))["layers"][1]
    assert {k: v for k, v in again.items() if k != "line"} == {k: v for k, v in first.items() if k != "line"}


def _show(tmp_path: Path, text: str) -> str:
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["show", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_every_name_is_one_kind_and_the_grammar_names_every_shorthand() -> None:
    names = [n for k in registry.REGISTERED for n in k.names]
    assert len(names) == len(set(names))
    for kind in registry.REGISTERED:
        if kind.summary:
            assert kind.summary in shorthand.GRAMMAR


def test_the_docs_table_of_kinds_is_made_from_the_kinds() -> None:
    text = SPEC_MD.read_text(encoding="utf-8")
    assert docs.update(text) == text, "docs/spec.md is stale: run python -m convcalc.kinds.docs docs/spec.md"
    for kind in registry.REGISTERED:
        assert f"| `{kind.name}`" in text


# -- a kind that lacks parts is caught ------------------------------------------------------------


class _Halfway(Kind):
    """A kind written in a hurry: no help, no category, no worked formula, no plan."""

    name = "halfway"
    params = (Param("n", positive("n"), 1),)
    example = ("8x8x4", "halfway")
    output_rule = "= input"
    params_rule = "0"

    def apply(self, p: Params, x: State, ctx: Context) -> Outcome:
        del p, ctx
        return Outcome(x.volume, x.rf, x.jump)


def test_an_incomplete_kind_cannot_even_be_registered() -> None:
    with pytest.raises(TypeError, match="abstract"):
        _Halfway()  # type: ignore[abstract]


def test_the_walk_names_what_an_incomplete_kind_lacks() -> None:
    missing = missing_parts(_Halfway)
    assert "method working" in missing
    assert "attribute category" in missing
    assert "help of parameter n" in missing
    # Every abstract part of Kind is one the walk reports.
    assert {f"method {m}" for m in Kind.__abstractmethods__} <= set(missing) | {"method apply"}


def test_a_registered_kind_without_help_or_category_fails_the_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """Methods all there, but no help text and no drawing category: registered, and caught."""
    methods: dict[str, Any] = {
        m: getattr(registry.KINDS["flatten"], m) for m in Kind.__abstractmethods__ if m not in {"apply", "working"}
    }

    class Sloppy(_Halfway):
        """Methods, but nothing else."""

        name = "sloppy"
        locals().update(methods)

        def working(self, p: Params, row: LayerRow, rounding: Rounding) -> Working:
            del p, row, rounding
            return Working()

    sloppy = Sloppy()  # type: ignore[abstract]  # mypy does not see the methods locals().update gives it (plan)
    monkeypatch.setattr(registry, "REGISTERED", (*registry.REGISTERED, sloppy))
    failing = [k.name for k in registry.REGISTERED if missing_parts(type(k))]
    assert failing == ["sloppy"]
    assert missing_parts(Sloppy) == ["attribute category", "help of parameter n", "a Category"]


def test_kinds_sit_at_the_bottom_of_the_import_graph() -> None:
    """convcalc.kinds imports only the value modules and itself: never spec, engine, render, cli."""
    package = Path(registry.__file__).parent
    values = ("convcalc.errors", "convcalc.options", "convcalc.volume", "convcalc.report", "convcalc.algebra")
    allowed = ("convcalc.kinds", *values)
    for path in package.glob("*.py"):
        for line in inspect.cleandoc(path.read_text(encoding="utf-8")).splitlines():
            words = line.split()
            if len(words) > 1 and words[0] in {"from", "import"} and words[1].startswith("convcalc"):
                assert words[1].startswith(allowed), f"{path.name}: {line.strip()}"
