"""A misspelt shorthand token: a short message with the nearest valid token, not the whole grammar (issue 23)."""

from __future__ import annotations

import pytest

from convcalc import load_spec
from convcalc.errors import SpecError
from convcalc.spec.shorthand import GRAMMAR, WHERE, closest


def _error(layer: str) -> str:
    with pytest.raises(SpecError) as caught:
        load_spec("net.yaml", f"input: 32x32x3\nlayers: ['{layer}']\n")
    return str(caught.value)


@pytest.mark.parametrize(
    ("layer", "near"),
    [
        ("conv3-8 s2x", "s2"),  # a character too many
        ("conv3-8 psme", "psame"),  # one too few
        ("maxpool3 s2 ceill", "ceil"),
        ("conv3-8 flor", "floor"),
        ("conv3-8 gwd", "gdw"),  # two swapped
        ("conv3-8 q4", "s4"),  # one wrong: the first option the kind has
        ("conv3-8 stride2", "s2"),  # the long form's name
        ("conv3-8 pad=1", "p1"),
        ("deconv4-4 s2 output_padding1", "op1"),
        ("deconv4-4 op", "op1"),
    ],
)
def test_the_nearest_valid_token(layer: str, near: str) -> None:
    message = _error(layer)
    assert f"did you mean '{near}'?" in message
    assert GRAMMAR not in message
    assert len(message) < 300  # the whole grammar alone is 469 characters
    assert 'docs/spec.md, "Shorthand"' in message
    # The nearest token is one the layer accepts: the spec with it loads.
    load_spec("net.yaml", f"input: 32x32x3\nlayers: ['{layer.rsplit(' ', 1)[0]} {near}']\n")


def test_the_kinds_own_grammar_and_no_guess_when_nothing_is_near() -> None:
    message = _error("conv3-8 zzzzzzzzzzzzzzzzzz")
    assert "did you mean" not in message
    assert (
        "; conv is written conv<F>-<K> [s<S>] [p<P>|psame|pvalid] [d<D>] [g<G>|gdw], then floor|ceil|strict" in message
    )
    assert "did you mean" not in _error("conv3-8 dilationx")  # a long name with no value: nothing near
    unknown = _error("nosuchkind s2x")  # no kind of that name: the token's hint and where to read
    assert unknown.endswith(f"unknown token 's2x' in 'nosuchkind s2x'; did you mean 's2'? ({WHERE})")
    assert "relu takes no options" in _error("relu x")
    assert "did you mean" not in _error("relu x")
    assert "maxpool is written maxpool|avgpool[<F>]" in _error("maxpool3 x")


def test_an_empty_layer_names_examples_not_the_grammar() -> None:
    message = _error("")
    assert "empty layer; write a layer such as conv3-64 p1" in message
    assert GRAMMAR not in message


def test_closest_without_a_kind_uses_every_option() -> None:
    assert closest("s2x", None) == "s2"
    assert closest("ceiling", None) == "ceil"  # too far for one edit: the usual words
    assert closest("zzzzzzzz", None) is None
