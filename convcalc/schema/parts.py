"""Small pieces of the schema: patterns in any case, numbers, sizes, words, expectations, the input."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from convcalc.kinds import registry
from convcalc.kinds.params import MAX_VALUE
from convcalc.spec import blocks, expect
from convcalc.spec.loader import INPUT_KEYS

if TYPE_CHECKING:
    from collections.abc import Iterable

    from convcalc.kinds.base import Kind

Schema = dict[str, Any]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
# The file committed beside the specs, which their modelines name; `convcalc schema` prints it.
FILE = "schema/convcalc-spec.schema.json"


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


def unlisted(props: dict[str, Schema]) -> Schema:
    """`properties` that editors do not offer: the same keys as exact patterns.

    The overlays check again keys that the layer tree describes; as `properties`, editors would
    offer each key once for the tree and once for each overlay (yaml-language-server does).
    """
    return {"patternProperties": {f"^{re.escape(key)}$": schema for key, schema in props.items()}}


def refuse(expected: str, why: str) -> Schema:
    """A schema that refuses every value, saying what was expected in a sentence.

    `const` because validators print its value and nothing else long (jsonschema: `'<expected>'
    was expected`), and yaml-language-server shows `errorMessage` instead (it shows `not` only as
    "Matches a schema that is not allowed").
    """
    return {"const": expected, "errorMessage": f"{why}: expected {expected}."}


def ref(name: str, **more: Any) -> Schema:
    """A reference to a definition, with keywords beside it (a description)."""
    return {"$ref": f"#/$defs/{name}", **more}


def whole(least: int) -> Schema:
    """A whole number from `least`, or one written as a string."""
    # Numbers, and numbers written as strings: convcalc reads "3" as 3.
    return {
        "anyOf": [
            {"type": "integer", "minimum": least, "maximum": MAX_VALUE},
            {"type": "string", "pattern": r"^\s*[+-]?\d+\s*$"},
        ]
    }


def dims(whole: Schema) -> Schema:
    """One size for every dim, `AxB`, or a list with one per dim."""
    return {
        "anyOf": [
            whole,
            {"type": "string", "pattern": r"^\s*\d+\s*(?:x\s*\d+\s*)+$", "description": "one size per dim: 1x7"},
            {"type": "array", "minItems": 1, "items": whole},
        ]
    }


def words(values: Iterable[str], *, also: Iterable[str] = ()) -> Schema:
    """One of these words, completed as written and accepted in any case."""
    # The enum is what editors complete; the pattern accepts any case, as convcalc does.
    values = list(values)
    return {"anyOf": [{"enum": values}, {"type": "string", "pattern": words_pattern([*values, *also])}]}


def resolve(word: str) -> tuple[Kind, dict[str, Any]]:
    """The kind a word names, and the parameters the word implies."""
    found = registry.resolve(word)
    if found is None:  # pragma: no cover - the words come from the registry
        raise KeyError(word)
    return found


def required_params(word: str) -> list[str]:
    """The parameters a layer of this word must give (those its word does not imply)."""
    kind, preset = resolve(word)
    return [p.name for p in kind.params if p.required and p.name not in preset]


def kind_help(word: str) -> str:
    """A kind's first docstring line, with what an alias implies."""
    kind, preset = resolve(word)
    doc = (type(kind).__doc__ or kind.name).strip().splitlines()[0]
    if word == kind.name:
        return doc
    implied = ", ".join(f"{k}: {v}" for k, v in preset.items())
    return f"{kind.name}{f' with {implied}' if implied else ''}. {doc}"


def template() -> Schema:
    """A `${arg}` string inside a block."""
    return {
        "type": "string",
        "pattern": blocks.ARG.pattern,
        "description": "${name}: replaced by the value of the block's argument at each call.",
    }


def shape() -> Schema:
    """A volume as an expectation: 1000, [55, 55, 96] or 55x55x96."""
    return {
        "anyOf": [
            {"type": "integer"},
            {"type": "array", "minItems": 1, "items": {"type": "integer"}},
            {"type": "string", "pattern": r"^\s*\d+(?:\s*x\s*\d+)*\s*$"},
        ]
    }


def amount(*, bytes_: bool) -> Schema:
    """A count or a number of bytes, exact, rounded or a bound."""
    units = expect.BYTE_UNITS if bytes_ else expect.COUNT_UNITS
    alternatives = "|".join(sorted((u for u in units if u), key=len, reverse=True))
    # expect.VALUE with its last group, any word, narrowed to the units convcalc knows.
    grammar, unit = expect.VALUE.pattern.rsplit("(", 1)
    if unit != "[A-Za-z]*)":  # pragma: no cover - a change in expect.py must be made here too
        raise ValueError(expect.VALUE.pattern)
    pattern = rf"^\s*{grammar}(?:{alternatives})?\s*$"
    return {"anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": pattern}]}


def input_() -> Schema:
    """The spec's input in every form the loader reads."""
    # A spatial dim is a number or a symbol (a name without x, which separates dims); the depth
    # is a number. Two numbers (7x7) are refused: an image or a 1-D input? (convcalc.spec.loader)
    dim = r"(?:\d+|[A-Za-wyzA-WYZ_][A-Za-wyzA-WYZ0-9_]*)"
    sep = r"\s*[xX×]\s*"
    spatial = {"anyOf": [ref("positive"), {"type": "string", "pattern": f"^{dim}$"}]}
    mappings = [
        {
            "type": "object",
            "properties": {k: ref("positive") if k == "depth" else spatial for k in keys},
            "required": list(keys),
            "additionalProperties": False,
        }
        for keys in INPUT_KEYS
    ]
    return {
        "anyOf": [
            {"type": "string", "pattern": rf"^\s*(?:\d+|{dim}(?:{sep}{dim}){{1,2}}{sep}\d+)\s*$"},
            {"type": "integer", "minimum": 1, "maximum": MAX_VALUE},
            {"type": "array", "minItems": 1, "maxItems": 1, "items": ref("positive")},
            {"type": "array", "minItems": 3, "maxItems": 4, "items": spatial},
            *mappings,
        ]
    }
