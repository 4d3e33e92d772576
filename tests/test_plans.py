"""Every kind states its PyTorch plan, without torch; activations have their function once."""

from __future__ import annotations

import pytest

from convcalc.kinds.base import Kind
from convcalc.kinds.plan import ACTIVATION_STEPS, FunctionStep, ModuleStep, Plan
from convcalc.kinds.registry import KINDS, fill
from convcalc.options import ACTIVATIONS, Rounding
from convcalc.volume import Volume


def lacks_a_plan(kind: type) -> bool:
    plan = getattr(kind, "plan", None)
    return plan is None or bool(getattr(plan, "__isabstractmethod__", False))


def test_every_kind_states_its_plan() -> None:
    assert [name for name, kind in KINDS.items() if lacks_a_plan(type(kind))] == []


def test_a_kind_without_a_plan_is_seen() -> None:
    class Incomplete(Kind):  # the base class gives no plan: it says that it is abstract
        name = "incomplete"

    assert lacks_a_plan(Incomplete)
    with pytest.raises(NotImplementedError, match=r"^$"):
        Kind.plan(KINDS["flatten"], {}, Volume((2, 2), 3), Rounding.FLOOR)


def test_every_activation_has_one_pytorch_function() -> None:
    assert list(ACTIVATION_STEPS) == list(ACTIVATIONS)
    assert ACTIVATION_STEPS["identity"] == ()
    assert ACTIVATION_STEPS["softmax"] == (FunctionStep("F.softmax", kwargs=(("dim", 1),)),)


def test_a_conv_with_uneven_same_padding_pads_first_and_fuses_its_activation() -> None:
    p = fill("conv", filters=8, size=4, stride=2, pad="same", activation="relu")
    plan = KINDS["conv"].plan(p, Volume((15, 15), 3), Rounding.STRICT)
    assert plan.steps == (
        FunctionStep("F.pad", ((1, 2, 1, 2),)),  # same: out 8, (8 − 1)·2 + 4 − 15 = 3, the odd one after
        ModuleStep("Conv2d", (3, 8, 4), (("stride", 2),), "conv"),
        FunctionStep("F.relu"),
    )
    assert plan.notes == (
        "`rounding: strict` is convcalc's check that every stride fits; PyTorch floors.",
        "Uneven padding (TensorFlow's `same`) is an explicit F.pad before the layer.",
    )


def test_a_max_pool_pads_with_minus_infinity_and_ceil_is_ceil_mode() -> None:
    p = fill("pool", size=3, stride=2, pad="same", rounding=Rounding.CEIL)
    plan = KINDS["pool"].plan(p, Volume((14, 14), 4), Rounding.STRICT)
    assert plan == Plan(
        (
            FunctionStep("F.pad", ((0, 1, 0, 1),), (("value", float("-inf")),)),
            ModuleStep("MaxPool2d", (3,), (("stride", 2), ("ceil_mode", True)), "maxpool"),
        ),
        ("Uneven padding (TensorFlow's `same`) is an explicit F.pad before the layer.",),
    )


def test_lrn_on_a_vector_gets_a_dim_for_pytorch() -> None:
    vector = KINDS["lrn"].plan(fill("lrn"), Volume((), 100), Rounding.STRICT)
    assert vector.steps == (
        FunctionStep(".unsqueeze", (-1,)),
        ModuleStep("LocalResponseNorm", (5,), (), "lrn"),
        FunctionStep(".squeeze", (-1,)),
    )
    assert KINDS["lrn"].plan(fill("lrn"), Volume((4, 4), 100), Rounding.STRICT).steps == (vector.steps[1],)
