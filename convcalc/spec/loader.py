"""YAML text to a typed Spec (DESIGN §2): every mistake is a SpecError at its line and column."""

from __future__ import annotations

import keyword
import os
import re
import sys
from typing import Any

import yaml

from convcalc.errors import Location, SpecError
from convcalc.kinds.params import choice, integer, positive, text
from convcalc.options import DType, Rounding
from convcalc.spec.common import Mistakes, check_keys
from convcalc.spec.composite import NodeReader
from convcalc.spec.expect import parse_expect
from convcalc.spec.model import Node, Spec
from convcalc.spec.yamlpos import PosMap, parse_yaml
from convcalc.volume import Volume

TOP_KEYS = (
    "name",
    "description",
    "input",
    "example",
    "batch",
    "dtype",
    "rounding",
    "defaults",
    "blocks",
    "layers",
    "expect",
)
# Larger files are surely a mistake (or an attack); see docs/limits.md.
MAX_FILE_BYTES = 10_000_000

INPUT_KEYS = {
    ("length", "depth"): 1,
    ("tokens", "width"): 1,  # N tokens of width D (issue 27): the same 1-D volume
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


def read_stdin() -> str:
    """Standard input's text, read as a file is: no more than the limit (`cat /dev/zero | convcalc show -`)."""
    stream = sys.stdin
    if stream is None:  # closed (`<&-`); convcalc.cli.streams gives fd 0 /dev/null for later opens
        raise SpecError("standard input is closed", Location("<stdin>"))
    try:
        data = stream.buffer.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        msg = f"cannot read standard input: {exc.strerror or exc}"
        raise SpecError(msg, Location("<stdin>")) from None
    return decode(data, "<stdin>")


def decode(data: bytes, shown_as: str) -> str:
    """Bytes to text: UTF-8 only, no binary files, nothing absurdly large."""
    at = Location(shown_as)
    if len(data) > MAX_FILE_BYTES:
        what = "standard input" if shown_as == "<stdin>" else "the file"
        msg = f"{what} is over {MAX_FILE_BYTES:,} bytes, the limit for a spec (docs/limits.md)"
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


# A symbolic input dim: a name (H, W, side); the letter x separates dims, so a name has none.
SYMBOL = re.compile(r"[A-WYZa-wyz_][A-WYZa-wyz0-9_]*")  # _ first: refused with a reason (_symbol)


def parse_input(value: Any, at: Location) -> Volume:
    """224x224x3, [224, 224, 3], {height: 224, width: 224, depth: 3}, or 4096 for a vector."""
    volume, symbols = read_input(value, at)
    if any(symbols):
        shown = "x".join(str(s or n) for s, n in zip(symbols, volume.spatial, strict=True))
        msg = f"input {shown}x{volume.depth} has symbols; this place needs numbers, e.g. 224x224x3"
        raise SpecError(msg, at)
    return volume


def read_input(value: Any, at: Location) -> tuple[Volume, tuple[str | None, ...]]:
    """An input that may name its spatial dims with symbols (HxWx3), as a volume and the symbols.

    A symbolic dim holds 1 in the volume (a placeholder); its symbol is in the tuple, else None.
    """
    if isinstance(value, str) and value.strip().startswith(("{", "[")):
        value = _flow(value, at)  # --input '{length: 100, depth: 16}'
    if isinstance(value, str):
        value = _split(value, at)
    mapped = isinstance(value, dict)
    if isinstance(value, dict):
        value = _from_mapping(value, at)
    if not isinstance(value, list):
        value = [value]
    if not 1 <= len(value) <= 4:  # noqa: PLR2004 - up to 3 spatial dims, then depth
        msg = f"input has {len(value)} numbers; give 1 to 3 spatial dims then the depth, e.g. 224x224x3"
        raise SpecError(msg, at)
    if len(value) == 2 and not mapped:  # noqa: PLR2004 - 7x7: an image, or 7 positions of 7 channels?
        a, b = value
        msg = (
            f"input {a}x{b} has two numbers: write {a}x{b}x1 for a {a}x{b} image with one channel, "
            f"or {{length: {a}, depth: {b}}} for a 1-D input of length {a} with {b} channels"
        )
        raise SpecError(msg, at)
    *spatial, depth = value
    symbols = tuple(_symbol(v, at) for v in spatial)
    dims = [1 if s else integer(v, at, least=1, what="every input dim") for s, v in zip(symbols, spatial, strict=True)]
    if isinstance(depth, str) and SYMBOL.fullmatch(depth):
        msg = f"input depth {depth} is a symbol; the channels must be a number (only spatial dims may be symbols)"
        raise SpecError(msg, at)
    return Volume(tuple(dims), integer(depth, at, least=1, what="every input dim")), symbols


def _split(value: str, at: Location) -> list[int | str]:
    """224x224x3 or HxWx3 as its parts, numbers as ints."""
    parts = [s.strip() for s in re.split(r"[xX×]", value.strip())]
    bad = next((s for s in parts if not (re.fullmatch(r"\d+", s) or SYMBOL.fullmatch(s))), None)
    if bad is not None or not re.fullmatch(r"\d+", parts[-1]):
        if bad is not None and len(parts) > 1:
            why = f": '{bad}' is neither a number nor a symbol (a name such as H, W or side)"
        elif len(parts) > 1:
            why = f": its depth '{parts[-1]}' must be a number (only spatial dims may be symbols)"
        else:
            why = ""
        msg = f"input '{value}' is not a volume{why}; write it as 224x224x3 (height x width x depth), or HxWx3"
        raise SpecError(msg, at)
    return [int(s) if re.fullmatch(r"\d+", s) else s for s in parts]


def _from_mapping(value: dict[str, Any], at: Location) -> list[Any]:
    for keys in INPUT_KEYS:
        if set(value) == set(keys):
            return [value[k] for k in keys]
    forms = "; ".join("{" + ", ".join(k) + "}" for k in INPUT_KEYS)
    msg = f"input mapping needs exactly one of these sets of keys: {forms}"
    raise SpecError(msg, at)


def _flow(text: str, at: Location) -> Any:
    """A YAML flow mapping or list given as text (on the command line)."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        msg = f"input '{text}' is not a YAML mapping or list; write e.g. {{length: 100, depth: 16}}"
        raise SpecError(msg, at) from None


# Names a symbol may not take: Python's keywords and constants (the `python` form of every
# formula is evaluated with the symbols as variables, docs/symbolic.md), and the letters and
# words the readable forms use themselves (`H = 32k + 3, k ≥ 2`, `H − 11 ≡ 0 (mod 4)`).
RESERVED = {"k": "the sets' own index (H = 32k + 3)", "mod": "the conditions' word (mod 4)", "step": "the pieces' word"}


def _symbol(value: Any, at: Location) -> str | None:
    if not isinstance(value, str) or re.fullmatch(r"\d+", value):
        return None
    why = None
    if keyword.iskeyword(value):
        why = "a Python keyword or constant, and every formula's `python` form reads the symbols as variables"
    elif value.startswith("_"):
        why = "it starts with _ (a symbol starts with a letter)"
    elif value in RESERVED:
        why = f"the formulas use {value} themselves: {RESERVED[value]}"
    if why is not None and SYMBOL.fullmatch(value):
        msg = f"input dim '{value}' cannot be a symbol: {why}; name it otherwise, e.g. H, W or side"
        raise SpecError(msg, at)
    if SYMBOL.fullmatch(value):
        return value
    msg = (
        f"input dim '{value}' is neither a number nor a symbol: a symbol is a name such as H, W or side "
        "(letters, digits and _, no x, which separates dims)"
    )
    raise SpecError(msg, at)


def _input(data: PosMap) -> dict[str, Any]:
    """The spec's input, its symbols and its `example:` size (for a symbolic input)."""
    at = data.at("input")
    volume, symbols = read_input(data["input"], at)
    if not any(symbols):
        if "example" in data:
            msg = "`example:` gives the size at which a symbolic input's answers are checked; this input has no symbol"
            raise SpecError(msg, data.at("example"))
        return {"input": volume}
    if "example" not in data:
        return {"input": volume, "symbols": symbols, "example": False, "input_at": at}
    example = parse_input(data["example"], data.at("example"))
    fits = len(example.spatial) == len(volume.spatial) and example.depth == volume.depth
    if not fits or any(s is None and n != e for s, n, e in zip(symbols, volume.spatial, example.spatial, strict=False)):
        shown = "x".join([*(s or str(n) for s, n in zip(symbols, volume.spatial, strict=True)), str(volume.depth)])
        msg = f"example {example} is not a size of the input {shown}: a number for each symbol, the rest as written"
        raise SpecError(msg, data.at("example"))
    return {"input": example, "symbols": symbols, "example": True, "input_at": at}


def _spec(data: PosMap, source: str) -> Spec:
    """The spec, every part read in one pass: the mistakes of all of them are raised together.

    Each part (the top-level keys, each field, `defaults:`, `blocks:`, the layers, `expect:`) is
    read even when another failed, as the editor's schema shows them all at once; the layers are
    not read when `blocks:` failed, as they may call a block it would have defined.
    """
    found = Mistakes()
    found.attempt(lambda: check_keys(data, TOP_KEYS, "the spec"))
    for key in ("input", "layers"):
        misspelt = any(f"did you mean '{key}'" in e.message for e in found.errors)  # said once is enough
        if key not in data and not misspelt:
            found.add(SpecError(f"the spec has no `{key}:`", data.here))
    stem = os.path.splitext(os.path.basename(source))[0] if source != "<stdin>" else "spec"  # noqa: PTH119, PTH122
    fields = {
        "name": lambda: text("name")(data.get("name", stem), data.at("name")),
        "description": lambda: text("description")(data.get("description", ""), data.at("description")),
        "batch": lambda: positive("batch")(data.get("batch", 1), data.at("batch")),
        "dtype": lambda: choice(DType, "dtype")(data.get("dtype", "float32"), data.at("dtype")),
        "rounding": lambda: choice(Rounding, "rounding")(data.get("rounding", "strict"), data.at("rounding")),
    }
    given = found.attempt(lambda: _input(data)) if "input" in data else {}
    values = {key: found.attempt(read) for key, read in fields.items()}
    reader = NodeReader(source)
    if "defaults" in data:
        found.attempt(lambda: reader.read_defaults(data["defaults"], data.at("defaults")))
    before = len(found.errors)
    if "blocks" in data:
        found.attempt(lambda: reader.read_blocks(data["blocks"], data.at("blocks")))
    blocks = len(found.errors) == before  # they read, or there are none
    layers: tuple[Node, ...] = ()
    if "layers" in data and blocks:
        layers = found.attempt(
            lambda: reader.nodes(data["layers"], data.at("layers"), "`layers:`", lambda i: str(i + 1))
        )
    if "expect" in data:
        found.attempt(lambda: reader.expectations.extend(parse_expect(data["expect"], "", data.at("expect"))))
    found.raise_them()
    return Spec(source=source, **given, **values, layers=layers, expectations=tuple(reader.expectations))
