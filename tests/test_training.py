"""`show --train`: the training block, its options and `--max-batch`, without torch.

What autograd keeps is measured against PyTorch in tests/test_training_oracle.py; here the
issue's figures (issue 15, point 2: measured with torch 2.13 on torchvision's ResNet-50 and the
lecture's VGG16), the options' arithmetic, the renderers and the errors.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

# pytest puts tests/ on sys.path (rootdir-less "prepend" import mode); mypy knows it as tests.training_cases.
from training_cases import SPECS  # type: ignore[import-not-found]

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.merge import saved as merge_saved
from convcalc.engine.steptime import step_timeline
from convcalc.engine.training import Device, Optimizer, Precision, training
from convcalc.render import numbers
from convcalc.report import Training
from convcalc.spec.model import Merge


def _json(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["show", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _block(data: dict[str, object]) -> dict[str, int]:
    block = data["training"]
    assert isinstance(block, dict)
    return block


@pytest.mark.parametrize(
    ("name", "batch", "saved"),
    [("resnet50", 1, 86_121_984), ("resnet50", 8, 687_488_512), ("vgg16", 1, 73_189_376), ("vgg16", 8, 585_515_008)],
)
def test_the_issues_figures(name: str, batch: int, saved: int) -> None:
    spec = replace(open_spec(name), batch=batch)
    report = training(spec, analyze(spec))
    assert report.training is not None
    assert report.training.saved == saved
    assert sum(r.saved or 0 for r in report.rows) == saved


def test_show_train_json_has_the_block_and_each_rows_saved() -> None:
    data = _json("vgg16", "--train", "--batch", "8")
    block = _block(data)
    assert block["saved"] == 585_515_008
    assert block["weights"] == block["gradients"] == 138_357_544 * 4
    assert block["optimizer_state"] == 0
    assert block["total"] == block["weights"] + block["gradients"] + block["saved"]
    assert "lower_bound" not in block  # the sum is no bound of the peak (issue 26)
    layers = data["layers"]
    assert isinstance(layers, list)
    assert sum(r["saved"] for r in layers) == block["saved"]
    # Each relu'd conv output is kept once (by the next conv, or pool), never twice.
    assert layers[1]["saved"] == layers[1]["memory"]


@pytest.mark.parametrize(
    ("precision", "optimizer", "per_param"),
    [
        (Precision.FP32, Optimizer.SGD, 8),
        (Precision.FP32, Optimizer.MOMENTUM, 12),
        (Precision.FP32, Optimizer.ADAM, 16),
        (Precision.BF16, Optimizer.ADAMW, 8),
        # The ZeRO paper's 16 bytes per parameter with Adam (fp16 weights and gradients, 12 of state).
        (Precision.FP16_MIXED, Optimizer.ADAM, 16),
        (Precision.FP16_MIXED, Optimizer.SGD, 8),
    ],
)
def test_bytes_per_param_by_precision_and_optimizer(precision: Precision, optimizer: Optimizer, per_param: int) -> None:
    spec = open_spec("lenet5")
    base = analyze(spec)
    block = training(spec, base, precision=precision, optimizer=optimizer, device=Device.CUDA).training
    assert block is not None
    assert (block.weights + block.gradients + block.optimizer_state) == per_param * base.totals.params
    fp32 = training(spec, base).training
    assert fp32 is not None
    if precision is not Precision.FP32:  # 16-bit activations: every lenet5 tensor kept is half as big
        assert 2 * block.saved == fp32.saved


def test_adam_keeps_a_step_per_parameter_tensor_on_the_host() -> None:
    spec = open_spec("lenet5")  # 5 layers with a weight and a bias each
    report = analyze(spec)
    cpu = training(spec, report, optimizer=Optimizer.ADAM).training
    cuda = training(spec, report, optimizer=Optimizer.ADAM, device=Device.CUDA).training
    assert cpu is not None
    assert cuda is not None
    assert cpu.optimizer_state - cuda.optimizer_state == 4 * 10


def test_dropout_masks_are_one_byte_on_cuda() -> None:
    spec = load_spec("d.yaml", "input: 10\nlayers: [fc-20, dropout, fc-5]")
    report = analyze(spec)
    cpu, cuda = (training(spec, report, device=d).training for d in Device)
    assert cpu is not None
    assert cuda is not None
    assert cpu.saved - cuda.saved == 20 * (4 - 1)


def test_max_batch_fits_and_one_more_does_not() -> None:
    data = _json("resnet50", "--max-batch", "16GB", "--optimizer", "adamw")
    b = _block(data)["max_batch"]
    assert isinstance(b, dict)
    assert b["limit"] == 16 * 10**9
    assert b["from"] == "peak"  # float32: the step's peak must fit, not the sum of the parts
    fits = b["batch"]
    peaks = []
    for batch in (fits, fits + 1):  # the step followed again at each batch, not from the affine formula
        spec = replace(open_spec("resnet50"), batch=batch)
        step = step_timeline(spec, analyze(spec), Optimizer.ADAMW)
        assert step is not None
        peaks.append(step.peak)
    assert peaks[0] <= 16 * 10**9 < peaks[1]
    assert [b["peak"], b["peak_above"]] == peaks


def test_max_batch_when_none_or_any_batch_fits() -> None:
    block = Training("sgd", "fp32", "cpu", 1, 100, 0, 100, 0, saved_per_image=0, saved_fixed=0)
    assert block.max_batch(200) is None
    assert block.max_batch(199) == 0
    grows = replace(block, saved_per_image=10, saved_fixed=5)
    assert grows.max_batch(204) == 0
    assert grows.max_batch(215) == 1
    given = ["show", "-", "--max-batch", "1kB", "--precision", "bf16"]  # no step's peak: the sum of the parts
    result = CliRunner().invoke(main, given, input="input: 4x4x1\nlayers: [relu]\n")
    assert "max batch  any: nothing grows with the batch" in result.stdout
    # In float32 the step's peak must fit: its input and output grow with the batch (64 B + 64 B
    # an image, beside the 4 B loss and its gradient): 7 images fit in 1 kB.
    result = CliRunner().invoke(main, ["show", "-", "--max-batch", "1kB"], input="input: 4x4x1\nlayers: [relu]\n")
    assert "max batch    7 fits in 1.00 kB (peak 900 B; 8 would peak at 1.03 kB)" in result.stdout
    result = CliRunner().invoke(main, ["show", "vgg16", "--max-batch", "1 MiB", "--binary"])
    assert "max batch    none: at batch 1 the peak is 1.09 GiB, over 1.00 MiB" in result.stdout
    result = CliRunner().invoke(main, ["show", "vgg16", "--max-batch", "16_000_000_000", "--format", "markdown"])
    assert "  - max batch: " in result.stdout


@pytest.mark.parametrize("size", ["16XB", "GB", "-1GB", "1.GB"])
def test_a_size_that_cannot_be_read_is_a_usage_error(size: str) -> None:
    result = CliRunner().invoke(main, ["show", "vgg16", "--max-batch", size])
    assert result.exit_code == 2
    assert "Invalid value for '--max-batch'" in result.stderr
    assert "e.g. 16GB" in result.stderr


def test_the_table_and_markdown_blocks() -> None:
    result = CliRunner().invoke(main, ["show", "resnet18", "--precision", "fp16-mixed", "--optimizer", "momentum"])
    assert result.exit_code == 0
    out = " ".join(result.stdout.split())  # the lines as wrapped, joined
    assert "in all, the sum of the parts (fp16-mixed" in out
    assert "lower bound" not in out
    assert "(fp16-mixed, momentum, cpu, batch 1)" in out
    assert "and float32 master weights" in out
    # resnet18's 20 batchnorms have 4,800 channels: a float32 mean and variance each, and an int64
    # count of batches per layer: 2·4,800·4 + 20·8 = 38,560 B (torch's own count: the oracle test).
    assert "buffers 38.56 kB (batchnorm" in out
    assert "the lecture's ×2 rule of thumb; autograd keeps" in out
    md = CliRunner().invoke(main, ["show", "vgg16", "--train", "--format", "markdown", "--columns", "saved"]).stdout
    assert "- **Training**: " in md
    assert "  - saved: 73.19 MB kept by autograd for backward" in md
    assert "| # | Layer | Saved |" in md


def test_a_column_of_saved_alone_adds_no_block() -> None:
    out = CliRunner().invoke(main, ["show", "lenet5", "--columns", "saved"]).stdout
    assert "Saved" in out
    assert "Training" not in out


def test_folded_rows_add_up_their_saved_bytes() -> None:
    flat = _json("resnet18")
    folded = _json("resnet18", "--depth", "1")
    rows = folded["layers"]
    assert isinstance(rows, list)
    assert sum(r["saved"] for r in rows) == _block(flat)["saved"]


def test_no_block_when_a_layer_cannot_be_computed() -> None:
    text = "input: 4x4x1\nlayers: [conv5-2, relu]\n"  # a 5x5 window on a 4x4 input
    result = CliRunner().invoke(main, ["show", "-", "--train", "--format", "json"], input=text)
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert "training" not in data
    assert all("saved" not in r for r in data["layers"])
    folded = CliRunner().invoke(main, ["show", "-", "--format", "json", "--depth", "1"], input=text)
    assert folded.exit_code == 1


def test_a_multiply_keeps_each_factor_the_other_needs() -> None:
    assert merge_saved(Merge.ADD, [True, True]) == []
    assert merge_saved(Merge.MULTIPLY, [True, True]) == [("operand", 0), ("operand", 1)]
    assert merge_saved(Merge.MULTIPLY, [False, True]) == [("operand", 0)]
    assert merge_saved(Merge.MULTIPLY, [False, False, True]) == [("product", 1)]


def test_every_case_adds_up_without_torch() -> None:
    """Each kind states its rule and each case walks; PyTorch checks the figures (the oracle test)."""
    for name, text in SPECS.items():
        spec = load_spec(f"{name}.yaml", text)
        report = training(spec, analyze(spec))
        assert report.training is not None, name
        assert all(r.saved is not None and r.saved >= 0 for r in report.rows), name
        assert sum(r.saved or 0 for r in report.rows) == report.training.saved, name


def test_the_docs_comparison_table_is_computed() -> None:
    """docs/training-memory.md's VGG16 and ResNet-50 rows: forward, saved, the lecture's ×2, torchinfo's rule."""
    doc = (Path(__file__).parent.parent / "docs" / "training-memory.md").read_text(encoding="utf-8")
    for name, title in (("vgg16", "| VGG16 (the lecture's) |"), ("resnet50", "| ResNet-50 (torchvision's) |")):
        spec = open_spec(name)
        report = analyze(spec)
        block = training(spec, report).training
        assert block is not None
        # torchinfo's "Forward/backward pass size": twice the outputs of the layers with parameters.
        torchinfo = 2 * report.bytes_per_value * sum(r.output.values for r in report.rows if r.params and r.output)
        twice = report.totals.backward_bytes
        cells = [
            f"{report.totals.forward_bytes:,}",
            f"{block.saved:,}",
            f"{twice:,}",
            f"{twice / block.saved:.2f}",
            f"{torchinfo:,}",
            f"{torchinfo / block.saved:.2f}",
        ]
        assert title + " " + " | ".join(cells) + " |" in doc


def test_the_docs_training_steps_are_computed() -> None:
    doc = " ".join((Path(__file__).parent.parent / "docs" / "training-memory.md").read_text(encoding="utf-8").split())
    texts = []
    for name in ("vgg16", "resnet50"):
        spec = open_spec(name)
        report = analyze(spec)
        blocks = [
            training(spec, report, optimizer=o, precision=p).training
            for o, p in (
                (Optimizer.SGD, Precision.FP32),
                (Optimizer.ADAM, Precision.FP32),
                (Optimizer.ADAM, Precision.FP16_MIXED),
            )
        ]
        sgd, adam, mixed = (b for b in blocks if b is not None)
        texts.append([numbers.size(sgd.total), numbers.size(adam.total), numbers.size(mixed.total)])
        texts[-1].append(str(adam.max_batch(16 * 10**9)))
    (v_sgd, v_adam, v_mixed, v_fits), (r_sgd, r_adam, r_mixed, r_fits) = texts
    assert (
        f"VGG16 {v_sgd} with SGD, {v_adam} with Adam, {v_mixed} with Adam in fp16-mixed; "
        f"ResNet-50 {r_sgd}, {r_adam} and {r_mixed}. The largest batch in 16 GB with Adam (fp32): "
        f"VGG16 {v_fits}, ResNet-50 {r_fits}."
    ) in doc
