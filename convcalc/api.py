"""`convcalc.analyze`: the notebook's entry point, from any source and with the CLI's overrides.

A source is a built-in name (`"vgg16"`), a path (a string or a `pathlib.Path`), YAML text (a
string with a line break or a flow mapping, `"{input: 32x32x3, layers: [conv3-8]}"`), a dict (what
`yaml.safe_load` would give) or an already loaded `Spec`. The overrides are those of
`convcalc show` (`--batch`, `--dtype`, `--input`, `--rounding`), with the same rule: the spec's
`expect:` answers describe the spec as written, so with an override they are not checked.
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.spec.model import Spec

if TYPE_CHECKING:
    from convcalc.options import DType, Rounding
    from convcalc.report import Report
    from convcalc.volume import Volume

MAX_BATCH = 1_000_000  # as `--batch` (convcalc/cli/common.py)
_AT = Location("analyze()")  # where a bad argument is: messages read `analyze(): error: ...`


def analyze(
    source: Spec | str | os.PathLike[str] | dict[str, Any],
    *,
    batch: int | None = None,
    dtype: str | DType | None = None,
    input: str | list[int] | tuple[int, ...] | dict[str, int] | Volume | None = None,  # noqa: A002 - the spec's own key
    rounding: str | Rounding | None = None,
) -> Report:
    """Every layer's volume, params, memory, MACs and receptive field, as `convcalc show` computes them.

    Raises `convcalc.SpecError` (with the file, line and column) for a spec that cannot be read
    and for a bad override; a design error (a stride that does not fit) is in the report
    (`report.ok` is False, `report.diagnostics` says where), as `show` prints it.
    """
    from convcalc.engine.analyze import analyze as analyze_spec  # noqa: PLC0415 - keeps `import convcalc` light

    spec = overridden(to_spec(source), batch=batch, dtype=dtype, input_=input, rounding=rounding)
    if spec.symbols and not spec.example:
        symbols = "x".join(s or str(n) for s, n in zip(spec.symbols, spec.input.spatial, strict=True))
        msg = (
            f"input {symbols}x{spec.input.depth} is symbolic: analyze() computes numbers; for formulas use "
            "convcalc.engine.symbolic.analyze_closed(spec) (docs/symbolic.md), or give sizes (input='224x224x3')"
        )
        raise SpecError(msg, spec.input_at or Location(spec.source))
    from convcalc.engine.training import training  # noqa: PLC0415

    # With training memory at its defaults (fp32, SGD, CPU), as `show --format json` has it.
    return training(spec, analyze_spec(spec))


def to_spec(source: Spec | str | os.PathLike[str] | dict[str, Any]) -> Spec:
    """The spec a source names: see the module's docstring."""
    from convcalc.builtins import open_spec  # noqa: PLC0415
    from convcalc.spec.loader import load_spec  # noqa: PLC0415

    if isinstance(source, Spec):
        return source
    if isinstance(source, dict):
        import yaml  # noqa: PLC0415

        # Messages then give lines of this YAML text, which follows the dict's order.
        return load_spec("<dict>", yaml.safe_dump(source, sort_keys=False, allow_unicode=True))
    if isinstance(source, os.PathLike):
        return load_spec(source)
    if not isinstance(source, str):
        msg = f"a source is a built-in name, a path, YAML text, a dict or a Spec, not {type(source).__name__}"
        raise SpecError(msg, _AT)
    if "\n" in source or source.lstrip().startswith("{"):
        return load_spec("<text>", source)
    return open_spec(source)


def overridden(
    spec: Spec,
    *,
    batch: int | None = None,
    dtype: str | DType | None = None,
    input_: Any = None,
    rounding: str | Rounding | None = None,
) -> Spec:
    """The spec with the overrides given, each checked as the CLI checks its option."""
    from convcalc.options import DType, Rounding  # noqa: PLC0415
    from convcalc.spec.loader import read_input  # noqa: PLC0415
    from convcalc.volume import Volume  # noqa: PLC0415

    changes: dict[str, Any] = {}
    if batch is not None:
        if isinstance(batch, bool) or not isinstance(batch, int) or not 1 <= batch <= MAX_BATCH:
            msg = f"batch={batch!r}: give a whole number from 1 to {MAX_BATCH:,}"
            raise SpecError(msg, _AT)
        changes["batch"] = batch
    if dtype is not None:
        changes["dtype"] = _member(DType, dtype, "dtype")
    if rounding is not None:
        changes["rounding"] = _member(Rounding, rounding, "rounding")
    if input_ is not None:
        at = _AT
        if isinstance(input_, Volume):
            input_ = [*input_.spatial, input_.depth]
        volume, symbols = read_input(list(input_) if isinstance(input_, tuple) else input_, at)
        symbolic = any(symbols)
        changes.update(input=volume, symbols=symbols if symbolic else (), example=not symbolic, input_at=at)
    if changes and spec.expectations:
        changes["expectations"] = ()  # they describe the spec as written (docs/api.md)
    return replace(spec, **changes)


def _member(enum: Any, value: Any, key: str) -> Any:
    try:
        return enum(value)
    except ValueError:
        choices = ", ".join(m.value for m in enum)
        msg = f"{key}={value!r}: not one of {choices}"
        raise SpecError(msg, _AT) from None
