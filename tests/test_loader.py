"""The spec loader: every input form, defaults, aliases, and an error at the right place."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from convcalc import LayerSpec, Spec, SpecError, load_spec
from convcalc.options import DType, Rounding
from convcalc.spec.layers import MAX_LAYERS
from convcalc.volume import Volume

if TYPE_CHECKING:
    from pathlib import Path


def leaves(spec: Spec) -> list[LayerSpec]:
    """The spec's layers, which these tests write without composites."""
    found = [n for n in spec.layers if isinstance(n, LayerSpec)]
    assert len(found) == len(spec.layers)
    return found


def spec_of(text: str) -> tuple[Volume, list[tuple[str, str, str]]]:
    spec = load_spec("t.yaml", text)
    return spec.input, [(layer.kind, layer.name, layer.label) for layer in leaves(spec)]


@pytest.mark.parametrize(
    "form",
    ["224x224x3", "224 x 224 x 3", "[224, 224, 3]", "{height: 224, width: 224, depth: 3}"],
)
def test_input_forms(form: str) -> None:
    volume, _ = spec_of(f"input: {form}\nlayers: []\n")
    assert volume == Volume((224, 224), 3)


def test_one_and_three_dim_and_vector_inputs() -> None:
    assert spec_of("input: {length: 100, depth: 16}\nlayers: []\n")[0] == Volume((100,), 16)
    assert spec_of("input: 16x112x112x3\nlayers: []\n")[0] == Volume((16, 112, 112), 3)
    assert spec_of("input: 784\nlayers: []\n")[0] == Volume((), 784)


def test_top_level_settings_and_defaults() -> None:
    spec = load_spec("nets/tiny.yaml", "input: 8x8x3\nbatch: 4\ndtype: float16\nrounding: floor\nlayers: [relu]\n")
    assert (spec.name, spec.batch, spec.dtype, spec.rounding) == ("tiny", 4, DType.FLOAT16, Rounding.FLOOR)


def test_shorthand_and_long_form_mean_the_same() -> None:
    short = load_spec("a.yaml", "input: 8x8x3\nlayers: [conv3-16 s2 p1 d1 g1]\n")
    long = load_spec("b.yaml", "input: 8x8x3\nlayers:\n  - conv: {filters: 16, size: 3, stride: 2, pad: 1}\n")
    a, b = leaves(short)[0], leaves(long)[0]
    assert dict(a.params) == dict(b.params)
    assert a.label == b.label == "conv3-16 s2 p1"


def test_names_default_to_the_shorthand() -> None:
    _, layers = spec_of("input: 8x8x3\nlayers:\n  - conv3-16\n  - maxpool\n  - fc: 10\n    name: scores\n")
    assert layers == [("conv", "CONV3-16", "conv3-16"), ("pool", "MAXPOOL2", "maxpool2"), ("fc", "scores", "fc-10")]


def test_aliases_and_scalar_long_form() -> None:
    _, layers = spec_of("input: 8x8x3\nlayers: [avgpool, gmp, dense-5, bn, norm, sigmoid, {dropout: 0.3}]\n")
    assert [k for k, _, _ in layers] == ["pool", "global_pool", "fc", "batchnorm", "lrn", "activation", "dropout"]
    assert [lbl for _, _, lbl in layers][:3] == ["avgpool2", "gmp", "fc-5"]


def test_defaults_apply_per_kind_and_layers_win() -> None:
    spec = load_spec(
        "t.yaml",
        "input: 8x8x3\ndefaults:\n  conv: {pad: 1, activation: relu}\n  maxpool: {size: 3, stride: 2}\n"
        "layers: [conv3-8, conv3-8 p0, maxpool, avgpool]\n",
    )
    layers = leaves(spec)
    pads = [layer.params.get("pad") for layer in layers[:2]]
    assert pads == [1, 0]
    assert layers[0].params["activation"] == "relu"
    assert layers[2].params["size"] == 3  # a maxpool default
    assert layers[3].params["size"] == 2  # not for avgpool


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("", (1, 1), "the spec is empty"),
        ("- conv3-8\n", (1, 1), "a spec is a mapping with `input:` and `layers:`, but this file holds a list"),
        ("just text\n", (1, 1), "but this file holds a single value"),
        ("layers: []\n", (1, 1), "the spec has no `input:`"),
        ("input: 8x8x3\nlayers: conv3-8\n", (2, 9), "`layers:` must be a list of layers"),
        ("input: 0x8x3\nlayers: []\n", (1, 8), "every input dim must be positive, got 0"),
        ("input: 8x8x3\nbatch: true\nlayers: []\n", (2, 8), "batch must be a whole number, not 'true' (a boolean)"),
        ("input: 8x8x3\ndtype: float8\nlayers: []\n", (2, 8), "dtype must be one of float64, float32"),
        ("input: 8x8x3\nlayers:\n  - conv: {filters: 1.5, size: 3}\n", (3, 21), "filters must be a whole number"),
        ("input: 8x8x3\nlayers:\n  - conv: {filters: 99999999999, size: 3}\n", (3, 21), "larger than convcalc's limit"),
        ("input: 8x8x3\nlayers:\n  - conv3-8 p-1\n", (3, 5), "unknown token 'p-1'"),
        ("input: 8x8x3\nlayers:\n  - conv3-8 s2 s3\n", (3, 5), "'s3' sets stride a second time"),
        ("input: 8x8x3\nlayers:\n  - conv: {filters: 8, size: 3}\n    nam: x\n", (3, 5), "one kind key"),
        ("input: 8x8x3\nlayers:\n  - conv: {filters: 8, size: 3, activation: rleu}\n", (3, 45), "unknown activation"),
        ("input: 8x8x3\nlayers:\n  - conv: {filters: 8, size: 3, pad: wide}\n", (3, 38), "pad must be a number"),
        ("input: 8x8x3\nlayers:\n  - dropout: 1.5\n", (3, 14), "p must be a number from 0 up to"),
        ("input: 8x8x3\nlayers:\n  - 42\n", (3, 5), "a layer is a shorthand string"),
        ("input: 8x8x3\nlayers:\n  -\n", (3, 4), "not an empty value"),
        ("input: 8x8x3\nlayers:\n  - maxpool: {type: avg}\n", (3, 14), "'maxpool' already means type: max"),
        ("input: 8x8x3\nlayers:\n  - conv: {filters: 8, size: 3x}\n", (3, 30), "size must be a number or AxB"),
        ("input: 8x8x3\ndefaults:\n  conv: {pad: -1}\nlayers: []\n", (3, 15), "pad must be a number"),
        ("input: 8x8x3\ndefaults:\n  convo: {}\nlayers: []\n", (3, 3), "unknown layer kind 'convo'"),
        ("input: 8x8x3\nlayers: [conv3 p1]\n", (2, 10), "'conv3' has no filter count: write conv<F>-<K>"),
        (
            "input: 8x8x3\nlayers:\n  - conv3-16 p1\n    expect: {params: 3}\n",
            (4, 11),
            "a shorthand layer cannot have keys under it: write `- layer: conv3-16 p1`",
        ),
        ("input: 8x8x3\nlayers:\n\t- relu\n", (3, 1), "YAML does not allow tabs for indentation"),
        (
            "input: 8x8x3\nlayers:\n  - residual:\n    layers: [relu]\n",
            (3, 5),
            "(the other keys belong under residual: indent them below it)",
        ),
        ("input: 8x8x3\nlayers: [relu]\nexpect: {param: 3}\n", (3, 10), "did you mean 'params'?"),
        ("a: [1\n", (2, 1), "YAML:"),
        ("a: &x [*x]\n", (1, 4), "YAML:"),
        ("a: 1\n---\nb: 2\n", (2, 1), "YAML:"),
    ],
)
def test_errors_name_their_place(text: str, where: tuple[int, int], message: str) -> None:
    with pytest.raises(SpecError, match=r".") as caught:
        load_spec("t.yaml", text)
    error = caught.value
    assert error.location is not None
    assert (error.location.file, error.location.line, error.location.column) == ("t.yaml", *where)
    assert message in error.message


def test_files_that_are_not_specs(tmp_path: Path) -> None:
    binary = tmp_path / "b.yaml"
    binary.write_bytes(b"\x00\x01\x02")
    latin = tmp_path / "l.yaml"
    latin.write_bytes(b"input: 8x8x3\nname: caf\xe9\nlayers: []\n")
    cases = [
        (str(tmp_path), "is a folder, not a spec file"),
        (str(tmp_path / "missing.yaml"), "no such file"),
        (str(binary), "this is a binary file, not a YAML spec"),
        (str(latin), "the file is not UTF-8 text"),
    ]
    for path, message in cases:
        with pytest.raises(SpecError, match=message):
            load_spec(path)


def test_error_text_is_compiler_style() -> None:
    with pytest.raises(SpecError, match="filters") as caught:
        load_spec("net.yaml", "input: 8x8x3\nlayers:\n  - conv: {size: 3}\n")
    assert str(caught.value).startswith("net.yaml:3:11: error: conv needs `filters`")


def test_load_spec_takes_a_path_object(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text("input: 8x8x3\nlayers:\n  - residual:\n      name: x\n      layers: [relu]\n", encoding="utf-8")
    with pytest.raises(SpecError, match="unknown key 'name' in a residual") as caught:
        load_spec(source)
    assert str(caught.value).startswith(f"{source}:4:7: error:")


def test_a_list_is_the_main_parameter_only_when_it_is_per_dim(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text("input: 8x8x3\nlayers:\n  - adaptive_avgpool: [3, 2]\n  - maxpool: [3, 2]\n", encoding="utf-8")
    layers = load_spec(source).layers
    assert [layer.params["output" if i == 0 else "size"] for i, layer in enumerate(layers)] == [(3, 2), (3, 2)]  # type: ignore[union-attr]
    source.write_text("input: 8x8x3\nlayers:\n  - fc: [3, 2]\n", encoding="utf-8")
    with pytest.raises(SpecError, match=r"the parameters of fc must be a mapping, e.g. fc: \{...\}"):
        load_spec(source)


def test_every_mistake_in_the_layers_is_reported(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    blocks = "blocks:\n  b:\n    layers: [convv3-4]\n"
    calls = "".join("  - b\n" for _ in range(5))  # one mistake in a block called five times: said once
    source.write_text(
        f"input: 8x8x3\n{blocks}layers:\n  - convo3-4\n  - conv3-4 p1\n{calls}  - maxpool: {{size: 0}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="unknown layer kind 'convo3-4'") as caught:
        load_spec(source)
    lines = str(caught.value).splitlines()
    # In the file's order: the block's mistake (at its definition, said once) first.
    assert [line.split(": error: ")[0] for line in lines] == [f"{source}:4:14", f"{source}:6:5", f"{source}:13:21"]
    assert "size must be positive, got 0" in lines[2]


def test_at_most_twenty_mistakes(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text("input: 8x8x3\nlayers:\n" + "".join(f"  - nope{i}\n" for i in range(50)), encoding="utf-8")
    with pytest.raises(SpecError, match="unknown layer kind 'nope0'") as caught:
        load_spec(source)
    assert len(caught.value.all) == 20


def test_mistakes_in_branches_body_and_shortcut_are_all_reported(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text(
        "input: 8x8x3\nlayers:\n  - parallel:\n      branches: [[bogus2], [bogus3]]\n"
        "  - residual:\n      layers: [bogus4]\n      shortcut: [bogus5]\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="bogus2") as caught:
        load_spec(source)
    assert [e.message.split(";")[0] for e in caught.value.all] == [
        f"unknown layer kind 'bogus{i}'" for i in (2, 3, 4, 5)
    ]


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
def test_the_layer_limit_is_said_once(tmp_path: Path) -> None:
    source = tmp_path / "spec.yaml"
    source.write_text(
        f"input: 8x8x3\nlayers:\n  - repeat: {MAX_LAYERS - 2}\n    layers: [relu]\n" + "  - relu\n" * 30,
        encoding="utf-8",
    )
    with pytest.raises(SpecError, match="more than 250,000 layers") as caught:
        load_spec(source)
    assert len(caught.value.all) == 1


# -- YAML 1.1's number traps and merge keys (issue 13, point 5) --------------------------------


@pytest.mark.parametrize(("written", "message"), [("064", "'064' has a leading zero"), ("-07", "'-07' has")])
def test_a_leading_zero_is_refused_not_read_as_octal(written: str, message: str) -> None:
    text = f"input: 8x8x3\nlayers:\n  - conv: {{filters: {written}, size: 3}}\n"
    with pytest.raises(SpecError, match=message) as caught:
        load_spec("net.yaml", text)
    assert caught.value.location is not None
    assert (caught.value.location.line, caught.value.location.column) == (3, 21)


@pytest.mark.parametrize("written", ["1:30", "1:30.5", "2:00"])
def test_base_60_is_text_as_in_yaml_1_2(written: str) -> None:
    text = f"input: 8x8x3\nlayers:\n  - fc: {{units: {written}}}\n"
    with pytest.raises(SpecError, match=f"units must be a whole number, not '{written}'"):
        load_spec("net.yaml", text)


def test_plain_numbers_still_read_as_numbers() -> None:
    spec = load_spec("net.yaml", "input: 8x8x3\nlayers:\n  - conv: {filters: 0x10, size: 3, pad: 0}\n  - fc: 1_000\n")
    assert [layer.params.get("filters", layer.params.get("units")) for layer in leaves(spec)] == [16, 1000]


def test_merge_keys_work_and_the_mappings_own_keys_win() -> None:
    text = (
        "input: 8x8x3\nlayers:\n"
        "  - conv: &base {filters: 8, size: 3, pad: 1}\n"
        "  - conv: {<<: *base, filters: 16}\n"
        "  - conv: {filters: 4, <<: *base}\n"
        "  - conv: {<<: [{size: 5}, *base]}\n"
    )
    convs = [layer.params for layer in leaves(load_spec("net.yaml", text))]
    assert [(c["filters"], c["size"], c["pad"]) for c in convs] == [(8, 3, 1), (16, 3, 1), (4, 3, 1), (8, 5, 1)]


def test_a_key_given_twice_beside_a_merge_is_still_a_duplicate() -> None:
    text = "input: 8x8x3\nlayers:\n  - conv: &b {filters: 8, size: 3}\n  - conv: {<<: *b, pad: 1, pad: 2}\n"
    with pytest.raises(SpecError, match="duplicate key 'pad'"):
        load_spec("net.yaml", text)
