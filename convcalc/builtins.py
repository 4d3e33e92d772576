"""The built-in specs (`convcalc show vgg16`), and how a SPEC argument is found.

Paths are plain strings here and in the loader: pathlib imports urllib and ipaddress, about a
twentieth of the start-up time of `convcalc show` (docs/performance.md).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from convcalc.errors import Location, SpecNotFoundError
from convcalc.spec.loader import load_spec, read_stdin, read_text

if TYPE_CHECKING:
    from convcalc.spec.model import Spec


def specs_dir() -> str:
    """Where the built-in specs are: inside the installed package, or the checkout's specs/."""
    here = os.path.dirname(os.path.realpath(__file__))  # noqa: PTH120 - see the module's docstring
    installed = os.path.join(here, "specs")  # noqa: PTH118
    return installed if os.path.isdir(installed) else os.path.join(os.path.dirname(here), "specs")  # noqa: PTH112, PTH118, PTH120


def builtin_names() -> list[str]:
    """The names of the built-in specs, sorted."""
    files = os.listdir(specs_dir())  # noqa: PTH208 - see the module's docstring
    return sorted(name[: -len(".yaml")] for name in files if name.endswith(".yaml"))


def open_spec(arg: str) -> Spec:
    """Load SPEC: a path, `-` for standard input, or the name of a built-in spec."""
    if arg == "-":
        return load_spec("<stdin>", read_stdin())  # capped as a file is
    if os.path.exists(arg):  # noqa: PTH110
        return load_spec(arg)
    builtin = os.path.join(specs_dir(), f"{arg}.yaml")  # noqa: PTH118
    if "/" not in arg and os.path.isfile(builtin):  # noqa: PTH113
        # Shown as specs/NAME.yaml wherever the package is installed, so messages stay short.
        return load_spec(f"specs/{arg}.yaml", read_text(builtin, f"specs/{arg}.yaml"))
    import difflib  # noqa: PLC0415 - only for a name that is not found

    names = builtin_names()
    close = difflib.get_close_matches(arg, names, n=1)
    hint = f"did you mean '{close[0]}'? " if close else ""
    msg = f"no such file, and no built-in spec of that name; {hint}built-ins: {', '.join(names)} (see `convcalc list`)"
    raise SpecNotFoundError(msg, Location(arg))
