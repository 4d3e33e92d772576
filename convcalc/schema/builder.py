"""The schema's definitions of values, layer kinds, layers and composites, made as they are asked for."""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING, Any

from convcalc.kinds import params, registry
from convcalc.kinds.params import Choice, Flag, PerDim, Text, Whole
from convcalc.options import ACTIVATIONS
from convcalc.schema import texts
from convcalc.schema.parts import (
    amount,
    any_case,
    dims,
    kind_help,
    ref,
    refuse,
    resolve,
    shape,
    template,
    whole,
    words,
    words_pattern,
)
from convcalc.spec import composite, expect, shorthand
from convcalc.spec.graph import JUNCTION_KEYS
from convcalc.spec.layers import LAYER_KEYS
from convcalc.spec.model import Merge, Shortcut

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from convcalc.kinds.base import Kind
    from convcalc.kinds.params import Convert, Param
    from convcalc.schema.parts import Schema


# A block's name, as a call of it is written (a word).
CALL_PATTERN = r"^\s*[A-Za-z_][\w-]*\s*$"


class Builder:
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
            return self.define("positive" if convert.least else "count", lambda: whole(convert.least))
        if isinstance(convert, PerDim) and convert.least in {0, 1}:
            return self.define("dims" if convert.least else "dims0", lambda: dims(self.value(Whole("", convert.least))))
        if isinstance(convert, Choice):
            enum = convert.enum
            return self.define(enum.__name__.lower(), lambda: words(e.value for e in enum))
        if isinstance(convert, Flag):
            return {"type": "boolean"}
        if isinstance(convert, Text):
            return self.define("text", lambda: {"type": ["string", "number"]})
        special: dict[Convert, tuple[str, Callable[[], Schema]]] = {
            params.padding: ("pad", lambda: {"anyOf": [words(["same", "valid"]), self.value(params.per_dim("", 0))]}),
            params.groups: ("groups", lambda: {"anyOf": [words(["depthwise"], also=["dw"]), self.value(Whole(""))]}),
            params.activation: ("activation", lambda: words(ACTIVATIONS)),
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
        return {"anyOf": [schema, self.define("template", template)], **more}

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
        del kind  # each kind's parameters carry their own help (convcalc/kinds)
        help_ = p.help
        if p.required:
            help_ += " Required."
        more: Schema = {"description": help_}
        default = getattr(p.default, "value", p.default)
        if isinstance(default, (int, float, str)):
            more["default"] = default
        return self.template(self.value(p.convert), templated=templated, **more)

    def body(self, word: str, *, templated: bool) -> Schema:
        """What a kind key takes: its parameters, nothing, or the value of its main parameter."""
        kind, _ = resolve(word)

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
            "description": kind_help(word),
        }

    def expect(self, *, templated: bool) -> Schema:
        """`expect:` beside a layer or at the top level."""

        def make() -> Schema:
            props = {}
            for key in expect.KEYS:
                if key in {"output", "rf"}:
                    schema = self.define("shape", shape)
                elif key == "fits":
                    schema = {"type": "boolean"}
                else:
                    units = "bytes" if key == "memory" else "count"
                    schema = self.define(f"expect.{units}", partial(amount, bytes_=key == "memory"))
                help_ = texts.EXPECT_HELP.get(key) or f"The {key}: {texts.NUMBER_HELP}."
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
            "checkpoint": {"type": "boolean"},
            "expect": self.expect(templated=templated),
            "layer": shorthand_,
            "repeat": self.value(Whole("")),
            "layers": layers,
            "residual": self.define(f"{prefix}residual", lambda: self.residual(layers, templated=templated)),
            "parallel": self.define(f"{prefix}parallel", lambda: self.parallel(layers, templated=templated)),
            "from": {"type": ["array", "string"], "minItems": 1, "items": {"type": "string"}},
            "merge": self.value(params.choice(Merge, "")),
        }
        props = {key: t(by_key[key], texts.LAYER_HELP[key]) for key in (*LAYER_KEYS, "layer", *composite.REPEAT_KEYS)}
        props |= {key: t(by_key[key], texts.LAYER_HELP[key]) for key in (*composite.COMPOSITES, "merge")}
        props |= {word: self.body(word, templated=templated) for word in self.known}
        beside = {word: list(dict.fromkeys((word, *LAYER_KEYS))) for word in props if word not in LAYER_KEYS}
        beside["repeat"] = list(composite.REPEAT_KEYS)
        beside["merge"], beside["activation"] = list(JUNCTION_KEYS), [*beside["activation"], "merge"]  # {merge:, from:}
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
            "shortcut": {"anyOf": [{"enum": [None, "identity", *(s.value for s in Shortcut)]}, layers]},
            "merge": self.value(params.choice(Merge, "")),
            "activation": {"anyOf": [self.value(params.activation), falsy]},
        }
        props = {
            key: self.template(by_key[key], templated=templated, description=texts.RESIDUAL_HELP[key])
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
            key: self.template(by_key[key], templated=templated, description=texts.PARALLEL_HELP[key])
            for key in composite.PARALLEL_KEYS
        }
        return {"type": "object", "properties": props, "required": ["branches"], "additionalProperties": False}

    def shorthand(self, bare: Iterable[str], *, shown: bool = True) -> Schema:
        """A layer in shorthand (spec/shorthand.py), with these words allowed without numbers.

        The grammar's regex is long (every kind in any case, every option): it stands only under
        `if`, whose failures validators do not print, and a mistake is answered by `refuse`, which
        says what was expected in a sentence. Only the
        `shown` definition (the one the layer tree names) carries the description and the examples
        that editors show and offer: the overlays that check the same string have none, so that
        hover and completion list them once.
        """
        bare = list(bare)
        heads = [p.pattern for p, _ in shorthand.HEADS] + [re.escape(w) for w in bare]
        options = [p.pattern for p, _ in shorthand.OPTIONS]
        pattern = rf"^\s*(?:{'|'.join(heads)})(?:\s+(?:{'|'.join(options)}))*\s*$"
        words = sorted({*self.known, *bare}, key=lambda w: (-len(w), w))
        # The first word is a kind when no letter follows it (conv3-64, maxpool 2, fc10).
        kind_first = rf"^\s*(?:{any_case('|'.join(re.escape(w) for w in words))})(?![A-Za-z_])"
        grammar = f"the shorthand is {shorthand.GRAMMAR}"
        schema: Schema = {
            "type": "string",
            "if": {"pattern": any_case(pattern)},
            "else": {
                "if": {"pattern": kind_first},
                "then": refuse(texts.SHORTHAND_FORM, f"Not a layer in shorthand ({grammar})"),
                "else": refuse(texts.SHORTHAND_KIND, "Not a layer kind"),
            },
        }
        if not shown:
            return schema
        return {
            **schema,
            # What editors offer as a layer is typed, and show on hover: a few, each once.
            "examples": texts.SHORTHAND_EXAMPLES,
            "description": f"A layer in shorthand: {shorthand.GRAMMAR}.",
        }

    def call_word(self) -> Schema:
        """A call of a block by its name alone: a word that is not a layer in shorthand.

        It refuses every shorthand layer, so that hovering `conv3-64` tells of the shorthand alone.
        """

        def make() -> Schema:
            taken = self.defs["shorthand"]["if"]
            return {
                "type": "string",
                "pattern": CALL_PATTERN,
                "if": taken,
                "then": refuse(texts.CALL_TAKEN, "A layer kind's word"),
                "description": "A call of a block defined under blocks:.",
            }

        self.define("shorthand", lambda: self.shorthand(self.known))
        return self.define("call", make)
