"""Issue 25's kinds against PyTorch and torchvision: stochastic_depth, scale, layernorm over channels, channel_shuffle.

Each is compared with the module torchvision's models use (torchvision.ops.StochasticDepth,
ConvNeXt's layer_scale and LayerNorm2d, nn.ChannelShuffle and ShuffleNet v2's own function): the
volume, the parameters, the values convcalc's PyTorch plan computes, and what autograd keeps for
backward, measured as tests/test_training_oracle.py does (saved_tensors_hooks, each storage once,
parameters left out) on a conv followed by the reference module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

# pytest puts tests/ on sys.path; mypy knows it as tests.test_symbolic.
from test_symbolic import assert_formulas_are_the_numbers  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.engine.training import training
from convcalc.errors import SpecError
from convcalc.kinds import fromtorch, registry
from convcalc.kinds.vocab import Call
from convcalc.volume import Volume

if TYPE_CHECKING:
    from collections.abc import Callable

    from convcalc.spec.model import Spec


def spec_of(volume: str, layer: str, *, first: bool = False) -> Spec:
    """A conv1 (so that the layer's input needs a gradient), then the layer; or the layer alone."""
    depth = volume.rsplit("x", 1)[-1]
    layers = [layer] if first else [f"conv1-{depth}", layer]
    return load_spec("zoo.yaml", f"input: {volume}\nlayers:\n" + "".join(f"  - {s}\n" for s in layers))


def row(spec: Spec) -> Any:
    return analyze(spec).rows[-1]


def test_the_kinds_volumes_and_params() -> None:
    for layer, params in (
        ("stochastic_depth: 0.2", 0),
        ("{stochastic_depth: {p: 0.5, mode: batch}}", 0),
        ("drop_path: 0.1", 0),
        ("scale", 24),
        ("{layernorm: {over: channels}}", 48),
        ("{layernorm: {over: channels, affine: false}}", 0),
        ("channel_shuffle: 3", 0),
    ):
        r = row(spec_of("7x5x24", layer, first=True))
        assert r.output.as_list() == [7, 5, 24], layer
        assert r.params == params, layer
        assert r.macs == 0, layer


def test_a_shuffle_whose_groups_do_not_divide_the_channels_fails() -> None:
    r = row(spec_of("4x4x10", "channel_shuffle: 3"))
    assert r.output is None
    assert [d.code for d in r.diagnostics] == ["groups-do-not-divide"]


@pytest.mark.parametrize(
    "bad", ["{stochastic_depth: 1.0}", "stochastic_depth", "{stochastic_depth: {p: 0.1, mode: col}}"]
)
def test_stochastic_depth_needs_a_probability_and_a_mode(bad: str) -> None:
    with pytest.raises(SpecError):
        spec_of("4x4x2", bad)


def test_the_torch_readers() -> None:
    class Module:
        def __init__(self, **kw: Any) -> None:
            self.__dict__.update(kw)

    assert fromtorch.stochastic_depth(Module(p=0.1, mode="row")) == {"stochastic_depth": {"p": 0.1}}
    assert fromtorch.stochastic_depth(Module(p=0.2, mode="batch")) == {"stochastic_depth": {"p": 0.2, "mode": "batch"}}
    call = Call("stochastic_depth", (None, 0.3, "batch", False))
    assert fromtorch.stochastic_depth_call(call) == {"stochastic_depth": {"p": 0.3, "mode": "batch"}}
    by_keyword = Call("stochastic_depth", (None,), {"p": 0.1})
    assert fromtorch.stochastic_depth_call(by_keyword) == {"stochastic_depth": {"p": 0.1}}
    assert fromtorch.channel_shuffle(Module(groups=4)) == {"channel_shuffle": 4}
    assert fromtorch.channel_shuffle_call(Call("channel_shuffle", (None, 2))) == {"channel_shuffle": 2}
    ln = {"normalized_shape": (96,), "elementwise_affine": True, "bias": object()}
    assert fromtorch.layernorm2d(Module(**ln)) == {"layernorm": {"over": "channels"}}
    assert fromtorch.layernorm2d(Module(**{**ln, "elementwise_affine": False, "bias": None})) == {
        "layernorm": {"over": "channels", "affine": False}
    }
    assert fromtorch.layernorm2d(Module(**{**ln, "bias": None})) is None  # a scale without its shift
    assert fromtorch.layernorm2d(Module(**{**ln, "normalized_shape": (7, 96)})) is None
    assert registry.torch_modules()["StochasticDepth"] is fromtorch.stochastic_depth
    assert registry.torch_modules()["ChannelShuffle"] is fromtorch.channel_shuffle
    assert registry.torch_modules()["LayerNorm2d"] is fromtorch.layernorm2d
    assert registry.torch_functions()["stochastic_depth"] is fromtorch.stochastic_depth_call


@pytest.mark.parametrize(
    "layer",
    ["{stochastic_depth: {p: 0.2, mode: batch}}", "scale", "{layernorm: {over: channels}}", "channel_shuffle: 4"],
)
def test_the_closed_forms_are_the_numbers(layer: str) -> None:
    spec = load_spec("zoo.yaml", f"input: HxWx8\nlayers: [conv3-8, {layer}]\n")
    spec = replace(spec, input=Volume((9, 9), 8), example=True)
    assert_formulas_are_the_numbers(spec, 8)


# --- PyTorch and torchvision as the oracles -------------------------------------------------------


def torchvision_ops() -> Any:
    """torchvision.ops and torchvision.models.convnext, imported as convcalc import does (without the C extension)."""
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("torchvision is not installed")
    from convcalc.bridges.importer import torchvision_models  # noqa: PLC0415 - imports torch

    torchvision_models.models()
    for name in ("ops", "models.convnext", "models.shufflenetv2"):  # on the bare package, as convcalc import has it
        importlib.import_module(f"torchvision.{name}")
    return sys.modules["torchvision"]


def kept(module: Callable[[Any], Any], x: Any) -> int:
    """Bytes autograd keeps for one forward pass, each storage once, parameters left out (the oracle's measure)."""
    import torch  # noqa: PLC0415

    own = {t.untyped_storage().data_ptr() for t in getattr(module, "parameters", list)()}
    found: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.nbytes() and storage.data_ptr() not in own:
            found[storage.data_ptr()] = storage.nbytes()
        return t.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = module(x)
    del out
    return sum(found.values())


def convcalc_kept(spec: Spec, batch: int) -> int:
    at = replace(spec, batch=batch)
    report = training(at, analyze(at)).training
    assert report is not None
    return report.saved


CASES = [  # convcalc's layer; the reference module for it is `reference`'s
    "stochastic_depth: 0.3",
    "{stochastic_depth: {p: 0.3, mode: batch}}",
    "stochastic_depth: 0.0",
    "scale",
    "{layernorm: {over: channels}}",
    "{layernorm: {over: channels, affine: false}}",
    "channel_shuffle: 2",
    "channel_shuffle: 1",
]


def reference(tv: Any, layer: str, c: int) -> Any:
    """The module torchvision's models use for the layer, on C channels."""
    import torch  # noqa: PLC0415

    class LayerScale(torch.nn.Module):
        """ConvNeXt's layer scale: a parameter C x 1 x 1 multiplied in."""

        def __init__(self) -> None:
            super().__init__()
            self.layer_scale = torch.nn.Parameter(torch.rand(c, 1, 1))

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.layer_scale * x

    made: dict[str, Callable[[], Any]] = {
        CASES[0]: lambda: tv.ops.StochasticDepth(0.3, "row"),
        CASES[1]: lambda: tv.ops.StochasticDepth(0.3, "batch"),
        CASES[2]: lambda: tv.ops.StochasticDepth(0.0, "row"),
        CASES[3]: LayerScale,
        CASES[4]: lambda: tv.models.convnext.LayerNorm2d(c),
        CASES[5]: lambda: tv.models.convnext.LayerNorm2d(c, elementwise_affine=False),
        CASES[6]: lambda: torch.nn.ChannelShuffle(2),
        CASES[7]: lambda: torch.nn.ChannelShuffle(1),
    }
    return made[layer]()


@pytest.mark.torch
@pytest.mark.slow  # torchvision's import, and a dozen small forward passes: about 3 s
@pytest.mark.parametrize("layer", CASES)
def test_autograd_keeps_what_convcalc_says_and_what_torchvision_keeps(layer: str) -> None:
    import torch  # noqa: PLC0415

    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    tv = torchvision_ops()
    for first in (False, True):
        spec = spec_of("5x6x8", layer, first=first)
        mine = to_module(spec).module.train()
        ref = reference(tv, layer, 8).train()
        conv = torch.nn.Conv2d(8, 8, 1)
        theirs = ref if first else torch.nn.Sequential(conv, ref)
        for batch in (1, 2):
            x = torch.randn(batch, 8, 5, 6)
            expected = kept(theirs, x)
            assert convcalc_kept(spec, batch) == expected, (layer, first, batch)
            assert kept(mine, x) == expected, (layer, first, batch)


@pytest.mark.torch
@pytest.mark.slow  # a dozen small forward passes under autocast: about 1 s
@pytest.mark.parametrize("where", ["first", "after a conv"])
def test_under_autocast_scale_keeps_what_torchvisions_layer_scale_keeps(where: str) -> None:
    """In bfloat16 autocast, convcalc's figure is `layer_scale * x`'s: a multiply, not the plan's conv."""
    first = where == "first"
    import torch  # noqa: PLC0415

    from convcalc.engine.training import Precision  # noqa: PLC0415

    spec = spec_of("5x6x8", "scale", first=first)
    ref = reference(None, "scale", 8)
    theirs = ref if first else torch.nn.Sequential(torch.nn.Conv2d(8, 8, 1), ref)
    for batch in (1, 2):
        at = replace(spec, batch=batch)
        report = training(at, analyze(at), precision=Precision.AMP).training
        assert report is not None
        with torch.autocast("cpu", dtype=torch.bfloat16):
            expected = kept(theirs, torch.randn(batch, 8, 5, 6))
        assert report.saved == expected, (first, batch)


@pytest.mark.torch
@pytest.mark.slow  # torchvision's import
@pytest.mark.parametrize("layer", CASES)
def test_the_plan_computes_what_torchvision_computes_in_eval(layer: str) -> None:
    import torch  # noqa: PLC0415

    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    tv = torchvision_ops()
    spec = spec_of("5x6x8", layer, first=True)
    mine = to_module(spec).module
    ref = reference(tv, layer, 8).eval()
    assert sum(p.numel() for p in mine.parameters()) == sum(p.numel() for p in ref.parameters()) == row(spec).params
    with torch.no_grad():  # the same weights: the reference's, in the plan's module
        theirs = list(ref.parameters())
        for p, q in zip(mine.parameters(), theirs, strict=True):
            p.copy_(q.reshape(p.shape))
        for p in mine.parameters():
            p.add_(torch.rand_like(p))  # and not the initial ones, which an identity could hide
        for p, q in zip(mine.parameters(), theirs, strict=True):
            q.copy_(p.reshape(q.shape))
        x = torch.randn(2, 8, 5, 6)
        torch.testing.assert_close(mine(x), ref(x))


@pytest.mark.torch
@pytest.mark.slow  # torchvision's import
def test_channel_shuffle_is_shufflenets_own() -> None:
    import torch  # noqa: PLC0415

    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    tv = torchvision_ops()
    for groups in (2, 3, 4):
        x = torch.randn(2, 12, 3, 5)
        mine = to_module(spec_of("3x5x12", f"channel_shuffle: {groups}", first=True)).module
        torch.testing.assert_close(mine(x), tv.models.shufflenetv2.channel_shuffle(x, groups))
    vector = to_module(spec_of("12", "channel_shuffle: 3", first=True)).module
    x = torch.randn(2, 12)
    torch.testing.assert_close(vector(x), torch.nn.ChannelShuffle(3)(x.unsqueeze(-1)).squeeze(-1))


@pytest.mark.torch
@settings(max_examples=8, deadline=None)
@given(mode=st.sampled_from(["row", "batch"]), batch=st.integers(2, 6), seed=st.integers(0, 1000))
def test_stochastic_depth_drops_whole_images_in_training(mode: str, batch: int, seed: int) -> None:
    """Each image is all zero or all x/(1 − p) (row); the whole batch is, at once (batch); eval: x."""
    import torch  # noqa: PLC0415

    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    module = to_module(spec_of("3x4x5", f"{{stochastic_depth: {{p: 0.5, mode: {mode}}}}}", first=True)).module
    x = torch.rand(batch, 5, 3, 4) + 1
    torch.manual_seed(seed)
    out = module.train()(x)
    kept_images = [bool(torch.equal(o, 2 * i)) for o, i in zip(out, x, strict=True)]
    dropped = [bool(torch.equal(o, torch.zeros_like(o))) for o in out]
    assert all(k != d for k, d in zip(kept_images, dropped, strict=True))
    if mode == "batch":
        assert len(set(kept_images)) == 1
    torch.testing.assert_close(module.eval()(x), x)


@pytest.mark.torch
@pytest.mark.slow  # torchvision's import and an fx trace
def test_a_model_with_the_kinds_modules_imports() -> None:
    """nn.ChannelShuffle (an fx leaf) and torchvision's stochastic_depth (fx-wrapped): read through the registry.

    (LayerNorm2d is traced through, into permute, F.layer_norm, permute: the importer's to fold.)
    """
    import torch  # noqa: PLC0415

    from convcalc.bridges.importer import import_model  # noqa: PLC0415

    tv = torchvision_ops()
    model = torch.nn.Sequential(
        torch.nn.Conv2d(3, 8, 3, padding=1),
        torch.nn.ChannelShuffle(4),
        tv.ops.StochasticDepth(0.1, "row"),
    )
    text = import_model("test:Net", "12x10x3", model=model).text
    spec = load_spec("net.yaml", text)
    kinds = [r.kind for r in analyze(spec).rows[1:]]
    assert kinds == ["conv", "channel_shuffle", "stochastic_depth"], text
    assert analyze(spec).totals.params == sum(p.numel() for p in model.parameters())


@pytest.mark.torch
@pytest.mark.parametrize("volume", ["12", "{length: 7, depth: 12}", "3x4x5x12"])
def test_the_plans_on_vectors_and_other_dims_are_the_same_arithmetic(volume: str) -> None:
    """A vector (N x C), a 1-D and a 3-D volume: each plan runs, with convcalc's params, and computes the layer."""
    import torch  # noqa: PLC0415

    from convcalc.pytorch import to_module  # noqa: PLC0415 - imports torch

    spec = load_spec("v.yaml", f"input: {volume}\nlayers: [scale, {{layernorm: {{over: channels}}}}, drop_path: 0.5]\n")
    module = to_module(spec).module
    assert sum(p.numel() for p in module.parameters()) == analyze(spec).totals.params == 12 + 24
    x = torch.randn(2, 12, *spec.input.spatial)
    gamma = torch.rand(12)
    norm = next(m for m in module.modules() if isinstance(m, torch.nn.LayerNorm))
    with torch.no_grad():
        next(m for m in module.modules() if isinstance(m, torch.nn.Conv1d | torch.nn.Conv3d)).weight.copy_(
            gamma.reshape(12, 1, *([1] * max(len(spec.input.spatial), 1)))
        )
        norm.weight.copy_(torch.rand(12))
        norm.bias.copy_(torch.rand(12))
        scaled = x * gamma.reshape(12, *([1] * len(spec.input.spatial)))
        expected = torch.nn.functional.layer_norm(scaled.movedim(1, -1), (12,), norm.weight, norm.bias).movedim(-1, 1)
        torch.testing.assert_close(module(x), expected)
        assert module.train()(x).shape == x.shape
