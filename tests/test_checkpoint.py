"""`checkpoint: true` read, refused, and carried into the program (issue 26); oracles: test_checkpoint_*.py."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from convcalc import analyze, load_spec
from convcalc.bridges.checkpoint import Region, method_names, region
from convcalc.bridges.program import Apply, Join, program
from convcalc.cli import main
from convcalc.engine.training import training
from convcalc.errors import ConvcalcError, SpecError
from convcalc.export import to_pytorch_source
from convcalc.spec.model import Merge

BLOCKS = """
input: 8x8x3
blocks:
  pair:
    args: {w: 4}
    layers: ["conv3-${w} p1", relu]
layers:
  - pair: {w: 4}
    checkpoint: true
  - pair: {w: 4}
    checkpoint: true
  - repeat: 2
    layers: [conv1-4]
    checkpoint: false
  - residual: {layers: []}
    checkpoint: true
  - fc-2
"""


def test_checkpoint_is_read_on_calls_repeats_and_residuals() -> None:
    spec = load_spec("b.yaml", BLOCKS)
    flags = [getattr(n, "checkpoint", None) for n in spec.layers]
    assert flags == [True, True, False, True, None]
    prog = program(spec, analyze(spec))
    assert [(r.path, r.source, r.target) for r in prog.checkpoints] == [
        ("1", "x", "x"),
        ("2", "x", "x"),
        ("4", "x", "x"),
    ]
    last = prog.checkpoints[2]  # the empty residual: identity = x, then x = x + identity
    assert [type(s).__name__ for s in prog.statements[last.start : last.stop]] == ["Apply", "Join"]
    source = to_pytorch_source(spec, analyze(spec), "test")
    assert "def run_pair(self, x: torch.Tensor) -> torch.Tensor:" in source
    assert "def run_pair_2(self, x: torch.Tensor) -> torch.Tensor:" in source
    assert source.count("use_reentrant=False") == 3


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("layers: [{conv: {filters: 4, size: 3}, checkpoint: true}]", "`checkpoint:` applies to a composite"),
        ("layers: [{layer: conv3-4, checkpoint: true}]", "`checkpoint:` applies to a composite"),
        ("layers: [{repeat: 1, layers: [conv3-4], checkpoint: yes please}]", "`checkpoint:` is true or false, not"),
        (
            "layers: [{repeat: 1, checkpoint: true, layers: [{repeat: 1, layers: [conv1-4], checkpoint: true}]}]",
            "`checkpoint: true` on a block inside a checkpointed one (1.0.0 in 1)",
        ),
        (
            (
                "layers: [{residual: {layers: [conv1-3], shortcut: [{repeat: 1, layers: [conv1-3], checkpoint: true}]},"
                " checkpoint: true}]"
            ),
            "(1.shortcut.0 in 1)",
        ),
        (
            "layers: [{parallel: {branches: [[{residual: {layers: []}, checkpoint: true}]]}, checkpoint: true}]",
            "(1.branches.0.0 in 1)",
        ),
    ],
)
def test_checkpoint_where_it_cannot_be_is_an_error_at_its_place(text: str, message: str) -> None:
    with pytest.raises(SpecError, match=re_escape(message)):
        load_spec("x.yaml", "input: 4x4x3\n" + text)


def re_escape(text: str) -> str:
    import re  # noqa: PLC0415 - only here

    return re.escape(text)


def test_the_cli_says_where_checkpoint_is_refused() -> None:
    result = CliRunner().invoke(
        main, ["show", "-"], input="input: 4x4x3\nlayers: [{layer: conv3-4, checkpoint: true}]\n"
    )
    assert result.exit_code == 2
    assert result.stderr.startswith("<stdin>:2:")
    assert "error: `checkpoint:` applies to a composite (repeat, residual, parallel) or a block call" in result.stderr


def test_a_block_must_read_only_its_input() -> None:
    statements = [Apply("x", "x", ()), Join("x", Merge.ADD, ("x", "identity"), (), "3")]
    spec = load_spec("b.yaml", BLOCKS)
    with pytest.raises(ConvcalcError, match="1: `checkpoint: true` needs a block that reads only its input"):
        region(spec.layers[0], statements, 0, "x", "x")  # type: ignore[arg-type]


def test_method_names_are_words_and_unique() -> None:
    regions = [Region(0, 1, "x", "x", str(i), name) for i, name in enumerate(["layer1", "layer1", "×", "Net²"])]
    assert method_names(regions) == ["run_layer1", "run_layer1_2", "run_block", "run_net"]


def test_the_training_block_names_the_recompute() -> None:
    spec = load_spec("b.yaml", BLOCKS)
    block = training(spec, analyze(spec)).training
    assert block is not None
    assert block.checkpointed == 3
    # Each pair's conv runs again (its relu saves what it makes); the identity block has no MACs.
    rows = analyze(spec).rows
    assert block.recompute_macs == sum(r.macs for r in rows if r.path.split(".")[0] in {"1", "2"}) == 6_912 + 9_216
    result = CliRunner().invoke(main, ["show", "-", "--train"], input=BLOCKS)
    assert "  recompute  " in result.stdout
    assert "16.13 K MACs run again in backward (3 checkpointed blocks," in result.stdout


def test_a_program_whose_checkpointed_blocks_are_empty_is_recorded_as_any() -> None:
    from dataclasses import replace  # noqa: PLC0415

    from convcalc.engine.autograd import Graph  # noqa: PLC0415
    from convcalc.engine.recompute import Checkpointing, forward  # noqa: PLC0415
    from convcalc.engine.tape import Memory  # noqa: PLC0415

    spec = load_spec("b.yaml", BLOCKS)
    report = analyze(spec)
    prog = program(spec, report)
    graph = Graph(Memory())
    assert isinstance(forward(report, prog, graph, print, print, batch=1), Checkpointing)
    empty = replace(prog, checkpoints=(Region(3, 3, "x", "x", "9", "empty"),))
    assert not isinstance(forward(report, empty, graph, print, print, batch=1), Checkpointing)
