"""The spec format as a JSON Schema (draft 2020-12), made from the code's own vocabularies.

Editors with a YAML language server use it to complete and check specs as they are typed
(docs/editors.md). It describes the form of a spec: its keys, the layer kinds and their
parameters, the types of values and the closed vocabularies. It never does the arithmetic: a
stride that does not fit is for convcalc to find.

One rule holds above all (tests/test_schema.py): every spec convcalc reads validates. Where the
form depends on what a schema cannot see, the schema is loose:

- calls of blocks: once `blocks:` exists, any other word may be a call;
- inside a block, any value may be a `${arg}` string (it is replaced at each call);
- once `defaults:` exists, a layer may leave out required parameters (a default may give them).

Without `blocks:` or `defaults:`, the top-level layers are checked for both (the `known.` and
`complete.` definitions below, applied beside the main ones), so that a misspelt kind or a conv
without `filters` is flagged where most specs need it.
"""

from __future__ import annotations

import json
import re
from functools import partial
from typing import TYPE_CHECKING, Any

from convcalc.kinds import params, registry
from convcalc.kinds.params import MAX_VALUE, Choice, Flag, PerDim, Text, Whole
from convcalc.options import ACTIVATIONS, DType, Rounding
from convcalc.spec import composite, expect, shorthand
from convcalc.spec.layers import LAYER_KEYS
from convcalc.spec.loader import INPUT_KEYS, TOP_KEYS
from convcalc.spec.model import Merge

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from convcalc.kinds.base import Kind
    from convcalc.kinds.params import Convert, Param

Schema = dict[str, Any]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# The file committed beside the specs, which their modelines name; `convcalc schema` prints it.
FILE = "schema/convcalc-spec.schema.json"

# Help shown on hover, in the words of docs/spec.md.
TOP_HELP = {
    "name": "The network's name, shown above the table (default: the file's name without .yaml).",
    "description": "A line about the network, shown under its name.",
    "input": (
        "The input volume: spatial dims (height before width), then the depth. 224x224x3, "
        "[224, 224, 3] or {height: 224, width: 224, depth: 3}; 100x16 or {length: 100, depth: 16} "
        "for 1-D; 16x112x112x3 for 3-D; a single number (784) for a vector."
    ),
    "batch": "Images per batch (default 1): memory and MACs scale with it.",
    "dtype": "The type of every value, which sets the bytes per value (default float32).",
    "rounding": (
        "What a stride that does not fit means, for every layer that does not choose: strict (an error, "
        "the default), floor (PyTorch, Caffe's conv) or ceil (Caffe's pooling, ceil_mode=True)."
    ),
    "defaults": (
        "Per-kind default parameters, e.g. conv: {pad: 1, activation: relu}. An alias matches only the "
        "layers it describes (maxpool: not avgpool); a parameter a layer sets always wins."
    ),
    "blocks": (
        "Named blocks of layers with arguments, called from the layers like a kind: "
        "bottleneck: {width: 64, out: 256}. Inside, ${name} is replaced by the call's value."
    ),
    "layers": "The layers in order: shorthand strings (conv3-64 s1 p1), long forms (conv: {...}) and composites.",
    "expect": "Answers and budgets for the whole network, checked by `convcalc show` and `convcalc check`.",
}
LAYER_HELP = {
    "name": "The name shown in the table (default: the shorthand head in capitals, CONV3-64).",
    "module": "Its PyTorch name in export and to_module, dots nesting (features.0); default: from name:.",
    "expect": "Answers for this layer (or composite, counted as one), checked by `convcalc check`.",
    "layer": "A layer in shorthand, so that it can have a name: or expect: beside it.",
    "repeat": "Repeat the layers beside it (layers:) this many times in sequence.",
    "layers": "The layers a repeat repeats.",
    "residual": "y = merge(layers(x), shortcut(x)), then an optional activation (ResNet, DenseNet).",
    "parallel": "Branches over the same input, merged (Inception; squeeze-and-excitation with multiply).",
}
RESIDUAL_HELP = {
    "layers": "The body of the block.",
    "shortcut": (
        "[] or identity (the default); auto: identity when the body keeps the volume, else torchvision's "
        "projection (a 1x1 conv with the matching stride, no bias, then batchnorm); or a list of layers."
    ),
    "merge": "add (ResNet, the default), concat (DenseNet: the depths add up) or multiply.",
    "activation": "An activation fused into the merge row, e.g. relu.",
}
PARALLEL_HELP = {
    "branches": "A list of branches, each a list of layers over the same input ([] passes the input through).",
    "merge": "concat (the default), add, or multiply (broadcast, for squeeze-and-excitation).",
}
BLOCK_HELP = {
    "args": "Each argument and its default (null: the call must give it).",
    "layers": "The block's layers; ${name} in any value is replaced by the argument's value.",
}
PARAM_HELP = {
    "filters": "K, the number of filters: the output depth.",
    "size": "F, the window size: one number for every spatial dim, or one per dim ([1, 7] or 1x7).",
    "lrn.size": "The number of neighbouring channels each value is normalised over.",
    "stride": "S, the step between windows: one number, or one per dim.",
    "pad": "P, zero padding on each side: a number, one per dim, same (TensorFlow's rule) or valid (0).",
    "dilation": "The spacing of the window's taps (1: none); the effective size is dilation*(F-1)+1.",
    "groups": "Groups of channels convolved apart (depthwise: one per input channel).",
    "groupnorm.groups": "The number of groups the channels are normalised in.",
    "bias": "Whether the layer adds a bias per output (default true).",
    "activation": "An activation fused into this row: no extra row, no extra memory.",
    "rounding": "strict, floor or ceil for this layer, when its stride does not fit.",
    "output_padding": "Extra rows/columns on one side of the output (less than the stride or the dilation).",
    "type": "max or avg.",
    "output": "The output size: one number for every spatial dim, or one per dim (6 or 6x6).",
    "units": "The number of output units (the input is flattened).",
    "affine": "Whether the layer learns a scale and a shift per channel (default true).",
    "function": "The activation function.",
    "p": "The probability of dropping a value, from 0 up to (not including) 1.",
    "scale": "The factor every spatial dim is multiplied by: one number, or one per dim.",
}
EXPECT_HELP = {
    "output": "The output volume, e.g. 55x55x96, [55, 55, 96] or 1000.",
    "rf": "The receptive field: one number (every dim) or one per dim.",
    "memory": "Bytes (at the top level: the forward pass): 61MB, 58MiB, '<= 100MB'.",
}
# Shorthand layers that editors offer as completions, beside the kinds that need no numbers.
SHORTHAND_EXAMPLES = ["conv3-64 p1", "conv3-64 s2 p1", "conv1-256", "maxpool2", "maxpool3 s2", "avgpool2", "fc-4096"]
NUMBER_HELP = "exact (760), rounded to the digits written (138M, 15.47G) or a bound ('<= 10M')"


def any_case(pattern: str) -> str:
    """A regex that matches what `pattern` matches, in any case (JSON Schema patterns have no flags)."""
    out = []
    escaped = in_class = False
    for ch in pattern:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "[]":
            in_class = ch == "["
        elif ch.isascii() and ch.isalpha():
            if in_class:  # [a-z] would need both ranges: none of convcalc's patterns has one
                msg = f"any_case cannot handle letters in a character class: {pattern}"
                raise ValueError(msg)
            out.append(f"[{ch.lower()}{ch.upper()}]")
            continue
        out.append(ch)
    return "".join(out)


def words_pattern(words: Iterable[str]) -> str:
    """A regex of exactly these words, in any case, spaces around allowed (as convcalc reads them)."""
    return rf"^\s*(?:{any_case('|'.join(re.escape(w) for w in words))})\s*$"


def ref(name: str, **more: Any) -> Schema:
    """A reference to a definition, with keywords beside it (a description)."""
    return {"$ref": f"#/$defs/{name}", **more}


def _whole(least: int) -> Schema:
    # Numbers, and numbers written as strings: convcalc reads "3" as 3.
    return {
        "anyOf": [
            {"type": "integer", "minimum": least, "maximum": MAX_VALUE},
            {"type": "string", "pattern": r"^\s*[+-]?\d+\s*$"},
        ]
    }


def _dims(whole: Schema) -> Schema:
    return {
        "anyOf": [
            whole,
            {"type": "string", "pattern": r"^\s*\d+\s*(?:x\s*\d+\s*)+$", "description": "one size per dim: 1x7"},
            {"type": "array", "minItems": 1, "items": whole},
        ]
    }


def _words(values: Iterable[str], *, also: Iterable[str] = ()) -> Schema:
    # The enum is what editors complete; the pattern accepts any case, as convcalc does.
    values = list(values)
    return {"anyOf": [{"enum": values}, {"type": "string", "pattern": words_pattern([*values, *also])}]}


class _Builder:
    """Collects the definitions (`$defs`) of the schema as its parts ask for them."""

    def __init__(self) -> None:
        self.defs: dict[str, Schema] = {}
        self.known = registry.known_names()
        self.known_pattern = words_pattern(self.known)

    def define(self, name: str, make: Callable[[], Schema]) -> Schema:
        """A reference to the definition `name`, made the first time it is asked for."""
        if name not in self.defs:
            self.defs[name] = {}  # a placeholder: definitions may refer to themselves
            self.defs[name] = make()
        return ref(name)

    # values

    def value(self, convert: Convert) -> Schema:
        """What a parameter's converter accepts (engine/params.py)."""
        if isinstance(convert, Whole) and convert.least in {0, 1}:
            return self.define("positive" if convert.least else "count", lambda: _whole(convert.least))
        if isinstance(convert, PerDim) and convert.least in {0, 1}:
            return self.define(
                "dims" if convert.least else "dims0", lambda: _dims(self.value(Whole("", convert.least)))
            )
        if isinstance(convert, Choice):
            enum = convert.enum
            return self.define(enum.__name__.lower(), lambda: _words(e.value for e in enum))
        if isinstance(convert, Flag):
            return {"type": "boolean"}
        if isinstance(convert, Text):
            return self.define("text", lambda: {"type": ["string", "number"]})
        special: dict[Convert, tuple[str, Callable[[], Schema]]] = {
            params.padding: ("pad", lambda: {"anyOf": [_words(["same", "valid"]), self.value(params.per_dim("", 0))]}),
            params.groups: ("groups", lambda: {"anyOf": [_words(["depthwise"], also=["dw"]), self.value(Whole(""))]}),
            params.activation: ("activation", lambda: _words(ACTIVATIONS)),
            params.probability: ("probability", lambda: {"type": "number", "minimum": 0, "exclusiveMaximum": 1}),
        }
        if convert in special:
            return self.define(*special[convert])
        msg = f"convcalc.schema does not know the parameter type {convert!r}: add it to _Builder.value"
        raise TypeError(msg)

    def template(self, schema: Schema, *, templated: bool, **more: Any) -> Schema:
        """The schema, or inside a block also a string with `${arg}` (replaced at each call)."""
        if not templated:
            return {**schema, **more}
        return {"anyOf": [schema, self.define("template", _template)], **more}

    # layer kinds

    def params(self, kind: Kind, *, templated: bool) -> Schema:
        """A kind's parameters, as a mapping."""
        name = f"{'block.' if templated else ''}kind.{kind.name}.params"

        def make() -> Schema:
            props = {p.name: self.param(kind, p, templated=templated) for p in kind.params}
            return {"type": "object", "properties": props, "additionalProperties": False}

        return self.define(name, make)

    def param(self, kind: Kind, p: Param, *, templated: bool) -> Schema:
        """One parameter, with its help and default."""
        help_ = PARAM_HELP.get(f"{kind.name}.{p.name}") or PARAM_HELP[p.name]
        if p.required:
            help_ += " Required."
        more: Schema = {"description": help_}
        default = getattr(p.default, "value", p.default)
        if isinstance(default, (int, float, str)):
            more["default"] = default
        return self.template(self.value(p.convert), templated=templated, **more)

    def body(self, word: str, *, templated: bool) -> Schema:
        """What a kind key takes: its parameters, nothing, or the value of its main parameter."""
        kind, _ = _resolve(word)

        def make() -> Schema:
            # anyOf, not if/then: editors complete the parameters of an empty `conv:` from it.
            options: list[Schema] = [self.params(kind, templated=templated), {"type": "null"}]
            main = next((p for p in kind.params if p.name == kind.primary), None)
            if main is not None:  # `fc: 1000`; a list only for a per-dim one (`maxpool: [3, 2]`)
                value = self.value(main.convert)
                options.append(value if isinstance(main.convert, PerDim) else {**value, "not": {"type": "array"}})
            return self.template({"anyOf": options}, templated=templated)

        return {
            **self.define(f"{'block.' if templated else ''}kind.{kind.name}", make),
            "description": _kind_help(word),
        }

    def expect(self, *, templated: bool) -> Schema:
        """`expect:` beside a layer or at the top level."""

        def make() -> Schema:
            props = {}
            for key in expect.KEYS:
                if key in {"output", "rf"}:
                    schema = self.define("shape", _shape)
                else:
                    units = "bytes" if key == "memory" else "count"
                    schema = self.define(f"expect.{units}", partial(_amount, bytes_=key == "memory"))
                help_ = EXPECT_HELP.get(key) or f"The {key}: {NUMBER_HELP}."
                props[key] = self.template(schema, templated=templated, description=help_)
            return {"type": "object", "properties": props, "additionalProperties": False}

        return self.define(f"{'block.' if templated else ''}expect", make)

    # layers: the main tree, and the block tree with ${arg} everywhere

    def layers(self, prefix: str, *, templated: bool) -> Schema:
        """A list of layers, as written at the top level (prefix '') or in a block ('block.')."""

        def make_list() -> Schema:
            return {"type": "array", "items": self.define(f"{prefix}layer", make_layer)}

        def make_layer() -> Schema:
            string = {"anyOf": [self.define("shorthand", lambda: self.shorthand(self.known)), self.call_word()]}
            return {
                "description": "A layer: a shorthand string, a long form with one kind key, or a composite.",
                "type": ["string", "object"],
                "if": {"type": "string"},
                "then": self.template(string, templated=templated),
                "else": self.long_layer(prefix, templated=templated),
            }

        return self.define(f"{prefix}layers", make_list)

    def long_layer(self, prefix: str, *, templated: bool) -> Schema:
        """A layer as a mapping: a kind key, `layer:`, a composite or a call; name and expect beside."""

        def t(schema: Schema, help_: str) -> Schema:
            return self.template(schema, templated=templated, description=help_)

        layers = self.layers(prefix, templated=templated)
        shorthand_ = self.define("shorthand", lambda: self.shorthand(self.known))
        by_key: dict[str, Schema] = {
            "name": self.value(params.text("")),
            "module": self.value(params.text("")),
            "expect": self.expect(templated=templated),
            "layer": shorthand_,
            "repeat": self.value(Whole("")),
            "layers": layers,
            "residual": self.define(f"{prefix}residual", lambda: self.residual(layers, templated=templated)),
            "parallel": self.define(f"{prefix}parallel", lambda: self.parallel(layers, templated=templated)),
        }
        props = {key: t(by_key[key], LAYER_HELP[key]) for key in (*LAYER_KEYS, "layer", *composite.REPEAT_KEYS)}
        props |= {key: t(by_key[key], LAYER_HELP[key]) for key in composite.COMPOSITES}
        props |= {word: self.body(word, templated=templated) for word in self.known}
        beside = {word: list(dict.fromkeys((word, *LAYER_KEYS))) for word in props if word not in LAYER_KEYS}
        beside["repeat"] = list(composite.REPEAT_KEYS)
        del beside["layers"]
        call = {
            "type": ["object", "null"],
            "description": "A call of a block defined under blocks:, with its arguments.",
        }
        return {
            "type": "object",
            "properties": props,
            # convcalc reads kind keys in any case (Conv:); those other than lower case are not checked.
            "patternProperties": {self.known_pattern: {}},
            "additionalProperties": self.template(call, templated=templated),
            "dependentRequired": {"repeat": ["layers"], "layers": ["repeat"]},
            # One kind key (or composite) per layer, beside name: and expect: only.
            "dependentSchemas": {key: {"propertyNames": {"enum": keys}} for key, keys in beside.items()},
            "not": {"propertyNames": {"enum": list(LAYER_KEYS)}},
        }

    def residual(self, layers: Schema, *, templated: bool) -> Schema:
        """The body of `residual:`."""
        falsy: Schema = {"enum": [None, False, 0, "", [], {}], "description": "empty: no activation"}
        by_key = {
            "layers": layers,
            "shortcut": {"anyOf": [{"enum": [None, "identity", "auto"]}, layers]},
            "merge": self.value(params.choice(Merge, "")),
            "activation": {"anyOf": [self.value(params.activation), falsy]},
        }
        props = {
            key: self.template(by_key[key], templated=templated, description=RESIDUAL_HELP[key])
            for key in composite.RESIDUAL_KEYS
        }
        return {"type": "object", "properties": props, "required": ["layers"], "additionalProperties": False}

    def parallel(self, layers: Schema, *, templated: bool) -> Schema:
        """The body of `parallel:`."""
        branch = self.template(layers, templated=templated)
        by_key = {
            "branches": {"type": "array", "minItems": 1, "items": branch},
            "merge": self.value(params.choice(Merge, "")),
        }
        props = {
            key: self.template(by_key[key], templated=templated, description=PARALLEL_HELP[key])
            for key in composite.PARALLEL_KEYS
        }
        return {"type": "object", "properties": props, "required": ["branches"], "additionalProperties": False}

    def shorthand(self, bare: Iterable[str]) -> Schema:
        """A layer in shorthand (spec/shorthand.py), with these words allowed without numbers."""
        heads = [p.pattern for p, _ in shorthand.HEADS] + [re.escape(w) for w in bare]
        options = [p.pattern for p, _ in shorthand.OPTIONS]
        pattern = rf"^\s*(?:{'|'.join(heads)})(?:\s+(?:{'|'.join(options)}))*\s*$"
        return {
            "type": "string",
            "pattern": any_case(pattern),
            # What editors offer as a layer is typed.
            "examples": [*SHORTHAND_EXAMPLES, *(w for w in self.known if not _required(w))],
            "description": f"A layer in shorthand: {shorthand.GRAMMAR}.",
            # yaml-language-server shows this instead of the pattern.
            "patternErrorMessage": f"Not a layer in shorthand (nor a block): {shorthand.GRAMMAR}.",
        }

    def call_word(self) -> Schema:
        """A call of a block by its name alone."""

        def make() -> Schema:
            return {
                "type": "string",
                "pattern": r"^\s*[A-Za-z_][\w-]*\s*$",
                "not": {"pattern": self.known_pattern},
                "description": "A call of a block defined under blocks:.",
            }

        return self.define("call", make)

    # checks of the top-level layers that only hold without blocks: or defaults:

    def overlay(self, prefix: str, layer: Callable[[Schema], Schema]) -> Schema:
        """A walk through the layers, composites included, that checks each layer with `layer`."""

        def make_layer() -> Schema:
            layers = ref(f"{prefix}layers")
            return layer(
                {
                    "layers": layers,
                    "residual": {"properties": {"layers": layers, "shortcut": layers}},
                    "parallel": {"properties": {"branches": {"items": layers}}},
                }
            )

        self.define(f"{prefix}layer", make_layer)
        return self.define(f"{prefix}layers", lambda: {"items": ref(f"{prefix}layer")})

    def known_layer(self, nested: Schema) -> Schema:
        """Without blocks: every kind key and shorthand word is one convcalc knows."""
        shorthand_ = self.define("shorthand", lambda: self.shorthand(self.known))
        keys = [*LAYER_KEYS, "layer", *composite.REPEAT_KEYS, *composite.COMPOSITES, *self.known]
        allowed: Schema = {key: {} for key in keys}
        return {
            "if": {"type": "string"},
            "then": shorthand_,
            "else": {
                "properties": allowed | nested,
                "patternProperties": {self.known_pattern: {}},
                "additionalProperties": False,
            },
        }

    def complete_layer(self, nested: Schema) -> Schema:
        """Without defaults: every layer has its required parameters."""
        needs = {word: _required(word) for word in self.known}
        complete = [word for word in self.known if not needs[word]]
        shorthand_ = self.define("shorthand.complete", lambda: self.shorthand(complete))
        string = {"anyOf": [shorthand_, self.call_word()]}
        bodies = {"layer": shorthand_}
        for word, required in needs.items():
            if required:
                kind, _ = _resolve(word)
                body: Schema = {"type": "object", "required": required}
                # A bare value sets the main parameter (fc: 4096): enough when it is the only one required.
                bodies[word] = (
                    {"anyOf": [body, {"not": {"type": ["object", "null"]}}]} if required == [kind.primary] else body
                )
        return {"if": {"type": "string"}, "then": string, "else": {"properties": bodies | nested}}

    # the whole spec

    def spec(self) -> Schema:
        """The schema of a spec file."""
        by_key: dict[str, Schema] = {
            "name": self.value(params.text("")),
            "description": self.value(params.text("")),
            "input": self.define("input", _input),
            "batch": self.value(Whole("")),
            "dtype": self.value(params.choice(DType, "")),
            "rounding": self.value(params.choice(Rounding, "")),
            "defaults": self.defaults(),
            "blocks": self.blocks(),
            "layers": self.layers("", templated=False),
            "expect": self.expect(templated=False),
        }
        known = self.overlay("known.", self.known_layer)
        complete = self.overlay("complete.", self.complete_layer)
        return {
            "$schema": DRAFT,
            "$comment": f"Generated by `convcalc schema` (convcalc/schema.py) as {FILE}: do not edit by hand.",
            "title": "convcalc spec",
            "description": "A conv-net for convcalc: its input, its layers, and answers to check (docs/spec.md).",
            "type": "object",
            "properties": {key: {**by_key[key], "description": TOP_HELP[key]} for key in TOP_KEYS},
            "required": ["input", "layers"],
            "additionalProperties": False,
            "allOf": [
                {"if": {"required": ["blocks"]}, "else": {"properties": {"layers": known}}},
                {"if": {"required": ["defaults"]}, "else": {"properties": {"layers": complete}}},
            ],
            "$defs": dict(sorted(self.defs.items())),
        }

    def defaults(self) -> Schema:
        """`defaults:`, a kind (or alias) to its parameters."""
        props = {
            word: {**self.params(_resolve(word)[0], templated=False), "description": _kind_help(word)}
            for word in self.known
        }
        return {
            "type": "object",
            "properties": props,
            "patternProperties": {self.known_pattern: {"type": "object"}},
            "additionalProperties": False,
        }

    def blocks(self) -> Schema:
        """`blocks:`, a name to its arguments and layers."""
        taken = [*self.known, *composite.COMPOSITES, "name"]
        args = {"type": ["object", "null"], "propertyNames": {"pattern": f"^{composite.ARG_NAME}$"}}
        by_key = {
            "args": args,
            "layers": {"type": "array", "items": ref("block.layer")},
        }
        self.layers("block.", templated=True)
        props = {key: {**by_key[key], "description": BLOCK_HELP[key]} for key in composite.BLOCK_KEYS}
        block = {"type": "object", "properties": props, "required": ["layers"], "additionalProperties": False}
        return {
            "type": "object",
            "propertyNames": {"pattern": r"^[A-Za-z_][\w-]*$", "not": {"pattern": words_pattern(taken)}},
            "additionalProperties": block,
        }


def _resolve(word: str) -> tuple[Kind, dict[str, Any]]:
    found = registry.resolve(word)
    if found is None:  # pragma: no cover - the words come from the registry
        raise KeyError(word)
    return found


def _required(word: str) -> list[str]:
    """The parameters a layer of this word must give (those its word does not imply)."""
    kind, preset = _resolve(word)
    return [p.name for p in kind.params if p.required and p.name not in preset]


def _kind_help(word: str) -> str:
    kind, preset = _resolve(word)
    doc = (type(kind).__doc__ or kind.name).strip().splitlines()[0]
    if word == kind.name:
        return doc
    implied = ", ".join(f"{k}: {v}" for k, v in preset.items())
    return f"{kind.name}{f' with {implied}' if implied else ''}. {doc}"


def _template() -> Schema:
    return {
        "type": "string",
        "pattern": composite.ARG.pattern,
        "description": "${name}: replaced by the value of the block's argument at each call.",
    }


def _shape() -> Schema:
    return {
        "anyOf": [
            {"type": "integer"},
            {"type": "array", "minItems": 1, "items": {"type": "integer"}},
            {"type": "string", "pattern": r"^\s*\d+(?:\s*x\s*\d+)*\s*$"},
        ]
    }


def _amount(*, bytes_: bool) -> Schema:
    units = expect.BYTE_UNITS if bytes_ else expect.COUNT_UNITS
    alternatives = "|".join(sorted((u for u in units if u), key=len, reverse=True))
    # expect.VALUE with its last group, any word, narrowed to the units convcalc knows.
    grammar, unit = expect.VALUE.pattern.rsplit("(", 1)
    if unit != "[A-Za-z]*)":  # pragma: no cover - a change in expect.py must be made here too
        raise ValueError(expect.VALUE.pattern)
    pattern = rf"^\s*{grammar}(?:{alternatives})?\s*$"
    return {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": pattern}]}


def _input() -> Schema:
    mappings = [
        {
            "type": "object",
            "properties": {k: ref("positive") for k in keys},
            "required": list(keys),
            "additionalProperties": False,
        }
        for keys in INPUT_KEYS
    ]
    return {
        "anyOf": [
            {"type": "string", "pattern": r"^\s*\d+\s*(?:[xX]\s*\d+\s*){0,3}$"},
            {"type": "integer", "minimum": 1, "maximum": MAX_VALUE},
            {"type": "array", "minItems": 1, "maxItems": 4, "items": ref("positive")},
            *mappings,
        ]
    }


def spec_schema() -> Schema:
    """The JSON Schema of the spec format, as a dict."""
    return _Builder().spec()


def schema_json() -> str:
    """The schema as the committed file holds it: sorted keys, two-space indents, a final newline."""
    return json.dumps(spec_schema(), indent=2, sort_keys=True) + "\n"
