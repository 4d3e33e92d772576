"""How numbers and names read: the lecture's 3.2M and 1,728, bytes with units, shapes as 7x7x512."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from convcalc.report import Exact, LayerRow
    from convcalc.volume import Volume

_SUFFIXES = ("", "K", "M", "G", "T", "P")
_THOUSAND = 1000


def compact(n: int) -> str:
    """4096, 150K, 3.2M, 25K, 138M: one decimal below 10, whole numbers above (the lecture's style)."""
    if abs(n) < 10 * _THOUSAND:  # 4096 reads better than 4.1K
        return str(n)
    value, step = float(n), 0
    while abs(value) >= _THOUSAND and step < len(_SUFFIXES) - 1:
        value, step = value / _THOUSAND, step + 1
    text = f"{value:.1f}"
    if abs(float(text)) >= 10:  # noqa: PLR2004
        text = f"{value:.0f}"
    if abs(float(text)) >= _THOUSAND and step < len(_SUFFIXES) - 1:  # 999.6K reads 1.0M
        value, step = value / _THOUSAND, step + 1
        text = f"{value:.1f}"
    return text + _SUFFIXES[step]


def grouped(n: int) -> str:
    """1,728."""
    return f"{n:,}"


def precise(n: int) -> str:
    """15.47 G, 138.36 M, 7.00 M: two decimals with a unit (so that columns line up), for totals."""
    if abs(n) < _THOUSAND:
        return str(n)
    value = float(n)
    for suffix in _SUFFIXES:
        if abs(value) < _THOUSAND or suffix == _SUFFIXES[-1]:
            return f"{value:.2f} {suffix}"
        value /= _THOUSAND
    return str(n)  # pragma: no cover


def size(n: int, *, binary: bool = False) -> str:
    """Bytes with their unit: 60.95 MB (powers of 1000, as torchinfo) or 58.13 MiB (--binary)."""
    base, units = (1024, ("B", "KiB", "MiB", "GiB", "TiB")) if binary else (1000, ("B", "kB", "MB", "GB", "TB"))
    value = float(n)
    for unit in units:
        if abs(value) < base or unit == units[-1]:
            return f"{n:,} B" if unit == "B" else f"{value:.2f} {unit}"
        value /= base
    return f"{n} B"  # pragma: no cover


def fraction(value: Exact) -> str:
    """3 or 3/2."""
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def per_dim(values: tuple[Exact, ...]) -> str:
    """212 when every dim agrees, else 7x11; '' for none."""
    texts = [fraction(v) for v in values]
    if len(set(texts)) == 1:
        return texts[0]
    return "x".join(texts)


def volume(v: Volume | None) -> str:
    """224x224x64, 4096, or ? for a layer that could not be computed."""
    return "?" if v is None else str(v)


_MERGES = {"add", "concat", "multiply"}


def display_name(row: LayerRow, indent: str = "  ") -> str:
    """The name indented by nesting depth; a merge row says how it merges."""
    merge = f" ({row.kind})" if row.kind in _MERGES else ""
    *_, where, item = row.path.split(".") if row.path.count(".") else ("", "", "")
    mark = ""
    if item == "0" and where == "shortcut":
        mark = "shortcut: "
    elif item == "0" and row.path.split(".")[-3:-2] == ["branches"]:
        mark = f"b{int(where) + 1}: "
    name = " ".join(row.name.split())  # a name with a line break or a tab stays on its row, aligned
    return indent * row.depth + mark + name + merge
