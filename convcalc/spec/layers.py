"""Reading one layer (shorthand or long form) and the spec's `defaults:` into a LayerSpec."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.kinds import registry
from convcalc.kinds.params import PerDim, describe, text
from convcalc.spec import shorthand
from convcalc.spec.common import suggest
from convcalc.spec.expect import Expectation, parse_expect
from convcalc.spec.model import LayerSpec
from convcalc.spec.yamlpos import PosMap

if TYPE_CHECKING:
    from convcalc.kinds.base import Kind

# Keys a layer in long form may have beside its kind key. `layer:` takes a shorthand string, so
# that a shorthand layer can have a name or an expectation: {layer: conv5-10 p2, expect: ...}.
# `module:` is the layer's (or composite's) PyTorch name, for export and to_module (docs/pytorch.md).
# `from:` names the earlier layers it reads (convcalc/spec/graph.py); `checkpoint:` belongs to a
# composite or a block call (spec/checkpoint.py), refused on a layer.
LAYER_KEYS = ("name", "expect", "module", "from", "checkpoint")
# Larger specs are surely a mistake (or an attack); see docs/limits.md.
MAX_LAYERS = 250_000


@dataclass(frozen=True, slots=True)
class Written:
    """A layer item as written: its kind word, and its parameters (raw) with their place."""

    word: str
    word_at: Location
    value: Any  # shorthand: a dict of raw parameters; long form: the kind key's value
    params_at: Location
    long: bool
    name: str | None
    module: str | None = None


def written(item: Any, at: Location) -> Written:
    """What a layer item says, before its kind is looked up."""
    if isinstance(item, str):
        word, params = shorthand.parse(item, at)
        return Written(word, at, params, at, long=False, name=None)
    if isinstance(item, PosMap):
        kinds = [k for k in item if k not in LAYER_KEYS]
        if len(kinds) != 1:
            msg = "a layer in long form has one kind key (conv:, pool:, fc: ...) beside an optional name:"
            if kinds:
                msg += f"; this one has {', '.join(map(str, kinds))}"
            composite = next((k for k in kinds if k in {"residual", "parallel"}), None)
            if composite:
                msg += f" (the other keys belong under {composite}: indent them below it)"
            raise SpecError(msg, at)
        key = kinds[0]
        name = text("name")(item["name"], item.at("name")) if "name" in item else None
        module = module_name(item)
        if key == "layer":
            if not isinstance(item[key], str):
                raise SpecError("`layer:` takes a shorthand string, e.g. layer: conv3-64 p1", item.at(key))
            word, params = shorthand.parse(item[key], item.at(key))
            return Written(word, item.at(key), params, item.at(key), long=False, name=name, module=module)
        return Written(str(key), item.key_at[key], item[key], item.at(key), long=True, name=name, module=module)
    example = "a shorthand string (conv3-64) or a mapping (conv: {filters: 64, size: 3})"
    msg = f"a layer is {example}, not {describe(item)}"
    raise SpecError(msg, at)


def module_name(item: PosMap) -> str | None:
    """The `module:` beside a layer or composite: names joined by dots (features.0), or None."""
    if "module" not in item:
        return None
    value: str = text("module")(item["module"], item.at("module"))
    if not all(part.strip() for part in value.split(".")):
        msg = f"module '{value}' must be names joined by dots, as PyTorch nests them (features.0, layer1.0.conv1)"
        raise SpecError(msg, item.at("module"))
    return value


def fill(kind: Kind, **given: Any) -> dict[str, Any]:
    """A kind's full parameters: its defaults, with `given` on top (for layers the engine adds)."""
    return {p.name: given.get(p.name, p.default) for p in kind.params}


class LayerReader:
    """Reads leaf layers, with the spec's defaults."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.defaults: list[tuple[Kind, dict[str, Any], PosMap]] = []
        self.count = 0
        self.expectations: list[Expectation] = []

    def expect(self, item: Any, path: str) -> None:
        """Keep the expectations written beside a layer (`expect:`)."""
        if isinstance(item, PosMap) and "expect" in item:
            self.expectations += parse_expect(item["expect"], path, item.at("expect"))

    def read_defaults(self, value: Any, at: Location) -> None:
        """Check `defaults:` at their own place, and keep them for the layers."""
        if not isinstance(value, PosMap):
            raise SpecError("`defaults:` maps a layer kind to its default parameters, e.g. conv: {pad: 1}", at)
        for name, params in value.items():
            kind, preset = self.kind(str(name), value.key_at[name])
            if not isinstance(params, PosMap):
                msg = f"defaults for {name} must be a mapping of parameters"
                raise SpecError(msg, value.at(name))
            self.convert(kind, {**preset, **params}, params, params.here, require=False)
            self.defaults.append((kind, preset, params))

    def kind(self, name: str, at: Location) -> tuple[Kind, dict[str, Any]]:
        """The kind a layer word names, with the parameters the word implies."""
        found = registry.resolve(name.lower())
        if found is None:
            raise SpecError(self.unknown(name), at)
        return found

    def unknown(self, name: str) -> str:
        """The message for a layer word that names nothing."""
        names = registry.known_names()
        stem = re.match(r"[a-z_]*", name.lower())
        hint = suggest(stem.group() if stem and stem.group() else name.lower(), names)
        return f"unknown layer kind '{name}'; {hint}known kinds: {', '.join(names)}"

    def counted(self, at: Location) -> None:
        """Count one more leaf layer; too many is an error."""
        self.count += 1
        if self.count > MAX_LAYERS:
            msg = f"the spec expands to more than {MAX_LAYERS:,} layers, convcalc's limit"
            raise SpecError(msg, at)

    def leaf(self, w: Written, at: Location, path: str) -> LayerSpec:
        """A leaf layer from what was written."""
        self.counted(at)
        kind, preset = self.kind(w.word, w.word_at)
        explicit, places = self.long_params(kind, w.value, w.params_at) if w.long else (w.value, None)
        for key, implied in preset.items():
            if key in explicit and str(explicit[key]).strip().lower() != implied:
                msg = f"'{w.word}' already means {key}: {implied}; write `{kind.name}:` to choose the {key}"
                raise SpecError(msg, w.params_at)
        raw = dict(preset)
        for d_kind, d_preset, d_params in self.defaults:
            if d_kind is kind and all(explicit.get(k, preset.get(k)) == v for k, v in d_preset.items()):
                raw.update(d_params)
        raw.update(explicit)
        params = self.convert(kind, raw, places, w.params_at, require=True)
        label = kind.label(params)
        return LayerSpec(kind.name, params, w.name or label.split()[0].upper(), label, at, path, w.module)

    def long_params(self, kind: Kind, value: Any, at: Location) -> tuple[dict[str, Any], PosMap | None]:
        """The raw parameters of a long-form layer: a mapping, nothing, or the main one."""
        if value is None:
            return {}, None
        if isinstance(value, PosMap):
            return dict(value), value
        if kind.primary is not None and (not isinstance(value, list) or self.per_dim(kind, kind.primary)):
            return {kind.primary: value}, None  # `fc: 1000`; a list for a per-dim one: `maxpool: [3, 2]`
        msg = f"the parameters of {kind.name} must be a mapping, e.g. {kind.name}: {{...}}"
        raise SpecError(msg, at)

    @staticmethod
    def per_dim(kind: Kind, name: str) -> bool:
        """Whether a parameter takes one value per spatial dim (so a list is its value)."""
        return any(p.name == name and isinstance(p.convert, PerDim) for p in kind.params)

    def convert(
        self,
        kind: Kind,
        raw: dict[str, Any],
        places: PosMap | None,
        here: Location,
        *,
        require: bool,
    ) -> dict[str, Any]:
        """Every parameter of the kind, converted and checked; errors at the value's place."""
        known = tuple(p.name for p in kind.params)
        for key in raw:
            if key not in known:
                where = places.key_at[key] if places is not None and key in places.key_at else here
                allowed = ", ".join(known) or "none"
                msg = f"unknown parameter '{key}' for {kind.name}; {suggest(str(key), known)}its parameters: {allowed}"
                raise SpecError(msg, where)
        out: dict[str, Any] = {}
        for param in kind.params:
            if param.name in raw:
                where = places.at(param.name) if places is not None and param.name in places else here
                out[param.name] = param.convert(raw[param.name], where)
            elif param.required and require:
                hint = f" ({param.form})" if param.form else ""
                short = f"; in shorthand: {kind.summary}" if kind.summary else ""
                msg = f"{kind.name} needs `{param.name}`{hint}{short}"
                raise SpecError(msg, here)
            else:
                out[param.name] = param.default
        return out
