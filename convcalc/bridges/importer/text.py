"""The spec's layers as YAML text: shorthand where it says all, names relative to their block, flow style."""

from __future__ import annotations

import re
from typing import Any

import yaml

from convcalc.bridges.importer.blocks import make_blocks
from convcalc.bridges.importer.nodes import Leaf, Node
from convcalc.errors import Location
from convcalc.kinds import registry
from convcalc.render.inert import inert
from convcalc.spec import shorthand


class _Flow(dict[str, Any]):
    """A mapping written on one line: {layer: conv3-64 p1, name: conv1}."""


# What YAML cannot hold beyond the controls `inert` escapes: surrogates (a file name's undecodable
# bytes, as Python's surrogateescape gives them), the byte-order mark and the noncharacters U+FFFE
# and U+FFFF (YAML 1.2, 5.1 "Character Set": a stream holds printable characters only).
_UNPRINTABLE = re.compile("[\ud800-\udfff\ufeff\ufffe\uffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _unsafe(text: str) -> bool:
    """Whether a string from the model holds a control, a line break or a character YAML cannot hold."""
    return inert(text) != text or _UNPRINTABLE.search(text) is not None


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:  # noqa: FBT001, FBT002
        del indentless
        super().increase_indent(flow, indentless=False)

    def write_double_quoted(self, text: str, split: bool = True) -> None:  # noqa: FBT001, FBT002 - PyYAML's
        r"""A string with a control in it is written in ASCII, every other character as an escape (`\u202e`).

        PyYAML escapes in double quotes what YAML cannot hold, NEL and the line separators, but
        writes the bidirectional controls as they are where it may write Unicode.
        """
        unicode = self.allow_unicode
        self.allow_unicode = unicode and not _unsafe(text)
        try:
            super().write_double_quoted(text, split)
        finally:
            self.allow_unicode = unicode


def _string(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    r"""A name or an op from the model: in double quotes, with escapes, if it holds anything unsafe.

    A surrogate has no YAML escape (libyaml refuses `"\udcff"`): it is written as its text, `\udcff`.
    """
    data = _SURROGATE.sub(_as_text, data)
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style='"' if _unsafe(data) else None)


def _as_text(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


_Dumper.add_representer(_Flow, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True))
_Dumper.add_representer(str, _string)


def text_of(layers: list[Node], parent: str = "") -> list[Any]:
    """The layers as YAML values, names relative to the composite that holds them."""
    return [_value(n, parent) for n in layers]


def _own(name: str | None, parent: str) -> str | None:
    if not name:
        return None
    return name[len(parent) + 1 :] if parent and name.startswith(parent + ".") else name


def _value(node: Node, parent: str) -> Any:
    name = _own(node.name, parent)
    inner = node.name if node.name and node.kind != "repeat" else parent
    if isinstance(node, Leaf):
        short = _shorthand(node)
        if name is None:
            return short if short is not None else {node.kind: dict(node.params) or None}
        if short is not None:
            return _Flow(layer=short, name=name)
        return _Flow({node.kind: _Flow(node.params) if node.params else None, "name": name})
    if node.kind == "repeat":
        value: dict[str, Any] = {"repeat": node.options["count"]}
        if name:
            value["name"] = name
        value["layers"] = text_of(node.parts[0], node.name or parent)
        return value
    body: dict[str, Any] = {}
    if node.kind == "residual":
        body["layers"] = text_of(node.parts[0], inner)
        if node.parts[1]:
            body["shortcut"] = text_of(node.parts[1], inner)
        body.update(node.options)
    else:
        body["branches"] = [text_of(b, inner) for b in node.parts]
        body.update(node.options)
    value = {node.kind: body}
    if name:
        value["name"] = name
    return value


def _shorthand(leaf: Leaf) -> str | None:
    """The layer in shorthand, if the shorthand says all of it (and reads back as the same)."""
    resolved = registry.resolve(leaf.kind)
    if resolved is None or leaf.overrides:
        return None
    kind, preset = resolved
    if kind.summary == "":
        return None
    full = _full(kind.name, {**preset, **leaf.params})
    # A kind's label is shorthand that reads back as the same kind (tests/test_kinds.py); what it
    # leaves out (a bias, a fused activation) shows as a difference in the parameters.
    label = kind.label(full)
    name, raw = shorthand.parse(label, Location("import"))
    again = registry.resolve(name)
    assert again is not None  # noqa: S101 - see above
    return label if _full(kind.name, {**again[1], **raw}) == full else None


def _full(kind: str, given: dict[str, Any]) -> dict[str, Any]:
    """A layer's parameters as the loader converts them, the defaults filled in."""
    at = Location("import")
    params = {p.name: p for p in registry.KINDS[kind].params}
    converted = {k: params[k].convert(v, at) if v is not None else v for k, v in given.items()}
    return {name: converted.get(name, p.default) for name, p in params.items()}


def dump(header: list[str], top: dict[str, Any], layers: list[Node]) -> str:
    """The spec's text: its comment lines, its settings, its layers."""
    values = text_of(layers)
    blocks = make_blocks(values, _Flow)
    if "defaults" in top:
        top = {**top, "defaults": {kind: _Flow(given) for kind, given in top["defaults"].items()}}
    data = {**top, **({"blocks": blocks} if blocks else {}), "layers": values}
    body = yaml.dump(data, Dumper=_Dumper, sort_keys=False, width=100, allow_unicode=True)
    return "".join(f"# {_comment(line)}\n" for line in header) + body


def _comment(line: str) -> str:
    """A comment line's text, inert: a line feed in a file name cannot end the comment and start a key."""
    return _UNPRINTABLE.sub(_as_text, inert(line))
