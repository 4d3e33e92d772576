"""ShuffleNet v2 against PyTorch: the importer's channel split and shuffle, and the built-in spec against torchvision.

The importer's patterns are traced from small models written as torchvision writes them (its
own `channel_shuffle` function, `x.chunk(2, dim=1)`), and from variants that are not the
pattern, which stay refused by name. `shufflenet_v2_x1_0` is compared with torchvision's model:
the params, the MACs torch.utils.flop_counter counts (÷ 2), every conv, batchnorm, max pool and
fc module's output volume through forward hooks, in order, and what autograd keeps at batch 2
(tests/test_training_oracle.py's measure; batches 1 and 8 run there for every built-in).
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows them as tests.*.
from test_training_oracle import computed, measured  # type: ignore[import-not-found]
from torchvision_models import models  # type: ignore[import-not-found]

from convcalc.bridges.importer import ModelError, import_model
from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze
from convcalc.spec.loader import load_spec

pytestmark = [pytest.mark.slow, pytest.mark.torch]
pytest.importorskip("torch")
import torch  # noqa: E402 - after the skip
from torch import nn  # noqa: E402


def shuffle(x: Any, groups: int) -> Any:
    """torchvision's own channel_shuffle (torchvision/models/shufflenetv2.py)."""
    return models().shufflenetv2.channel_shuffle(x, groups)


class Net(nn.Module):
    """A conv to 8 channels, then `body(self, x)`."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1)
        self.branch = nn.Conv2d(4, 4, 1)
        self.body = body

    def forward(self, x: Any) -> Any:
        return self.body(self, self.conv(x))


def imported(body: Any) -> tuple[str, Any, Any]:
    """The spec's text and report for Net(body), and Net's output on a 6x5 input."""
    net = Net(body).eval()
    text = import_model("net.py:Net", "6x5x3", model=net).text
    with torch.no_grad():
        out = net(torch.zeros(1, 3, 6, 5))
    return text, analyze(load_spec("net.yaml", text)), out


def test_a_split_unit_imports_as_a_parallel_of_chunks() -> None:
    def unit(m: Any, x: Any) -> Any:
        x1, x2 = x.chunk(2, dim=1)
        return shuffle(torch.cat((x1, m.branch(x2)), dim=1), 2)

    text, report, out = imported(unit)
    assert "opaque" not in text
    assert [r.kind for r in report.rows[1:]] == ["conv", "chunk", "chunk", "conv", "concat", "channel_shuffle"]
    assert [r.label for r in report.rows if r.kind == "chunk"] == ["chunk0/2", "chunk1/2"]
    assert report.rows[-1].output.as_list() == [*out.shape[2:], out.shape[1]]
    assert report.totals.params == sum(p.numel() for p in Net(unit).parameters())


@pytest.mark.parametrize(
    ("body", "labels"),
    [
        (
            lambda m, x: torch.cat((m.branch(torch.chunk(x, 2, dim=-3)[1]), x.chunk(2, 1)[0]), 1),
            ["chunk1/2", "chunk0/2"],
        ),
        (lambda m, x: torch.cat((x.chunk(2, 1)[-1], m.branch(x.chunk(2, 1)[0])), 1), ["chunk1/2", "chunk0/2"]),
        (lambda _, x: torch.cat(torch.split(x, 4, dim=1)[::-1], 1), None),  # a slice of the tuple: not [i]
        (lambda m, x: torch.cat((m.branch(torch.split(x, 4, 1)[1]), x.narrow(1, 0, 4)), 1), ["chunk1/2", "chunk0/2"]),
        (lambda _, x: torch.cat((x.chunk(3, 1)[2], x.chunk(3, 1)[0]), 1), ["chunk2/3", "chunk0/3"]),
        (lambda _, x: torch.flatten(x, 1).chunk(2, dim=-1)[1], ["chunk1/2"]),  # a vector's channels
    ],
)
def test_the_ways_to_write_a_split_are_read_as_chunks(body: Any, labels: list[str] | None) -> None:
    if labels is None:
        with pytest.raises(ModelError, match=r"split \(torch.split\): reads conv, gives 1x4x6x5"):
            imported(body)
        return
    _, report, out = imported(body)
    assert [r.label for r in report.rows if r.kind == "chunk"] == labels
    assert report.rows[-1].output.as_list() == [*out.shape[2:], out.shape[1]]


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (lambda _, x: torch.cat(x.chunk(2, dim=2), 1), r"chunk \(\.chunk\)"),  # along the height
        (lambda _, x: torch.cat(torch.split(x, [3, 5], 1), 1), r"split \(torch\.split\)"),  # sizes, not chunks
        (lambda _, x: torch.cat(torch.split(x, 3, 1), 1), r"split \(torch\.split\)"),  # 3 does not divide 8
        (lambda _, x: torch.cat((x.narrow(1, 1, 4), x), 1), r"narrow \(\.narrow\)"),  # channels 1 to 4: no chunk
        # channels 6 and 7 are chunk3/4; channels 0 to 5 no chunk
        (lambda _, x: torch.cat((x.narrow(1, 6, 2), x.narrow(1, 0, 6)), 1), r"\n  narrow_1 \(\.narrow\)[^\n]*\n`"),
    ],
)
def test_a_split_that_is_no_chunk_is_refused_by_name(body: Any, refused: str) -> None:
    with pytest.raises(ModelError, match=refused):
        imported(body)


def _grouped_twice(_: Any, x: Any) -> Any:
    grouped = x.view(1, 2, 4, 6, 5)
    return torch.cat((torch.transpose(grouped, 1, 2).contiguous().view(1, 8, 6, 5), grouped.sum(1)), 1)


@pytest.mark.parametrize(
    ("body", "refused"),
    [
        (lambda _, x: torch.transpose(x.view(1, 2, 4, 6, 5), 1, 3).contiguous().view(1, 8, 6, 5), "transpose"),
        (lambda _, x: torch.transpose(x.view(1, 2, 4, 6, 5), 1, 2).reshape(1, 8, 5, 6), "transpose"),
        (lambda _, x: torch.transpose(x.view(1, 2, 2, 2, 6, 5), 1, 2).reshape(1, 8, 6, 5), "view"),
        (_grouped_twice, "view"),  # the grouped view has another user
        (lambda _, x: torch.transpose(x.view(1, 2, 4, 5, 6), 1, 2).reshape(1, 8, 6, 5), "transpose"),  # H, W cut
        (lambda _, x: torch.transpose(x, 1, 2).contiguous().view(1, 8, 6, 5), "transpose"),  # no view before
    ],
)
def test_a_view_and_transpose_that_is_no_channel_shuffle_is_refused(body: Any, refused: str) -> None:
    op = f"torch.{refused}" if refused == "transpose" else f".{refused}"
    with pytest.raises(ModelError, match=rf"convcalc has no layer kind for:\n[\s\S]*\({re.escape(op)}\)"):
        imported(body)


@pytest.mark.parametrize("groups", [2, 4, 8])
def test_torchvisions_channel_shuffle_is_read_with_its_groups(groups: int) -> None:
    text, report, out = imported(lambda _, x: shuffle(x, groups))
    assert f"channel_shuffle{groups}" in text
    assert [r.kind for r in report.rows[1:]] == ["conv", "channel_shuffle"]
    assert report.rows[-1].output.as_list() == [*out.shape[2:], out.shape[1]]


def test_the_shuffle_written_with_methods_and_without_contiguous_is_read_too() -> None:
    text, report, out = imported(lambda _, x: x.view(1, 4, 2, 6, 5).transpose(2, 1).reshape(1, 8, 6, 5))
    assert "channel_shuffle4" in text
    assert [r.kind for r in report.rows[1:]] == ["conv", "channel_shuffle"]
    assert report.rows[-1].output.as_list() == [*out.shape[2:], out.shape[1]]


def _hooked(model: Any) -> list[tuple[str, list[int]]]:
    """Each conv, batchnorm, max pool and fc module's class and output volume, in the order the forward runs them."""
    seen: list[tuple[str, list[int]]] = []
    for module in model.modules():
        if isinstance(module, (nn.Conv2d, nn.BatchNorm2d, nn.MaxPool2d, nn.Linear)):
            module.register_forward_hook(
                lambda m, _, out: seen.append((type(m).__name__, [*out.shape[2:], out.shape[1]]))
            )
    return seen


KINDS = {"conv": "Conv2d", "batchnorm": "BatchNorm2d", "pool": "MaxPool2d", "fc": "Linear"}


def test_the_builtin_is_torchvisions_shufflenet_v2_x1_0() -> None:
    from torch.utils.flop_counter import FlopCounterMode  # noqa: PLC0415

    tv = models()
    with torch.device("meta"):
        model = tv.shufflenet_v2_x1_0(weights=None).eval()
    report = analyze(open_spec("shufflenet_v2_x1_0"))
    assert report.ok, [d.message for d in report.diagnostics]
    seen = _hooked(model)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        out = model(torch.zeros(1, 3, 224, 224, device="meta"))
    assert report.totals.params == sum(p.numel() for p in model.parameters())
    assert report.totals.buffers == sum(b.numel() for n, b in model.named_buffers() if "num_batches" not in n)
    assert report.totals.macs == counter.get_total_flops() // 2
    rows = [(KINDS[r.kind], r.output.as_list()) for r in report.rows if r.kind in KINDS and r.output is not None]
    assert rows == seen  # the same modules in the same order: branch1 before branch2, as torch.cat reads them
    assert report.totals.output is not None
    assert report.totals.output.as_list() == [out.shape[1]]


def test_the_builtin_keeps_what_pytorch_keeps_at_batch_2() -> None:
    spec = replace(open_spec("shufflenet_v2_x1_0"), batch=2)
    assert computed(spec) == measured(spec)
