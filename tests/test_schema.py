"""The JSON Schema of the spec format: the committed file is the command's output, every spec
convcalc reads validates, and the mistakes it can see (unknown keys and kinds, wrong types,
missing required parameters) are rejected."""

from __future__ import annotations

import ast
import importlib
import json
import re
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc import SpecError, load_spec
from convcalc.cli import main
from convcalc.kinds import registry
from convcalc.schema import FILE, any_case, schema_json, spec_schema
from convcalc.spec import composite
from convcalc.spec.loader import TOP_KEYS
from convcalc.spec.yamlpos import parse_yaml

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

# The fuzz suite's generators of specs, valid and broken. tests/ is not a package, so the import
# goes by name (pytest puts tests/ on the path), with the types written here for mypy.
_fuzz = importlib.import_module("test_fuzz")
structured_specs: Callable[[], st.SearchStrategy[str]] = _fuzz.structured_specs
shorthand_specs: Callable[[], st.SearchStrategy[str]] = _fuzz.shorthand_specs
mutated_builtins: Callable[[], st.SearchStrategy[str]] = _fuzz.mutated_builtins

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / FILE
MODELINE = "# yaml-language-server: $schema=../schema/convcalc-spec.schema.json"
VALIDATOR = jsonschema.Draft202012Validator(spec_schema())


def problems(text: str) -> list[str]:
    """What the schema finds wrong with a spec, read as convcalc reads it."""
    data = parse_yaml(text, "t.yaml")
    return [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(data)]


def loads(text: str) -> bool:
    try:
        load_spec("t.yaml", text)
    except SpecError:
        return False
    return True


# --- the file, the command, the modelines ----------------------------------------------------


def test_the_committed_file_is_the_commands_output() -> None:
    result = CliRunner().invoke(main, ["schema"])
    assert result.exit_code == 0
    assert result.stdout == SCHEMA.read_text(encoding="utf-8"), "run: convcalc schema -o " + FILE


def test_schema_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "s.json"
    result = CliRunner().invoke(main, ["schema", "-o", str(out)])
    assert (result.exit_code, result.stdout) == (0, "")
    assert out.read_text(encoding="utf-8") == schema_json()
    made = tmp_path / "schema" / "s.json"  # as docs/editors.md writes it: the folder is made
    assert CliRunner().invoke(main, ["schema", "--output", str(made)]).exit_code == 0
    assert made.read_text(encoding="utf-8") == schema_json()
    (tmp_path / "a-file").write_text("", encoding="utf-8")
    result = CliRunner().invoke(main, ["schema", "--output", str(tmp_path / "a-file" / "s.json")])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: cannot write {tmp_path / 'a-file' / 's.json'}: ")


@pytest.mark.slow
def test_it_is_a_draft_2020_12_schema_with_sorted_keys() -> None:
    schema = json.loads(schema_json())
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema_json() == json.dumps(schema, indent=2, sort_keys=True) + "\n"


@pytest.mark.parametrize("path", sorted((ROOT / "specs").glob("*.yaml")), ids=lambda p: p.name)
def test_builtin_specs_name_the_schema_in_their_first_line(path: Path) -> None:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first == MODELINE
    assert (path.parent / first.split("$schema=")[1]).resolve() == SCHEMA


# --- every spec the project holds ------------------------------------------------------------


def project_specs() -> list[Path]:
    """The convcalc specs in specs/ and examples/ (examples/ci/ also holds CI configuration)."""
    candidates = [*(ROOT / "specs").glob("*.yaml"), *(ROOT / "examples").rglob("*.y*ml")]
    return sorted(p for p in candidates if "layers" in (parse_yaml(p.read_text(encoding="utf-8"), str(p)) or {}))


def test_the_project_specs_are_found() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in project_specs()}
    examples = {
        "examples/homework.yaml", "examples/ci/budget.yaml", "examples/does-not-fit.yaml",
        "examples/grading/key.yaml", "examples/grading/students/dora.yaml",  # a student who wrote a spec
    }  # fmt: skip
    assert {"specs/vgg16.yaml", *examples} <= names
    assert "examples/ci/github-actions.yml" not in names
    assert len(names) == len(list((ROOT / "specs").glob("*.yaml"))) + len(examples)


@pytest.mark.slow
@pytest.mark.parametrize("path", project_specs(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_project_spec_validates(path: Path) -> None:
    assert problems(path.read_text(encoding="utf-8")) == []


# --- what it rejects -------------------------------------------------------------------------

L = "input: 8x8x3\nlayers:\n"
REJECTED = {
    "unknown top-level key": "input: 8x8x3\nlayers: [relu]\nlayer: [relu]\n",
    "misspelt top-level key": "input: 8x8x3\nLayers: [relu]\n",
    "no input": "layers: [relu]\n",
    "no layers": "input: 8x8x3\n",
    "conv without filters": L + "  - conv: {size: 3}\n",
    "conv without size": L + "  - conv: {filters: 8}\n",
    "conv given only filters": L + "  - conv: 8\n",
    "a list for a main parameter that is not per dim": L + "  - fc: [3, 2]\n",
    "fc without units": L + "  - fc:\n",
    "groupnorm without groups": L + "  - groupnorm\n",
    "bare conv word": L + "  - conv\n",
    "bare conv word under layer:": L + "  - {layer: conv, name: c}\n",
    "bare fc word in a residual": L + "  - residual: {layers: [fc]}\n",
    "unknown layer key": L + "  - conv: {filters: 8, size: 3, strides: 2}\n",
    "unknown key beside a layer": L + "  - conv: {filters: 8, size: 3}\n    nam: x\n",
    "two kind keys": L + "  - conv: {filters: 8, size: 3}\n    fc: 10\n",
    "only a name": L + "  - name: x\n",
    "wrong type for stride": L + "  - conv: {filters: 8, size: 3, stride: two}\n",
    "float filters": L + "  - conv: {filters: 1.5, size: 3}\n",
    "huge filters": L + "  - conv: {filters: 99999999999, size: 3}\n",
    "zero stride": L + "  - conv: {filters: 8, size: 3, stride: 0}\n",
    "empty size list": L + "  - conv: {filters: 8, size: []}\n",
    "size 3x": L + "  - conv: {filters: 8, size: 3x}\n",
    "pad wide": L + "  - conv: {filters: 8, size: 3, pad: wide}\n",
    "pad -1 in defaults": "input: 8x8x3\ndefaults:\n  conv: {pad: -1}\nlayers: []\n",
    "unknown kind in defaults": "input: 8x8x3\ndefaults:\n  convo: {}\nlayers: []\n",
    "unknown activation": L + "  - conv: {filters: 8, size: 3, activation: rleu}\n",
    "dropout 1.5": L + "  - dropout: 1.5\n",
    "bias as a number": L + "  - fc: {units: 8, bias: 1}\n",
    "unknown layer type": L + "  - convolution: {filters: 8, size: 3}\n",
    "unknown shorthand": L + "  - convolution3-8\n",
    "unknown shorthand token": L + "  - conv3-8 p-1\n",
    "conv3 without filters": L + "  - conv3 p1\n",
    "a number as a layer": L + "  - 42\n",
    "an empty layer": L + "  -\n",
    "layers not a list": "input: 8x8x3\nlayers: conv3-8\n",
    "bad input": "input: 8by8x3\nlayers: []\n",
    "two-number input": "input: 7x7\nlayers: []\n",
    "symbolic depth": "input: HxWxC\nlayers: []\n",
    "five input dims": "input: 1x2x3x4x5\nlayers: []\n",
    "input mapping keys": "input: {height: 8, depth: 3}\nlayers: []\n",
    "batch true": "input: 8x8x3\nbatch: true\nlayers: []\n",
    "dtype float8": "input: 8x8x3\ndtype: float8\nlayers: []\n",
    "rounding round": "input: 8x8x3\nrounding: round\nlayers: []\n",
    "misspelt expect key": "input: 8x8x3\nlayers: [relu]\nexpect: {param: 3}\n",
    "expect params 3Q": "input: 8x8x3\nlayers: [relu]\nexpect: {params: 3Q}\n",
    "expect memory in MHz": "input: 8x8x3\nlayers: [relu]\nexpect: {memory: 3 MHz}\n",
    "expect output 3x": "input: 8x8x3\nlayers: [relu]\nexpect: {output: 3x}\n",
    "keys beside residual": L + "  - residual:\n    layers: [relu]\n",
    "residual without layers": L + "  - residual: {shortcut: auto}\n",
    "unknown residual key": L + "  - residual: {layers: [relu], skip: auto}\n",
    "residual merge max": L + "  - residual: {layers: [relu], merge: max}\n",
    "parallel without branches": L + "  - parallel: {merge: add}\n",
    "parallel empty branches": L + "  - parallel: {branches: []}\n",
    "repeat without layers": L + "  - repeat: 2\n",
    "repeat zero": L + "  - repeat: 0\n    layers: [relu]\n",
    "repeat with a kind": L + "  - repeat: 2\n    layers: [relu]\n    relu:\n",
    "layers without repeat": L + "  - layers: [relu]\n",
    "layer: not a string": L + "  - layer: {conv: 3}\n",
    "unknown kind inside a residual": L + "  - residual: {layers: [convolution3-8]}\n",
    "conv without filters inside a parallel": L + "  - parallel: {branches: [[{conv: {size: 1}}]]}\n",
    "unknown kind in a repeat": L + "  - repeat: 2\n    layers: [{convolution: 3}]\n",
    "block named after a kind": "input: 8x8x3\nblocks:\n  conv: {layers: [relu]}\nlayers: []\n",
    "block without layers": "input: 8x8x3\nblocks:\n  b: {args: {w: 1}}\nlayers: [b]\n",
    "block argument not a word": "input: 8x8x3\nblocks:\n  b: {args: {1w: 1}, layers: [relu]}\nlayers: [b]\n",
    "stride of two in a block": (
        "input: 8x8x3\nblocks:\n  b: {layers: [{conv: {filters: 8, size: 3, stride: two}}]}\nlayers: [b]\n"
    ),
}


@pytest.mark.parametrize("text", REJECTED.values(), ids=REJECTED.keys())
def test_rejects_what_convcalc_rejects(text: str) -> None:
    assert not loads(text)
    assert problems(text)


# --- what it accepts -------------------------------------------------------------------------

SHORTHAND = [
    "conv3-64", "conv5-10 s1 p2", "conv11-96 s4 p0", "conv1-256", "conv3-32 gdw", "conv3-32 g4", "conv3-8 psame",
    "conv3-8 pvalid", "conv3-8 d2 p2", "conv1x7-128 p0x3", "conv3x3-8 s2x1", "CONV3-64", "Conv3-64 S2 P1",
    "  conv3-8   s2  ", "conv3-8 floor", "conv3-8 s2 ceil", "deconv4-64 s2 p1 op0", "conv_transpose3-8 s2 op1",
    "maxpool", "maxpool2", "maxpool3 s2", "maxpool3 s2 p1 ceil", "avgpool7 s1", "pool2", "avgpool", "maxpool3 d2",
    "fc-4096", "fc4096", "dense-10", "linear10", "upsample", "upsample2", "adaptive_avgpool6", "adaptive_maxpool6x6",
    "gap", "gmp", "flatten", "dropout", "bn", "batchnorm", "lrn", "norm", "layernorm", "relu", "ReLU", "softmax",
    "leaky_relu", "log_softmax", "identity", "hardswish", "global_pool",
]  # fmt: skip
LONG = [
    "conv: {filters: 64, size: 3}",
    "conv: {filters: 64, size: 3, stride: 2, pad: 1, dilation: 1, groups: 1, bias: false, activation: relu}",
    "conv: {filters: 8, size: [1, 7], stride: [1, 2], pad: [0, 3]}",
    "conv: {filters: 8, size: 1x7, pad: same, groups: depthwise, rounding: floor}",
    "conv: {filters: '8', size: ' 3 ', pad: SAME, groups: dw, activation: ReLU, rounding: Ceil}",
    "conv: {filters: 8.0, size: 3}",
    "deconv: {filters: 8, size: 4, stride: 2, pad: 1, output_padding: 1}",
    "conv_transpose: {filters: 8, size: 2, stride: 2}",
    "pool: {type: avg, size: 3, stride: 2, pad: 1, rounding: ceil}",
    "maxpool: {size: 3, stride: 2, dilation: 2}",
    "maxpool: {type: max}",
    "avgpool: 2",
    "maxpool:",
    "global_pool: {type: max}",
    "global_pool: avg",
    "gap:",
    "adaptive_pool: {type: avg, output: 6}",
    "adaptive_avgpool: 6x6",
    "adaptive_maxpool: {output: [6, 6]}",
    "adaptive_avgpool: [3, 2]",
    "maxpool: [2, 1]",
    "fc: 10",
    "fc: {units: 10, bias: false, activation: softmax}",
    "dense: {units: 10}",
    "linear: '10'",
    "batchnorm: {affine: false}",
    "bn:",
    "lrn: {size: 5}",
    "norm: 3",
    "layernorm: {affine: true}",
    "groupnorm: 2",
    "groupnorm: {groups: 2, affine: false}",
    "activation: {function: gelu}",
    "activation: tanh",
    "relu:",
    "relu: {}",
    "sigmoid: {function: sigmoid}",
    "dropout: 0.3",
    "dropout: {p: 0}",
    "flatten:",
    "upsample: {scale: 2}",
    "upsample: 2x2",
    "Conv: {filters: 8, size: 3}",
    "layer: conv5-10 s1 p2",
]


def spec_with(layer: str, *, input_: str = "16x16x8") -> str:
    return f"input: {input_}\nlayers:\n  - {layer}\n"


ACCEPTED = {
    **{f"shorthand {s!r}": spec_with(json.dumps(s)) for s in SHORTHAND},
    **{f"long {s!r}": spec_with(s) for s in LONG},
    "named layer": spec_with("{layer: conv3-8 p1, name: c1, expect: {output: 16x16x8, params: 584}}"),
    "named long form": spec_with("{conv: {filters: 8, size: 3, pad: 1}, name: 3, expect: {params: '<= 1k'}}"),
    "input forms": "input: [8, 8, 3]\nlayers: []\n",
    "input mapping": "input: {height: 8, width: 8, depth: 3}\nlayers: []\n",
    "input 1-D": "input: {length: 100, depth: 16}\nlayers: []\n",
    "input 3-D": "input: {time: 4, height: 8, width: 8, depth: 3}\nlayers: []\n",
    "input spaced": "input: 224 x 224 x 3\nlayers: []\n",
    "input vector": "input: 784\nlayers: [fc-10]\n",
    "input 3-D string": "input: 16x112x112x3\nlayers: []\n",
    "every top-level key": (
        "name: net\ndescription: a net\ninput: 8x8x3\nbatch: 4\ndtype: bfloat16\nrounding: floor\n"
        "defaults: {conv: {pad: 1}}\nblocks: {b: {layers: [relu]}}\nlayers: [b]\nexpect: {output: 8x8x3}\n"
    ),
    "numbers as names": "name: 7\ndescription: 1.5\ninput: 8x8x3\nlayers: []\n",
    "case of settings": "input: 8x8x3\ndtype: Float16\nrounding: ' Strict '\nlayers: []\n",
    "expectations": (
        "input: 32x32x3\nlayers:\n  - {layer: conv5-10 p2, expect: {output: [32, 32, 10], rf: 5, params: 760}}\n"
        "expect:\n  params: 760\n  weights: '<= 10M'\n  biases: '>= 1'\n  buffers: 0\n  macs: 0.768M\n"
        "  flops: 1.55M\n  activations: 13.31k\n  memory: 53.25 kB\n  output: 32x32x10\n  rf: [5, 5]\n"
    ),
    "memory units": "input: 8x8x3\nlayers: []\nexpect: {memory: '< 1MiB'}\n",
    "count with separators": "input: 8x8x3\nlayers: []\nexpect: {activations: '1,000_000'}\n",
    "defaults": (
        "input: 8x8x3\ndefaults:\n  conv: {pad: 1, activation: relu}\n  maxpool: {size: 3, stride: 2}\n"
        "  Pool: {rounding: ceil}\nlayers: [conv3-8, maxpool]\n"
    ),
    "defaults give required parameters": (
        "input: 8x8x3\ndefaults:\n  conv: {filters: 4, size: 3}\n  fc: {units: 3}\n"
        "layers: [conv, {conv: {pad: 1}}, {conv: null}, fc]\n"
    ),
    "repeat": L + "  - repeat: 3\n    layers: [conv3-3 p1, relu]\n    name: stack\n    expect: {params: 252}\n",
    "repeat as a string": L + "  - repeat: '2'\n    layers: [relu]\n",
    "residual": L + "  - residual:\n      layers: [conv3-3 p1, bn, relu]\n      shortcut: []\n      merge: add\n"
    "      activation: relu\n    name: block1\n",
    "residual shortcuts": L + "  - residual: {layers: [relu], shortcut: identity}\n"
    "  - residual: {layers: [relu], shortcut: auto}\n  - residual: {layers: [relu]}\n"
    "  - residual: {layers: [conv1-3], shortcut: [conv1-3, bn], merge: concat, activation: null}\n",
    "parallel": L + "  - parallel:\n      branches:\n        - [conv1-4]\n        - [conv1-2, conv3-4 p1]\n"
    "        - []\n        - [maxpool3 s1 p1, conv1-2]\n      merge: concat\n",
    "parallel multiply": L + "  - parallel: {branches: [[], [gap, fc-3, sigmoid]], merge: multiply}\n",
    "nested composites": L + "  - repeat: 2\n    layers:\n      - residual:\n          layers:\n"
    "            - parallel: {branches: [[conv1-2], [conv1-1]]}\n",
    "blocks with arguments": (
        "input: 56x56x64\nblocks:\n  bottleneck:\n    args: {width: null, out: null, stride: 1}\n    layers:\n"
        "      - residual:\n          layers: ['conv1-${width}', bn, relu, 'conv3-${width} s${stride} p1', bn,"
        " relu, 'conv1-${out}', bn]\n          shortcut: auto\n          activation: relu\n"
        "layers:\n  - bottleneck: {width: 64, out: 256}\n  - bottleneck: {width: 64, out: 256, stride: 2}\n"
    ),
    "whole ${arg} values take any type": (
        "input: 8x8x3\nblocks:\n  b:\n    args: {n: 2, f: 4, l: relu, ls: [relu], m: concat, e: 36}\n    layers:\n"
        "      - conv: {filters: '${f}', size: 1, stride: '${n}', activation: '${l}'}\n"
        "      - repeat: '${n}'\n        layers: '${ls}'\n"
        "      - '${l}'\n"
        "      - parallel: {branches: ['${ls}', []], merge: '${m}'}\n"
        "      - {layer: 'conv1-${f}', expect: {params: '${e}'}, name: 'c${f}'}\n"
        "layers: [b, {b: {n: 1}, name: call}, {b: null}]\n"
    ),
    "blocks calling blocks": (
        "input: 8x8x3\nblocks:\n  inner: {args: {w: 2}, layers: ['conv1-${w}']}\n"
        "  outer:\n    args: {w: 4}\n    layers: [{inner: {w: '${w}'}}, inner]\nlayers: [outer]\n"
    ),
    "a block never called": "input: 8x8x3\nblocks:\n  b: {layers: [relu]}\nlayers: [relu]\n",
    "a block with a dash": "input: 8x8x3\nblocks:\n  my-block: {layers: [relu]}\nlayers: [my-block]\n",
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepts_what_convcalc_reads(text: str) -> None:
    load_spec("t.yaml", text)  # raises if convcalc refuses the example itself
    assert problems(text) == []


# --- no false rejections: every spec convcalc reads validates ----------------------------------


def _snippets() -> Iterator[tuple[str, str]]:
    """YAML specs written in the tests and in the docs."""
    for path in sorted((ROOT / "tests").glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and "layers" in node.value:
                yield f"{path.name}:{node.lineno}", textwrap.dedent(node.value)
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for i, block in enumerate(re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.DOTALL)):
            yield f"{path.name}#{i}", block


SNIPPETS = [(where, text) for where, text in _snippets() if loads(text)]


def test_snippets_are_many() -> None:
    assert len(SNIPPETS) >= 40


@pytest.mark.slow
@pytest.mark.parametrize(("where", "text"), SNIPPETS, ids=[w for w, _ in SNIPPETS])
def test_every_snippet_convcalc_reads_validates(where: str, text: str) -> None:
    assert problems(text) == [], where


FUZZ = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))


def called(data: object) -> set[str]:
    """The blocks a spec calls, from its layers or from blocks it calls (a word found anywhere counts)."""
    blocks = data.get("blocks") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(blocks, dict):
        return set()
    found: set[str] = set()
    todo: list[object] = [data.get("layers")]
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            todo += [*item, *item.values()]
        elif isinstance(item, list):
            todo += item
        elif isinstance(item, str) and item.strip() in blocks and item.strip() not in found:
            found.add(item.strip())
            todo.append(blocks[item.strip()])
    return found


def agree(text: str) -> None:
    """If convcalc reads the spec, the schema accepts it.

    Except in blocks that are never called: convcalc reads a block's layers at each call, the
    schema checks them where they are written (docs/editors.md).
    """
    if not loads(text):
        return
    data = parse_yaml(text, "t.yaml")
    if isinstance(data.get("blocks"), dict):
        data["blocks"] = {name: body for name, body in data["blocks"].items() if name in called(data)}
    assert [f"{e.json_path}: {e.message}" for e in VALIDATOR.iter_errors(data)] == [], text


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@FUZZ
@given(text=st.one_of(structured_specs(), shorthand_specs()))
def test_generated_specs_convcalc_reads_validate(text: str) -> None:
    agree(text)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ, max_examples=200)
@given(text=mutated_builtins())
def test_mutated_builtin_specs_convcalc_reads_validate(text: str) -> None:
    agree(text)


# --- it is made from the code's vocabularies -------------------------------------------------


def test_every_kind_alias_and_key_is_in_the_schema() -> None:
    schema = spec_schema()
    defs: dict[str, Any] = schema["$defs"]
    assert list(schema["properties"]) == list(TOP_KEYS)
    layer = defs["layer"]["else"]["properties"]
    assert set(registry.known_names()) <= set(layer)
    assert set(composite.COMPOSITES) | set(composite.REPEAT_KEYS) <= set(layer)
    assert list(defs["residual"]["properties"]) == list(composite.RESIDUAL_KEYS)
    assert list(defs["parallel"]["properties"]) == list(composite.PARALLEL_KEYS)
    for kind in registry.KINDS.values():
        params = defs[f"kind.{kind.name}.params"]["properties"]
        assert list(params) == [p.name for p in kind.params]
        assert all(p["description"] for p in params.values())


def test_the_shorthand_examples_editors_offer_are_layers() -> None:
    examples = spec_schema()["$defs"]["shorthand"]["examples"]
    assert len(examples) > 10
    for example in examples:
        load_spec("t.yaml", spec_with(example))


def test_any_case() -> None:
    pattern = any_case(r"^(?:conv\d+x\d+|[+-]\s)$")
    assert pattern == r"^(?:[cC][oO][nN][vV]\d+[xX]\d+|[+-]\s)$"
    assert re.fullmatch(pattern, "CoNv3X3")
    assert not re.fullmatch(pattern, "conv3y3")
    with pytest.raises(ValueError, match="letters in a character class"):
        any_case("[a-c]")
