"""One family of errors: everything a user can cause is a ConvcalcError."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Location:
    """A place in a spec file; line and column count from 1."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)


class ConvcalcError(Exception):
    """Something convcalc was asked to read or do could not be done (exit code 2).

    `more` holds further mistakes found in the same file (another layer's unknown kind, say), so
    that one run names them all; `all` is this one and those.
    """

    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.more: tuple[ConvcalcError, ...] = ()

    @property
    def all(self) -> tuple[ConvcalcError, ...]:
        """The mistake, then the others found with it."""
        return (self, *self.more)

    def __str__(self) -> str:
        return "\n".join(e.line() for e in self.all)

    def line(self) -> str:
        """FILE:LINE:COLUMN: error: message."""
        if self.location is None:
            return f"error: {self.message}"
        return f"{self.location}: error: {self.message}"


class SpecError(ConvcalcError):
    """The spec cannot be read: YAML syntax, an unknown key or layer, a bad value."""


class SpecNotFoundError(ConvcalcError):
    """The SPEC argument names neither a file nor a built-in spec."""


class OutputError(ConvcalcError):
    """An output (a `-o` file, standard output, the step summary) cannot be written."""


class ClosedFormError(SpecError):
    """A layer whose size cannot be written in closed form: where, and why (exit 2)."""

    def __init__(self, message: str, path: str, name: str, at: Location) -> None:
        super().__init__(f"{name}: no closed form: {message}", at)
        self.path = path
        self.name = name


class ModelError(ConvcalcError):
    """The model was read but cannot be written as a spec (an unsupported op, a graph that is not series-parallel).

    `convcalc import` exits 1 for it: the model is a design the spec format cannot hold, not a file it cannot read.
    """


class OnnxError(ConvcalcError):
    """The ONNX file is read but is not a well-formed graph (exit 2, as a file that cannot be read)."""


class BudgetError(ConvcalcError):
    """A `--fail-on` budget that cannot be read."""


class UnknownColumnError(ConvcalcError):
    """A name that is no column (`show --columns`): click reports its message as a bad parameter (exit 2)."""


def cut(text: str, limit: int = 60) -> str:
    """User text as a message quotes it: at most `limit` characters, the cut marked with '...'."""
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
