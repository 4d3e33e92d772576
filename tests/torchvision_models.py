"""torchvision's model builders for the tests, imported without torchvision's C extension.

PyPI's torchvision wheel does not import beside the CPU build of torch: `import torchvision`
loads its C extension, which needs torch's CUDA libraries, and fails with "operator
torchvision::nms does not exist". `torchvision.models` is plain Python over torch.nn and needs
none of those operators. So the package is put in sys.modules as a bare module (its path only,
its `__init__` not run), and `torchvision.models` is imported from it. This is the one place the
tests do it; `models()` skips the test, with the reason, where torch or torchvision is missing.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from typing import Any

import pytest


def models() -> Any:
    """The module `torchvision.models`, or a skip that says why it cannot be imported."""
    pytest.importorskip("torch")
    if "torchvision.models" in sys.modules:
        return sys.modules["torchvision.models"]
    spec = importlib.util.find_spec("torchvision")
    if spec is None or spec.submodule_search_locations is None:
        pytest.skip("torchvision is not installed (pip install --no-deps torchvision)")
    if "torchvision" not in sys.modules:
        package = types.ModuleType("torchvision")
        package.__path__ = list(spec.submodule_search_locations)
        sys.modules["torchvision"] = package
    return importlib.import_module("torchvision.models")
