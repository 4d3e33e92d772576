"""Every classification model torchvision lists, imported with no `--opaque`, against PyTorch (slow).

Each covered model's spec has the model's params (`sum(p.numel())`, less the modules only
training calls), the MACs `torch.utils.flop_counter.FlopCounterMode` counts (÷ 2) at the
model's own input size (its weights' crop size: 299 for Inception v3), and every conv, fc,
and batchnorm row the volume its module's forward hook sees. The models not covered yet
are listed with the reason: a listed one that starts importing fails its test, so the list
(and docs/import.md's) stays true. Models are built on the meta device where their builder
allows (no memory, no initialisation), so the whole file takes well under a minute.
"""

from __future__ import annotations

import warnings
from typing import Any

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.torchvision_models.
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.bridges.importer import ModelError, import_model
from convcalc.engine.analyze import analyze
from convcalc.errors import ConvcalcError
from convcalc.spec.loader import load_spec

pytestmark = [pytest.mark.slow, pytest.mark.torch]
torch = pytest.importorskip("torch")

_SWIN = "shifted-window attention, LayerNorm over channels-last grids: out of scope (docs/import.md)"
NOT_COVERED = {
    **{f"swin_{s}": _SWIN for s in ("t", "s", "b", "v2_t", "v2_s", "v2_b")},
    "maxvit_t": "block and grid attention (reshape, permute, partitions): out of scope (docs/import.md)",
}
# Its builder computes the widths with torch, so it cannot be built on the meta device; on the
# CPU its 644,812,894 params are 2.6 GB, too much beside the other work on the test machine.
SKIPPED = {"regnet_y_128gf": "644,812,894 params: 2.6 GB to build on the CPU (its builder needs real tensors)"}
# Modules the model's forward calls only in training (auxiliary classifiers): the spec leaves them out.
TRAINING_ONLY = {"googlenet": ("aux1", "aux2"), "inception_v3": ("AuxLogits",)}
HOOKED = {
    "conv": ("Conv2d",),
    "patchify": ("Conv2d",),  # ViT's conv_proj: its grid is the row's tokens (below)
    "fc": ("Linear",),
    "batchnorm": ("BatchNorm2d",),
    "layernorm": ("LayerNorm", "LayerNorm2d"),
    "attention": ("MultiheadAttention",),
    "mlp": ("MLPBlock",),
}  # (pools are modules or F.max_pool2d calls: Inception v3 has both, and a call has no hook)
# Modules whose output is channels last (B x ... x C): a LayerNorm over the last dim, and tokens B x N x D.
CHANNELS_LAST = {"LayerNorm", "MultiheadAttention", "MLPBlock"}


def _names() -> list[str]:
    tv = models()
    return list(tv.list_models(module=tv))


def _build(name: str) -> Any:
    """The model with weights=None, on the meta device where its builder allows it (else the CPU, then moved)."""
    tv = models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Inception v3's and GoogLeNet's notice about init_weights
        try:
            with torch.device("meta"):
                return tv.get_model(name, weights=None).eval()
        except NotImplementedError:  # RegNet's builder computes its widths with torch ("Cannot copy out of meta")
            return tv.get_model(name, weights=None).eval().to("meta")


def _size(name: str) -> int:
    """The model's own input size: its weights' crop size (224, or 299 for Inception v3).

    A ViT built with weights=None takes 224 (its `image_size`), whatever its weights' crop (518 for vit_h_14).
    """
    if name.startswith("vit_"):
        return 224
    return int(models().get_model_weights(name).DEFAULT.transforms().crop_size[0])


def test_the_lists_name_torchvisions_models() -> None:
    names = set(_names())
    assert len(names) == 80  # torchvision 0.28's classification models
    assert set(NOT_COVERED) <= names
    assert set(SKIPPED) <= names
    assert len(names) - len(NOT_COVERED) - len(SKIPPED) >= 72


def _covered() -> list[str]:
    try:
        names = _names()
    except BaseException:  # noqa: BLE001 - collected where torchvision is missing: the test skips itself
        return ["alexnet"]
    return [n for n in names if n not in NOT_COVERED and n not in SKIPPED]


@pytest.mark.parametrize("name", _covered())
def test_a_covered_model_has_pytorchs_params_macs_and_volumes(name: str) -> None:
    model = _build(name)
    size = _size(name)
    text = import_model(f"torchvision.models:{name}", f"{size}x{size}x3", model=model).text
    report = analyze(load_spec(f"{name}.yaml", text))
    assert not [d for d in report.diagnostics if d.severity.value == "error"]
    left_out = TRAINING_ONLY.get(name, ())
    held = sum(p.numel() for m in left_out for p in getattr(model, m).parameters())
    assert report.totals.params == sum(p.numel() for p in model.parameters()) - held
    if left_out:
        assert f"does not call {', '.join(left_out)}" in text
        assert f"it holds {held:,} params more than this spec" in text
    hooks: list[tuple[str, list[int]]] = []
    classes = {c for cs in HOOKED.values() for c in cs}
    rows_of: set[str] = set()  # a module that is one row (an MLPBlock): its own modules are not rows
    for path, module in model.named_modules():
        if type(module).__name__ in classes and not any(path.startswith(f"{r}.") for r in rows_of):
            rows_of.add(path)
            module.register_forward_hook(lambda m, _, out: hooks.append(_hooked(type(m).__name__, out)))
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415 - torch only once it is there

    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(torch.zeros(1, 3, size, size, device="meta"))
    assert report.totals.macs == counter.get_total_flops() // 2
    # The same volumes, in any order: a spec writes a residual's main branch first, and RegNet's
    # forward runs its projection first (`self.proj(x) + self.f(x)`).
    rows = [(r.kind, r.output.as_list()) for r in report.rows if r.kind in HOOKED and r.output is not None]
    assert rows
    # A patchify's row is its conv's grid as tokens: its positions in one dim (ViT's conv_proj, then reshape).
    flat = _tokens if any(k == "patchify" for k, _ in rows) else list
    assert sorted((HOOKED[k], flat(shape)) for k, shape in rows) == sorted((_classes(c), flat(s)) for c, s in hooks)


def _hooked(cls: str, out: Any) -> tuple[str, list[int]]:
    """A module's class and output volume; a Linear on a channels-last grid (ConvNeXt's) is a 1x1 conv on it.

    nn.MultiheadAttention returns its output and its weights (None with need_weights=False): the output.
    """
    shape = out[0].shape if isinstance(out, tuple) else out.shape
    if cls == "Linear" and len(shape) > 2:  # N x H x W x C, not N x C
        return "Conv2d", list(shape[1:])
    if cls in CHANNELS_LAST:
        return cls, list(shape[1:])
    return cls, [*shape[2:], shape[1]]


def _tokens(shape: list[int]) -> list[int]:
    """A volume's positions in one dim, then its channels: 14x14x768 and 196x768 are both [196, 768]."""
    positions = 1
    for size in shape[:-1]:
        positions *= size
    return [positions, shape[-1]]


def _classes(cls: str) -> tuple[str, ...]:
    return next(cs for cs in HOOKED.values() if cls in cs)


@pytest.mark.parametrize("name", sorted(NOT_COVERED))
def test_a_model_not_covered_is_still_refused_by_name(name: str) -> None:
    # When a kind it needs is added, this fails: move the model out of NOT_COVERED (and docs/import.md's list).
    model = _build(name)
    size = _size(name)
    with pytest.raises(ModelError, match=r"convcalc has no layer kind for|not series-parallel"):
        import_model(f"torchvision.models:{name}", f"{size}x{size}x3", model=model)


@pytest.mark.parametrize("source", ["torchvision.models:inception_v3", "net.py:Net"])
def test_a_model_too_small_for_its_input_is_told_torchvisions_smallest(source: str) -> None:
    # From the builder's name, or from the model's class (Inception3: only inception_v3 builds it).
    with pytest.raises(
        ConvcalcError, match=r"32x32x3 input: .*; torchvision gives its smallest input as 75x75 \(--input 75x75x3\)$"
    ):
        import_model(source, "32x32x3", model=_build("inception_v3"))


def test_a_model_that_asserts_its_size_says_so_with_no_smallest_above_it() -> None:
    # ViT asserts its own size; 256 is above torchvision's min_size (224), which is then no help.
    with pytest.raises(ConvcalcError, match=r"Wrong image height! Expected 224 but got [^;]*$"):
        import_model("torchvision.models:vit_b_16", "256x256x3", model=_build("vit_b_16"))


def test_no_smallest_for_a_class_no_builder_of_torchvisions_makes(monkeypatch: pytest.MonkeyPatch) -> None:
    from convcalc.bridges.importer import torchvision_models  # noqa: PLC0415

    mine = type("Mine", (torch.nn.Module,), {"__module__": "torchvision.models.mine"})()
    assert torchvision_models.min_size(mine, "mine.py:Mine") is None
    inception = _build("inception_v3")
    assert torchvision_models.min_size(inception, "net.py:Net") == (75, 75)

    def broken(**_: Any) -> list[str]:
        msg = "no registry"
        raise RuntimeError(msg)

    monkeypatch.setattr(models(), "list_models", broken)  # a torchvision without the registry: no hint
    assert torchvision_models.min_size(inception, "net.py:Net") is None
