"""torchvision imported without its C extension, where that extension does not load beside torch.

PyPI's torchvision wheel is built against PyPI's CUDA build of torch. Beside the CPU build of
torch, `import torchvision` loads its C extension, which needs torch's CUDA libraries, and fails
with "operator torchvision::nms does not exist" (its `__init__` registers meta kernels for the
extension's operators). `torchvision.models` is plain Python over torch.nn and needs none of
those operators. So when a PyTorch source cannot be imported because torchvision cannot, the
package is put in sys.modules as a bare package (its path and spec, its `__init__` not run) and
the source is imported again: `torchvision.models`, `torchvision.ops` and the rest load from it,
and only a call to one of the extension's operators (`nms`, `roi_align`) fails.

This is the one place convcalc does it: `convcalc import torchvision.models:resnet18` (fx.load)
and the tests' model builders (tests/torchvision_models.py) both come here.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
import traceback
import types
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from convcalc.errors import ConvcalcError

if TYPE_CHECKING:
    from collections.abc import Callable

T = TypeVar("T")

PACKAGE = "torchvision"
BARE = "_convcalc_bare"  # the attribute that marks the bare package


def models() -> types.ModuleType:
    """The module `torchvision.models`, without torchvision's C extension where it does not load."""
    return load(lambda: importlib.import_module(f"{PACKAGE}.models"), f"{PACKAGE}.models")


def load(step: Callable[[], T], source: str) -> T:
    """`step()` (an import of SOURCE), run again on a bare torchvision if it failed because torchvision does.

    A ConvcalcError says what to install where torchvision is missing, or cannot be imported even
    without its extension; any other failure of `step` is raised as it is.
    """
    try:
        return step()
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != PACKAGE:
            raise
        msg = f"cannot import {source}: torchvision is not installed; {_install()}"
        raise ConvcalcError(msg) from None
    except Exception as exc:
        # torchvision in sys.modules imported (or is bare already): the failure is the source's own.
        if PACKAGE in sys.modules or not _from_torchvision(exc):
            raise
        first = exc
    _forget()
    _bare()
    try:
        return step()
    except Exception as exc:
        if not _from_torchvision(exc):
            raise
        msg = (
            f"cannot import {source}: torchvision does not load beside this torch, even without its C extension "
            f"({_one_line(first)}; then {_one_line(exc)}); {_install()}"
        )
        raise ConvcalcError(msg) from None


def min_size(model: Any, source: str) -> tuple[int, ...] | None:
    """The smallest input torchvision gives for a model of its own (`min_size` in its weights' metadata), else None.

    The metadata is in torchvision's code: nothing is downloaded. The builder is SOURCE's
    (`torchvision.models:inception_v3`), else every builder of the model's class (the largest of theirs).
    """
    if not type(model).__module__.startswith("torchvision.models") or "torchvision" not in sys.modules:
        return None
    tv = sys.modules["torchvision"].models
    try:
        names = tv.list_models(module=tv)
        named = source.rpartition(":")[2]
        if named not in names:
            kind = type(model)
            names = [n for n in names if tv.get_model_builder(n).__annotations__.get("return") is kind]
        else:
            names = [named]
        sizes = [tuple(tv.get_model_weights(n).DEFAULT.meta["min_size"]) for n in names]
    except Exception:  # noqa: BLE001 - a torchvision without the registry (or the metadata): no hint
        return None
    return max(sizes, default=None)


def is_bare() -> bool:
    """Whether the torchvision in sys.modules is the bare package put there by `load`."""
    return bool(getattr(sys.modules.get(PACKAGE), BARE, False))


def _from_torchvision(exc: BaseException) -> bool:
    """Whether the exception was raised in torchvision's own code (a frame of it in the traceback).

    Raised while torchvision was imported and not in sys.modules: its `__init__` failed.
    """
    spec = importlib.util.find_spec(PACKAGE)
    folders = spec.submodule_search_locations if spec is not None else None
    places = tuple(str(Path(p)) + os.sep for p in folders or ())
    return bool(places) and any(f.filename.startswith(places) for f in traceback.extract_tb(exc.__traceback__))


def _forget() -> None:
    """Drop what a failed `import torchvision` left in sys.modules (its submodules that did load)."""
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
        del sys.modules[name]


def _bare() -> None:
    """Put torchvision in sys.modules as its path alone, so that its submodules import without its `__init__`."""
    spec = importlib.util.find_spec(PACKAGE)
    assert spec is not None  # noqa: S101 - _broken found it installed
    assert spec.submodule_search_locations is not None  # noqa: S101 - a package
    # A plain module with a path and a spec, and no __file__: inspect.getmodule, which torch.library
    # calls, would otherwise compare it with the file of the torchvision whose import failed.
    package = types.ModuleType(
        PACKAGE, "torchvision without its C extension (convcalc.bridges.importer.torchvision_models)"
    )
    package.__path__ = list(spec.submodule_search_locations)
    package.__spec__ = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
    package.__spec__.submodule_search_locations = package.__path__
    setattr(package, BARE, True)
    sys.modules[PACKAGE] = package


def _install() -> str:
    """What to install: the torchvision release made for the torch that is installed."""
    import torch  # noqa: PLC0415 - a PyTorch source was being read: torch is there

    version = str(torch.__version__).split("+")[0]
    parts = re.match(r"(\d+)\.(\d+)", version)
    # torchvision 0.N goes with torch 2.(N − 15): 0.15 with 2.0, 0.28 with 2.13 (torchvision's
    # README, "Installation", its table of compatible versions).
    if parts is None or parts[1] != "2":
        return f"install the torchvision release made for torch {version}"
    return (
        f"`pip install --no-deps torchvision==0.{int(parts[2]) + 15}.0` installs the one made for torch {version} "
        "(README, Set up)"
    )


def _one_line(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}"
