"""YAML text to a typed Spec (DESIGN §2): every mistake is a SpecError at its line and column."""

from __future__ import annotations

import os
import re
from typing import Any

from convcalc.errors import Location, SpecError
from convcalc.kinds.params import choice, integer, positive, text
from convcalc.options import DType, Rounding
from convcalc.spec.common import check_keys
from convcalc.spec.composite import NodeReader
from convcalc.spec.expect import parse_expect
from convcalc.spec.model import Spec
from convcalc.spec.yamlpos import PosMap, parse_yaml
from convcalc.volume import Volume

TOP_KEYS = ("name", "description", "input", "batch", "dtype", "rounding", "defaults", "blocks", "layers", "expect")
# Larger files are surely a mistake (or an attack); see docs/limits.md.
MAX_FILE_BYTES = 10_000_000

INPUT_KEYS = {
    ("length", "depth"): 1,
    ("height", "width", "depth"): 2,
    ("time", "height", "width", "depth"): 3,
}


def read_text(path: str, shown_as: str) -> str:
    """A spec file's text, with a clear error for each way reading it can fail."""
    at = Location(shown_as)
    if os.path.isdir(path):  # noqa: PTH112 - no pathlib on the way of a command (convcalc/builtins.py)
        raise SpecError("is a folder, not a spec file", at)
    try:
        with open(path, "rb") as file:  # noqa: PTH123
            data = file.read(MAX_FILE_BYTES + 1)  # no more: /dev/zero must not fill the memory
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
        msg = f"the file is over {MAX_FILE_BYTES:,} bytes, the limit for a spec (docs/limits.md)"
        raise SpecError(msg, at)
    if b"\0" in data:
        raise SpecError("this is a binary file, not a YAML spec", at)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SpecError("the file is not UTF-8 text", Location(shown_as, line)) from None


def load_spec(source: str | os.PathLike[str], text_: str | None = None) -> Spec:
    """Load a spec from a file path, or from `text_` (shown in messages as `source`)."""
    source = os.fspath(source)
    if text_ is None:
        text_ = read_text(source, source)
    data = parse_yaml(text_, source)
    if data is None:
        raise SpecError("the spec is empty; it needs at least `input:` and `layers:`", Location(source, 1, 1))
    if not isinstance(data, PosMap):
        kind = "a list" if isinstance(data, list) else "a single value"
        msg = f"a spec is a mapping with `input:` and `layers:`, but this file holds {kind}"
        raise SpecError(msg, Location(source, 1, 1))
    return _spec(data, source)


def parse_input(value: Any, at: Location) -> Volume:
    """224x224x3, [224, 224, 3], {height: 224, width: 224, depth: 3}, or 4096 for a vector."""
    if isinstance(value, str):
        parts = [s.strip() for s in value.lower().split("x")]
        if not all(re.fullmatch(r"\d+", s) for s in parts):
            msg = f"input '{value}' is not a volume; write it as 224x224x3 (height x width x depth)"
            raise SpecError(msg, at)
        value = [int(s) for s in parts]
    if isinstance(value, PosMap):
        for keys in INPUT_KEYS:
            if set(value) == set(keys):
                value = [value[k] for k in keys]
                break
        else:
            forms = "; ".join("{" + ", ".join(k) + "}" for k in INPUT_KEYS)
            msg = f"input mapping needs exactly one of these sets of keys: {forms}"
            raise SpecError(msg, at)
    if not isinstance(value, list):
        value = [value]
    if not 1 <= len(value) <= 4:  # noqa: PLR2004 - up to 3 spatial dims, then depth
        msg = f"input has {len(value)} numbers; give 1 to 3 spatial dims then the depth, e.g. 224x224x3"
        raise SpecError(msg, at)
    dims = [integer(v, at, least=1, what="every input dim") for v in value]
    return Volume(tuple(dims[:-1]), dims[-1])


def _spec(data: PosMap, source: str) -> Spec:
    check_keys(data, TOP_KEYS, "the spec")
    for key in ("input", "layers"):
        if key not in data:
            msg = f"the spec has no `{key}:`"
            raise SpecError(msg, data.here)
    reader = NodeReader(source)
    if "defaults" in data:
        reader.read_defaults(data["defaults"], data.at("defaults"))
    if "blocks" in data:
        reader.read_blocks(data["blocks"], data.at("blocks"))
    stem = os.path.splitext(os.path.basename(source))[0] if source != "<stdin>" else "spec"  # noqa: PTH119, PTH122
    layers = reader.nodes(data["layers"], data.at("layers"), "`layers:`", lambda i: str(i + 1))
    if "expect" in data:
        reader.expectations += parse_expect(data["expect"], "", data.at("expect"))
    return Spec(
        name=text("name")(data.get("name", stem), data.at("name")),
        description=text("description")(data.get("description", ""), data.at("description")),
        source=source,
        input=parse_input(data["input"], data.at("input")),
        batch=positive("batch")(data.get("batch", 1), data.at("batch")),
        dtype=choice(DType, "dtype")(data.get("dtype", "float32"), data.at("dtype")),
        rounding=choice(Rounding, "rounding")(data.get("rounding", "strict"), data.at("rounding")),
        layers=layers,
        expectations=tuple(reader.expectations),
    )
