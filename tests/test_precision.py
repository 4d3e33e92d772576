"""`--precision amp` (torch.amp autocast) beside `fp16-mixed` (ZeRO), without torch.

The expected figures are worked out here from the rules docs/training-memory.md states (each
number's arithmetic beside it); tests/test_amp_oracle.py measures the same under PyTorch's
CPU autocast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.builtins import open_spec
from convcalc.cli import main
from convcalc.engine.training import Device, Optimizer, Precision, training
from convcalc.render import numbers
from convcalc.render.training import PRECISIONS

if TYPE_CHECKING:
    from convcalc.report import Training


def _block(text: str, **options: object) -> Training:
    spec = load_spec("net.yaml", text)
    block = training(spec, analyze(spec), **options).training  # type: ignore[arg-type]
    assert block is not None
    return block


SMALL = "input: 8x8x3\nlayers: [conv3-4 p1, relu, maxpool, fc-10]"
# conv3-4: 3·3·3·4 = 108 weights + 4 biases; fc-10: 4·4·4·10 = 640 weights + 10 biases.
PARAMS = 108 + 4 + 640 + 10


def test_amp_keeps_float32_weights_gradients_and_state_and_no_master_weights() -> None:
    amp = _block(SMALL, precision=Precision.AMP, optimizer=Optimizer.ADAM)
    mixed = _block(SMALL, precision=Precision.FP16_MIXED, optimizer=Optimizer.ADAM)
    steps = 4 * 4  # Adam's float32 step per parameter tensor, on CPU: 4 tensors
    assert (amp.weights, amp.gradients) == (4 * PARAMS, 4 * PARAMS)
    assert amp.optimizer_state == 2 * 4 * PARAMS + steps
    assert (mixed.weights, mixed.gradients) == (2 * PARAMS, 2 * PARAMS)
    assert mixed.optimizer_state == (2 * 4 + 4) * PARAMS + steps  # exp_avg, exp_avg_sq and the master weights


def test_amp_saved_tensors_by_the_rules() -> None:
    amp = _block(SMALL, precision=Precision.AMP)
    # conv: a bfloat16 copy of the float32 input (8·8·3 = 192 values) and of its weights (108);
    # relu: its 16-bit output (8·8·4 = 256); maxpool: that output again (counted once) and an
    # int64 index per output value (4·4·4 = 64); fc: the pool's 16-bit output (64) and its
    # 16-bit weights (640), as its input needs a gradient.
    assert amp.saved_per_image == 192 * 2 + 256 * 2 + 64 * 8 + 64 * 2
    assert amp.saved_fixed == (108 + 640) * 2
    fp32 = _block(SMALL)
    assert fp32.saved_per_image == 192 * 4 + 256 * 4 + 64 * 8 + 64 * 4
    assert fp32.saved_fixed == 0


def test_an_op_before_any_conv_runs_in_float32_and_a_merge_in_the_widest_type() -> None:
    # batchnorm on the float32 input keeps it at 4 B (8·8·4 = 256 values) and 2·4 float32 statistics.
    first = _block("input: 8x8x4\nlayers: [bn, conv1-4]", precision=Precision.AMP)
    # bn: 256·4 and 8·4 fixed; conv: a 16-bit copy of bn's float32 output (256·2) and its weights (16·2).
    assert first.saved_per_image == 256 * 4 + 256 * 2
    assert first.saved_fixed == 2 * 4 * 4 + 16 * 2
    # A residual adding the float32 input to a conv's 16-bit output is float32: the relu after it keeps 4 B.
    res = _block("input: 8x8x4\nlayers:\n  - residual: {layers: [conv1-4], activation: relu}", precision=Precision.AMP)
    assert res.saved_per_image == 256 * 2 + 256 * 4  # the conv's cast input; the relu's float32 output
    assert res.saved_fixed == 16 * 2


def test_the_float32_lists_differ_by_device() -> None:
    # CUDA's float32 list has layer_norm: its 16-bit input is cast to a float32 copy, its output is float32.
    text = "input: 4x4x2\nlayers: [conv1-2, layernorm, relu, conv1-2]"
    cpu = _block(text, precision=Precision.AMP)
    cuda = _block(text, precision=Precision.AMP, device=Device.CUDA)
    values = 4 * 4 * 2
    stats = 2 * 4  # mean and 1/std per image, float32
    # CPU: conv (cast input, 16-bit), layernorm its 16-bit input, relu its 16-bit output (the next conv's input).
    assert cpu.saved_per_image == values * 2 + values * 2 + stats + values * 2
    # CUDA: layernorm keeps a float32 copy; relu's output is float32, and the conv keeps a 16-bit copy of it.
    assert cuda.saved_per_image == values * 2 + values * 4 + stats + values * 4 + values * 2
    # CPU's float32 list has the 3-D pools: a volumetric max pool after a conv keeps a float32 copy.
    pool = "input: 2x4x4x1\nlayers: [conv1-1, maxpool]"
    volumetric = _block(pool, precision=Precision.AMP)
    assert volumetric.saved_per_image == 32 * 2 + 32 * 4 + 4 * 8  # cast input, float32 copy, 4 indices
    adaptive_max = _block("input: 2x4x4x1\nlayers: [conv1-1, adaptive_maxpool1]", precision=Precision.AMP)
    assert adaptive_max.saved_per_image == 32 * 2 + 32 * 2 + 1 * 8  # in neither list: its input's type


@pytest.mark.parametrize(
    ("function", "kept"),
    [
        ("softmax", 16 * 4),  # CUDA runs it in float32: it keeps its float32 output
        ("softplus", 16 * 4),  # float32 too, and it keeps its input: a float32 copy of the conv's result
        ("relu", 16 * 2),  # its 16-bit output
    ],
)
def test_a_fused_activation_in_cudas_float32_list(function: str, kept: int) -> None:
    text = f"input: 4x4x1\nlayers: [{{conv: {{filters: 1, size: 1, activation: {function}}}}}]"
    block = _block(text, precision=Precision.AMP, device=Device.CUDA)
    assert block.saved_per_image == 16 * 2 + kept  # the input's 16-bit copy, then the activation's
    merged = f"input: 4x4x1\nlayers:\n  - residual: {{layers: [conv1-1], activation: {function}}}"
    after = _block(merged, precision=Precision.AMP, device=Device.CUDA)
    # The float32 input plus the conv's 16-bit result is float32: the activation keeps 4 B whichever it is.
    assert after.saved_per_image == 16 * 2 + 16 * 4


def test_each_precision_is_labelled_with_what_it_counts() -> None:
    for precision, words in (("amp", "torch.amp autocast: float32 weights"), ("fp16-mixed", "ZeRO's mixed")):
        result = CliRunner().invoke(main, ["show", "lenet5", "--precision", precision])
        assert result.exit_code == 0, result.output
        out = " ".join(result.stdout.split())
        assert f"precision {precision}: {words}" in out
        spec = open_spec("lenet5")
        block = training(spec, analyze(spec), precision=Precision(precision)).training
        assert block is not None
        weights = block.weights
        kind = "float32" if precision == "amp" else "float16"
        assert f"weights {numbers.size(weights, binary=False)} ({kind})" in out
        assert f"gradients {numbers.size(weights, binary=False)} ({kind})" in out
        data = json.loads(
            CliRunner().invoke(main, ["show", "lenet5", "--precision", precision, "--format", "json"]).stdout
        )
        assert data["training"]["counts"] == PRECISIONS[precision]
        assert data["training"]["precision"] == precision


def test_an_fc_on_the_input_keeps_no_weight_copy_and_cuda_runs_softmax_in_float32() -> None:
    # The fc's input needs no gradient: linear keeps its input's 16-bit copy (4·4·2 = 32 values) only.
    first = _block("input: 4x4x2\nlayers: [fc-3]", precision=Precision.AMP)
    assert (first.saved_per_image, first.saved_fixed) == (32 * 2, 0)
    # A softmax row of its own on CUDA: float32, it keeps its float32 output (3 values).
    text = "input: 4x4x2\nlayers: [fc-3, softmax]"
    cuda = _block(text, precision=Precision.AMP, device=Device.CUDA)
    cpu = _block(text, precision=Precision.AMP)
    assert cuda.saved_per_image == 32 * 2 + 3 * 4
    assert cpu.saved_per_image == 32 * 2 + 3 * 2
