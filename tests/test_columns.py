"""`show --columns`: the columns chosen and ordered, the lecture's slide row for row, bad names refused."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from rich.cells import cell_len

from convcalc.cli import main
from convcalc.errors import UnknownColumnError
from convcalc.render.columns import Column, parse

# The lecture's VGG16 slide (CS231n, ../shared/reference/lecture-11-cnn.txt, lines 592-635): each
# row's volume, its memory as the product it writes, and its params "not counting biases".
SLIDE = [
    ("224x224x3", 224 * 224 * 3, 0),
    ("224x224x64", 224 * 224 * 64, 1_728),
    ("224x224x64", 224 * 224 * 64, 36_864),
    ("112x112x64", 112 * 112 * 64, 0),
    ("112x112x128", 112 * 112 * 128, 73_728),
    ("112x112x128", 112 * 112 * 128, 147_456),
    ("56x56x128", 56 * 56 * 128, 0),
    ("56x56x256", 56 * 56 * 256, 294_912),
    ("56x56x256", 56 * 56 * 256, 589_824),
    ("56x56x256", 56 * 56 * 256, 589_824),
    ("28x28x256", 28 * 28 * 256, 0),
    ("28x28x512", 28 * 28 * 512, 1_179_648),
    ("28x28x512", 28 * 28 * 512, 2_359_296),
    ("28x28x512", 28 * 28 * 512, 2_359_296),
    ("14x14x512", 14 * 14 * 512, 0),
    ("14x14x512", 14 * 14 * 512, 2_359_296),
    ("14x14x512", 14 * 14 * 512, 2_359_296),
    ("14x14x512", 14 * 14 * 512, 2_359_296),
    ("7x7x512", 7 * 7 * 512, 0),
    ("4096", 4096, 102_760_448),
    ("4096", 4096, 16_777_216),
    ("1000", 1000, 4_096_000),
]


def _show(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["show", *args], env=env)
    return result.exit_code, result.stdout, result.stderr


def test_the_slide_row_for_row() -> None:
    code, out, _ = _show("vgg16", "--columns", "output,activations,weights")
    assert code == 0
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["#", "Layer"])
    assert lines[header].split() == ["#", "Layer", "Output", "Activations", "Weights"]
    rows = [line.split() for line in lines[header + 2 : header + 2 + len(SLIDE)]]
    csv_rows = list(csv.DictReader(io.StringIO(_show("vgg16", "--format", "csv", "--columns", "activations")[1])))
    for cells, (volume, values, weights), exact in zip(rows, SLIDE, csv_rows[:-1], strict=True):
        assert cells[2] == volume
        assert int(exact["activations"]) == values  # the exact values behind the table's 3.2M
        assert cells[4] == f"{weights:,}"


def test_columns_are_chosen_and_ordered_in_markdown_and_csv() -> None:
    _, md, _ = _show("lenet5", "--format", "markdown", "--columns", "stride,kernel,pad,rf")
    assert "| # | Layer | Stride | Kernel | Pad | RF |" in md
    _, text, _ = _show("lenet5", "--format", "csv", "--columns", "saved,jump,kernel,stride,pad,biases,flops")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == [
        *("index", "path", "name", "kind", "label"),
        *("saved", "jump", "kernel", "stride", "pad", "biases", "flops"),
        *("depth", "diagnostics"),
    ]
    data = json.loads(_show("lenet5", "--format", "json")[1])
    for row, layer in zip(rows, data["layers"], strict=False):
        assert int(row["saved"]) == layer["saved"]
        assert int(row["biases"]) == layer["biases"]
    conv = next(r for r in rows if r["kind"] == "conv")
    assert (conv["kernel"], conv["stride"], conv["pad"]) == ("5", "1", "0")
    fc = next(r for r in rows if r["kind"] == "fc")
    assert (fc["kernel"], fc["stride"], fc["pad"]) == ("", "", "")  # no window to slide
    assert rows[-1]["name"] == "TOTAL"
    assert int(rows[-1]["saved"]) == sum(int(r["saved"]) for r in rows[:-1])


def test_uneven_padding_and_dims_that_differ_are_written_per_dim() -> None:
    result = CliRunner().invoke(
        main,
        ["show", "-", "--format", "csv", "--columns", "kernel,stride,pad"],
        input="input: 8x9x3\nlayers: [conv3-4 s2 psame, {conv: {filters: 4, size: [1, 3]}}]\n",
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert (rows[1]["kernel"], rows[1]["stride"], rows[1]["pad"]) == ("3", "2", "0/1x1")
    assert rows[2]["kernel"] == "1x3"


def test_every_column_fits_a_narrow_terminal() -> None:
    every = ",".join(c.value for c in Column)
    code, out, _ = _show("resnet18", "--columns", every, "--binary", env={"COLUMNS": "60"})
    assert code == 0
    assert all(cell_len(line) <= 60 for line in out.splitlines())
    _, wide, _ = _show("resnet18", "--columns", every, env={"COLUMNS": "250"})
    header = next(line for line in wide.splitlines() if line.startswith(" #"))
    assert header.split()[2:] == [c.heading for c in Column]


def test_an_unknown_column_is_refused_with_the_valid_names() -> None:
    code, _, err = _show("vgg16", "--columns", "output,weigths")
    assert code == 2
    assert "unknown column 'weigths'" in err
    assert "output, activations, memory, params, weights, biases" in err
    assert "saved" in err
    with pytest.raises(UnknownColumnError, match="no column named"):
        parse(" , ")
    with pytest.raises(UnknownColumnError, match="unknown columns 'a', 'b'"):
        parse("a,b")
    assert parse("RF, rf,weights") == (Column.RF, Column.WEIGHTS)
