"""What the schema says of a mistake: a short sentence, once, and one description and list of examples."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from convcalc.schema import spec_schema
from convcalc.schema.texts import CALL_TAKEN, NEEDS_PARAMS, SHORTHAND_FORM, SHORTHAND_KIND

ROOT = Path(__file__).parent.parent
LIMIT = 300  # the longest line check-jsonschema may print (issue 17)
MISTAKES = {
    "covn3-64": SHORTHAND_KIND,
    "convolution3-8": SHORTHAND_KIND,
    "maxpool 2": SHORTHAND_FORM,
    "conv3": SHORTHAND_FORM,
    "conv3-8 p-1": SHORTHAND_FORM,
    "fc-10 s2 q": SHORTHAND_FORM,
    "conv": NEEDS_PARAMS,
}


def _errors(layer: str, extra: str = "") -> list[jsonschema.ValidationError]:
    data: dict[str, Any] = {"input": "32x32x3", "layers": ["conv3-8 p1", layer, "fc-10"]}
    if extra == "blocks":
        data["blocks"] = {"b": {"layers": ["relu"]}}
    validator = jsonschema.Draft202012Validator(spec_schema())
    return list(validator.iter_errors(data))


def _all_messages(error: jsonschema.ValidationError) -> list[str]:
    return [error.message, *(m for e in error.context or () for m in _all_messages(e))]


@pytest.mark.parametrize(("layer", "title"), MISTAKES.items())
def test_a_mistake_is_one_short_sentence(layer: str, title: str) -> None:
    errors = _errors(layer)
    assert len(errors) == 1, [e.message for e in errors]
    (error,) = errors
    assert list(error.absolute_path) == ["layers", 1]
    messages = _all_messages(error)
    assert all(len(m) < LIMIT // 2 for m in messages), messages
    assert f"{title!r} was expected" in messages


def test_with_blocks_a_word_may_be_a_call() -> None:
    assert _errors("covn3-64", "blocks") == []
    (error,) = _errors("maxpool 2", "blocks")
    assert all(len(m) < LIMIT // 2 for m in _all_messages(error))


def _walk(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        return [node, *(d for v in node.values() for d in _walk(v))]
    if isinstance(node, list):
        return [d for v in node for d in _walk(v)]
    return []


def test_completions_and_hover_come_from_one_definition() -> None:
    schema = spec_schema()
    offered = [d for d in _walk(schema) if "conv3-64 p1" in d.get("examples", [])]
    assert len(offered) == 1
    assert len(offered[0]["examples"]) == len(set(offered[0]["examples"]))
    described = [d for d in _walk(schema) if str(d.get("description", "")).startswith("A layer in shorthand:")]
    assert described == offered


def test_a_shorthand_layer_is_not_a_call_of_a_block() -> None:
    """Hover over `conv3-64` tells of the shorthand: the call's description does not apply to it."""
    schema = spec_schema()
    call = {**schema["$defs"]["call"], "$defs": schema["$defs"]}
    validator = jsonschema.Draft202012Validator(call)
    (error,) = validator.iter_errors("conv3-64")
    assert error.message == f"{CALL_TAKEN!r} was expected"
    assert validator.is_valid("bottleneck")
    assert not validator.is_valid("two words")


@pytest.mark.slow  # check-jsonschema starts in about a second
@pytest.mark.skipif(
    shutil.which("check-jsonschema") is None and sys.prefix == sys.base_prefix, reason="no check-jsonschema"
)
def test_check_jsonschema_prints_short_lines(tmp_path: Path) -> None:
    spec = tmp_path / "misspelt.yaml"
    spec.write_text("input: 32x32x3\nlayers:\n" + "".join(f"  - {json.dumps(m)}\n" for m in MISTAKES), encoding="utf-8")
    tool = Path(sys.executable).parent / "check-jsonschema"
    command = [
        str(tool if tool.exists() else "check-jsonschema"),
        "--schemafile",
        str(ROOT / "schema" / "convcalc-spec.schema.json"),
        str(spec),
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= LIMIT, max(lines, key=len)
    assert "[cC][oO]" not in result.stdout
    for i in range(len(MISTAKES)):
        assert sum(line.startswith(f"  {spec}::$.layers[{i}]: ") for line in lines) == 1, i
