"""`convcalc.analyze`: the notebook's entry point, from any source and with the CLI's overrides.

A source is a built-in name (`"vgg16"`), a path (a string or a `pathlib.Path`), YAML text (a
string with a line break or a flow mapping, `"{input: 32x32x3, layers: [conv3-8]}"`), a dict (what
`yaml.safe_load` would give) or an already loaded `Spec`. The overrides are those of
`convcalc show` (`--batch`, `--dtype`, `--input`, `--rounding`), with the same rule: the spec's
`expect:` answers describe the spec as written, so with an override they are not checked.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from convcalc.errors import Location, SpecError
from convcalc.report import Diagnostic, Report, Severity
from convcalc.spec.model import Spec

if TYPE_CHECKING:
    from convcalc.engine.symbolic import ClosedReport
    from convcalc.options import DType, Rounding
    from convcalc.render.columns import Column
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
    from convcalc.engine.steppeak import with_step  # noqa: PLC0415
    from convcalc.engine.training import training  # noqa: PLC0415

    # With training memory at its defaults (fp32, SGD, CPU), as `show --train` has it: the step's peak too.
    return with_step(spec, training(spec, analyze_spec(spec)))


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


FORMATS = ("table", "json", "csv", "markdown")
NOT_CHECKED = "answers-not-checked"  # the code of the note for a symbolic spec without `example:`
_SHOW = Location("show()")


@dataclass(frozen=True, slots=True)
class ShowOptions:
    """`convcalc show`'s options beyond the overrides, and the rules of how they combine.

    The names are the command's (`fmt` is `--format`, `limit` is `--max-batch`); the CLI only
    wires them. Any of `optimizer`, `precision`, `device` or `limit` implies `train`.
    """

    fmt: str = "table"
    binary: bool = False
    depth: int | None = None
    explain: bool = False
    columns: tuple[Column, ...] | None = None
    train: bool = False
    optimizer: str | None = None
    precision: str | None = None
    device: str | None = None
    limit: int | None = None
    foreach: bool | None = None  # the optimizer's foreach path; None: PyTorch's default for the device

    def __post_init__(self) -> None:
        """Each option checked as the CLI checks it: a `SpecError` at `show()` otherwise."""
        from convcalc.engine.training import Device, Optimizer, Precision  # noqa: PLC0415

        if self.fmt not in FORMATS:
            msg = f"fmt={self.fmt!r}: not one of {', '.join(FORMATS)}"
            raise SpecError(msg, _SHOW)
        for name, value in (("depth", self.depth), ("limit", self.limit)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                msg = f"{name}={value!r}: give a whole number, at least 1"
                raise SpecError(msg, _SHOW)
        for enum, key in ((Optimizer, "optimizer"), (Precision, "precision"), (Device, "device")):
            if getattr(self, key) is not None:
                _member(enum, getattr(self, key), key)

    @property
    def training(self) -> bool:
        """Whether the training block is asked for (`--train`, or an option that implies it)."""
        given = (self.optimizer, self.precision, self.device, self.limit, self.foreach)
        return self.train or any(o is not None for o in given)

    @property
    def per_row(self) -> bool:
        """Whether each row's saved bytes are computed: JSON always carries them; else the `saved` column."""
        return self.fmt == "json" or (self.columns is not None and any(c.value == "saved" for c in self.columns))

    def numeric_only(self) -> list[str]:
        """The options given that have no symbolic form, as the command line spells them."""
        given = {
            "--depth": self.depth,
            "--explain": self.explain or None,
            "--columns": self.columns,
            "--train": self.train or None,
            "--optimizer": self.optimizer,
            "--precision": self.precision,
            "--device": self.device,
            "--max-batch": self.limit,
            "--foreach": self.foreach,
        }
        return [name for name, value in given.items() if value is not None]


def show_report(spec: Spec, report: Report, options: ShowOptions) -> Report:
    """The spec's report as `convcalc show` prints it: with training memory where asked, folded to `depth`."""
    from convcalc.engine.training import Device, Optimizer, Precision, training  # noqa: PLC0415
    from convcalc.fold import fold  # noqa: PLC0415

    if options.training or options.per_row:  # the defaults: fp32, sgd, cpu
        report = training(
            spec,
            report,
            optimizer=Optimizer(options.optimizer or "sgd"),
            precision=Precision(options.precision or "fp32"),
            device=Device(options.device or "cpu"),
            per_row=options.per_row,
        )
        if not options.training and options.fmt != "json":
            report = replace(report, training=None)  # the saved column only
        else:  # the training block shown, or JSON's: with the step's peak
            from convcalc.engine.steppeak import with_step  # noqa: PLC0415

            report = with_step(spec, report, foreach=options.foreach, limit=options.limit)
    return report if options.depth is None else fold(report, options.depth)


def symbolic_checks(spec: Spec) -> Report | None:
    """A symbolic spec's `expect:` answers, checked at its `example:` size (docs/symbolic.md).

    The numeric report at that size (its `checks`); None when the spec has no answers or names no
    example size (`symbolic_diagnostics` then says they are not checked).
    """
    if not spec.expectations or not spec.example:
        return None
    from convcalc.engine.analyze import analyze as analyze_spec  # noqa: PLC0415

    return analyze_spec(spec)


def symbolic_diagnostics(spec: Spec, closed: ClosedReport) -> tuple[Diagnostic, ...]:
    """The symbolic report's errors, and a note where the spec's answers are not checked.

    The errors: a layer with no closed form, a condition no size meets. The note: the spec has
    answers but no `example:` size to check them at.
    """
    out = []
    if closed.failure is not None:
        f = closed.failure
        out.append(Diagnostic(Severity.ERROR, f.code, f"{f.name}: {f.message}", f.path, spec.source, f.line, f.column))
    for limit in closed.never:
        message = f"{limit.name}: {limit.condition.text()} is false: no size fits"
        where = (limit.path, spec.source, limit.line, limit.column)
        out.append(Diagnostic(Severity.ERROR, limit.condition.code, message, *where))
    if spec.expectations and not spec.example:
        at = spec.input_at or Location(spec.source)
        msg = "the spec's expect: answers are not checked: give it `example: 224x224x3`, the size to check them at"
        out.append(Diagnostic(Severity.NOTE, NOT_CHECKED, msg, "", at.file, at.line, at.column))
    return tuple(out)


def unchecked_report(spec: Spec) -> Report:
    """A symbolic spec without `example:`, as `convcalc check` sees it.

    No rows; its design judged on the formulas (`symbolic_diagnostics`); its answers not checked.
    """
    from convcalc.engine.symbolic import analyze_closed  # noqa: PLC0415
    from convcalc.report import Totals  # noqa: PLC0415

    closed = analyze_closed(spec)
    totals = Totals(0, 0, 0, 0, 0, 0, 0, 0, None)
    bpv = spec.dtype.bytes
    diagnostics = symbolic_diagnostics(spec, closed)
    return Report(spec.name, spec.description, spec.source, spec.batch, spec.dtype.value, bpv, (), totals, diagnostics)
