"""Fuzzing the command line: whatever text it is given, convcalc ends with exit 0, 1 or 2 and says why.

Hypothesis writes specs, valid and broken (wrong types, missing keys, zero and negative sizes,
random shorthand, composites, blocks, expectations, YAML oddities, mutated built-in specs), and
each runs through the CLI in-process. The contract checked for every run (docs/spec.md, "Exit
codes"): exit 0, 1 or 2; never a traceback; a message for every failure; valid JSON where JSON was
asked for; the same verdict from every format and from `check`.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convcalc.cli import main

if TYPE_CHECKING:
    from click.testing import Result

# Generated cases per test; their sum is what CI runs (at least 2,000).
FUZZ_STRUCTURED = 600  # specs assembled from random values, composites, blocks and expectations
FUZZ_SHORTHAND = 500  # random shorthand strings
FUZZ_YAMLISH = 400  # random YAML-ish text
FUZZ_MUTATED = 600  # built-in specs with lines deleted, numbers changed, garbage inserted
FUZZ_DEEP = 200  # deep nesting: composites, chains of blocks, brackets
FUZZ_LAYER = 300  # `convcalc layer` with random inputs and shorthand
FUZZ_TOTAL = FUZZ_STRUCTURED + FUZZ_SHORTHAND + FUZZ_YAMLISH + FUZZ_MUTATED + FUZZ_DEEP + FUZZ_LAYER
assert FUZZ_TOTAL >= 2_000

SPECS = Path(__file__).resolve().parent.parent / "specs"
BUILTIN_TEXTS = {p.name: p.read_text(encoding="utf-8") for p in sorted(SPECS.glob("*.yaml"))}

# Every run goes through `show --format json` (the baseline verdict) and one of these besides.
VARIANTS: list[tuple[str, ...]] = [
    ("show", "-", "--format", "table"),
    ("show", "-", "--format", "table", "--depth", "1"),
    ("show", "-", "--format", "json", "--depth", "1"),
    ("show", "-", "--format", "csv"),
    ("show", "-", "--format", "markdown", "--binary"),
    ("show", "-", "--format", "table", "--explain"),
    ("check", "-"),
    ("check", "-", "--format", "json"),
    ("check", "-", "--format", "github"),
    ("check", "-", "--verbose"),
    # Overrides change the network, so the verdict may change (and expectations are not checked).
    ("show", "-", "--format", "json", "--rounding", "floor"),
    ("show", "-", "--format", "table", "--rounding", "ceil", "--depth", "2"),
    ("show", "-", "--format", "json", "--input", "9x9x3"),
    ("show", "-", "--format", "csv", "--input", "5x7x2", "--batch", "3", "--dtype", "int8"),
]
OVERRIDES = ("--rounding", "--input", "--batch", "--dtype")
BASELINE = ("show", "-", "--format", "json")

# Fuzzing is deliberately long-running per example and generates large inputs.
FUZZ_SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


# --- running and judging ---------------------------------------------------------------------


def invoke(args: tuple[str, ...], text: str) -> Result:
    return CliRunner().invoke(main, list(args), input=text)


def judge(args: tuple[str, ...], result: Result) -> None:
    """What must hold for any run: a known exit code, no traceback, a message for each failure."""
    shown = f"{args}: exit {result.exit_code}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{shown}\nexception: {result.exception!r}"
    )
    assert result.exit_code in {0, 1, 2}, shown
    assert "Traceback" not in result.stdout, shown
    assert "Traceback" not in result.stderr, shown
    command = args[0]
    fmt = args[args.index("--format") + 1] if "--format" in args else ("table" if command == "show" else "text")
    if command == "show":
        judge_show(fmt, result, shown)
    elif command == "layer":
        judge_layer(result, shown)
    else:
        judge_check(fmt, result, shown)


def judge_show(fmt: str, result: Result, shown: str) -> None:
    if result.exit_code == 2:
        # The spec could not be read: nothing on stdout, an error on stderr where it stands.
        assert result.stdout == "", shown
        assert result.stderr.startswith("<stdin>"), shown
        assert "error: " in result.stderr, shown
        return
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["ok"] is (result.exit_code == 0), shown
        if result.exit_code == 1:
            # A design error or a failed expectation is echoed on stderr too.
            assert "error: " in result.stderr, shown
    elif result.exit_code == 1:
        if fmt == "table":
            # The table flags the row, and lists the error or failed check beneath it.
            assert "✗" in result.stdout, shown
        else:
            assert result.stdout, shown
    if fmt in {"csv", "markdown"}:
        assert result.stdout, shown


def judge_layer(result: Result, shown: str) -> None:
    if result.exit_code == 2:
        # A spec error (error: ...) or a usage error from click (Error: ...), on stderr.
        assert "error: " in result.stderr.lower(), shown
    elif result.exit_code == 1:
        # An error beneath the layer, or "no S makes the stride fit".
        assert "error" in result.stdout or " makes the stride fit" in result.stdout, shown


def judge_check(fmt: str, result: Result, shown: str) -> None:
    if fmt == "json":
        data = json.loads(result.stdout)
        summary = data["summary"]
        assert (summary["unreadable"] > 0) is (result.exit_code == 2), shown
        if result.exit_code == 1:
            assert summary["failed"] or summary["errors"], shown
        return
    if result.exit_code == 0:
        return
    # check reports on stdout, in text or as GitHub annotations.
    assert "error" in result.stdout, shown


def run_all(text: str, variant: tuple[str, ...]) -> None:
    """The baseline run and one variant; every format and `check` must reach the same verdict."""
    base = invoke(BASELINE, text)
    judge(BASELINE, base)
    other = invoke(variant, text)
    judge(variant, other)
    verdicts = (variant, text, base.stderr, other.stdout[-2000:], other.stderr)
    if any(option in variant for option in OVERRIDES):
        # A spec that cannot be read stays unreadable whatever the command line changes.
        assert (other.exit_code == 2) is (base.exit_code == 2), verdicts
    else:
        assert other.exit_code == base.exit_code, verdicts
    if base.exit_code != 2 and variant[:4] == BASELINE and "--depth" in variant:
        # Folding composites into one row each changes the rows, never the totals.
        assert json.loads(other.stdout)["totals"] == json.loads(base.stdout)["totals"], verdicts


# --- writing YAML ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Raw:
    """YAML text written as it is: tags, anchors, odd scalars that a Python value cannot give."""

    text: str


_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_ .\-]*")


def emit(value: object) -> str:
    """A value as flow-style YAML (quoted strings where a plain scalar would change meaning)."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{emit(k)}: {emit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(emit(v) for v in value) + "]"
    return emit_scalar(value)


def emit_scalar(value: object) -> str:
    if isinstance(value, Raw):
        return value.text
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, float)):
        return emit_number(value)
    if isinstance(value, str):
        plain = _PLAIN.fullmatch(value) and value.strip() == value
        reserved = value.lower() in {"null", "true", "false", "yes", "no", "on", "off", "y", "n", "~"}
        return value if plain and not reserved else json.dumps(value, ensure_ascii=False)
    raise TypeError(value)


def emit_number(value: float) -> str:
    if math.isnan(value):
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return repr(value)


def emit_spec(top: dict[str, object], *, block_style: bool) -> str:
    """A whole spec: top-level keys one per line; layers one per line in block style."""
    lines = []
    for key, value in top.items():
        if block_style and key == "layers" and isinstance(value, list) and value:
            lines.append("layers:")
            lines += [f"  - {emit(item)}" for item in value]
        else:
            lines.append(f"{emit(key)}: {emit(value)}")
    return "\n".join(lines) + "\n"


# --- values ----------------------------------------------------------------------------------

# Numbers at and around every boundary: zero, negative, one, the 10,000,000 limit, beyond 64 bits.
EDGE_INTS = [-1, 0, 1, 2, 3, 4, 5, 7, 8, 16, 64, 10_000_000, 10_000_001, 2**63, 10**30]
ints = st.one_of(st.integers(-2, 12), st.sampled_from(EDGE_INTS))
floats = st.sampled_from([1.5, 0.0, -0.5, 2.0, 0.3, 1e3, math.inf, -math.inf, math.nan])
# Scalars YAML reads in surprising ways, tags included (the safe loader must refuse code).
RAW_SCALARS = [
    "~", ".inf", ".nan", "0x1F", "0o17", "1_000", "+3", "-0", "1e3", "3.0", "'3'", '"3x3"', "2001-01-01",
    "!!binary aGVsbG8=", "!!str 3", "!!int '3'", "!!float 3", "!!python/object:os.system {}",
    "!!python/name:os.system", "!!omap [a: 1]", "!!pairs [a: 1]", "!!set {a}", "!!null ''",
    "!!timestamp 2001-12-14t21:59:43.10-05:00", "&anchor 3", "*unknown", "!custom 3", '"\\u00e9"', "'${w}'",
    "[]", "{}", "[[]]", "[{}]", '"\\t"',
]  # fmt: skip
raw_scalars = st.sampled_from(RAW_SCALARS).map(Raw)
words = st.sampled_from([
    "conv", "same", "valid", "depthwise", "dw", "max", "avg", "relu", "floor", "ceil", "strict", "add", "concat",
    "multiply", "auto", "identity", "3x3", "3x", "x3", "1x7", "0x3", "224x224x3", "", " ", "-", "${w}", "${}",
    "${nope}", "138M", "<= 10M", "61MB", "1.5", "true", "null", "é", "卷积", "\t", "\u00a0",
])  # fmt: skip
# Printable text: control characters only make YAML refuse the whole file, which the YAML-ish
# fuzzer covers; here they would hide everything after them.
texts = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=10)
scalars = st.one_of(ints, st.booleans(), st.none(), floats, words, texts, raw_scalars)
junk: st.SearchStrategy[object] = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(words, st.sampled_from([1, 0, True, None, 1.5])), inner, max_size=3),
    ),
    max_leaves=5,
)


def per_dim(low: int, high: int) -> st.SearchStrategy[object]:
    """A per-dim value as a spec writes it: mostly one number; a list (right or wrong length), or AxB."""
    one = st.integers(low, high)
    return st.one_of(
        one,
        one,
        one,
        st.lists(one, min_size=1, max_size=3),
        st.lists(one, min_size=2, max_size=2).map(lambda v: f"{v[0]}x{v[1]}"),
    )


bools = st.booleans()
ACTIVATION_NAMES = ["relu", "gelu", "softmax", "sigmoid", "tanh", "hardswish", "identity"]
roundings = st.sampled_from(["floor", "ceil", "strict"])
# Valid values for each kind's parameters (REQUIRED below: the ones a layer must have).
KIND_PARAMS: dict[str, dict[str, st.SearchStrategy[object]]] = {
    "conv": {
        "filters": st.integers(1, 8),
        "size": per_dim(1, 5),
        "stride": per_dim(1, 3),
        "pad": st.one_of(per_dim(0, 2), st.sampled_from(["same", "valid"])),
        "dilation": per_dim(1, 2),
        "groups": st.one_of(st.integers(1, 3), st.just("depthwise")),
        "bias": bools,
        "activation": st.sampled_from(ACTIVATION_NAMES),
        "rounding": roundings,
    },
    "deconv": {
        "filters": st.integers(1, 8),
        "size": per_dim(1, 4),
        "stride": per_dim(1, 3),
        "pad": per_dim(0, 2),
        "dilation": per_dim(1, 2),
        "output_padding": per_dim(0, 2),
        "groups": st.integers(1, 2),
        "bias": bools,
    },
    "pool": {
        "type": st.sampled_from(["max", "avg"]),
        "size": per_dim(1, 4),
        "stride": per_dim(1, 3),
        "pad": per_dim(0, 2),
        "dilation": per_dim(1, 2),
        "rounding": roundings,
    },
    "global_pool": {"type": st.sampled_from(["max", "avg"])},
    "adaptive_pool": {"type": st.sampled_from(["max", "avg"]), "output": per_dim(1, 6)},
    "fc": {"units": st.integers(1, 16), "bias": bools, "activation": st.sampled_from(ACTIVATION_NAMES)},
    "batchnorm": {"affine": bools},
    "lrn": {"size": st.integers(1, 7)},
    "layernorm": {"affine": bools},
    "groupnorm": {"groups": st.integers(1, 4), "affine": bools},
    "activation": {"function": st.sampled_from(ACTIVATION_NAMES)},
    "dropout": {"p": st.sampled_from([0, 0.1, 0.5])},
    "flatten": {},
    "upsample": {"scale": per_dim(1, 3)},
}
REQUIRED = {"conv": ("filters", "size"), "deconv": ("filters", "size"), "fc": ("units",)}
REQUIRED |= {"adaptive_pool": ("output",), "groupnorm": ("groups",)}
# The words a spec may use for each kind; aliases imply parameters (maxpool: type max).
KIND_WORDS = {
    "conv": ["conv"],
    "deconv": ["deconv", "conv_transpose"],
    "pool": ["pool", "maxpool", "avgpool"],
    "global_pool": ["global_pool", "gap", "gmp"],
    "adaptive_pool": ["adaptive_pool", "adaptive_avgpool", "adaptive_maxpool"],
    "fc": ["fc", "dense", "linear"],
    "batchnorm": ["batchnorm", "bn"],
    "lrn": ["lrn", "norm"],
    "layernorm": ["layernorm"],
    "groupnorm": ["groupnorm"],
    "activation": ["activation", *ACTIVATION_NAMES],
    "dropout": ["dropout"],
    "flatten": ["flatten"],
    "upsample": ["upsample"],
}
# The main parameter of each kind, which `kind: value` sets.
PRIMARY = {"fc": "units", "dropout": "p", "groupnorm": "groups", "adaptive_pool": "output", "upsample": "scale"}
NEAR_MISSES = ["Conv", "convolution", "layer", "fc_", "pooling", "residual", "parallel", "repeat", "name", "relu7"]

# --- shorthand -------------------------------------------------------------------------------


def dims_text(values: list[int]) -> str:
    return "x".join(map(str, values))


def dims_texts(low: int, high: int) -> st.SearchStrategy[str]:
    # Mostly one number (the square case) or AxB; sometimes more dims than the input has.
    return st.lists(st.integers(low, high), min_size=1, max_size=3).map(dims_text)


# Shorthand heads by family, and the options each family takes (by the parameter they set).
FAMILIES: dict[str, list[str]] = {
    "conv": ["conv{d}-{n}", "CONV{d}-{n}", "Conv{d}-{n}"],
    "deconv": ["deconv{d}-{n}", "conv_transpose{d}-{n}"],
    "pool": ["maxpool{d}", "avgpool{d}", "pool{d}", "maxpool", "avgpool"],
    "other": [
        "fc-{n}", "fc{n}", "dense-{n}", "linear{n}", "upsample{d}", "upsample", "adaptive_avgpool{d}",
        "adaptive_maxpool{d}", "gap", "gmp", "flatten", "dropout", "bn", "lrn", "relu", "softmax", "selu",
        "identity", "layernorm",
    ],
}  # fmt: skip
FAMILY_OPTIONS = {
    "conv": ["s", "p", "d", "g", "r"],
    "deconv": ["s", "p", "d", "g", "op"],
    "pool": ["s", "p", "d", "r"],
    "other": [],
}
OPTIONS = {
    "s": ["s{d}"],
    "p": ["p{d}", "psame", "pvalid"],
    "d": ["d{d}"],
    "g": ["g{n}", "gdw"],
    "op": ["op{d}"],
    "r": ["floor", "ceil", "strict"],
}
BAD_HEADS = ["conv{d}", "conv-{n}", "conv{d}-", "conv{d}-{n}-{n}", "groupnorm", "maxpool-{d}", "fc", "convolve{d}-{n}"]
BAD_OPTIONS = ["s-1", "p-1", "s", "p", "g", "op", "x", "Psame", "pfull", "s{d}.5", "sx", "--", "q4", "s0", "g0"]


@st.composite
def shorthand(draw: st.DrawFn, *, clean: bool = False) -> str:
    """conv3-64 s2 p1 ...: a head and its options; unless clean, sometimes wrong or garbage."""

    def rare(one_in: int) -> bool:  # the rare outcome is the largest draw: shrinks to the clean one
        return not clean and draw(st.integers(1, one_in)) == one_in

    small = dims_texts(0, 12) if rare(8) else dims_texts(1, 5)
    family = draw(st.sampled_from(sorted(FAMILIES)))
    heads = BAD_HEADS if rare(10) else FAMILIES[family]
    head = draw(st.sampled_from(heads)).format(d=draw(small), n=draw(st.integers(0 if rare(8) else 1, 9)))
    keys = sorted(OPTIONS) if rare(4) else FAMILY_OPTIONS[family]
    chosen = draw(st.lists(st.sampled_from(keys), max_size=4, unique=True)) if keys else []
    if chosen and rare(6):
        chosen.append(chosen[0])  # an option given twice
    tokens = [head]
    for key in chosen:
        if rare(12):
            tokens.append(draw(st.text(min_size=1, max_size=5)))
        elif rare(12):
            tokens.append(draw(st.sampled_from(BAD_OPTIONS)).format(d=draw(small)))
        else:
            tokens.append(draw(st.sampled_from(OPTIONS[key])).format(d=draw(small), n=draw(st.integers(1, 4))))
    sep = draw(st.sampled_from([" ", "  ", "\t"])) if rare(4) else " "
    return sep.join(tokens)


# --- expectations ----------------------------------------------------------------------------

EXPECT_KEYS = ["output", "params", "weights", "biases", "buffers", "macs", "flops", "activations", "memory", "rf"]
# Answers, right or wrong (which ones hold depends on the spec): for counts and bytes...
EXPECT_NUMBERS: list[object] = [
    "760", "138M", "15.47G", "61MB", "58MiB", "<= 10M", "< 100MB", "> 0", ">= 0", "<= 1T", "< 1TB", ">= 1k",
    "== 3", "= 3", "1,000", "1_000", "12 M", "1.5", "3 kB", "100 KiB", "0", "1", "3", 0.5,
]  # fmt: skip
expect_numbers = st.one_of(st.integers(0, 2000), st.sampled_from(EXPECT_NUMBERS))
# ... and for volumes and receptive fields.
expect_shapes = st.one_of(
    st.integers(1, 64),
    st.sampled_from(["55x55x96", "6x6x4", "4", "1x1", "3x3", "8x8x3", "0x0"]),
    st.lists(st.integers(1, 10), min_size=1, max_size=4),
)
bad_expect_values = st.one_of(st.sampled_from(["1e3", "-5", "<=", "M", "1.2.3", "3Q", "1/2", "=<3", "x3"]), junk)


# --- a whole spec, valid or broken -----------------------------------------------------------

BLOCK_NAMES = ["blk", "basic", "inner"]
# Argument names (a number as one is refused; test_block_with_a_number_as_argument_name).
ARG_NAMES = ["w", "s", "out"]


# Layers inside a block that use an argument, `${a}` standing for its name.
TEMPLATES: list[object] = [
    "conv3-${a} p1", "conv1-${a}", "conv3-4 s${a} p1", "fc-${a}", "maxpool${a}", "conv${a}-4",
    {"conv": {"filters": "${a}", "size": 3, "pad": 1}},
    {"conv": {"filters": 4, "size": 1, "stride": "${a}"}},
    {"conv": {"filters": "x${a}", "size": 1}},
    {"repeat": "${a}", "layers": ["relu"]},
    {"residual": {"layers": ["conv3-${a} p1"], "shortcut": "auto"}},
]  # fmt: skip


class SpecWriter:
    """Draws one spec; `chaos` (0 to 3) is how often a value is broken (0: never)."""

    def __init__(self, draw: st.DrawFn, chaos: int) -> None:
        self.draw = draw
        self.chaos = chaos
        self.blocks: dict[str, list[str]] = {}  # name -> argument names

    def bad(self, rarity: int = 14) -> bool:
        """Whether to break this value: about chaos/rarity of the time."""
        # The rare outcome is the largest draw, so that hypothesis shrinks towards a clean spec.
        top = rarity // self.chaos if self.chaos else 0
        return top > 0 and self.draw(st.integers(0, top)) == top

    def pick(self, good: st.SearchStrategy[object], broken: st.SearchStrategy[object] = junk) -> object:
        return self.draw(broken) if self.bad() else self.draw(good)

    def chance(self, one_in: int) -> bool:
        return self.draw(st.integers(1, one_in)) == one_in

    # layers

    def layers(self, depth: int, low: int = 1, high: int = 4) -> object:
        if self.bad(30):
            return self.draw(junk)
        return [self.layer(depth) for _ in range(self.draw(st.integers(low, high)))]

    def layer(self, depth: int) -> object:
        if self.bad():
            return self.draw(junk)
        roll = self.draw(st.integers(0, 9))
        if roll >= 8 and depth < 3:
            return self.composite(depth + 1)
        if roll == 7 and self.blocks:
            return self.call()
        item = self.short() if roll < 4 else self.long()
        return self.extras(item)

    def extras(self, item: object) -> object:
        """A name and answers beside a layer; a shorthand layer takes them through `layer:`."""
        if not self.chance(4):
            return item
        if isinstance(item, str):
            out: dict[object, object] = {"layer": item}
        elif isinstance(item, dict):
            out = dict(item)
        else:
            return item
        if self.chance(2):
            out["name"] = self.pick(st.sampled_from(["a", "conv1", "x.y", "卷积"]), junk)
        if self.chance(2):
            out["expect"] = self.expectations()
        return out

    def short(self) -> str:
        return self.draw(shorthand(clean=not self.bad()))

    def long(self) -> object:
        if self.bad(40):
            return {self.draw(st.sampled_from(NEAR_MISSES)): self.draw(junk)}
        kind = self.draw(st.sampled_from(sorted(KIND_PARAMS)))
        word = self.draw(st.sampled_from(KIND_WORDS[kind]))
        params = KIND_PARAMS[kind]
        if kind in PRIMARY and self.chance(4):
            return {word: self.pick(params[PRIMARY[kind]])}
        body: dict[object, object] = {}
        for name in sorted(params):
            if (name in REQUIRED.get(kind, ()) and not self.bad(20)) or self.chance(3):
                body[name] = self.pick(params[name])
        if self.bad(20):
            body[self.draw(st.sampled_from(["fliters", "kernel", "strides", "padding", "units"]))] = 3
        return {word: body or (None if self.chance(2) else {})}

    def composite(self, depth: int) -> object:
        which = self.draw(st.sampled_from(["repeat", "residual", "parallel"]))
        merge = st.sampled_from(["add", "concat", "multiply"])
        item: dict[str, object]
        if which == "repeat":
            item = {"repeat": self.pick(st.integers(1, 3)), "layers": self.layers(depth)}
        elif which == "residual":
            shortcuts: list[object] = [[], "identity", "auto", None, "layers"]
            shortcut = st.sampled_from(shortcuts)
            body: dict[str, object] = {
                "layers": self.layers(depth),
                "shortcut": self.pick(shortcut),
                "merge": self.pick(merge),
                "activation": self.pick(st.sampled_from(["relu", None])),
            }
            if body["shortcut"] == "layers":
                body["shortcut"] = self.layers(depth, 0, 2)
            for key in list(body):
                if (key != "layers" and self.chance(3)) or self.bad(40):
                    del body[key]
            item = {"residual": body}
        else:
            branches = [self.layers(depth, 0, 3) for _ in range(self.draw(st.integers(1, 3)))]
            item = {"parallel": {"branches": branches, "merge": self.pick(merge)}}
        if self.chance(4):
            item["name"] = "block"
        if self.chance(4):
            item["expect"] = self.expectations()
        return item

    def call(self, inside: str | None = None) -> object:
        """A call of a block; inside a block's own layers it may call itself, or a block defined later."""
        names = sorted(self.blocks)
        if self.bad(20):
            names.append("undefined_block")
        name = self.draw(st.sampled_from(names))
        if inside is not None and name == inside and not self.bad(6):
            # Mostly not a self-call: one in a while, to see it refused.
            return self.short()
        given = {a: self.pick(st.integers(1, 6)) for a in self.blocks.get(name, []) if self.chance(2)}
        if self.bad(20):
            given["zz"] = 1
        form = self.draw(st.integers(0, 3))
        if form == 0 and not given:
            return name
        call: dict[str, object] = {name: given or (None if form == 1 else {})}
        if self.chance(4):
            call["name"] = "call"
        return call

    def define_blocks(self) -> object:
        if self.bad(30):
            return self.draw(junk)
        names = self.draw(st.lists(st.sampled_from(BLOCK_NAMES), min_size=1, max_size=3, unique=True))
        if self.bad(20):
            names.append(self.draw(st.sampled_from(["conv", "1bad", "", "relu", "a b"])))
        args = {name: self.draw(st.lists(st.sampled_from(ARG_NAMES), max_size=3, unique=True)) for name in names}
        self.blocks = args
        out: dict[str, object] = {}
        for name in names:
            body: dict[str, object] = {
                "args": {a: self.pick(st.one_of(st.none(), st.integers(1, 6))) for a in args[name]},
                "layers": [self.block_layer(name, args[name]) for _ in range(self.draw(st.integers(1, 3)))],
            }
            if not args[name] and self.chance(2):
                del body["args"]
            if self.bad(30):
                del body[self.draw(st.sampled_from(sorted(body)))]
            out[name] = body
        return out

    def block_layer(self, block: str, args: list[str]) -> object:
        roll = self.draw(st.integers(0, 5))
        if roll == 0:
            return self.call(inside=block)
        if roll >= 3 and (args or self.bad()):
            arg = self.draw(st.sampled_from(args)) if args and not self.bad() else "nope"
            template = self.draw(st.sampled_from(TEMPLATES))
            return json.loads(json.dumps(template).replace("${a}", f"${{{arg}}}"))
        return self.layer(1)

    # the rest of the spec

    def expectations(self) -> object:
        if self.bad(30):
            return self.draw(junk)
        keys = self.draw(st.lists(st.sampled_from(EXPECT_KEYS), min_size=1, max_size=3, unique=True))
        if self.bad(20):
            keys.append(self.draw(st.sampled_from(["param", "shape", "time"])))
        good = {"output": expect_shapes, "rf": expect_shapes}
        return {key: self.pick(good.get(key, expect_numbers), bad_expect_values) for key in keys}

    def spec(self) -> dict[str, object]:
        top: dict[str, object] = {}
        if not self.bad(30):
            top["input"] = self.pick(valid_inputs, broken_inputs)
        if self.chance(4):
            top["blocks"] = self.define_blocks()
        if self.chance(3):
            top["rounding"] = self.pick(roundings, st.one_of(st.sampled_from(["round", "Floor", ""]), junk))
        if self.chance(6):
            top["defaults"] = self.pick(DEFAULTS)
        if not self.bad(30):
            top["layers"] = self.layers(0, 1, 6)
        optional: dict[str, st.SearchStrategy[object]] = {
            "name": st.sampled_from(["net", "Net 2", "é"]),
            "description": texts,
            "batch": st.integers(1, 4),
            "dtype": st.sampled_from(["float32", "float16", "int8", "bfloat16", "float64", "uint8"]),
        }
        for key, values in optional.items():
            if self.chance(6):
                top[key] = self.pick(values)
        if self.chance(4):
            top["expect"] = self.expectations()
        if self.bad(40):
            top[self.draw(st.sampled_from(["layer", "Layers", "inputs", "block"]))] = self.draw(junk)
        return top


valid_inputs = st.one_of(
    # Mostly images (HxWxD); also 1-D and 3-D volumes, the list and mapping forms, and vectors.
    st.lists(st.integers(1, 20), min_size=3, max_size=3).map(dims_text),
    st.lists(st.integers(1, 20), min_size=3, max_size=3).map(dims_text),
    st.lists(st.integers(1, 20), min_size=2, max_size=4).map(dims_text),
    st.lists(st.integers(1, 12), min_size=2, max_size=4),
    st.builds(lambda h, w, d: {"height": h, "width": w, "depth": d}, *[st.integers(1, 16)] * 3),
    st.builds(lambda n, d: {"length": n, "depth": d}, st.integers(1, 32), st.integers(1, 8)),
    st.integers(1, 64),
)
BROKEN_INPUTS: list[object] = [
    "0x8x3", "8x8x0", "-1x8x3", "8x8x8x8x8", "axb", "8 x 8 x 3", "8X8X3", "", "1e3", "8x8x3.5", [],
    {"height": 8, "depth": 3}, {"h": 8}, {"time": 2, "height": 4, "width": 4},
]  # fmt: skip
broken_inputs = st.one_of(st.sampled_from(BROKEN_INPUTS), junk)
DEFAULTS = st.sampled_from([
    {"conv": {"pad": 1}},
    {"conv": {"pad": 1, "activation": "relu", "bias": False}},
    {"maxpool": {"size": 3, "stride": 2}},
    {"pool": {"rounding": "ceil"}},
    {"avgpool": {"size": 2}},
    {"fc": {"bias": False}},
    {"conv": {"filters": 4, "size": 3}},
    {"relu": {}},
    {"bogus": {"pad": 1}},
    {"conv": {"pad": "same"}, "deconv": {"stride": 2}},
    {"maxpool": {"type": "avg"}},
])  # fmt: skip


@st.composite
def structured_specs(draw: st.DrawFn) -> str:
    top = SpecWriter(draw, draw(st.sampled_from([0, 0, 1, 2, 3]))).spec()
    order = draw(st.permutations(list(top)))
    return emit_spec({k: top[k] for k in order}, block_style=draw(st.booleans()))


@st.composite
def shorthand_specs(draw: st.DrawFn) -> str:
    spatial = draw(st.lists(st.integers(1, 24), min_size=0, max_size=3))
    volume = dims_text([*spatial, draw(st.integers(1, 8))])
    items = draw(st.lists(shorthand(), min_size=1, max_size=5))
    rounding = draw(st.sampled_from(["", "rounding: floor\n", "rounding: ceil\n"]))
    return f"input: {volume}\n{rounding}layers:\n" + "".join(f"  - {emit(s)}\n" for s in items)


# Pieces of YAML syntax: indicators, indentation, keys and values of the spec format.
YAML_PIECES = [
    "input:", "layers:", "blocks:", "defaults:", "expect:", "args:", "repeat:", "residual:", "parallel:",
    "branches:", "shortcut:", "merge:", "conv:", "filters:", "size:", " ", " ", "  ", "    ", "- ", "-", ":",
    ": ", "{", "}", "[", "]", ",", "'", '"', "#", "&a ", "*a", "!!", "!!set ", "? ", "|", ">", "%", "@", "`",
    "---", "...", "<<: ", "\t", "8x8x3", "4x4x1", "conv3-4", "maxpool", "fc-10", "relu", "auto", "concat", "3",
    "0", "-1", "${w}", "null", "~", "true", "\n", "\n", "\n", "\n  - ", "\n- ", "\n  ", "\n    ",
]  # fmt: skip


@st.composite
def yamlish_texts(draw: st.DrawFn) -> str:
    piece = st.one_of(st.sampled_from(YAML_PIECES), st.sampled_from(YAML_PIECES), st.text(max_size=3))
    text = "".join(draw(st.lists(piece, max_size=40)))
    prefix = draw(
        st.sampled_from(["", "input: 8x8x3\nlayers:\n  - ", "input: 8x8x3\n", "input: 16x16x3\nlayers: [", "layers:\n"])
    )
    return prefix + text


@st.composite
def deep_specs(draw: st.DrawFn) -> str:
    """Deep nesting: composites in composites, chains of blocks (maybe a cycle), deep YAML."""
    depth = draw(st.integers(1, 70))
    form = draw(st.sampled_from(["composites", "blocks", "brackets", "mappings"]))
    if form == "brackets":
        return f"input: 8x8x3\nlayers: {'[' * depth * 20}{']' * depth * 20}\n"
    if form == "mappings":
        return f"input: 8x8x3\nlayers:\n  - {'{conv: ' * depth * 20}3{'}' * depth * 20}\n"
    layer: object = draw(shorthand(clean=True))
    if form == "blocks":
        # b0 calls b1 ... calls the last, which is a layer or, sometimes, a call of b0: a cycle.
        last = "b0" if draw(st.integers(0, 4)) == 4 else layer
        blocks = {f"b{i}": {"layers": [f"b{i + 1}" if i + 1 < depth else last]} for i in range(depth)}
        return emit_spec({"input": "8x8x3", "blocks": blocks, "layers": ["b0"]}, block_style=True)
    for kind in draw(st.lists(st.sampled_from(["repeat", "residual", "parallel"]), min_size=depth, max_size=depth)):
        # Repeats of 1: counts above 1 multiply at every level (the limit on layers is tested apart).
        if kind == "repeat":
            layer = {"repeat": 1, "layers": [layer]}
        elif kind == "residual":
            layer = {"residual": {"layers": [layer], "shortcut": draw(st.sampled_from(["auto", "identity"]))}}
        else:
            layer = {"parallel": {"branches": [[layer], []], "merge": draw(st.sampled_from(["concat", "add"]))}}
    return emit_spec({"input": "8x8x3", "layers": [layer]}, block_style=True)


# --- mutations of the built-in specs ---------------------------------------------------------

NUMBER = re.compile(r"\d+")
REPLACEMENTS = ["0", "-1", "10000001", "99999999999999999999", "1.5", "true", "2", "1"]


@st.composite
def mutated_builtins(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(sorted(BUILTIN_TEXTS)))
    text = BUILTIN_TEXTS[name]
    for _ in range(draw(st.integers(1, 3))):
        text = draw(mutation(text))
    return text


@st.composite
def mutation(draw: st.DrawFn, text: str) -> str:
    """One change: a line deleted, duplicated or indented; numbers swapped or replaced; garbage; a cut."""
    ops = ["delete", "duplicate", "indent", "swap", "number", "number", "number", "garbage", "truncate"]
    op = draw(st.sampled_from(ops))
    lines = text.splitlines(keepends=True)
    numbers = list(NUMBER.finditer(text))
    if op in {"delete", "duplicate", "indent"} and lines:
        i = draw(st.integers(0, len(lines) - 1))
        if op == "indent":
            new = [draw(st.sampled_from([" ", "  ", "\t"])) + lines[i]]
        else:
            new = [lines[i]] * (op == "duplicate") * 2
        return "".join([*lines[:i], *new, *lines[i + 1 :]])
    if op == "swap" and len(numbers) >= 2:
        pair = draw(st.lists(st.sampled_from(numbers), min_size=2, max_size=2, unique_by=lambda m: m.start()))
        a, b = sorted(pair, key=lambda m: m.start())
        return text[: a.start()] + b.group() + text[a.end() : b.start()] + a.group() + text[b.end() :]
    if op == "number" and numbers:
        m = draw(st.sampled_from(numbers))
        return text[: m.start()] + draw(st.sampled_from(REPLACEMENTS)) + text[m.end() :]
    if op == "garbage":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.one_of(st.text(min_size=1, max_size=5), st.sampled_from(YAML_PIECES))) + text[at:]
    return text[: draw(st.integers(0, len(text)))]


# --- `convcalc layer` -----------------------------------------------------------------------


@st.composite
def layer_commands(draw: st.DrawFn) -> tuple[str, ...]:
    """`convcalc layer INPUT LAYER...`, with `s?` and `p?` questions and odd inputs."""
    spatial = draw(st.lists(st.integers(1, 20), max_size=3))
    volume = draw(st.one_of(st.just(dims_text([*spatial, draw(st.integers(1, 8))])), broken_inputs.map(str)))
    one = st.one_of(shorthand(clean=True), shorthand())
    texts = draw(st.lists(one, min_size=1, max_size=3))
    # A question (s? or p?) on the first layer, whatever its input (a vector, too few dims).
    if draw(st.booleans()):
        texts[0] += draw(st.sampled_from(["", " s?", " p?", " s? p?", " p?5", " s?x?"]))
    rounding = draw(st.sampled_from([(), ("--rounding", "floor"), ("--rounding", "ceil")]))
    return ("layer", *rounding, volume, *texts)


# --- the tests -------------------------------------------------------------------------------

variants = st.sampled_from(VARIANTS)
# The built-in specs are long (DenseNet-121 has 400 rows, and a changed number can repeat a block
# a thousand times); a full rich table of one takes seconds, so their tables are folded (--depth).
folded_variants = st.sampled_from([v for v in VARIANTS if "table" not in v or "--depth" in v])


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=FUZZ_STRUCTURED)
@given(text=structured_specs(), variant=variants)
def test_fuzz_structured_specs(text: str, variant: tuple[str, ...]) -> None:
    run_all(text, variant)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=FUZZ_SHORTHAND)
@given(text=shorthand_specs(), variant=variants)
def test_fuzz_shorthand(text: str, variant: tuple[str, ...]) -> None:
    run_all(text, variant)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=FUZZ_YAMLISH)
@given(text=yamlish_texts(), variant=variants)
def test_fuzz_yamlish_text(text: str, variant: tuple[str, ...]) -> None:
    run_all(text, variant)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=FUZZ_DEEP)
@given(text=deep_specs(), variant=variants)
def test_fuzz_deep_nesting(text: str, variant: tuple[str, ...]) -> None:
    run_all(text, variant)


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=FUZZ_MUTATED)
@given(text=mutated_builtins(), variant=folded_variants)
def test_fuzz_mutated_builtin_specs(
    text: str, variant: tuple[str, ...], tmp_path_factory: pytest.TempPathFactory
) -> None:
    run_all(text, variant)
    # The same text from a file: the file's name is the spec's name and its messages' source.
    path = tmp_path_factory.getbasetemp() / "mutated.yaml"
    path.write_text(text, encoding="utf-8")
    judge(("check", str(path)), invoke(("check", str(path)), ""))


@pytest.mark.no_cover  # the same lines many times over: tests/conftest.py, REPEATED
@pytest.mark.slow
@settings(FUZZ_SETTINGS, max_examples=FUZZ_LAYER)
@given(args=layer_commands())
def test_fuzz_layer_command(args: tuple[str, ...]) -> None:
    judge(args, invoke(args, ""))


# --- found by this suite, and fixed: each stays as a regression test -----------------------


def judge_unreadable(result: Result) -> None:
    """What a spec that cannot be read must give: exit 2 and a located message, no traceback."""
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 2
    assert "error: " in result.stderr


# A set as a mapping key is unhashable: the YAML reader's duplicate-key check raises TypeError.
# Minimal spec, its lines separated by " / ":  input: 8x8x3 / layers: [relu] / ? !!set {a} / : 1
# Was: a bug; fixed. What it must do: exit 2, "a key must be a plain value", as for a list or mapping as a key.
def test_set_as_a_mapping_key() -> None:
    judge_unreadable(invoke(BASELINE, "input: 8x8x3\nlayers: [relu]\n? !!set {a}\n: 1\n"))


# A block whose argument name is a number, called with an argument it does not have: the
# "did you mean" hint runs difflib over the argument names, and len(1) fails.
# Minimal spec:  input: 8x8x3 / blocks: {b: {args: {1: 1}, layers: [relu]}} / layers: [{b: {x: 2}}]
# Was: a bug; fixed. What it must do: exit 2 — the argument name is not a word (or: unknown argument 'x' for block 'b').
def test_block_with_a_number_as_argument_name() -> None:
    text = "input: 8x8x3\nblocks: {b: {args: {1: 1}, layers: [relu]}}\nlayers: [{b: {x: 2}}]\n"
    judge_unreadable(invoke(BASELINE, text))


# A failed expectation makes `show --format json` (and csv, markdown) exit 1 with nothing on
# standard error, where design errors go (docs/spec.md: "a check that fails is an error").
# Minimal spec:  input: 8x8x3 / layers: [{layer: conv3-4, expect: {params: 7}}]
# Was: a bug; fixed. What it must do: exit 1 and the failed check on stderr, e.g. "<stdin>:3:39: error: check
# failed: ...".
def test_failed_expectation_is_on_stderr_with_json() -> None:
    result = invoke(BASELINE, "input: 8x8x3\nlayers:\n  - {layer: conv3-4, expect: {params: 7}}\n")
    judge(BASELINE, result)
    assert result.exit_code == 1
    assert "error: " in result.stderr
    assert "112" in result.stderr


# An `rf` expectation compares the receptive field truncated to whole numbers: after an upsample
# the rf is a fraction (5/3 here), and `rf: 1` holds.
# Minimal spec:  input: 8x8x3 / layers: [upsample3, {layer: conv3-4, expect: {rf: 1}}]
# Was: a bug; fixed. What it must do: exit 1 (5/3 is not 1), the check's actual being the row's rf.
def test_rf_expectation_is_not_truncated() -> None:
    result = invoke(BASELINE, "input: 8x8x3\nlayers:\n  - upsample3\n  - {layer: conv3-4, expect: {rf: 1}}\n")
    judge(BASELINE, result)
    data = json.loads(result.stdout)
    assert data["layers"][2]["rf"] == ["5/3", "5/3"]
    assert data["checks"][0]["actual"] == data["layers"][2]["rf"]
    assert result.exit_code == 1


# `convcalc layer` with s? or p? on a layer whose input has no spatial dims: the search takes
# max() over the (no) sliding windows.
#   convcalc layer 7 "conv3-4 s?"
# Was: a bug; fixed. What it must do: as `convcalc layer 7 "conv3-4 s1"`: exit 1, "conv needs a volume with
# spatial dims".
@pytest.mark.parametrize("args", [("layer", "7", "conv3-4 s?"), ("layer", "8x8x3", "fc-10", "maxpool p?")])
def test_layer_question_on_a_vector(args: tuple[str, ...]) -> None:
    result = invoke(args, "")
    judge(args, result)
    assert result.exit_code in {1, 2}


# `convcalc layer` with s? or p? on a layer with more values than the input has dims: the search
# computes the windows outside the analysis, and the LayerFailure escapes.
#   convcalc layer 8x8x3 "conv3x3x3-4 p?"
# Was: a bug; fixed. What it must do: as with p1: exit 1, "error: size 3x3x3 has 3 values but the input 8x8x3
# has 2 spatial dims".
def test_layer_question_with_too_many_dims() -> None:
    args = ("layer", "8x8x3", "conv3x3x3-4 p?")
    result = invoke(args, "")
    judge(args, result)
    assert result.exit_code == 1
