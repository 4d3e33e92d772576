"""Every renderer's output for the lecture's VGG16, against golden files, plus invariants."""

from __future__ import annotations

import csv
import io
import itertools
import json
from typing import TYPE_CHECKING

from convcalc import __version__
from convcalc.builtins import open_spec
from convcalc.engine.analyze import analyze
from convcalc.render.csv import render_csv
from convcalc.render.json import render_json
from convcalc.render.markdown import render_markdown
from convcalc.render.table import render_table

if TYPE_CHECKING:
    from collections.abc import Callable

    from rich.console import Console

    from convcalc.report import Report


def _check_invariants(report: Report) -> None:
    """The rows add up to the totals; each row's input is the previous row's output."""
    rows = report.rows
    t = report.totals
    assert sum(r.weights for r in rows) == t.weights
    assert sum(r.biases for r in rows) == t.biases
    assert sum(r.activations for r in rows) == t.activations
    assert sum(r.macs for r in rows) == t.macs
    assert sum(r.flops for r in rows) == t.flops
    for before, after in itertools.pairwise(rows):
        assert after.input == before.output
    assert t.output == rows[-1].output


def test_vgg16_table(
    golden: Callable[[str, str], None], plain_console: Callable[..., tuple[Console, io.StringIO]]
) -> None:
    report = analyze(open_spec("vgg16"))
    _check_invariants(report)
    console, out = plain_console()
    render_table(report, console)
    golden("vgg16.table.txt", out.getvalue())


def test_vgg16_json(golden: Callable[[str, str], None]) -> None:
    report = analyze(open_spec("vgg16"))
    text = render_json(report, __version__)
    data = json.loads(text)
    assert sum(r["params"] for r in data["layers"]) == data["totals"]["params"]
    golden("vgg16.json", text)


def test_vgg16_csv(golden: Callable[[str, str], None]) -> None:
    report = analyze(open_spec("vgg16"))
    text = render_csv(report)
    rows = list(csv.DictReader(io.StringIO(text)))
    layers, total = rows[:-1], rows[-1]
    assert total["name"] == "TOTAL"
    for key in ("params", "weights", "biases", "activations", "macs", "flops"):
        assert sum(int(r[key]) for r in layers) == int(total[key])
    golden("vgg16.csv", text)


def test_vgg16_markdown(golden: Callable[[str, str], None]) -> None:
    report = analyze(open_spec("vgg16"))
    text = render_markdown(report)
    assert text.count("\n| ") == len(report.rows) + 1  # header and one line per row
    golden("vgg16.md", text)


def test_alexnet_at_224_table_flags_the_rows(
    golden: Callable[[str, str], None], plain_console: Callable[..., tuple[Console, io.StringIO]]
) -> None:
    from dataclasses import replace  # noqa: PLC0415

    from convcalc.volume import Volume  # noqa: PLC0415

    # As `convcalc show alexnet --input 224x224x3` does: the spec's answers are for 227.
    spec = replace(open_spec("alexnet"), input=Volume((224, 224), 3), expectations=())
    report = analyze(spec)
    _check_invariants(report)
    console, out = plain_console()
    render_table(report, console)
    golden("alexnet-224.table.txt", out.getvalue())


def test_table_fits_80_columns(plain_console: Callable[..., tuple[Console, io.StringIO]]) -> None:
    report = analyze(open_spec("vgg16"))
    console, out = plain_console(width=80)
    render_table(report, console)
    assert max(len(line) for line in out.getvalue().splitlines()) <= 80


def test_wide_names_and_tabs_keep_the_columns(plain_console: Callable[..., tuple[Console, io.StringIO]]) -> None:
    from convcalc.spec.loader import load_spec  # noqa: PLC0415

    text = (
        'input: 8x8x3\nlayers:\n  - layer: conv3-4\n    name: "畳み込み層その一"\n  - layer: relu\n    name: "a\\tb"\n'
    )
    console, out = plain_console()
    render_table(analyze(load_spec("wide.yaml", text)), console)
    lines = out.getvalue().splitlines()
    conv, tab = (next(line for line in lines if line.startswith(f"{i}   ")) for i in (1, 2))
    assert "畳み込み層その一" in conv
    assert tab.startswith("2   a b ")
    assert conv.index("6x6x4") + 8 == tab.index("6x6x4")  # 8 wide characters take 16 columns
