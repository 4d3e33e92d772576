"""YAML text to a typed Spec (DESIGN §2): every mistake is a SpecError at its line and column."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convcalc.engine import registry
from convcalc.engine.params import choice, describe, integer, positive, text
from convcalc.errors import Location, SpecError
from convcalc.options import DType, Rounding
from convcalc.spec import shorthand
from convcalc.spec.model import LayerSpec, Spec
from convcalc.spec.yamlpos import PosList, PosMap, parse_yaml
from convcalc.volume import Volume

if TYPE_CHECKING:
    from convcalc.engine.base import Kind

TOP_KEYS = ("name", "description", "input", "batch", "dtype", "rounding", "defaults", "layers")
LAYER_KEYS = ("name",)
# Larger specs are surely a mistake (or an attack); see docs/limits.md.
MAX_FILE_BYTES = 10_000_000
MAX_LAYERS = 1_000_000

_INPUT_KEYS = {
    ("length", "depth"): 1,
    ("height", "width", "depth"): 2,
    ("time", "height", "width", "depth"): 3,
}


def read_text(path: Path, shown_as: str) -> str:
    """A spec file's text, with a clear error for each way reading it can fail."""
    at = Location(shown_as)
    if path.is_dir():
        raise SpecError("is a folder, not a spec file", at)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise SpecError("no such file", at) from None
    except OSError as exc:
        msg = f"cannot read the file: {exc.strerror}"
        raise SpecError(msg, at) from None
    return decode(data, shown_as)


def decode(data: bytes, shown_as: str) -> str:
    """Bytes to text: UTF-8 only, no binary files, nothing absurdly large."""
    at = Location(shown_as)
    if len(data) > MAX_FILE_BYTES:
        msg = f"the file is {len(data):,} bytes; specs are limited to {MAX_FILE_BYTES:,}"
        raise SpecError(msg, at)
    if b"\0" in data:
        raise SpecError("this is a binary file, not a YAML spec", at)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError("the file is not UTF-8 text", Location(shown_as, line)) from None


def load_spec(source: str, text_: str | None = None) -> Spec:
    """Load a spec from a file path, or from `text_` (shown in messages as `source`)."""
    if text_ is None:
        text_ = read_text(Path(source), source)
    data = parse_yaml(text_, source)
    if data is None:
        raise SpecError("the spec is empty; it needs at least `input:` and `layers:`", Location(source, 1, 1))
    if not isinstance(data, PosMap):
        kind = "a list" if isinstance(data, list) else "a single value"
        msg = f"a spec is a mapping with `input:` and `layers:`, but this file holds {kind}"
        raise SpecError(msg, Location(source, 1, 1))
    return _Builder(source).spec(data)


def _suggest(word: str, choices: list[str] | tuple[str, ...]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def check_keys(m: PosMap, allowed: tuple[str, ...], where: str) -> None:
    """Unknown keys are errors (a misspelt key must not be silently ignored)."""
    for key in m:
        if key not in allowed:
            msg = f"unknown key '{key}' in {where}; {_suggest(str(key), allowed)}allowed: {', '.join(allowed)}"
            raise SpecError(msg, m.key_at[key])


def parse_input(value: Any, at: Location) -> Volume:
    """224x224x3, [224, 224, 3], {height: 224, width: 224, depth: 3}, or 4096 for a vector."""
    if isinstance(value, str):
        parts = [s.strip() for s in value.lower().split("x")]
        if not all(re.fullmatch(r"\d+", s) for s in parts):
            msg = f"input '{value}' is not a volume; write it as 224x224x3 (height x width x depth)"
            raise SpecError(msg, at)
        value = [int(s) for s in parts]
    if isinstance(value, PosMap):
        for keys in _INPUT_KEYS:
            if set(value) == set(keys):
                value = [value[k] for k in keys]
                break
        else:
            forms = "; ".join("{" + ", ".join(k) + "}" for k in _INPUT_KEYS)
            msg = f"input mapping needs exactly one of these sets of keys: {forms}"
            raise SpecError(msg, at)
    if not isinstance(value, list):
        value = [value]
    if not 1 <= len(value) <= 4:  # noqa: PLR2004 - up to 3 spatial dims, then depth
        msg = f"input has {len(value)} numbers; give 1 to 3 spatial dims then the depth, e.g. 224x224x3"
        raise SpecError(msg, at)
    dims = [integer(v, at, least=1, what="every input dim") for v in value]
    return Volume(tuple(dims[:-1]), dims[-1])


@dataclass(frozen=True)
class _Written:
    """A layer item as written: its kind word, and its parameters (raw) with their place."""

    word: str
    word_at: Location
    value: Any  # shorthand: a dict of raw parameters; long form: the kind key's value
    params_at: Location
    long: bool
    name: str | None


class _Builder:
    """Walks the YAML tree of one spec."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.defaults: list[tuple[Kind, dict[str, Any], PosMap]] = []
        self.count = 0

    def spec(self, data: PosMap) -> Spec:
        check_keys(data, TOP_KEYS, "the spec")
        for key in ("input", "layers"):
            if key not in data:
                msg = f"the spec has no `{key}:`"
                raise SpecError(msg, data.here)
        if "defaults" in data:
            self.read_defaults(data["defaults"], data.at("defaults"))
        layers = data["layers"]
        if not isinstance(layers, PosList):
            raise SpecError("`layers:` must be a list of layers", data.at("layers"))
        stem = Path(self.source).stem if self.source != "<stdin>" else "spec"
        return Spec(
            name=text("name")(data.get("name", stem), data.at("name")),
            description=text("description")(data.get("description", ""), data.at("description")),
            source=self.source,
            input=parse_input(data["input"], data.at("input")),
            batch=positive("batch")(data.get("batch", 1), data.at("batch")),
            dtype=choice(DType, "dtype")(data.get("dtype", "float32"), data.at("dtype")),
            rounding=choice(Rounding, "rounding")(data.get("rounding", "strict"), data.at("rounding")),
            layers=tuple(
                self.layer(item, at, str(i + 1))
                for i, (item, at) in enumerate(zip(layers, layers.item_at, strict=True))
            ),
        )

    def read_defaults(self, value: Any, at: Location) -> None:
        if not isinstance(value, PosMap):
            raise SpecError("`defaults:` maps a layer kind to its default parameters, e.g. conv: {pad: 1}", at)
        for name, params in value.items():
            kind, preset = self.kind(str(name), value.key_at[name])
            if not isinstance(params, PosMap):
                msg = f"defaults for {name} must be a mapping of parameters"
                raise SpecError(msg, value.at(name))
            self.convert(kind, {**preset, **params}, params, params.here, require=False)  # checked at their own place
            self.defaults.append((kind, preset, params))

    def kind(self, name: str, at: Location) -> tuple[Kind, dict[str, Any]]:
        found = registry.resolve(name.lower())
        if found is None:
            names = registry.known_names()
            stem = re.match(r"[a-z_]*", name.lower())
            hint = _suggest(stem.group() if stem and stem.group() else name.lower(), names)
            msg = f"unknown layer kind '{name}'; {hint}known kinds: {', '.join(names)}"
            raise SpecError(msg, at)
        return found

    def layer(self, item: Any, at: Location, path: str) -> LayerSpec:
        self.count += 1
        if self.count > MAX_LAYERS:
            msg = f"more than {MAX_LAYERS:,} layers; convcalc's limit"
            raise SpecError(msg, at)
        w = self.written(item, at)
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
        return LayerSpec(kind.name, params, w.name or label.split()[0].upper(), label, at, path)

    def written(self, item: Any, at: Location) -> _Written:
        """What a layer item says, before its kind is looked up."""
        if isinstance(item, str):
            word, params = shorthand.parse(item, at)
            return _Written(word, at, params, at, long=False, name=None)
        if isinstance(item, PosMap):
            kinds = [k for k in item if k not in LAYER_KEYS]
            if len(kinds) != 1:
                msg = "a layer in long form has one kind key (conv:, pool:, fc: ...) beside an optional name:"
                if kinds:
                    msg += f"; this one has {', '.join(map(str, kinds))}"
                raise SpecError(msg, at)
            key = kinds[0]
            name = text("name")(item["name"], item.at("name")) if "name" in item else None
            return _Written(str(key), item.key_at[key], item[key], item.at(key), long=True, name=name)
        example = "a shorthand string (conv3-64) or a mapping (conv: {filters: 64, size: 3})"
        msg = f"a layer is {example}, not {describe(item)}"
        raise SpecError(msg, at)

    def long_params(self, kind: Kind, value: Any, at: Location) -> tuple[dict[str, Any], PosMap | None]:
        if value is None:
            return {}, None
        if isinstance(value, PosMap):
            return dict(value), value
        if kind.primary is not None and not isinstance(value, list):
            return {kind.primary: value}, None
        msg = f"the parameters of {kind.name} must be a mapping, e.g. {kind.name}: {{...}}"
        raise SpecError(msg, at)

    def convert(
        self,
        kind: Kind,
        raw: dict[str, Any],
        places: PosMap | None,
        here: Location,
        *,
        require: bool,
    ) -> dict[str, Any]:
        known = tuple(p.name for p in kind.params)
        for key in raw:
            if key not in known:
                where = places.key_at[key] if places is not None and key in places.key_at else here
                allowed = ", ".join(known) or "none"
                msg = f"unknown parameter '{key}' for {kind.name}; {_suggest(str(key), known)}its parameters: {allowed}"
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
