"""The built-in specs (`convcalc show vgg16`), and how a SPEC argument is found."""

from __future__ import annotations

import difflib
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from convcalc.errors import Location, SpecNotFoundError
from convcalc.spec.loader import decode, load_spec, read_text

if TYPE_CHECKING:
    from convcalc.spec.model import Spec


def specs_dir() -> Path:
    """Where the built-in specs are: inside the installed package, or the checkout's specs/."""
    here = Path(__file__).resolve().parent
    installed = here / "specs"
    return installed if installed.is_dir() else here.parent / "specs"


def builtin_names() -> list[str]:
    """The names of the built-in specs, sorted."""
    return sorted(p.stem for p in specs_dir().glob("*.yaml"))


def open_spec(arg: str) -> Spec:
    """Load SPEC: a path, `-` for standard input, or the name of a built-in spec."""
    if arg == "-":
        return load_spec("<stdin>", decode(sys.stdin.buffer.read(), "<stdin>"))
    path = Path(arg)
    if path.exists():
        return load_spec(arg)
    builtin = specs_dir() / f"{arg}.yaml"
    if "/" not in arg and builtin.is_file():
        # Shown as specs/NAME.yaml wherever the package is installed, so messages stay short.
        return load_spec(f"specs/{arg}.yaml", read_text(builtin, f"specs/{arg}.yaml"))
    names = builtin_names()
    close = difflib.get_close_matches(arg, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    msg = f"no such file, and no built-in spec of that name; {hint}built-ins: {', '.join(names)} (see `convcalc list`)"
    raise SpecNotFoundError(msg, Location(arg))
