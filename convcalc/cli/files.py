"""The SPEC arguments of `convcalc check` (and the students of `--key`): files, folders, globs, built-ins.

A folder stands for its YAML files: the names that end in `.yaml` or `.yml` in any case
(`ADA.YAML` is one), not those that start with a dot (`._ada.yaml`, an archive's leftovers), not
its subfolders, in name order. A link in a folder that leads nowhere is reported, not skipped.
For a class (`--key`) each file is graded once, however it is reached (two links to it, or a
folder and its own name); `check` checks what it is given, a file named twice twice.
"""

from __future__ import annotations

import glob
import os
from dataclasses import dataclass
from pathlib import Path

from convcalc.errors import ConvcalcError, Location, SpecError

SUFFIXES = (".yaml", ".yml")


def _is_yaml(path: Path) -> bool:
    return path.suffix.lower() in SUFFIXES and not path.name.startswith(".")


def _folder(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.iterdir() if _is_yaml(p) and (p.is_file() or not p.exists()))


def _where(path: str) -> str | None:
    """The file a path leads to, for counting it once (None: it leads nowhere, or is no file)."""
    try:
        return os.path.realpath(path, strict=True)
    except (OSError, RuntimeError):  # a broken link, a loop of links, a built-in name
        return None


@dataclass(frozen=True, slots=True)
class Files:
    """What the arguments name: the paths in order, why some cannot be read, and the ones left out."""

    paths: list[str]
    broken: dict[str, ConvcalcError]  # links that lead nowhere, with the message
    skipped: list[str]  # the `skip` file, reached under another name


def expand(args: tuple[str, ...] | list[str], skip: str | None = None, *, once: bool = True) -> Files:
    """The files the arguments name, each once, and the ones that cannot be read as such (a broken link).

    `skip` is a file that is not one of them (the answer key, reached through a link in the
    students' folder). Built-in names and paths that do not exist pass through: reading them
    says what they are. `once`: a file reached several ways is kept once (its own name before a link).
    """
    found: list[str] = []
    for arg in args:
        if Path(arg).is_dir():
            found += _folder(Path(arg))
        elif any(c in arg for c in "*?[") and not Path(arg).exists():
            found += sorted(glob.glob(arg)) or [arg]  # noqa: PTH207 - a user's pattern, any folder
        else:
            found.append(arg)
    skipped = _where(skip) if skip is not None else None
    real = {path: _where(path) for path in found}
    chosen: dict[str, str] = {}  # a file reached several ways: its own name, else the first link
    for path in found:
        r = real[path]
        if r is not None and (r not in chosen or (Path(chosen[r]).is_symlink() and not Path(path).is_symlink())):
            chosen[r] = path
    out: list[str] = []
    broken: dict[str, ConvcalcError] = {}
    left_out: list[str] = []
    for path in found:
        r = real[path]
        if r is None and Path(path).is_symlink():
            msg = f"a link that leads nowhere ({Path(path).readlink()})"
            broken[path] = SpecError(msg, Location(path))
        elif r is not None and r == skipped:
            left_out.append(path)
            continue
        elif once and r is not None and (chosen[r] != path or path in out):
            continue  # the same file again, through a link or a second argument
        out.append(path)
    return Files(out, broken, left_out)
