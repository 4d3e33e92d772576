"""torchvision's model builders for the tests: convcalc's own import of them, or a skip saying why not.

PyPI's torchvision wheel does not import beside the CPU build of torch (its C extension needs
torch's CUDA libraries: "operator torchvision::nms does not exist"); `convcalc import` then
imports `torchvision.models` without the extension, and so do the tests, through the same code:
convcalc/bridges/importer/torchvision_models.py, the one place it is done.
"""

from __future__ import annotations

import importlib.util
from typing import Any

import pytest


def models() -> Any:
    """The module `torchvision.models`, or a skip that says why it cannot be imported."""
    pytest.importorskip("torch")
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision is not installed (pip install --no-deps torchvision)")
    from convcalc.bridges.importer import torchvision_models  # noqa: PLC0415 - after the skips

    return torchvision_models.models()
