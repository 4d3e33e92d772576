"""What autograd keeps for EfficientNet-B0, ConvNeXt-T and RegNetY-1.6GF, against torchvision's own models (issue 25).

tests/test_training_oracle.py measures the module `to_module` builds from a spec; here the same
count (saved_tensors_hooks, each storage once, parameters and buffers left out, one forward pass
in train mode, CPU, float32) is also taken on torchvision's model itself, so that its in-place
SiLUs and adds, its stochastic depth (torchvision.ops.stochastic_depth's mask), its squeeze-and-
excitation, ConvNeXt's permutes, channels-last Linears, LayerNorm and layer scale are measured as
torchvision writes them. The spec is the built-in where there is one (the built-ins' own modules
are measured by test_training_oracle.py too, at batch 1 and 8), else convcalc's import of the
model. convcalc's figure must equal torchvision's, to the byte, at batch 1 and 2.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows them as tests.*.
from test_training_oracle import WHICH, computed  # type: ignore[import-not-found]
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc import load_spec
from convcalc.bridges.importer import import_model
from convcalc.builtins import builtin_names, open_spec

if TYPE_CHECKING:
    from convcalc.spec.model import Spec

pytestmark = [pytest.mark.slow, pytest.mark.torch]
torch = pytest.importorskip("torch")


def kept(net: Any, x: Any) -> int:
    """Bytes autograd keeps for one forward pass of torchvision's model, as test_training_oracle.measure counts them."""
    own = {t.untyped_storage().data_ptr() for t in (*net.parameters(), *net.buffers())}
    found: dict[int, int] = {}

    def pack(t: Any) -> Any:
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in own:
            found[storage.data_ptr()] = storage.nbytes()
        return t.detach()  # not the tensor: a reference cycle through autograd's graph (see measure)

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = net(x)
    del out
    return sum(found.values())


def spec_of(name: str, net: Any) -> Spec:
    """The built-in spec of that name, else convcalc's import of torchvision's model."""
    if name in builtin_names():
        return open_spec(name)
    text = import_model(f"torchvision.models:{name}", "224x224x3", model=net.eval()).text
    return load_spec(f"{name}.yaml", text)


@pytest.mark.parametrize("name", ["efficientnet_b0", "convnext_tiny", "regnet_y_1_6gf"])
def test_convcalc_keeps_what_torchvisions_model_keeps(name: str) -> None:
    torch.manual_seed(0)
    net = getattr(models(), name)(weights=None)
    spec = spec_of(name, net)
    net.train()
    for batch in (1, 2):
        at = replace(spec, batch=batch)
        x = torch.randn(batch, 3, 224, 224)
        assert computed(at) == kept(net, x), f"{name} at batch {batch} ({WHICH})"
